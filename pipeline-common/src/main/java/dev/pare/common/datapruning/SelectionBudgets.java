package dev.pare.common.datapruning;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.Arrays;
import java.util.Comparator;

/**
 * How many examples each group or score stratum keeps: the pure arithmetic behind the Spark
 * selectors. Every function is deterministic (ties by index) and never gives a group more than
 * its size; the budgets always sum to {@code min(budget, total size)}.
 */
public final class SelectionBudgets {
    private SelectionBudgets() {}

    /**
     * Class-balanced budgets by the largest-remainder (Hamilton) method. With {@code N = Σ n_g} and
     * {@code B = min(budget, N)}, group g first gets {@code floor(B·n_g / N)} (exact integer
     * arithmetic); the {@code B - Σ floor} leftover units go one each to the groups with the largest
     * remainders {@code B·n_g mod N}, ties to the lower group index. A group never exceeds
     * {@code n_g}: a group with a positive remainder has {@code floor < B·n_g/N ≤ n_g}, and there
     * are always more such groups than leftover units. {@code budget ≥ N} keeps every group whole;
     * {@code N = 0} or {@code budget = 0} gives zeros; no groups gives an empty array.
     *
     * @throws IllegalArgumentException if a size or the budget is negative
     */
    public static long[] proportional(long[] groupSizes, long budget) {
        long total = total("group", groupSizes);
        checkBudget(budget);
        long[] out = new long[groupSizes.length];
        long b = Math.min(budget, total);
        if (b == 0) {
            return out;
        }
        BigInteger bigTotal = BigInteger.valueOf(total);
        long[] remainder = new long[groupSizes.length];
        long assigned = 0;
        for (int g = 0; g < groupSizes.length; g++) {
            // B·n_g can exceed a long (both up to N); the quotient and remainder cannot
            BigInteger[] qr = BigInteger.valueOf(b).multiply(BigInteger.valueOf(groupSizes[g])).divideAndRemainder(bigTotal);
            out[g] = qr[0].longValueExact();
            remainder[g] = qr[1].longValueExact();
            assigned += out[g];
        }
        Integer[] order = byIndex(groupSizes.length);
        Arrays.sort(order, Comparator.comparingLong((Integer g) -> -remainder[g]).thenComparingInt(g -> g));
        for (int k = 0; k < b - assigned; k++) {
            out[order[k]]++;
        }
        return out;
    }

    /**
     * Per-stratum budgets of coverage-centric coreset selection (CCS, Zheng, Liu, Yu, Liu,
     * "Coverage-centric Coreset Selection for High Pruning Rates", ICLR 2023, Algorithm 1): the budget
     * is spread as evenly as possible over the score strata, and a stratum smaller than its even
     * share is kept whole, its unused share going to the larger strata.
     *
     * <p>The rule: visit the strata in ascending {@code (size, index)} order with {@code r} the
     * budget still to give ({@code min(budget, Σ sizes)} at first) and {@code k} the strata not yet
     * visited; the stratum gets {@code min(size, floor(r / k))}, then {@code r} and {@code k} shrink.
     * Once a stratum takes {@code floor(r / k) = q} with {@code r = q·k + t}, every later stratum is
     * at least as large and gets {@code q} or {@code q + 1}: the first {@code k - t} in that order
     * get {@code q} and the last {@code t} (the largest; among equal sizes the higher index) get
     * {@code q + 1}. Thus the strata kept whole are the ones below the even share, the others differ
     * by at most one, and one pass gives away the whole budget: the redistribution of a leftover over
     * strata that still have room, which the paper's description suggests, never has anything to do
     * (a leftover would need a later, larger stratum to be full while an earlier one was not).
     *
     * @throws IllegalArgumentException if a size or the budget is negative
     */
    public static long[] ccsBudgets(long[] stratumSizes, long budget) {
        long total = total("stratum", stratumSizes);
        checkBudget(budget);
        Integer[] order = byIndex(stratumSizes.length);
        Arrays.sort(order, Comparator.comparingLong((Integer s) -> stratumSizes[s]).thenComparingInt(s -> s));
        long[] out = new long[stratumSizes.length];
        long remaining = Math.min(budget, total);
        for (int k = 0; k < order.length; k++) {
            int s = order[k];
            out[s] = Math.min(stratumSizes[s], remaining / (order.length - k));
            remaining -= out[s];
        }
        return out;
    }

