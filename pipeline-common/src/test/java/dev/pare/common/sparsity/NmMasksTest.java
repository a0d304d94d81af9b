package dev.pare.common.sparsity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class NmMasksTest {
    private static final boolean T = true;
    private static final boolean F = false;

    /** Column 0 is chosen so that 2:4 and per-neuron 50% unstructured pruning disagree. */
    private static final double[][] SCORES_8X2 = {
        {0.9, 0.0},
        {0.1, 2.0},
        {0.5, 1.0},
        {0.3, 3.0},
        {0.95, 5.0},
        {0.8, 5.0},
        {0.7, 1.0},
        {0.6, 7.0}};

    private static void assertMask(boolean[][] expected, boolean[][] actual) {
        assertEquals(expected.length, actual.length, "nIn");
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], actual[i], "row " + i);
        }
    }

    @Test
    void twoFourOnHandWrittenScores() {
        // column 0: group {0.9, 0.1, 0.5, 0.3} loses rows 1, 3; group {0.95, 0.8, 0.7, 0.6} loses rows 6, 7.
        // column 1: group {0, 2, 1, 3} loses rows 0, 2; group {5, 5, 1, 7} loses row 6 (1) and row 4
        // (the lower index of the tied 5s).
        boolean[][] expected = {
            {T, F},
            {F, T},
            {T, F},
            {F, T},
            {T, F},
            {T, T},
            {F, F},
            {F, T}};
        assertMask(expected, NmMasks.keep(SCORES_8X2, 2, 4));
        // per-neuron unstructured at the same 50% prunes 0.1, 0.3, 0.5, 0.6 in column 0: row 2 instead of row 6
        boolean[][] unstructured = UnstructuredMasks.keep(SCORES_8X2, ComparisonGroup.OUTPUT_NEURON, 0.5);
        assertFalse(unstructured[2][0]);
        assertTrue(unstructured[6][0]);
    }

    @Test
    void oneFourKeepsTheMaximumOfEachGroup() {
        // column 0: maxima 0.9 (row 0) and 0.95 (row 4); column 1: 3 (row 3) and 7 (row 7)
        boolean[][] expected = {
            {T, F},
            {F, F},
            {F, F},
            {F, T},
            {T, F},
            {F, F},
            {F, F},
            {F, T}};
        assertMask(expected, NmMasks.keep(SCORES_8X2, 1, 4));
    }

    @Test
    void everyGroupLosesExactlyMMinusNAndOnlyItsLowest() {
        int nIn = 16;
        int nOut = 5;
        double[][] scores = new double[nIn][nOut];
        SplittableRandom rnd = new SplittableRandom(11);
        for (double[] row : scores) {
            for (int j = 0; j < nOut; j++) {
                row[j] = rnd.nextDouble();
            }
        }
        for (int[] nm : new int[][] {{2, 4}, {1, 4}, {3, 4}, {4, 8}}) {
            int n = nm[0];
            int m = nm[1];
            boolean[][] keep = NmMasks.keep(scores, n, m);
            int pruned = 0;
            for (int j = 0; j < nOut; j++) {
                for (int start = 0; start < nIn; start += m) {
                    int prunedInGroup = 0;
                    double maxPruned = Double.NEGATIVE_INFINITY;
                    double minKept = Double.POSITIVE_INFINITY;
                    for (int i = start; i < start + m; i++) {
                        if (keep[i][j]) {
                            minKept = Math.min(minKept, scores[i][j]);
                        } else {
                            prunedInGroup++;
                            maxPruned = Math.max(maxPruned, scores[i][j]);
                        }
                    }
                    String where = n + ":" + m + " neuron " + j + " group at " + start;
                    assertEquals(m - n, prunedInGroup, where);
                    assertTrue(maxPruned < minKept, where + ": pruned " + maxPruned + " not below kept " + minKept);
                    pruned += prunedInGroup;
                }
            }
            assertEquals((double) (m - n) / m, (double) pruned / (nIn * nOut), 1e-12, n + ":" + m + " sparsity");
        }
    }

    @Test
    void tiesPruneTheLowerInputIndexFirst() {
        double[][] equal = {{1}, {1}, {1}, {1}};
        assertMask(new boolean[][] {{F}, {F}, {T}, {T}}, NmMasks.keep(equal, 2, 4));
        assertMask(new boolean[][] {{F}, {F}, {F}, {T}}, NmMasks.keep(equal, 1, 4));
        assertMask(new boolean[][] {{F}, {T}, {T}, {T}}, NmMasks.keep(equal, 3, 4));

        double[][] pairs = {{1}, {0}, {0}, {1}};
        // 3:4 prunes one 0: the one at row 1; 1:4 prunes both 0s and the 1 at row 0
        assertMask(new boolean[][] {{T}, {F}, {T}, {T}}, NmMasks.keep(pairs, 3, 4));
        assertMask(new boolean[][] {{F}, {F}, {F}, {T}}, NmMasks.keep(pairs, 1, 4));
    }

    @Test
    void applicableNeedsAPositiveDivisor() {
        assertTrue(NmMasks.applicable(784, 4));
        assertTrue(NmMasks.applicable(0, 4));
        assertFalse(NmMasks.applicable(10, 4));
        assertFalse(NmMasks.applicable(8, 0));
        assertFalse(NmMasks.applicable(8, -2));
    }

    @Test
    void invalidNOrMIsRefusedNamingNInNAndM() {
        double[][] scores = new double[8][3];
        for (int[] nm : new int[][] {{0, 4}, {4, 4}, {5, 4}, {-1, 4}, {1, 0}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> NmMasks.keep(scores, nm[0], nm[1]), nm[0] + ":" + nm[1]);
            assertTrue(e.getMessage().contains(nm[0] + ":" + nm[1]), e.getMessage());
            assertTrue(e.getMessage().contains("0 < N < M"), e.getMessage());
            assertTrue(e.getMessage().contains("nIn = 8"), e.getMessage());
        }
    }

    @Test
    void nInNotAMultipleOfMIsRefused() {
        double[][] scores = new double[6][2];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NmMasks.keep(scores, 2, 4));
        assertTrue(e.getMessage().contains("2:4"), e.getMessage());
        assertTrue(e.getMessage().contains("nIn = 6"), e.getMessage());
        assertTrue(e.getMessage().contains("multiple of 4"), e.getMessage());
    }

    @Test
    void nanScoresAreRefused() {
        double[][] scores = {{0.1}, {Double.NaN}, {0.3}, {0.4}};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NmMasks.keep(scores, 2, 4));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
    }
}
