package dev.pare.common.surgery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.surgery.SparseGpt.Pattern;
import dev.pare.common.surgery.SparseGpt.Result;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SparseGptTest {

    // ---- helpers: data, products and an independent OBS ----

    /** n×d standard normal calibration rows. */
    private static double[][] randomRows(long seed, int n, int d) {
        Random rnd = new Random(seed);
        double[][] x = new double[n][d];
        for (double[] row : x) {
            for (int i = 0; i < d; i++) {
                row[i] = rnd.nextGaussian();
            }
        }
        return x;
    }

    /** XᵀX/n. */
    private static double[][] hessian(double[][] x) {
        int d = x[0].length;
        double[][] h = new double[d][d];
        for (double[] row : x) {
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    h[i][j] += row[i] * row[j];
                }
            }
        }
        for (double[] row : h) {
            for (int j = 0; j < d; j++) {
                row[j] /= x.length;
            }
        }
        return h;
    }

    /** H + λI with λ = damp · mean(diag H), after the dead-input rule H_ii = 0 → 1. */
    private static double[][] damped(double[][] h, double damp) {
        int d = h.length;
        double[][] out = new double[d][];
        double mean = 0;
        for (int i = 0; i < d; i++) {
            out[i] = h[i].clone();
            if (out[i][i] == 0) {
                out[i][i] = 1;
            }
            mean += out[i][i];
        }
        mean /= d;
        for (int i = 0; i < d; i++) {
            out[i][i] += damp * mean;
        }
        return out;
    }

    /** ‖X·A − X·B‖² summed over rows and outputs; A, B are [nIn][nOut]. */
    private static double outputError(double[][] x, double[][] a, double[][] b) {
        double sum = 0;
        for (double[] row : x) {
            for (int j = 0; j < a[0].length; j++) {
                double diff = 0;
                for (int i = 0; i < row.length; i++) {
                    diff += row[i] * (a[i][j] - b[i][j]);
                }
                sum += diff * diff;
            }
        }
        return sum;
    }

    private static double[][] masked(double[][] w, boolean[][] keep) {
        double[][] out = new double[w.length][w[0].length];
        for (int i = 0; i < w.length; i++) {
            for (int j = 0; j < w[0].length; j++) {
                out[i][j] = keep[i][j] ? w[i][j] : 0.0;
            }
        }
        return out;
    }

    /** Gauss-Jordan inverse with partial pivoting, independent of the Cholesky code under test. */
    private static double[][] inverse(double[][] a) {
        int d = a.length;
        double[][] m = new double[d][2 * d];
        for (int i = 0; i < d; i++) {
            System.arraycopy(a[i], 0, m[i], 0, d);
            m[i][d + i] = 1;
        }
        for (int c = 0; c < d; c++) {
            int p = c;
            for (int r = c + 1; r < d; r++) {
                if (Math.abs(m[r][c]) > Math.abs(m[p][c])) {
                    p = r;
                }
            }
            double[] t = m[c];
            m[c] = m[p];
            m[p] = t;
            double pivot = m[c][c];
            for (int j = 0; j < 2 * d; j++) {
                m[c][j] /= pivot;
            }
            for (int r = 0; r < d; r++) {
                if (r != c && m[r][c] != 0) {
                    double f = m[r][c];
                    for (int j = 0; j < 2 * d; j++) {
                        m[r][j] -= f * m[c][j];
                    }
                }
            }
        }
        double[][] inv = new double[d][d];
        for (int i = 0; i < d; i++) {
            System.arraycopy(m[i], d, inv[i], 0, d);
        }
        return inv;
    }

    /**
     * Textbook sequential OBS without Cholesky or blocks: for i = 0..d−1, pruning w_i moves
     * {@code −w_i · [G⁻¹]_{i,j} / [G⁻¹]_{i,i}} onto each later w_j, G = H restricted to columns i..d−1.
     */
    private static double[][] naiveObs(double[][] weights, double[][] hDamped, boolean[][] keep) {
        int nIn = weights.length;
        int nOut = weights[0].length;
        double[][] w = new double[nIn][];
        for (int i = 0; i < nIn; i++) {
            w[i] = weights[i].clone();
        }
        for (int i = 0; i < nIn; i++) {
            int rest = nIn - i;
            double[][] g = new double[rest][rest];
            for (int a = 0; a < rest; a++) {
                for (int b = 0; b < rest; b++) {
                    g[a][b] = hDamped[i + a][i + b];
                }
            }
            double[][] gInv = inverse(g);
            for (int r = 0; r < nOut; r++) {
                if (!keep[i][r]) {
                    double wi = w[i][r];
                    for (int j = i + 1; j < nIn; j++) {
                        w[j][r] -= wi * gInv[0][j - i] / gInv[0][0];
                    }
                    w[i][r] = 0.0;
                }
            }
        }
        return w;
    }

    private static void assertClose(double[][] expected, double[][] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + " rows");
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], actual[i], tol, what + " row " + i);
        }
    }

    private static void assertMask(boolean[][] expected, boolean[][] actual) {
        assertEquals(expected.length, actual.length, "mask rows");
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], actual[i], "mask row " + i);
        }
    }

    /** Pruned entries are +0.0 exactly (not -0.0, not tiny). */
    private static void assertPrunedAreZero(Result r) {
        for (int i = 0; i < r.keep().length; i++) {
            for (int j = 0; j < r.keep()[0].length; j++) {
                if (!r.keep()[i][j]) {
                    assertEquals(0L, Double.doubleToRawLongBits(r.weights()[i][j]), "pruned w[" + i + "][" + j + "]");
                }
            }
        }
    }

    private static int prunedCount(boolean[][] keep, int rowFrom, int rowTo) {
        int n = 0;
        for (int i = rowFrom; i < rowTo; i++) {
            for (boolean k : keep[i]) {
                n += k ? 0 : 1;
            }
        }
        return n;
    }

    // ---- 1. reconstruction helps ----

    /** Rows whose columns share two common factors, as layer inputs usually do: x_i = z_i + f + (±0.5)·g. */
    private static double[][] correlatedRows(long seed, int n, int d) {
        double[][] x = randomRows(seed, n, d);
        Random rnd = new Random(seed + 1);
        for (double[] row : x) {
            double f = rnd.nextGaussian();
            double g = rnd.nextGaussian();
            for (int i = 0; i < d; i++) {
                row[i] += f + (i % 2 == 0 ? 0.5 : -0.5) * g;
            }
        }
        return x;
    }

    @Test
    void reconstructionBeatsMaskOnlyForUnstructuredAndTwoOfFour() {
        double[][] w = randomRows(12, 32, 8);
        for (boolean correlated : new boolean[] {false, true}) {
            double[][] x = correlated ? correlatedRows(11, 256, 32) : randomRows(11, 256, 32);
            double[][] h = hessian(x);
            for (Pattern p : new Pattern[] {Pattern.unstructured(0.5), Pattern.nOfM(2, 4)}) {
                String what = p + (correlated ? ", correlated inputs" : ", independent inputs");
                Result r = SparseGpt.prune(w, h, p);
                double reconstructed = outputError(x, w, r.weights());
                double maskOnly = outputError(x, w, masked(w, r.keep()));
                assertEquals(128, prunedCount(r.keep(), 0, 32), what + ": half of 32x8 pruned");
                assertPrunedAreZero(r);
                assertTrue(reconstructed < maskOnly, what + ": reconstructed " + reconstructed + " vs mask only " + maskOnly);
                if (correlated) {
                    // correlated inputs let the kept weights stand in for the pruned ones: a large gain
                    assertTrue(reconstructed < 0.8 * maskOnly, what + ": reconstructed " + reconstructed + " vs " + maskOnly);
                }
            }
        }
    }

    // ---- 2. exact optimum when the pruned inputs come first ----

    @Test
    void prunedInputsFirstGiveTheLeastSquaresOptimum() {
        double[][] x = randomRows(21, 40, 4);
        double[][] h = hessian(x);
        double damp = 0.05;
        double[][] hd = damped(h, damp);
        double[][] w = {
            {1e-3, -2e-3, 1.5e-3, -1e-3},
            {-1e-3, 1e-3, 2e-3, 1e-3},
            {0.8, -1.2, 0.5, 1.1},
            {-0.7, 0.9, -1.3, 0.6}};
        boolean[][] keep = {
            {false, false, false, false},
            {false, false, false, false},
            {true, true, true, true},
            {true, true, true, true}};

        // ŵ_K = (H_KK)⁻¹ H_K,: w with K = {2, 3}, by the 2×2 inverse formula
        double a = hd[2][2];
        double b = hd[2][3];
        double c = hd[3][3];
        double det = a * c - b * b;
        double[][] expected = new double[4][4];
        for (int j = 0; j < 4; j++) {
            double r2 = 0;
            double r3 = 0;
            for (int i = 0; i < 4; i++) {
                r2 += hd[2][i] * w[i][j];
                r3 += hd[3][i] * w[i][j];
            }
            expected[2][j] = (c * r2 - b * r3) / det;
            expected[3][j] = (-b * r2 + a * r3) / det;
        }

        Result fixed = SparseGpt.reconstruct(w, h, keep, damp, SparseGpt.DEFAULT_BLOCK_SIZE);
        assertMask(keep, fixed.keep());
        assertClose(expected, fixed.weights(), 1e-9, "reconstruct with inputs 0,1 pruned");

        // 16 weights at 50%: the 8 tiny ones of inputs 0 and 1 are the lowest w²/U_ii²
        Result chosen = SparseGpt.prune(w, h, Pattern.unstructured(0.5), damp, SparseGpt.DEFAULT_BLOCK_SIZE);
        assertMask(keep, chosen.keep());
        assertClose(expected, chosen.weights(), 1e-9, "unstructured 50%");

        // a block of one column gives the same answer through the lazy updates alone
        Result blockOne = SparseGpt.reconstruct(w, h, keep, damp, 1);
        assertClose(expected, blockOne.weights(), 1e-9, "block size 1");
    }

    @Test
    void anyMaskAndBlockSizeMatchTextbookSequentialObs() {
        double[][] x = randomRows(31, 60, 12);
        double[][] h = hessian(x);
        double[][] w = randomRows(32, 12, 5);
        Random rnd = new Random(33);
        boolean[][] keep = new boolean[12][5];
        for (boolean[] row : keep) {
            for (int j = 0; j < 5; j++) {
                row[j] = rnd.nextBoolean();
            }
        }
        double[][] expected = naiveObs(w, damped(h, 0.01), keep);
        for (int blockSize : new int[] {1, 5, 12, 128}) {
            Result r = SparseGpt.reconstruct(w, h, keep, 0.01, blockSize);
            assertClose(expected, r.weights(), 1e-9, "block size " + blockSize);
            assertPrunedAreZero(r);
        }
        // the default-argument overload is damping 0.01 and block size 128
        assertClose(expected, SparseGpt.reconstruct(w, h, keep).weights(), 1e-9, "defaults");
    }

    @Test
    void upperFactorOfInverseSatisfiesUtUTimesHIsIdentity() {
        double[][] h = damped(hessian(randomRows(41, 50, 20)), 0.01);
        double[][] u = Cholesky.upperFactorOfInverse(h);
        for (int i = 0; i < 20; i++) {
            assertTrue(u[i][i] > 0, "positive diagonal at " + i);
            for (int j = 0; j < i; j++) {
                assertEquals(0.0, u[i][j], 0.0, "below the diagonal at [" + i + "][" + j + "]");
            }
        }
        for (int i = 0; i < 20; i++) {
            for (int j = 0; j < 20; j++) {
                double s = 0;
                for (int k = 0; k < 20; k++) {
                    double utuIk = 0;
                    for (int m = 0; m < 20; m++) {
                        utuIk += u[m][i] * u[m][k];
                    }
                    s += utuIk * h[k][j];
                }
                assertEquals(i == j ? 1.0 : 0.0, s, 1e-10, "(UᵀU·H)[" + i + "][" + j + "]");
            }
        }
    }

    // ---- 3. pattern counts ----

    @Test
    void nOfMLeavesExactlyMMinusNZerosInEveryGroup() {
        double[][] x = randomRows(51, 128, 32);
        double[][] h = hessian(x);
        double[][] w = randomRows(52, 32, 8);
        for (int[] nm : new int[][] {{2, 4}, {1, 4}}) {
            int n = nm[0];
            int m = nm[1];
            Result r = SparseGpt.prune(w, h, Pattern.nOfM(n, m));
            assertPrunedAreZero(r);
            for (int j = 0; j < 8; j++) {
                for (int g = 0; g < 32; g += m) {
                    int zeros = 0;
                    int pruned = 0;
                    for (int i = g; i < g + m; i++) {
                        zeros += r.weights()[i][j] == 0.0 ? 1 : 0;
                        pruned += r.keep()[i][j] ? 0 : 1;
                    }
                    assertEquals(m - n, pruned, n + ":" + m + " output " + j + " group at " + g);
                    assertEquals(m - n, zeros, n + ":" + m + " zeros, output " + j + " group at " + g);
                }
            }
            // a block size that is not a multiple of m is rounded down to one; the result does not depend on it
            Result odd = SparseGpt.prune(w, h, Pattern.nOfM(n, m), 0.01, 6);
            assertMask(r.keep(), odd.keep());
            assertClose(r.weights(), odd.weights(), 1e-9, n + ":" + m + " block size 6");
        }
    }

    @Test
    void unstructuredPrunesRoundOfSparsityTimesCountInEachBlock() {
        double[][] h = hessian(randomRows(61, 128, 32));
        double[][] w = randomRows(62, 32, 8);
        // block size 10: blocks of 10, 10, 10 and 2 input columns, 80, 80, 80 and 16 weights
        Result r = SparseGpt.prune(w, h, Pattern.unstructured(0.35), 0.01, 10);
        assertEquals(28, prunedCount(r.keep(), 0, 10), "round(0.35 * 80) = 28");
        assertEquals(28, prunedCount(r.keep(), 10, 20));
        assertEquals(28, prunedCount(r.keep(), 20, 30));
        assertEquals(6, prunedCount(r.keep(), 30, 32), "round(0.35 * 16) = round(5.6) = 6");
        assertPrunedAreZero(r);
        for (int i = 0; i < 32; i++) {
            for (int j = 0; j < 8; j++) {
                if (r.keep()[i][j]) {
                    assertTrue(r.weights()[i][j] != 0.0, "kept w[" + i + "][" + j + "] of random data is non-zero");
                }
            }
        }
        // one block of all 32 columns: round(0.35 * 256) = round(89.6) = 90
        assertEquals(90, prunedCount(SparseGpt.prune(w, h, Pattern.unstructured(0.35)).keep(), 0, 32));
    }

    @Test
    void tiedScoresPruneTheLowerFlatIndexFirst() {
        // H = I: every U_ii is equal, so scores are w²; all 8 weights equal → indices 0..2 of
        // (output, column) order are pruned: output 0 columns 0, 1, 2 → inputs 0, 1, 2 of output 0
        double[][] h = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
        double[][] w = {{1, 1}, {1, 1}, {1, 1}, {1, 1}};
        Result r = SparseGpt.prune(w, h, Pattern.unstructured(0.375));
        boolean[][] expected = {{false, true}, {false, true}, {false, true}, {true, true}};
        assertMask(expected, r.keep());
        // with H = I the columns do not interact: kept weights are unchanged
        assertClose(new double[][] {{0, 1}, {0, 1}, {0, 1}, {1, 1}}, r.weights(), 0.0, "H = I");

        // 2:4 on the same ties keeps the last two inputs of each group
        Result nm = SparseGpt.prune(w, h, Pattern.nOfM(2, 4));
        assertMask(new boolean[][] {{false, false}, {false, false}, {true, true}, {true, true}}, nm.keep());
    }

    @Test
    void sparsityZeroLeavesTheWeightsUnchanged() {
        double[][] h = hessian(randomRows(71, 64, 16));
        double[][] w = randomRows(72, 16, 4);
        Result r = SparseGpt.prune(w, h, Pattern.unstructured(0));
        assertClose(w, r.weights(), 0.0, "sparsity 0");
        assertEquals(0, prunedCount(r.keep(), 0, 16));
    }

    // ---- 4. dead inputs and invalid arguments ----

    @Test
    void deadInputColumnGetsZeroWeights() {
        double[][] x = randomRows(81, 64, 8);
        for (double[] row : x) {
            row[3] = 0.0;
        }
        double[][] h = hessian(x);
        double[][] w = randomRows(82, 8, 4);
        boolean[][] all = new boolean[8][4];
        for (boolean[] row : all) {
            java.util.Arrays.fill(row, true);
        }
        Result kept = SparseGpt.reconstruct(w, h, all);
        for (int i = 0; i < 8; i++) {
            for (int j = 0; j < 4; j++) {
                assertEquals(i == 3 ? 0.0 : w[i][j], kept.weights()[i][j], 0.0, "keep-all w[" + i + "][" + j + "]");
            }
        }
        for (Pattern p : new Pattern[] {Pattern.unstructured(0.5), Pattern.nOfM(2, 4)}) {
            Result r = SparseGpt.prune(w, h, p);
            assertArrayEquals(new double[4], r.weights()[3], 0.0, p + ": dead input");
            // its weights score 0, the lowest, so they are among the pruned
            assertArrayEquals(new boolean[4], r.keep()[3], p + ": dead input pruned");
        }
    }

    @Test
    void invalidArgumentsThrowWithMessages() {
        double[][] h4 = {{2, 0, 0, 0}, {0, 2, 0, 0}, {0, 0, 2, 0}, {0, 0, 0, 2}};
        double[][] w4 = {{1, 2}, {3, 4}, {5, 6}, {7, 8}};

        assertEquals("sparsity must be in [0, 1), was 1.0",
                assertThrows(IllegalArgumentException.class, () -> Pattern.unstructured(1)).getMessage());
        assertEquals("sparsity must be in [0, 1), was -0.1",
                assertThrows(IllegalArgumentException.class, () -> Pattern.unstructured(-0.1)).getMessage());
        assertEquals("N:M pattern needs 0 < n < m, was 4:4",
                assertThrows(IllegalArgumentException.class, () -> Pattern.nOfM(4, 4)).getMessage());
        assertEquals("N:M pattern needs 0 < n < m, was 5:4",
                assertThrows(IllegalArgumentException.class, () -> Pattern.nOfM(5, 4)).getMessage());
        assertEquals("N:M pattern needs 0 < n < m, was 0:4",
                assertThrows(IllegalArgumentException.class, () -> Pattern.nOfM(0, 4)).getMessage());

        double[][] h6 = damped(new double[6][6], 0);
        double[][] w6 = new double[6][2];
        String nm = assertThrows(IllegalArgumentException.class,
                () -> SparseGpt.prune(w6, h6, Pattern.nOfM(2, 4))).getMessage();
        assertTrue(nm.contains("nIn = 6") && nm.contains("m = 4"), nm);

        String shape = assertThrows(IllegalArgumentException.class,
                () -> SparseGpt.prune(w6, h4, Pattern.unstructured(0.5))).getMessage();
        assertEquals("hessian has 4 rows but the weights have nIn = 6", shape);
        String mask = assertThrows(IllegalArgumentException.class,
                () -> SparseGpt.reconstruct(w4, h4, new boolean[4][3])).getMessage();
        assertEquals("keep mask row 0 has 3 entries but the weights are 4x2", mask);

        double[][] notPd = {{1, 2}, {2, 1}};
        String pd = assertThrows(IllegalArgumentException.class,
                () -> SparseGpt.prune(new double[][] {{1}, {1}}, notPd, Pattern.unstructured(0.5), 0, 128))
                .getMessage();
        assertTrue(pd.startsWith("hessian (2x2) is not positive definite after damping with lambda = 0.0"), pd);

        double[][] asym = {{2, 1}, {0, 2}};
        String sym = assertThrows(IllegalArgumentException.class,
                () -> SparseGpt.prune(new double[][] {{1}, {1}}, asym, Pattern.unstructured(0.5))).getMessage();
        assertEquals("hessian is not symmetric: [0][1] = 1.0 but [1][0] = 0.0", sym);

        assertEquals("blockSize must be >= 1, was 0", assertThrows(IllegalArgumentException.class,
                () -> SparseGpt.prune(w4, h4, Pattern.unstructured(0.5), 0.01, 0)).getMessage());
        assertEquals("dampFraction must be finite and >= 0, was -1.0", assertThrows(IllegalArgumentException.class,
                () -> SparseGpt.prune(w4, h4, Pattern.unstructured(0.5), -1, 128)).getMessage());
        double[][] nan = {{1, 2}, {Double.NaN, 4}, {5, 6}, {7, 8}};
        assertEquals("weights[1][0] is NaN", assertThrows(IllegalArgumentException.class,
                () -> SparseGpt.prune(nan, h4, Pattern.unstructured(0.5))).getMessage());
    }

    // ---- 5. determinism; inputs untouched ----

    @Test
    void sameInputGivesIdenticalArraysAndInputsAreNotChanged() {
        double[][] h = hessian(randomRows(91, 128, 24));
        double[][] w = randomRows(92, 24, 6);
        double[][] hCopy = new double[24][];
        double[][] wCopy = new double[24][];
        for (int i = 0; i < 24; i++) {
            hCopy[i] = h[i].clone();
            wCopy[i] = w[i].clone();
        }
        for (Pattern p : new Pattern[] {Pattern.unstructured(0.6), Pattern.nOfM(1, 3)}) {
            Result a = SparseGpt.prune(w, h, p, 0.01, 7);
            Result b = SparseGpt.prune(w, h, p, 0.01, 7);
            assertMask(a.keep(), b.keep());
            assertClose(a.weights(), b.weights(), 0.0, p + " twice");
            assertFalse(a.weights() == b.weights(), "fresh arrays");
        }
        assertClose(hCopy, h, 0.0, "hessian untouched");
        assertClose(wCopy, w, 0.0, "weights untouched");
    }
}
