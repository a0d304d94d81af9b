package dev.pare.common.datapruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SelectionBudgetsTest {

    // ---- proportional -------------------------------------------------------------------------

    @Test
    void proportionalByHand() {
        // N = 10, B = 5: quotas 2.5, 1.5, 1 -> floors 2, 1, 1; remainders (mod 10) 5, 5, 0; the one
        // leftover unit goes to the tie of 5 with the lower index
        assertArrayEquals(new long[] {3, 1, 1}, SelectionBudgets.proportional(new long[] {5, 3, 2}, 5));
        // quotas 2/3 each: two leftover units to groups 0 and 1
        assertArrayEquals(new long[] {1, 1, 0}, SelectionBudgets.proportional(new long[] {1, 1, 1}, 2));
        // quotas 2.8, 0, 1.2: the leftover unit goes to the largest remainder, not the lower index
        assertArrayEquals(new long[] {3, 0, 1}, SelectionBudgets.proportional(new long[] {7, 0, 3}, 4));
        assertArrayEquals(new long[] {1, 0, 2}, SelectionBudgets.proportional(new long[] {3, 0, 7}, 3));
    }

    @Test
    void proportionalEdgeCases() {
        assertArrayEquals(new long[] {4, 6}, SelectionBudgets.proportional(new long[] {4, 6}, 100));
        assertArrayEquals(new long[] {4, 6}, SelectionBudgets.proportional(new long[] {4, 6}, 10));
        assertArrayEquals(new long[] {0, 0}, SelectionBudgets.proportional(new long[] {4, 6}, 0));
        assertArrayEquals(new long[] {4}, SelectionBudgets.proportional(new long[] {9}, 4));
        assertArrayEquals(new long[] {0, 0}, SelectionBudgets.proportional(new long[] {0, 0}, 5));
        assertArrayEquals(new long[0], SelectionBudgets.proportional(new long[0], 5));
        // B·n_g = 1.5e37 does not fit a long; the result is exact
        long big = 3_000_000_000_000_000_000L;
        assertArrayEquals(new long[] {2_500_000_000_000_000_000L, 2_500_000_000_000_000_000L},
                SelectionBudgets.proportional(new long[] {big, big}, 5_000_000_000_000_000_000L));
    }

    @Test
    void proportionalInvariantsOnRandomGroups() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int trial = 0; trial < 2000; trial++) {
            long[] sizes = randomSizes(rnd);
            long total = Arrays.stream(sizes).sum();
            long budget = rnd.nextLong(total + 5);
            long[] out = SelectionBudgets.proportional(sizes, budget);
            assertArrayEquals(out, SelectionBudgets.proportional(sizes.clone(), budget), "deterministic");
            assertEquals(Math.min(budget, total), Arrays.stream(out).sum(), Arrays.toString(sizes) + " " + budget);
            long b = Math.min(budget, total);
            for (int g = 0; g < sizes.length; g++) {
                assertTrue(out[g] >= 0 && out[g] <= sizes[g], Arrays.toString(sizes) + " " + budget);
                // within one of the exact quota B·n_g/N (the largest-remainder property)
                double quota = total == 0 ? 0 : (double) b * sizes[g] / total;
                assertTrue(out[g] > quota - 1 && out[g] < quota + 1, Arrays.toString(out) + " quota " + quota);
            }
        }
    }

    // ---- ccsBudgets ---------------------------------------------------------------------------

    @Test
    void ccsByHand() {
        // r = 10: floor(10/3) = 3, floor(7/2) = 3, then 4; the extra unit goes last (the higher index)
        assertArrayEquals(new long[] {3, 3, 4}, SelectionBudgets.ccsBudgets(new long[] {10, 10, 10}, 10));
        // the small stratum is kept whole (1 < 3); its unused share goes to the others: 4 and 5
        assertArrayEquals(new long[] {1, 4, 5}, SelectionBudgets.ccsBudgets(new long[] {1, 10, 10}, 10));
        // order (size, index): #1 (2) gets min(2, 20/4) = 2, #3 (5) min(5, 18/3) = 5,
        // #0 (10) min(10, 13/2) = 6, #2 (10) the last 7
        assertArrayEquals(new long[] {6, 2, 7, 5}, SelectionBudgets.ccsBudgets(new long[] {10, 2, 10, 5}, 20));
        // empty and tiny strata take what they have, the large one the rest
        assertArrayEquals(new long[] {0, 1, 2, 17}, SelectionBudgets.ccsBudgets(new long[] {0, 1, 2, 50}, 20));
        // one short of everything: still as even as the sizes allow
        assertArrayEquals(new long[] {3, 3}, SelectionBudgets.ccsBudgets(new long[] {3, 4}, 6));
    }

    @Test
    void ccsEdgeCases() {
        assertArrayEquals(new long[] {3, 4}, SelectionBudgets.ccsBudgets(new long[] {3, 4}, 100));
        assertArrayEquals(new long[] {3, 4}, SelectionBudgets.ccsBudgets(new long[] {3, 4}, 7));
        assertArrayEquals(new long[] {0, 0, 0}, SelectionBudgets.ccsBudgets(new long[] {3, 4, 5}, 0));
        assertArrayEquals(new long[] {4}, SelectionBudgets.ccsBudgets(new long[] {9}, 4));
        assertArrayEquals(new long[] {0, 0}, SelectionBudgets.ccsBudgets(new long[] {0, 0}, 4));
        assertArrayEquals(new long[0], SelectionBudgets.ccsBudgets(new long[0], 4));
    }

    /**
     * The one-pass rule against a second route: water filling one unit at a time, each unit to the
     * stratum with room and the smallest budget so far, ties to the last in (size, index) order.
     */
    @Test
    void ccsEqualsUnitByUnitWaterFilling() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int trial = 0; trial < 3000; trial++) {
            long[] sizes = randomSizes(rnd);
            long total = Arrays.stream(sizes).sum();
            long budget = rnd.nextLong(total + 5);
            long[] out = SelectionBudgets.ccsBudgets(sizes, budget);
            String c = Arrays.toString(sizes) + " budget " + budget + " -> " + Arrays.toString(out);
            assertArrayEquals(waterFill(sizes, budget), out, c);
            assertArrayEquals(out, SelectionBudgets.ccsBudgets(sizes.clone(), budget), "deterministic");
            assertEquals(Math.min(budget, total), Arrays.stream(out).sum(), c);
            for (int i = 0; i < sizes.length; i++) {
                assertTrue(out[i] >= 0 && out[i] <= sizes[i], c);
                // max-min fair: a stratum with room is never more than one below any other
                for (int j = 0; j < sizes.length; j++) {
                    assertTrue(out[i] == sizes[i] || out[j] <= out[i] + 1, c);
                }
            }
        }
    }

    private static long[] waterFill(long[] sizes, long budget) {
        long[] out = new long[sizes.length];
        for (long unit = 0; unit < budget; unit++) {
            int best = -1;
            for (int s = 0; s < sizes.length; s++) {
                if (out[s] == sizes[s]) {
                    continue;
                }
                boolean later = best < 0 || sizes[s] > sizes[best] || (sizes[s] == sizes[best] && s > best);
                if (best < 0 || out[s] < out[best] || (out[s] == out[best] && later)) {
                    best = s;
                }
            }
            if (best < 0) {
                break;
            }
            out[best]++;
        }
        return out;
    }

    private static long[] randomSizes(SplittableRandom rnd) {
        long[] sizes = new long[1 + rnd.nextInt(6)];
        for (int g = 0; g < sizes.length; g++) {
            sizes[g] = rnd.nextInt(4) == 0 ? rnd.nextInt(3) : rnd.nextInt(40); // many small and equal sizes
        }
        return sizes;
    }

    @Test
    void budgetsRefuseNegativeInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SelectionBudgets.proportional(new long[] {3, -1}, 2));
        assertEquals("group 1 has negative size -1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SelectionBudgets.proportional(new long[] {3}, -2));
        assertEquals("budget -2 is negative", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SelectionBudgets.ccsBudgets(new long[] {-3}, 2));
        assertEquals("stratum 0 has negative size -3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SelectionBudgets.ccsBudgets(new long[] {3}, -1));
        assertEquals("budget -1 is negative", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SelectionBudgets.ccsBudgets(new long[] {Long.MAX_VALUE, 1}, 1));
        assertEquals("stratum sizes sum past Long.MAX_VALUE", e.getMessage());
    }

    // ---- stratum ------------------------------------------------------------------------------

    @Test
    void stratumEdges() {
        // [0, 1] in 4 bins of width 0.25: [0, .25) [.25, .5) [.5, .75) [.75, 1]
        assertEquals(0, SelectionBudgets.stratum(0, 0, 1, 4));
        assertEquals(0, SelectionBudgets.stratum(0.2499, 0, 1, 4));
        assertEquals(1, SelectionBudgets.stratum(0.25, 0, 1, 4));
        assertEquals(2, SelectionBudgets.stratum(0.7499, 0, 1, 4));
        assertEquals(3, SelectionBudgets.stratum(0.75, 0, 1, 4));
        assertEquals(3, SelectionBudgets.stratum(1, 0, 1, 4), "max in the last bin");
        // negative range [-4, 0] in 2 bins
        assertEquals(0, SelectionBudgets.stratum(-3, -4, 0, 2));
        assertEquals(1, SelectionBudgets.stratum(-2, -4, 0, 2));
        assertEquals(1, SelectionBudgets.stratum(0, -4, 0, 2));
        // all scores equal, and a single bin
        assertEquals(0, SelectionBudgets.stratum(2, 2, 2, 5));
        assertEquals(0, SelectionBudgets.stratum(0.9, 0, 1, 1));
        assertEquals(0, SelectionBudgets.stratum(1, 0, 1, 1));
    }

    @Test
    void stratumIsMonotoneAndInRange() {
        SplittableRandom rnd = new SplittableRandom(9);
        double min = -0.37;
        double max = 1.41;
        double[] scores = new double[5000];
        for (int k = 0; k < scores.length; k++) {
            scores[k] = min + rnd.nextDouble() * (max - min);
        }
        scores[0] = min;
        scores[1] = max;
        Arrays.sort(scores);
        int[] counts = new int[7];
        int previous = 0;
        for (double s : scores) {
            int bin = SelectionBudgets.stratum(s, min, max, 7);
            assertTrue(bin >= previous && bin < 7, s + " -> " + bin);
            // the bin holds the score, up to rounding at its edges
            double width = (max - min) / 7;
            assertTrue(s >= min + bin * width - 1e-12 && (s <= min + (bin + 1) * width + 1e-12), s + " -> " + bin);
            counts[bin]++;
            previous = bin;
        }
        assertEquals(0, SelectionBudgets.stratum(min, min, max, 7));
        assertEquals(6, SelectionBudgets.stratum(max, min, max, 7));
        for (int count : counts) {
            assertTrue(count > 500, Arrays.toString(counts)); // about 714 each
        }
    }

    @Test
    void stratumRefusesBadInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SelectionBudgets.stratum(Double.NaN, 0, 1, 4));
        assertEquals("score NaN is outside [0.0, 1.0]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SelectionBudgets.stratum(1.5, 0, 1, 4));
        assertEquals("score 1.5 is outside [0.0, 1.0]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SelectionBudgets.stratum(0.5, Double.NaN, 1, 4));
        assertEquals("score range [NaN, 1.0] must be finite with min <= max", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SelectionBudgets.stratum(0.5, 1, 0, 4));
        assertEquals("score range [1.0, 0.0] must be finite with min <= max", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SelectionBudgets.stratum(0, 0, Double.POSITIVE_INFINITY, 4));
        assertEquals("score range [0.0, Infinity] must be finite with min <= max", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SelectionBudgets.stratum(0, -1e308, 1e308, 4));
        assertEquals("score range [-1.0E308, 1.0E308] is wider than a double", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SelectionBudgets.stratum(0.5, 0, 1, 0));
        assertEquals("strata must be at least 1, got 0", e.getMessage());
    }

    // ---- keptCount ----------------------------------------------------------------------------

    @Test
    void keptCountByHand() {
        assertEquals(3, SelectionBudgets.keptCount(10, 0.3));
        assertEquals(3, SelectionBudgets.keptCount(10, 0.35));
        // the double products are 28.999999999999996 and 56.99999999999999
        assertEquals(29, SelectionBudgets.keptCount(100, 0.29));
        assertEquals(57, SelectionBudgets.keptCount(100, 0.57));
        assertEquals(290_000_002, SelectionBudgets.keptCount(1_000_000_007, 0.29)); // 290000002.03
        assertEquals(7, SelectionBudgets.keptCount(7, 1.0));
        assertEquals(Long.MAX_VALUE, SelectionBudgets.keptCount(Long.MAX_VALUE, 1.0));
        // at least one example from a non-empty set, none from an empty one
        assertEquals(1, SelectionBudgets.keptCount(5, 0.1));
        assertEquals(1, SelectionBudgets.keptCount(1, 0.01));
        assertEquals(0, SelectionBudgets.keptCount(0, 0.5));
        // a computed fraction is taken at its shortest decimal 0.3333333333333333
        assertEquals(99, SelectionBudgets.keptCount(300, 1.0 / 3));
    }

    @Test
    void keptCountOfPercentagesEqualsIntegerArithmetic() {
        for (int percent = 1; percent <= 100; percent++) {
            for (long n = 1; n <= 1000; n += 7) {
                long expected = Math.max(1, percent * n / 100);
                assertEquals(expected, SelectionBudgets.keptCount(n, percent / 100.0), percent + "% of " + n);
            }
        }
    }

    @Test
    void keptCountRefusesBadInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SelectionBudgets.keptCount(-1, 0.5));
        assertEquals("example count -1 is negative", e.getMessage());
        for (double f : new double[] {0, -0.1, 1.0001, Double.NaN}) {
            e = assertThrows(IllegalArgumentException.class, () -> SelectionBudgets.keptCount(10, f));
            assertEquals("fraction " + f + " is not in (0, 1]", e.getMessage());
        }
    }
}