    /**
     * The equal-width bin of {@code score} among {@code strata} bins over {@code [min, max]}:
     * {@code floor((score - min)·strata / (max - min))} computed in double, with {@code score = max}
     * in the last bin ({@code strata - 1}) and every score in bin 0 when {@code min == max}. The bin
     * never decreases as the score grows; a score within rounding of a bin edge may land on either
     * side of it.
     *
     * @throws IllegalArgumentException if a value is NaN, {@code min} or {@code max} is infinite,
     *     {@code max - min} overflows, {@code min > max}, {@code score} is outside {@code [min, max]}
     *     or {@code strata < 1}
     */
    public static int stratum(double score, double min, double max, int strata) {
        if (strata < 1) {
            throw new IllegalArgumentException("strata must be at least 1, got " + strata);
        }
        if (!Double.isFinite(min) || !Double.isFinite(max) || min > max) {
            throw new IllegalArgumentException("score range [" + min + ", " + max + "] must be finite with min <= max");
        }
        if (!(score >= min && score <= max)) { // also refuses NaN
            throw new IllegalArgumentException("score " + score + " is outside [" + min + ", " + max + "]");
        }
        double width = max - min;
        if (width == 0) {
            return 0;
        }
        if (Double.isInfinite(width)) {
            throw new IllegalArgumentException("score range [" + min + ", " + max + "] is wider than a double");
        }
        double bin = Math.floor((score - min) * strata / width);
        return (int) Math.min(bin, strata - 1);
    }

    /**
     * How many of {@code n} examples a kept fraction {@code f} keeps: {@code max(1, floor(f·n))} for
     * {@code n ≥ 1}, 0 for {@code n = 0}. The product is taken exactly on the decimal that
     * {@link Double#toString} writes for {@code f} (the shortest one that reads back as {@code f},
     * i.e. what a config file says), so 0.29·100 = 29 and 0.57·100 = 57, where the double product gives
     * 28.999999999999996 → 28 and 56.99999999999999 → 56. This needs no epsilon (an absolute one is
     * lost in the rounding of {@code f·n} once it is large, a relative one rounds up values truly
     * just below an integer) and is exact for any {@code n}; a fraction computed as, say, {@code 1.0 / 3} is read as 0.3333333333333333, so
     * 300 of it keeps 99.
     *
     * @throws IllegalArgumentException if {@code n < 0} or {@code f} is not in (0, 1]
     */
    public static long keptCount(long n, double fraction) {
        if (n < 0) {
            throw new IllegalArgumentException("example count " + n + " is negative");
        }
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("fraction " + fraction + " is not in (0, 1]");
        }
        if (n == 0) {
            return 0;
        }
        long kept = BigDecimal.valueOf(fraction).multiply(BigDecimal.valueOf(n))
                .setScale(0, RoundingMode.FLOOR).longValueExact();
        return Math.max(1, kept);
    }

    private static long total(String what, long[] sizes) {
        if (sizes == null) {
            throw new IllegalArgumentException(what + " sizes are null");
        }
        long total = 0;
        for (int g = 0; g < sizes.length; g++) {
            if (sizes[g] < 0) {
                throw new IllegalArgumentException(what + " " + g + " has negative size " + sizes[g]);
            }
            try {
                total = Math.addExact(total, sizes[g]);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException(what + " sizes sum past Long.MAX_VALUE", e);
            }
        }
        return total;
    }

    private static void checkBudget(long budget) {
        if (budget < 0) {
            throw new IllegalArgumentException("budget " + budget + " is negative");
        }
    }

    private static Integer[] byIndex(int n) {
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        return order;
    }
}
