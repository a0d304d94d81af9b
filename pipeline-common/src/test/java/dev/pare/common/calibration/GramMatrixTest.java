package dev.pare.common.calibration;

import static dev.pare.common.calibration.AccumulatorTesting.assertWithinBound;
import static dev.pare.common.calibration.AccumulatorTesting.flatten;
import static dev.pare.common.calibration.AccumulatorTesting.roundTrip;
import static dev.pare.common.calibration.AccumulatorTesting.uniformFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class GramMatrixTest {

    /** Rows of float-representable doubles, so float and double arrays hold the same values. */
    private static double[][] rows(long seed, int n, int d) {
        double[] v = uniformFloats(seed, n * d);
        double[][] x = new double[n][d];
        for (int r = 0; r < n; r++) {
            System.arraycopy(v, r * d, x[r], 0, d);
        }
        return x;
    }

    /** {@code Σ_n x_ni x_nj} by a triple loop; {@code abs} receives {@code Σ_n |x_ni x_nj|}. */
    private static double[][] tripleLoop(double[][] x, int d, double[][] abs) {
        double[][] g = new double[d][d];
        for (double[] row : x) {
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    g[i][j] += row[i] * row[j];
                    abs[i][j] += Math.abs(row[i] * row[j]);
                }
            }
        }
        return g;
    }

    @Test
    void handComputedTwoByTwo() {
        GramMatrix g = new GramMatrix(2);
        g.add(new double[][] {{1, 2}, {3, -1}});
        // [1·1 + 3·3, 1·2 + 3·(−1); ., 2·2 + 1]
        assertArrayEquals(new double[] {10, -1}, g.sums()[0]);
        assertArrayEquals(new double[] {-1, 5}, g.sums()[1]);
        assertArrayEquals(new double[] {5, -0.5}, g.hessian()[0]);
        assertArrayEquals(new double[] {-0.5, 2.5}, g.hessian()[1]);
        assertEquals(2, g.count());
        assertEquals(2, g.dimension());
    }

    @Test
    void floatGemmMatchesTripleLoop() {
        int n = 29;
        int d = 37; // not a multiple of any GEMM block size
        double[][] x = rows(3, n, d);
        double[][] abs = new double[d][d];
        double[][] expected = tripleLoop(x, d, abs);

        GramMatrix g = new GramMatrix(d);
        g.add(Nd4j.create(x).castTo(DataType.FLOAT));
        assertEquals(n, g.count());
        assertWithinBound(flatten(expected), flatten(g.sums()), flatten(abs), 1e-12, "XᵀX");

        double[][] h = g.hessian();
        double[][] expectedH = new double[d][d];
        double[][] absH = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                expectedH[i][j] = expected[i][j] / n;
                absH[i][j] = abs[i][j] / n;
            }
        }
        assertWithinBound(flatten(expectedH), flatten(h), flatten(absH), 1e-12, "XᵀX / n");
    }

    @Test
    void fOrderedAndDoubleInputsGiveTheSameSums() {
        double[][] x = rows(4, 7, 5);
        double[][] abs = new double[5][5];
        double[][] expected = tripleLoop(x, 5, abs);
        GramMatrix c = new GramMatrix(5);
        c.add(Nd4j.create(x));
        GramMatrix f = new GramMatrix(5);
        f.add(Nd4j.create(x).dup('f'));
        GramMatrix plain = new GramMatrix(5);
        plain.add(x);
        for (GramMatrix g : new GramMatrix[] {c, f, plain}) {
            assertWithinBound(flatten(expected), flatten(g.sums()), flatten(abs), 1e-12, "XᵀX");
        }
    }

    @Test
    void storedMatrixIsExactlySymmetric() {
        int d = 41;
        GramMatrix g = new GramMatrix(d);
        g.add(Nd4j.create(rows(5, 50, d)).castTo(DataType.FLOAT));
        g.add(rows(6, 3, d));
        double[][] s = g.sums();
        double[][] h = g.hessian();
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                assertEquals(s[i][j], s[j][i], 0.0, "sums[" + i + "][" + j + "]");
                assertEquals(h[i][j], h[j][i], 0.0, "hessian[" + i + "][" + j + "]");
            }
        }
    }

    @Test
    void mergeOfHalvesEqualsWhole() {
        int d = 9;
        double[][] x = rows(7, 24, d);
        GramMatrix whole = new GramMatrix(d);
        whole.add(Nd4j.create(x));

        GramMatrix first = new GramMatrix(d);
        first.add(Nd4j.create(Arrays.copyOfRange(x, 0, 10)));
        GramMatrix second = new GramMatrix(d);
        second.add(Arrays.copyOfRange(x, 10, 24));
        GramMatrix merged = first.copy();
        merged.merge(new GramMatrix(d));
        merged.merge(second);

        double[][] abs = new double[d][d];
        tripleLoop(x, d, abs);
        assertEquals(24, merged.count());
        assertWithinBound(flatten(whole.sums()), flatten(merged.sums()), flatten(abs), 1e-12, "merged XᵀX");
        assertEquals(10, first.count(), "merging into a copy leaves the part alone");
    }

    @Test
    void hessianOfMergeIsCountWeighted() {
        GramMatrix a = new GramMatrix(new double[][] {{2}}, 1); // mean 2 over 1 row
        GramMatrix b = new GramMatrix(new double[][] {{12}}, 3); // mean 4 over 3 rows
        a.merge(b);
        // (1·2 + 3·4) / 4 = 3.5, not the unweighted (2 + 4) / 2 = 3
        assertEquals(3.5, a.hessian()[0][0], 0.0);
    }

    @Test
    void emptyAccumulatorHasZeroHessian() {
        GramMatrix g = new GramMatrix(3);
        g.add(Nd4j.zeros(DataType.FLOAT, 0, 3));
        assertEquals(0, g.count());
        for (double[] row : g.hessian()) {
            assertArrayEquals(new double[3], row);
        }
    }

    @Test
    void bytesIsEightTimesDSquared() {
        assertEquals(0, GramMatrix.bytes(0));
        assertEquals(8, GramMatrix.bytes(1));
        assertEquals(8L * 4096 * 4096, GramMatrix.bytes(4096));
        assertEquals(8L * 100_000 * 100_000, GramMatrix.bytes(100_000), "no int overflow");
        assertThrows(IllegalArgumentException.class, () -> GramMatrix.bytes(-1));
        assertThrows(IllegalArgumentException.class, () -> new GramMatrix(GramMatrix.MAX_DIMENSION + 1));
    }

    @Test
    void wrongShapesAreRefusedAndNamed() {
        GramMatrix g = new GramMatrix(3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> g.add(Nd4j.zeros(DataType.FLOAT, 4, 2)));
        assertTrue(e.getMessage().contains("[4, 2]") && e.getMessage().contains("3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> g.add(Nd4j.zeros(DataType.FLOAT, 3)));
        assertThrows(IllegalArgumentException.class, () -> g.add(new double[][] {{1, 2, 3}, {1, 2}}));
        IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> g.merge(new GramMatrix(2)));
        assertTrue(m.getMessage().contains("2x2") && m.getMessage().contains("3x3"), m.getMessage());
        assertEquals(0, g.count(), "refused calls change nothing");
        assertArrayEquals(new double[3], g.sums()[0], "a refused ragged add must not add its valid rows");
    }

    @Test
    void constructorRefusesNonSquareAsymmetricOrNegativeCount() {
        assertThrows(IllegalArgumentException.class, () -> new GramMatrix(new double[][] {{1, 2}}, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new GramMatrix(new double[][] {{1, 2}, {3, 4}}, 1));
        assertTrue(e.getMessage().contains("symmetric"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GramMatrix(new double[][] {{1}}, -1));
    }

    @Test
    void copyIsIndependentAndSerializationRoundTrips() {
        GramMatrix a = new GramMatrix(2);
        a.add(new double[][] {{1, 2}});
        GramMatrix b = a.copy();
        b.add(new double[][] {{1, 0}});
        assertArrayEquals(new double[] {1, 2}, a.sums()[0]);
        assertArrayEquals(new double[] {2, 2}, b.sums()[0]);

        GramMatrix back = roundTrip(b);
        assertEquals(b.count(), back.count());
        assertArrayEquals(flatten(b.sums()), flatten(back.sums()), 0.0);
    }

    @Test
    void callerArrayIsNotModified() {
        INDArray x = Nd4j.create(new double[][] {{-1, 2}, {3, -4}});
        INDArray before = x.dup();
        new GramMatrix(2).add(x);
        assertEquals(before, x);
    }
}
