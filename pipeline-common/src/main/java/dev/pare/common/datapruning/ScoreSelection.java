package dev.pare.common.datapruning;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code select-data}'s selection over score arrays held in memory: the same rows as its Spark
 * queries keep, for score tables small enough for the driver. Rows are indices into the arrays.
 *
 * <p>Orders are Spark SQL's: doubles compare as Spark sorts them ({@link #compareScores}: {@code -0.0}
 * equals {@code 0.0}, NaN is the largest), ties go to the smaller id; {@code hardest} sorts by
 * hardness descending, {@code easiest} ascending, {@code random} and {@code ccs} by the seeded random
 * key ascending. Budgets come from {@link SelectionBudgets}, as in the Spark route.
 */
public final class ScoreSelection {
    private ScoreSelection() {}

    /** What is selected by: the method, class balance, and ccs's drop fraction and strata. */
    public record Settings(SelectionMethod method, boolean classBalanced, double ccsDropHardest, int ccsStrata) {}

    /** Spark SQL's order of doubles: equal when {@code ==} (so {@code -0.0 = 0.0}), else {@link Double#compare}. */
    public static int compareScores(double a, double b) {
        return a == b ? 0 : Double.compare(a, b);
    }

    /**
     * The rows kept out of {@code ids.length}: {@code min(keep, rows)} of them (ccs: of the rows left after its
     * drop), as indices in ascending order.
     *
     * @param hardness each row's hardness, larger is harder (the score, negated when smaller means harder)
     * @param randomKeys each row's seeded random key (Spark's {@code xxhash64(id, seed)})
     */
    public static int[] select(long[] ids, int[] labels, double[] hardness, long[] randomKeys, Settings s, long keep) {
        int n = ids.length;
        if (labels.length != n || hardness.length != n || randomKeys.length != n) {
            throw new IllegalArgumentException("ids, labels, hardness and random keys must have the same length, were "
                    + n + ", " + labels.length + ", " + hardness.length + ", " + randomKeys.length);
        }
        IndexOrder byId = (a, b) -> Long.compare(ids[a], ids[b]);
        IndexOrder random = (a, b) -> Long.compare(randomKeys[a], randomKeys[b]);
        IndexOrder hardestFirst = (a, b) -> compareScores(hardness[b], hardness[a]);
        IndexOrder easiestFirst = (a, b) -> compareScores(hardness[a], hardness[b]);
        int[] all = new int[n];
        Arrays.setAll(all, i -> i);
        TreeMap<Integer, int[]> pool = groups(all, labels, s.classBalanced());
        if (s.method() == SelectionMethod.CCS && s.ccsDropHardest() > 0) {
            // The hardest β of each group (of the whole set when not class-balanced) go first.
            TreeMap<Integer, int[]> left = new TreeMap<>();
            for (Map.Entry<Integer, int[]> g : pool.entrySet()) {
                int[] members = sorted(g.getValue(), hardestFirst.then(byId));
                long drop = (long) Math.floor(s.ccsDropHardest() * members.length + 1e-9);
                if (drop < members.length) {
                    // A group dropped whole is no group at all (the Spark route counts the rows left).
                    left.put(g.getKey(), Arrays.copyOfRange(members, (int) drop, members.length));
                }
            }
            pool = left;
        }
        Map<Integer, Long> budgets = budgets(pool, keep, s.classBalanced());
        List<int[]> kept = new ArrayList<>();
        if (s.method() != SelectionMethod.CCS) {
            IndexOrder order = switch (s.method()) {
                case RANDOM -> random;
                case HARDEST -> hardestFirst;
                default -> easiestFirst;
            };
            for (Map.Entry<Integer, int[]> g : pool.entrySet()) {
                kept.add(first(sorted(g.getValue(), order.then(byId)), budgets.get(g.getKey())));
            }
        } else {
            for (Map.Entry<Integer, int[]> g : pool.entrySet()) {
                int[] members = g.getValue();
                double[] range = range(members, hardness);
                int k = s.ccsStrata();
                int[] stratum = new int[members.length];
                long[] sizes = new long[k];
                for (int m = 0; m < members.length; m++) {
                    double h = Math.max(range[0], Math.min(range[1], hardness[members[m]]));
                    stratum[m] = SelectionBudgets.stratum(h, range[0], range[1], k);
                    sizes[stratum[m]]++;
                }
                long[] perStratum = SelectionBudgets.ccsBudgets(sizes, budgets.get(g.getKey()));
                for (int st = 0; st < k; st++) {
                    final int want = st;
                    int[] in = java.util.stream.IntStream.range(0, members.length).filter(m -> stratum[m] == want)
                            .map(m -> members[m]).toArray();
                    kept.add(first(sorted(in, random.then(byId)), perStratum[st]));
                }
            }
        }
        return kept.stream().flatMapToInt(Arrays::stream).sorted().toArray();
    }

