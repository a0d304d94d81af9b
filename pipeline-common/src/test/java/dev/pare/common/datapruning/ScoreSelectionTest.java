package dev.pare.common.datapruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** {@link ScoreSelection} on rows small enough to work out by hand. */
class ScoreSelectionTest {
    private static ScoreSelection.Settings plain(SelectionMethod method) {
        return new ScoreSelection.Settings(method, false, 0, 1);
    }

    @Test
    void hardestAndEasiestBreakTiesBySmallerIdWithSignedZerosEqual() {
        long[] ids = {5, 3, 9, 1, 7};
        int[] labels = {0, 0, 0, 0, 0};
        double[] hardness = {0.0, -0.0, 1.0, 0.0, -2.0};
        long[] random = {0, 0, 0, 0, 0};
        // Hardest 3: id 9 (1.0), then the zeros of ids 1 and 3 (-0.0 ties with 0.0, smaller ids first).
        assertArrayEquals(new int[] {1, 2, 3},
                ScoreSelection.select(ids, labels, hardness, random, plain(SelectionMethod.HARDEST), 3));
        // Easiest 2: id 7 (-2.0), then the zero of id 1.
        assertArrayEquals(new int[] {3, 4},
                ScoreSelection.select(ids, labels, hardness, random, plain(SelectionMethod.EASIEST), 2));
        // NaN is the hardest of all, as Spark sorts it.
        double[] withNan = {0.0, Double.NaN, 1.0, 0.0, -2.0};
        assertArrayEquals(new int[] {1},
                ScoreSelection.select(ids, labels, withNan, random, plain(SelectionMethod.HARDEST), 1));
        // Asking for more than there is keeps everything.
        assertArrayEquals(new int[] {0, 1, 2, 3, 4},
                ScoreSelection.select(ids, labels, hardness, random, plain(SelectionMethod.EASIEST), 99));
    }

    @Test
    void randomFollowsTheKeysThenTheIds() {
        long[] ids = {10, 11, 12, 13};
        long[] random = {40, -5, 40, 7};
        // Keys -5 (id 11), 7 (id 13), then 40 for ids 10 and 12: the smaller id first.
        assertArrayEquals(new int[] {1, 3}, ScoreSelection.select(ids, new int[4], new double[4], random,
                plain(SelectionMethod.RANDOM), 2));
        assertArrayEquals(new int[] {0, 1, 3}, ScoreSelection.select(ids, new int[4], new double[4], random,
                plain(SelectionMethod.RANDOM), 3));
    }

    @Test
    void classBalancedHardestTakesEachClassBudgetFromItsOwnHardest() {
        // Class 0: ids 0-5 (6 rows), class 1: ids 6-8 (3 rows); hardness = id.
        long[] ids = {0, 1, 2, 3, 4, 5, 6, 7, 8};
        int[] labels = {0, 0, 0, 0, 0, 0, 1, 1, 1};
        double[] hardness = {0, 1, 2, 3, 4, 5, 6, 7, 8};
        // 3 of 9: budgets 2 and 1 (proportional); class 0's hardest are ids 5 and 4, class 1's is id 8.
        assertArrayEquals(new int[] {4, 5, 8}, ScoreSelection.select(ids, labels, hardness, new long[9],
                new ScoreSelection.Settings(SelectionMethod.HARDEST, true, 0, 1), 3));
    }

    @Test
    void ccsDropsTheHardestThenSpreadsTheBudgetOverStrata() {
        // Hardness 0..9 for ids 0..9; drop the hardest 20% (ids 9 and 8); strata of [0, 7] in 2 bins: ids 0-3
        // (h < 3.5) and ids 4-7; 4 kept: 2 per stratum, each stratum's by random key (reversed ids here).
        long[] ids = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        double[] hardness = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        long[] random = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
        assertArrayEquals(new int[] {2, 3, 6, 7}, ScoreSelection.select(ids, new int[10], hardness, random,
                new ScoreSelection.Settings(SelectionMethod.CCS, false, 0.2, 2), 4));
    }

    @Test
    void theReportCountsPerClassAndPerBin() {
        int[] labels = {1, 0, 1, 1};
        double[] scores = {0.0, 1.0, 0.5, 1.0};
        boolean[] kept = {false, true, true, false};
        TreeMap<Integer, long[]> perClass = ScoreSelection.perClass(labels, kept);
        assertArrayEquals(new long[] {1, 1}, perClass.get(0));
        assertArrayEquals(new long[] {3, 1}, perClass.get(1));
        ScoreSelection.Histogram h = ScoreSelection.histogram(labels, scores, kept, 2);
        assertEquals(0.0, h.min());
        assertEquals(1.0, h.max());
        // Bins [0, 0.5) and [0.5, 1]: 0.0 in the first, 0.5 and both 1.0 in the second.
        assertArrayEquals(new long[] {1, 3}, h.all());
        assertArrayEquals(new long[] {0, 2}, h.kept());
        ScoreSelection.Histogram none = ScoreSelection.histogram(new int[0], new double[0], new boolean[0], 3);
        assertEquals(0.0, none.min());
        assertArrayEquals(new long[3], none.all());
    }

    @Test
    void arraysOfDifferentLengthsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ScoreSelection.select(new long[2], new int[1],
                new double[2], new long[2], plain(SelectionMethod.RANDOM), 1));
    }
}
