package dev.pare.common.calibration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;

/** Helpers shared by the accumulator tests: seeded data, Java serialization round trip, error-bounded comparison. */
final class AccumulatorTesting {
    private AccumulatorTesting() {}

    /** {@code n} doubles uniform in [-1, 1), seeded. */
    static double[] uniform(long seed, int n) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = rnd.nextDouble() * 2 - 1;
        }
        return v;
    }

    /** Doubles uniform in [-1, 1) rounded to float, so that a float array holds them exactly. */
    static double[] uniformFloats(long seed, int n) {
        double[] v = uniform(seed, n);
        for (int i = 0; i < n; i++) {
            v[i] = (float) v[i];
        }
        return v;
    }

    /** Serializes and deserializes {@code value} (what Spark does between executors and the driver). */
    @SuppressWarnings("unchecked")
    static <T extends Serializable> T roundTrip(T value) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(value);
            }
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
                return (T) in.readObject();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Asserts {@code |expected_i − actual_i| <= rel·scale_i} where {@code scale_i} is the sum of the
     * magnitudes of the terms that made {@code expected_i} (a forward error bound that also holds
     * when the terms cancel to nearly zero).
     */
    static void assertWithinBound(double[] expected, double[] actual, double[] scale, double rel, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double tol = rel * Math.max(Double.MIN_NORMAL, scale[i]);
            assertEquals(expected[i], actual[i], tol, what + "[" + i + "]");
        }
    }

    /** {@link #assertWithinBound} with the magnitudes of the expected values as scale (terms of one sign). */
    static void assertRelClose(double[] expected, double[] actual, double rel, String what) {
        double[] scale = new double[expected.length];
        for (int i = 0; i < scale.length; i++) {
            scale[i] = Math.abs(expected[i]);
        }
        assertWithinBound(expected, actual, scale, rel, what);
    }

    static double[] flatten(double[][] m) {
        int cols = m.length == 0 ? 0 : m[0].length;
        double[] v = new double[m.length * cols];
        for (int i = 0; i < m.length; i++) {
            System.arraycopy(m[i], 0, v, i * cols, cols);
        }
        return v;
    }
}
