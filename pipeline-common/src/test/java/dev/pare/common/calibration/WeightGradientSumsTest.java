package dev.pare.common.calibration;

import static dev.pare.common.calibration.AccumulatorTesting.assertRelClose;
import static dev.pare.common.calibration.AccumulatorTesting.roundTrip;
import static dev.pare.common.calibration.AccumulatorTesting.uniformFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class WeightGradientSumsTest {

    private static INDArray random(long seed, long... shape) {
        int length = 1;
        for (long d : shape) {
            length *= (int) d;
        }
        return Nd4j.create(uniformFloats(seed, length), shape, DataType.DOUBLE).castTo(DataType.FLOAT);
    }

    @Test
    void handComputedTwoSamples() {
        WeightGradientSums s = new WeightGradientSums(2);
        INDArray w = Nd4j.create(new double[] {2, -3});
        s.add(w, Nd4j.create(new double[] {1, 1}));
        s.add(w, Nd4j.create(new double[] {-0.5, 2}));
        // |2·1| + |2·−0.5| = 3, |−3·1| + |−3·2| = 9; g²: 1 + 0.25, 1 + 4
        assertArrayEquals(new double[] {3, 9}, s.taylor());
        assertArrayEquals(new double[] {1.25, 5}, s.squareGradientSums());
        assertArrayEquals(new double[] {0.625, 2.5}, s.fisherDiagonal());
        assertEquals(2, s.count());
    }

    @Test
    void rankFourMatchesLoopsInCOrder() {
        long[] shape = {3, 2, 2, 3}; // a conv weight [nOut, nIn, kH, kW]
        int samples = 4;
        double[] taylor = new double[36];
        double[] square = new double[36];
        WeightGradientSums s = new WeightGradientSums(shape);
        for (int k = 0; k < samples; k++) {
            INDArray w = random(10 + k, shape);
            INDArray g = random(20 + k, shape).mul(0.1f);
            // 'f' ordered arrays, as DL4J parameter views often are: storage order must not leak in
            s.add(k % 2 == 0 ? w.dup('f') : w, g);
            for (int o = 0; o < 3; o++) {
                for (int i = 0; i < 2; i++) {
                    for (int h = 0; h < 2; h++) {
                        for (int x = 0; x < 3; x++) {
                            int flat = ((o * 2 + i) * 2 + h) * 3 + x;
                            double wv = w.getDouble(o, i, h, x);
                            double gv = g.getDouble(o, i, h, x);
                            taylor[flat] += Math.abs(wv * gv);
                            square[flat] += gv * gv;
                        }
                    }
                }
            }
        }
        assertEquals(samples, s.count());
        assertArrayEquals(shape, s.shape());
        assertRelClose(taylor, s.taylor(), 1e-12, "Σ|w·g|");
        assertRelClose(square, s.squareGradientSums(), 1e-12, "Σg²");
        double[] fisher = new double[36];
        for (int j = 0; j < 36; j++) {
            fisher[j] = square[j] / samples;
        }
        assertRelClose(fisher, s.fisherDiagonal(), 1e-12, "E[g²]");
    }

    @Test
    void mergeOfPartsEqualsWholeAndFisherIsCountWeighted() {
        long[] shape = {4, 5};
        WeightGradientSums whole = new WeightGradientSums(shape);
        WeightGradientSums a = new WeightGradientSums(shape);
        WeightGradientSums b = new WeightGradientSums(shape);
        for (int k = 0; k < 5; k++) {
            INDArray w = random(30 + k, shape);
            INDArray g = random(40 + k, shape).mul(k < 1 ? 1f : 3f);
            whole.add(w, g);
            (k < 1 ? a : b).add(w, g);
        }
        double[] fisherA = a.fisherDiagonal();
        double[] fisherB = b.fisherDiagonal();
        WeightGradientSums merged = a.copy();
        merged.merge(new WeightGradientSums(shape));
        merged.merge(b);

        assertEquals(5, merged.count());
        // float samples are summed in float before the double sums: grouped otherwise, rounded otherwise
        assertRelClose(whole.taylor(), merged.taylor(), 1e-6, "merged Σ|w·g|");
        assertRelClose(whole.squareGradientSums(), merged.squareGradientSums(), 1e-6, "merged Σg²");
        double[] weighted = new double[20];
        for (int j = 0; j < 20; j++) {
            weighted[j] = (1 * fisherA[j] + 4 * fisherB[j]) / 5;
        }
        assertRelClose(weighted, merged.fisherDiagonal(), 1e-12, "count-weighted E[g²]");
        assertEquals(1, a.count(), "merging into a copy leaves the part alone");
    }

    @Test
    void emptyAccumulatorHasZeroFisher() {
        WeightGradientSums s = new WeightGradientSums(2, 2);
        assertEquals(0, s.count());
        assertArrayEquals(new double[4], s.fisherDiagonal());
        assertArrayEquals(new double[4], s.taylor());
    }

    @Test
    void callerArraysAreNotModified() {
        INDArray w = Nd4j.create(new double[] {-1, 2});
        INDArray g = Nd4j.create(new double[] {3, -4});
        INDArray w0 = w.dup();
        INDArray g0 = g.dup();
        new WeightGradientSums(2).add(w, g);
        assertEquals(w0, w);
        assertEquals(g0, g);
    }

    @Test
    void shapeMismatchesAreRefusedAndNamed() {
        WeightGradientSums s = new WeightGradientSums(2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> s.add(Nd4j.zeros(DataType.FLOAT, 2, 3), Nd4j.zeros(DataType.FLOAT, 3, 2)));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[3, 2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> s.add(Nd4j.zeros(DataType.FLOAT, 6), Nd4j.zeros(DataType.FLOAT, 6)));
        IllegalArgumentException m = assertThrows(IllegalArgumentException.class,
                () -> s.merge(new WeightGradientSums(3, 2)));
        assertTrue(m.getMessage().contains("[3, 2]") && m.getMessage().contains("[2, 3]"), m.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new WeightGradientSums(new long[] {2}, new double[3], new double[2], 0));
        assertThrows(IllegalArgumentException.class,
                () -> new WeightGradientSums(new long[] {2}, new double[2], new double[2], -1));
        assertThrows(IllegalArgumentException.class, () -> new WeightGradientSums(2, -1));
        assertEquals(0, s.count());
    }

    @Test
    void copyIsIndependentAndSerializationRoundTrips() {
        WeightGradientSums a = new WeightGradientSums(new long[] {2}, new double[] {1, 2}, new double[] {3, 4}, 1);
        WeightGradientSums b = a.copy();
        b.add(Nd4j.create(new double[] {1, 1}), Nd4j.create(new double[] {1, -1}));
        assertArrayEquals(new double[] {1, 2}, a.taylor());
        assertArrayEquals(new double[] {2, 3}, b.taylor());
        WeightGradientSums back = roundTrip(b);
        assertEquals(2, back.count());
        assertArrayEquals(b.shape(), back.shape());
        assertArrayEquals(b.taylor(), back.taylor(), 0.0);
        assertArrayEquals(b.squareGradientSums(), back.squareGradientSums(), 0.0);
    }
    @Test
    void matricesInAnyLayoutViewOrPrecisionMatchLoopsInCOrder() {
        // DL4J's weights are 'f'-ordered views into the flattened parameters (offset 3 here); gradients
        // come 'f', 'c', as a transposed view, strided, or in double. The sums must not see any of it.
        long[] shape = {4, 3};
        INDArray flat = random(50, 1, 20);
        INDArray wView = flat.get(NDArrayIndex.point(0), NDArrayIndex.interval(3, 15)).reshape('f', 4, 3);
        assertTrue(wView.isView() && wView.offset() == 3 && wView.ordering() == 'f', "a DL4J-like parameter view");
        INDArray[] gradients = {
            random(60, shape).dup('f'),
            random(61, shape).dup('c'),
            random(62, 3, 4).transpose(),
            random(63, 8, 3).get(NDArrayIndex.interval(0, 2, 8), NDArrayIndex.all()),
            random(64, shape).castTo(DataType.DOUBLE).dup('f'),
            random(65, shape),
        };
        INDArray[] weights = {wView, wView, wView, wView, wView.castTo(DataType.DOUBLE), wView.dup('c')};
        double[] taylor = new double[12];
        double[] square = new double[12];
        WeightGradientSums s = new WeightGradientSums(shape);
        WeightGradientSums part = new WeightGradientSums(shape);
        for (int k = 0; k < gradients.length; k++) {
            (k < 4 ? s : part).add(weights[k], gradients[k]);
            for (int r = 0; r < 4; r++) {
                for (int c = 0; c < 3; c++) {
                    double w = weights[k].getDouble(r, c);
                    double g = gradients[k].getDouble(r, c);
                    taylor[r * 3 + c] += Math.abs(w * g);
                    square[r * 3 + c] += g * g;
                }
            }
        }
        s.merge(part);
        assertEquals(6, s.count());
        // float samples' terms are computed and summed in float before they join the double sums
        assertRelClose(taylor, s.taylor(), 1e-6, "Σ|w·g|");
        assertRelClose(square, s.squareGradientSums(), 1e-6, "Σg²");
        WeightGradientSums back = roundTrip(s);
        assertArrayEquals(s.taylor(), back.taylor(), 0.0);
        assertArrayEquals(s.squareGradientSums(), back.squareGradientSums(), 0.0);
        assertArrayEquals(s.taylor(), s.copy().taylor(), 0.0);
    }

    /**
     * Float samples wait in float sums for {@link WeightGradientSums#PENDING_SAMPLES} samples: every
     * read, copy, merge and serialization in between must include them, in either layout.
     */
    @Test
    void pendingFloatSamplesCountInEveryReadCopyMergeAndSerialization() {
        long[] shape = {5, 7};
        int samples = 2 * WeightGradientSums.PENDING_SAMPLES + 3;
        double[] taylor = new double[35];
        double[] square = new double[35];
        WeightGradientSums s = new WeightGradientSums(shape);
        WeightGradientSums other = new WeightGradientSums(shape);
        WeightGradientSums serializedMidway = null;
        for (int k = 0; k < samples; k++) {
            INDArray w = random(200 + k, shape).dup(k % 3 == 0 ? 'c' : 'f');
            INDArray g = random(300 + k, shape).dup(w.ordering());
            (k % 2 == 0 ? s : other).add(w, g);
            for (int r = 0; r < 5; r++) {
                for (int c = 0; c < 7; c++) {
                    double wv = w.getDouble(r, c);
                    double gv = g.getDouble(r, c);
                    taylor[r * 7 + c] += Math.abs(wv * gv);
                    square[r * 7 + c] += gv * gv;
                }
            }
            if (k == WeightGradientSums.PENDING_SAMPLES + 4) {
                serializedMidway = roundTrip(s);
                assertArrayEquals(s.copy().taylor(), serializedMidway.taylor(), 0.0, "pending sums travel");
            }
        }
        WeightGradientSums merged = s.copy();
        merged.merge(roundTrip(other));
        assertEquals(samples, merged.count());
        assertRelClose(taylor, merged.taylor(), 1e-6, "Σ|w·g|");
        assertRelClose(square, merged.squareGradientSums(), 1e-6, "Σg²");
        assertTrue(serializedMidway.count() < samples && serializedMidway.taylor()[0] > 0, "a partial copy");
        // the parts are intact: merging them again in the other order gives the same sums
        other.merge(s);
        assertRelClose(merged.taylor(), other.taylor(), 1e-12, "merge order");
    }

    @Test
    void outerProductsOfFloatInputsMatchPerExampleLoops() {
        // [n=5, nIn=4] inputs, [5, nOut=3] deltas in float (float GEMMs), weights a DL4J-like 'f' view.
        INDArray a = random(70, 5, 4);
        INDArray d = random(71, 5, 3);
        INDArray w = random(72, 1, 14).get(NDArrayIndex.point(0), NDArrayIndex.interval(2, 14)).reshape('f', 4, 3);
        WeightGradientSums s = new WeightGradientSums(4, 3);
        s.addOuterProducts(w, a, d);
        double[] taylor = new double[12];
        double[] square = new double[12];
        addPerExample(w, a, d, taylor, square);
        assertEquals(5, s.count());
        // float products: float rounding, not double
        assertRelClose(taylor, s.taylor(), 1e-6, "Σ_r |w·a_r δ_r|");
        assertRelClose(square, s.squareGradientSums(), 1e-6, "Σ_r (a_r δ_r)²");
    }

    /** Batches of outer products wait in the pending float sums too: across a flush and a serialization. */
    @Test
    void manyBatchesOfOuterProductsMatchPerExampleLoops() {
        INDArray w = random(80, 4, 3).dup('f');
        WeightGradientSums s = new WeightGradientSums(4, 3);
        double[] taylor = new double[12];
        double[] square = new double[12];
        int batches = WeightGradientSums.PENDING_SAMPLES + 5;
        long rows = 0;
        for (int b = 0; b < batches; b++) {
            // Batches of 1-3 rows in both orderings: the reused per-batch arrays follow size and ordering.
            int n = 1 + b % 3;
            INDArray a = random(81 + b, n, 4).dup(b % 2 == 0 ? 'c' : 'f');
            INDArray d = random(181 + b, n, 3).dup(b % 4 < 2 ? 'f' : 'c');
            s.addOuterProducts(w, a, d);
            addPerExample(w, a, d, taylor, square);
            rows += n;
        }
        WeightGradientSums back = roundTrip(s);
        assertEquals(rows, back.count());
        assertRelClose(taylor, back.taylor(), 1e-6, "Σ_r |w·a_r δ_r|");
        assertRelClose(square, back.squareGradientSums(), 1e-6, "Σ_r (a_r δ_r)²");
        assertArrayEquals(s.taylor(), back.taylor(), 0.0);
    }

    /**
     * Each row r's gradient {@code g = a_r δ_rᵀ} of weights {@code w} ({@code [nIn, nOut]}), in
     * double: {@code Σ|w·g|} into {@code taylor}, {@code Σg²} into {@code square} (row-major).
     */
    private static void addPerExample(INDArray w, INDArray a, INDArray d, double[] taylor, double[] square) {
        int nOut = (int) d.columns();
        for (int r = 0; r < a.rows(); r++) {
            for (int i = 0; i < a.columns(); i++) {
                for (int j = 0; j < nOut; j++) {
                    double g = a.getDouble(r, i) * d.getDouble(r, j);
                    taylor[i * nOut + j] += Math.abs(w.getDouble(i, j) * g);
                    square[i * nOut + j] += g * g;
                }
            }
        }
    }
}
