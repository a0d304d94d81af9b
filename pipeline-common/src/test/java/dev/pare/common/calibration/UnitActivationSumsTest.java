package dev.pare.common.calibration;

import static dev.pare.common.calibration.AccumulatorTesting.assertRelClose;
import static dev.pare.common.calibration.AccumulatorTesting.roundTrip;
import static dev.pare.common.calibration.AccumulatorTesting.uniformFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class UnitActivationSumsTest {

    @Test
    void handComputedDense() {
        UnitActivationSums s = new UnitActivationSums(2);
        s.add(Nd4j.create(new double[][] {{1, -2}, {-3, 0}, {0.5, 4}}));
        assertArrayEquals(new double[] {4.5, 6}, s.absSums());
        assertArrayEquals(new double[] {10.25, 20}, s.squareSums());
        assertEquals(3, s.count());
        assertArrayEquals(new double[] {1.5, 2}, s.meanAbs());
        assertArrayEquals(new double[] {10.25 / 3, 20.0 / 3}, s.meanSquare());
    }

    @Test
    void denseFloatActivationsMatchLoops() {
        int n = 11;
        int units = 6;
        double[] v = uniformFloats(1, n * units);
        double[] abs = new double[units];
        double[] sq = new double[units];
        for (int r = 0; r < n; r++) {
            for (int u = 0; u < units; u++) {
                double a = v[r * units + u];
                abs[u] += Math.abs(a);
                sq[u] += a * a;
            }
        }
        UnitActivationSums s = new UnitActivationSums(units);
        s.add(Nd4j.create(v, new long[] {n, units}, DataType.DOUBLE).castTo(DataType.FLOAT));
        assertEquals(n, s.count());
        assertRelClose(abs, s.absSums(), 1e-12, "Σ|a|");
        assertRelClose(sq, s.squareSums(), 1e-12, "Σa²");
        for (int u = 0; u < units; u++) {
            assertEquals(abs[u] / n, s.meanAbs()[u], 1e-12 * abs[u] / n);
            assertEquals(sq[u] / n, s.meanSquare()[u], 1e-12 * sq[u] / n);
        }
    }

    @Test
    void convolutionChannelsPoolEverySpatialPosition() {
        int n = 3;
        int c = 4;
        int h = 5;
        int w = 2;
        double[] v = uniformFloats(2, n * c * h * w);
        INDArray x = Nd4j.create(v, new long[] {n, c, h, w}, DataType.DOUBLE).castTo(DataType.FLOAT);
        double[] abs = new double[c];
        double[] sq = new double[c];
        for (int e = 0; e < n; e++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < h; i++) {
                    for (int j = 0; j < w; j++) {
                        double a = x.getDouble(e, ch, i, j);
                        abs[ch] += Math.abs(a);
                        sq[ch] += a * a;
                    }
                }
            }
        }
        UnitActivationSums s = new UnitActivationSums(c);
        s.add(x);
        assertEquals((long) n * h * w, s.count());
        assertRelClose(abs, s.absSums(), 1e-12, "Σ|a| per channel");
        assertRelClose(sq, s.squareSums(), 1e-12, "Σa² per channel");
        double[] meanAbs = s.meanAbs();
        for (int ch = 0; ch < c; ch++) {
            assertEquals(abs[ch] / (n * h * w), meanAbs[ch], 1e-12 * meanAbs[ch]);
        }
    }

    /**
     * Every memory layout the accumulator reads in its own way gives the sums of a loop over the
     * values ({@code getDouble}): 'f'-ordered layer outputs, strided views, permuted 4-D arrays,
     * 1×1 planes, planes whose length is not a multiple of the four partial sums.
     */
    @Test
    void everyLayoutGivesTheSumsOfALoop() {
        INDArray c2 = Nd4j.create(uniformFloats(4, 7 * 5), new long[] {7, 5}, DataType.DOUBLE).castTo(DataType.FLOAT);
        INDArray c4 = Nd4j.create(uniformFloats(5, 3 * 4 * 3 * 3), new long[] {3, 4, 3, 3}, DataType.DOUBLE)
                .castTo(DataType.FLOAT);
        INDArray[] layouts = {
            c2.dup('f'),
            c2.castTo(DataType.DOUBLE).dup('f'),
            Nd4j.create(uniformFloats(6, 7 * 10), new long[] {7, 10}, DataType.DOUBLE)
                    .castTo(DataType.FLOAT).get(all(), interval(0, 2, 10)),
            c2.transpose().dup('c').transpose(),
            c4,
            c4.permute(0, 1, 3, 2),
            c4.dup('f'),
            c4.get(all(), all(), interval(0, 2), all()),
            Nd4j.create(uniformFloats(7, 6 * 4), new long[] {6, 4, 1, 1}, DataType.DOUBLE),
            Nd4j.create(uniformFloats(8, 2 * 3 * 37), new long[] {2, 3, 37, 1}, DataType.DOUBLE).castTo(DataType.FLOAT),
        };
        for (INDArray x : layouts) {
            String what = java.util.Arrays.toString(x.shape()) + " " + x.ordering() + " " + x.dataType()
                    + (x.isView() ? " view" : "");
            int units = (int) x.size(1);
            long plane = x.rank() == 4 ? x.size(2) * x.size(3) : 1;
            double[] abs = new double[units];
            double[] sq = new double[units];
            for (long e = 0; e < x.size(0); e++) {
                for (int u = 0; u < units; u++) {
                    for (long i = 0; i < plane; i++) {
                        double a = x.rank() == 2 ? x.getDouble(e, u)
                                : x.getDouble(e, u, i / x.size(3), i % x.size(3));
                        abs[u] += Math.abs(a);
                        sq[u] += a * a;
                    }
                }
            }
            UnitActivationSums s = new UnitActivationSums(units);
            s.add(x);
            assertEquals(x.size(0) * plane, s.count(), what);
            assertRelClose(abs, s.absSums(), 1e-12, "Σ|a| of " + what);
            assertRelClose(sq, s.squareSums(), 1e-12, "Σa² of " + what);
        }
    }

    @Test
    void mergeOfPartsEqualsWholeAndIsCountWeighted() {
        INDArray x = Nd4j.create(uniformFloats(3, 6 * 3 * 2 * 2), new long[] {6, 3, 2, 2}, DataType.DOUBLE);
        UnitActivationSums whole = new UnitActivationSums(3);
        whole.add(x);
        UnitActivationSums a = new UnitActivationSums(3);
        a.add(x.get(interval(0, 1), all(), all(), all()));
        UnitActivationSums b = new UnitActivationSums(3);
        b.add(x.get(interval(1, 6), all(), all(), all()));
        double[] meanA = a.meanSquare();
        double[] meanB = b.meanSquare();
        UnitActivationSums merged = a.copy();
        merged.merge(new UnitActivationSums(3));
        merged.merge(b);

        assertEquals(whole.count(), merged.count());
        assertEquals(24, merged.count());
        assertRelClose(whole.absSums(), merged.absSums(), 1e-12, "merged Σ|a|");
        assertRelClose(whole.squareSums(), merged.squareSums(), 1e-12, "merged Σa²");
        double[] weighted = new double[3];
        for (int u = 0; u < 3; u++) {
            weighted[u] = (4 * meanA[u] + 20 * meanB[u]) / 24; // 1·2·2 and 5·2·2 values per channel
        }
        assertRelClose(weighted, merged.meanSquare(), 1e-12, "count-weighted mean");
        assertEquals(4, a.count(), "merging into a copy leaves the part alone");
    }

    @Test
    void emptyAccumulatorHasZeroMeans() {
        UnitActivationSums s = new UnitActivationSums(2);
        s.add(Nd4j.zeros(DataType.FLOAT, 0, 2));
        assertEquals(0, s.count());
        assertArrayEquals(new double[2], s.meanAbs());
        assertArrayEquals(new double[2], s.meanSquare());
    }

    @Test
    void doubleInputIsNotModified() {
        INDArray x = Nd4j.create(new double[][] {{-1, 2}, {3, -4}});
        INDArray before = x.dup();
        new UnitActivationSums(2).add(x);
        assertEquals(before, x, "abs must not run in place on the caller's array");
    }

    @Test
    void wrongShapesAreRefused() {
        UnitActivationSums s = new UnitActivationSums(3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> s.add(Nd4j.zeros(DataType.FLOAT, 5, 4)));
        assertTrue(e.getMessage().contains("[5, 4]") && e.getMessage().contains("3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.add(Nd4j.zeros(DataType.FLOAT, 2, 3, 4)));
        assertThrows(IllegalArgumentException.class, () -> s.add(Nd4j.zeros(DataType.FLOAT, 2, 4, 3, 3)));
        assertThrows(IllegalArgumentException.class, () -> s.merge(new UnitActivationSums(2)));
        assertThrows(IllegalArgumentException.class,
                () -> new UnitActivationSums(new double[2], new double[3], 0));
        assertThrows(IllegalArgumentException.class,
                () -> new UnitActivationSums(new double[2], new double[2], -1));
        assertEquals(0, s.count());
    }

    @Test
    void copyIsIndependentAndSerializationRoundTrips() {
        UnitActivationSums a = new UnitActivationSums(new double[] {1, 2}, new double[] {3, 4}, 5);
        UnitActivationSums b = a.copy();
        b.add(Nd4j.create(new double[][] {{-1, 1}}));
        assertArrayEquals(new double[] {1, 2}, a.absSums());
        assertArrayEquals(new double[] {2, 3}, b.absSums());
        UnitActivationSums back = roundTrip(b);
        assertEquals(6, back.count());
        assertArrayEquals(b.absSums(), back.absSums(), 0.0);
        assertArrayEquals(b.squareSums(), back.squareSums(), 0.0);
    }
}
