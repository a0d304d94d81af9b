package dev.pare.common.sparsity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class UnstructuredMasksTest {
    private static final boolean T = true;
    private static final boolean F = false;

    private static void assertMask(boolean[][] expected, boolean[][] actual) {
        assertEquals(expected.length, actual.length, "nIn");
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], actual[i], "row " + i);
        }
    }

    private static int prunedIn(boolean[][] keep) {
        int n = 0;
        for (boolean[] row : keep) {
            for (boolean k : row) {
                n += k ? 0 : 1;
            }
        }
        return n;
    }

    private static int prunedInColumn(boolean[][] keep, int j) {
        int n = 0;
        for (boolean[] row : keep) {
            n += row[j] ? 0 : 1;
        }
        return n;
    }

    @Test
    void magnitudeLayerMaskOnHandWrittenScores() {
        double[][] scores = {
            {0.5, 0.1},
            {2.0, 0.3},
            {0.05, 1.0}};
        // 6 weights at 0.5: the 3 lowest (0.05, 0.1, 0.3) go
        boolean[][] expected = {
            {T, F},
            {T, F},
            {F, T}};
        assertMask(expected, UnstructuredMasks.keep(scores, ComparisonGroup.LAYER, 0.5));
    }

    @Test
    void layerAndOutputNeuronGroupsDifferOnTheSameScores() {
        double[][] scores = {
            {10, 1},
            {9, 2},
            {8, 3},
            {7, 4}};
        // per output neuron, each column loses its own 2 lowest
        boolean[][] perNeuron = {
            {T, F},
            {T, F},
            {F, T},
            {F, T}};
        // across the layer the 4 lowest (1..4) are all in column 1
        boolean[][] perLayer = {
            {T, F},
            {T, F},
            {T, F},
            {T, F}};
        assertMask(perNeuron, UnstructuredMasks.keep(scores, ComparisonGroup.OUTPUT_NEURON, 0.5));
        assertMask(perLayer, UnstructuredMasks.keep(scores, ComparisonGroup.LAYER, 0.5));
    }

    @Test
    void wandaOutputNeuronMaskOnHandWrittenScores() {
        double[][] scores = {
            {0.9, 0.0, 5},
            {0.1, 3.0, 4},
            {0.5, 2.0, 3},
            {0.7, 1.0, 2},
            {0.3, 4.0, 1}};
        // nIn = 5 at 0.5: round(2.5) = 3 pruned per neuron
        boolean[][] expected = {
            {T, F, T},
            {F, T, T},
            {F, F, F},
            {T, F, F},
            {F, T, F}};
        boolean[][] keep = UnstructuredMasks.keep(scores, ComparisonGroup.OUTPUT_NEURON, 0.5);
        assertMask(expected, keep);
        for (int j = 0; j < 3; j++) {
            assertEquals(3, prunedInColumn(keep, j), "neuron " + j);
        }
    }

    @Test
    void allEqualScoresLayerPrunesLowestPyTorchIndicesFirst() {
        double[][] scores = new double[3][2];
        // index of w[i][j] across the layer is j*nIn + i: indices 0,1,2 are the whole of column 0
        boolean[][] expected = {
            {F, T},
            {F, T},
            {F, T}};
        assertMask(expected, UnstructuredMasks.keep(scores, ComparisonGroup.LAYER, 0.5));

        // 1/3 of 6 = 2: w[0][0] (index 0) and w[1][0] (index 1), not w[0][1] (index 3)
        boolean[][] expectedThird = {
            {F, T},
            {F, T},
            {T, T}};
        assertMask(expectedThird, UnstructuredMasks.keep(scores, ComparisonGroup.LAYER, 1.0 / 3));
    }

    @Test
    void tiesAtTheBoundaryBreakByIndex() {
        double[][] scores = {
            {1, 1},
            {2, 1},
            {1, 2}};
        // LAYER, 2 of 6 pruned; the four 1s have indices w00=0, w20=2, w01=3, w11=4 → 0 and 2 go
        boolean[][] layer = {
            {F, T},
            {T, T},
            {F, T}};
        assertMask(layer, UnstructuredMasks.keep(scores, ComparisonGroup.LAYER, 1.0 / 3));
        // OUTPUT_NEURON, 1 of 3 per neuron: column 0 has 1s at rows 0 and 2 → row 0; column 1 at rows 0 and 1 → row 0
        boolean[][] neuron = {
            {F, F},
            {T, T},
            {T, T}};
        assertMask(neuron, UnstructuredMasks.keep(scores, ComparisonGroup.OUTPUT_NEURON, 1.0 / 3));
    }

    @Test
    void allEqualScoresOutputNeuronPrunesLowestInputIndices() {
        double[][] scores = new double[4][2];
        for (double[] r : scores) {
            java.util.Arrays.fill(r, 0.25);
        }
        boolean[][] expected = {
            {F, F},
            {F, F},
            {T, T},
            {T, T}};
        assertMask(expected, UnstructuredMasks.keep(scores, ComparisonGroup.OUTPUT_NEURON, 0.5));
    }

    @Test
    void layerAndNeuronCountsFollowRoundHalfUp() {
        double[][] scores = random(3, 3, 9);
        // LAYER: round(0.5 * 9) = round(4.5) = 5; OUTPUT_NEURON: round(0.5 * 3) = 2 per neuron, 6 in all
        assertEquals(5, prunedIn(UnstructuredMasks.keep(scores, ComparisonGroup.LAYER, 0.5)));
        assertEquals(6, prunedIn(UnstructuredMasks.keep(scores, ComparisonGroup.OUTPUT_NEURON, 0.5)));
        assertEquals(5, UnstructuredMasks.prunedCount(9, 0.5));
        assertEquals(0, UnstructuredMasks.prunedCount(9, 0.05)); // 0.45 rounds down
        assertEquals(1, UnstructuredMasks.prunedCount(10, 0.05)); // 0.5 rounds up
    }

    @Test
    void exactCountsAndLowestScoresAcrossSparsities() {
        int nIn = 7;
        int nOut = 5;
        double[][] scores = random(nIn, nOut, 3);
        for (double s : new double[] {0, 0.1, 0.25, 0.5, 0.7, 0.9, 0.99}) {
            boolean[][] layer = UnstructuredMasks.keep(scores, ComparisonGroup.LAYER, s);
            assertEquals(Math.round(s * (nIn * nOut)), prunedIn(layer), "layer count at " + s);
            assertPrunedBelowKept(scores, layer, -1, s);

            boolean[][] neuron = UnstructuredMasks.keep(scores, ComparisonGroup.OUTPUT_NEURON, s);
            for (int j = 0; j < nOut; j++) {
                assertEquals(Math.round(s * nIn), prunedInColumn(neuron, j), "neuron " + j + " count at " + s);
                assertPrunedBelowKept(scores, neuron, j, s);
            }
        }
    }

    /** Every pruned score (in column j, or the whole layer when j < 0) is below every kept one. */
    private static void assertPrunedBelowKept(double[][] scores, boolean[][] keep, int column, double s) {
        double maxPruned = Double.NEGATIVE_INFINITY;
        double minKept = Double.POSITIVE_INFINITY;
        for (int i = 0; i < scores.length; i++) {
            for (int j = 0; j < scores[i].length; j++) {
                if (column >= 0 && j != column) {
                    continue;
                }
                if (keep[i][j]) {
                    minKept = Math.min(minKept, scores[i][j]);
                } else {
                    maxPruned = Math.max(maxPruned, scores[i][j]);
                }
            }
        }
        assertTrue(maxPruned < minKept, "at sparsity " + s + " a pruned score " + maxPruned
                + " is not below the kept " + minKept);
    }

    @Test
    void sparsityZeroPrunesNothing() {
        double[][] scores = {{0, 0}, {-1, 3}};
        for (ComparisonGroup g : ComparisonGroup.values()) {
            assertMask(new boolean[][] {{T, T}, {T, T}}, UnstructuredMasks.keep(scores, g, 0.0));
        }
    }

    @Test
    void nanScoresThrow() {
        double[][] scores = {{0.1, Double.NaN}, {0.2, 0.3}};
        for (ComparisonGroup g : ComparisonGroup.values()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> UnstructuredMasks.keep(scores, g, 0.5));
            assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        }
        // even at sparsity 0 a NaN score is a bug upstream, not something to keep silently
        assertThrows(IllegalArgumentException.class,
                () -> UnstructuredMasks.keep(scores, ComparisonGroup.LAYER, 0.0));
    }

    @Test
    void sparsityOneNegativeOrNaNThrows() {
        double[][] scores = {{0.1, 0.2}, {0.3, 0.4}};
        for (double s : new double[] {1.0, 1.5, -0.1, Double.NaN}) {
            for (ComparisonGroup g : ComparisonGroup.values()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> UnstructuredMasks.keep(scores, g, s), "sparsity " + s);
                assertTrue(e.getMessage().contains("sparsity"), e.getMessage());
            }
        }
    }

    @Test
    void infiniteScoresAreOrdered() {
        double[][] scores = {{Double.POSITIVE_INFINITY, 1}, {Double.NEGATIVE_INFINITY, 0}};
        // LAYER, 2 of 4: -inf (w10) and 0 (w11)
        assertMask(new boolean[][] {{T, T}, {F, F}}, UnstructuredMasks.keep(scores, ComparisonGroup.LAYER, 0.5));
    }

    private static double[][] random(int nIn, int nOut, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double[][] s = new double[nIn][nOut];
        for (double[] r : s) {
            for (int j = 0; j < nOut; j++) {
                r[j] = rnd.nextDouble();
            }
        }
        return s;
    }
}