    /**
     * The rows of each label: {@code {total, kept}} by label, ascending, as {@code select-data}'s report
     * counts them.
     */
    public static TreeMap<Integer, long[]> perClass(int[] labels, boolean[] kept) {
        TreeMap<Integer, long[]> out = new TreeMap<>();
        for (int i = 0; i < labels.length; i++) {
            long[] c = out.computeIfAbsent(labels[i], l -> new long[2]);
            c[0]++;
            if (kept[i]) {
                c[1]++;
            }
        }
        return out;
    }

    /**
     * The report's histogram of {@code scores}: {@code bins} equal-width bins ({@link SelectionBudgets#stratum})
     * over {@code [lo, hi]}, each label's smallest and largest score (in Spark's order) combined by
     * {@link Math#min} and {@link Math#max} as the Spark route combines its per-label rows ({@code [0, 0]}
     * without rows). Returns {@code lo, hi} and the counts of all rows and of the kept ones per bin.
     */
    public static Histogram histogram(int[] labels, double[] scores, boolean[] kept, int bins) {
        TreeMap<Integer, double[]> ranges = new TreeMap<>();
        for (int i = 0; i < labels.length; i++) {
            double v = scores[i];
            double[] r = ranges.get(labels[i]);
            if (r == null) {
                ranges.put(labels[i], new double[] {v, v});
            } else {
                r[0] = compareScores(v, r[0]) < 0 ? v : r[0];
                r[1] = compareScores(v, r[1]) > 0 ? v : r[1];
            }
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double[] r : ranges.values()) {
            lo = Math.min(lo, r[0]);
            hi = Math.max(hi, r[1]);
        }
        if (ranges.isEmpty()) {
            lo = 0;
            hi = 0;
        }
        long[] all = new long[bins];
        long[] keptCounts = new long[bins];
        for (int i = 0; i < labels.length; i++) {
            int b = SelectionBudgets.stratum(scores[i], lo, hi, bins);
            all[b]++;
            if (kept[i]) {
                keptCounts[b]++;
            }
        }
        return new Histogram(lo, hi, all, keptCounts);
    }

    /** {@link #histogram}'s result. */
    public record Histogram(double min, double max, long[] all, long[] kept) {}

    /** The indices of each group (the label, or 0 for all when not class-balanced). */
    private static TreeMap<Integer, int[]> groups(int[] rows, int[] labels, boolean classBalanced) {
        TreeMap<Integer, List<Integer>> lists = new TreeMap<>();
        for (int r : rows) {
            lists.computeIfAbsent(classBalanced ? labels[r] : 0, g -> new ArrayList<>()).add(r);
        }
        TreeMap<Integer, int[]> out = new TreeMap<>();
        lists.forEach((g, l) -> out.put(g, l.stream().mapToInt(Integer::intValue).toArray()));
        return out;
    }

    /** Each group's budget: proportional to the group sizes when class-balanced, else {@code min(keep, size)}. */
    private static Map<Integer, Long> budgets(TreeMap<Integer, int[]> groups, long keep, boolean classBalanced) {
        long[] sizes = groups.values().stream().mapToLong(g -> g.length).toArray();
        long[] b = classBalanced ? SelectionBudgets.proportional(sizes, keep)
                : new long[] {Math.min(keep, sizes.length == 0 ? 0 : sizes[0])};
        Map<Integer, Long> out = new TreeMap<>();
        int i = 0;
        for (Integer g : groups.keySet()) {
            out.put(g, b[i++]);
        }
        return out;
    }

    /** The smallest and largest hardness of {@code rows} in Spark's order (NaN the largest). */
    private static double[] range(int[] rows, double[] hardness) {
        double lo = hardness[rows[0]];
        double hi = lo;
        for (int r : rows) {
            double h = hardness[r];
            lo = compareScores(h, lo) < 0 ? h : lo;
            hi = compareScores(h, hi) > 0 ? h : hi;
        }
        return new double[] {lo, hi};
    }

    private static int[] sorted(int[] rows, IndexOrder order) {
        return Arrays.stream(rows).boxed().sorted(order::compare).mapToInt(Integer::intValue).toArray();
    }

    private static int[] first(int[] rows, long count) {
        return Arrays.copyOf(rows, (int) Math.min(count, rows.length));
    }

    /** An order of row indices. */
    @FunctionalInterface
    private interface IndexOrder {
        int compare(int a, int b);

        default IndexOrder then(IndexOrder next) {
            return (a, b) -> {
                int c = compare(a, b);
                return c != 0 ? c : next.compare(a, b);
            };
        }
    }
}
