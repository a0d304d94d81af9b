package dev.pare.jobs.io;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Comparator;

/**
 * A proof, found without a shuffle, that a table's ids are unique: the ids in reading order, cut
 * into strictly ascending runs. Within a run no id repeats; when the {@code [first, last]} ranges of
 * all runs are disjoint, no id repeats across runs either. A table written in id order (as
 * {@code pare import-idx} writes, and most exports) is proven unique by the pass that reads it;
 * for anything else the proof fails and the caller counts distinct ids. Failing is never wrong.
 *
 * <p>A mergeable accumulator: {@link #add} the ids of a partition in order, {@link #merge} the
 * partitions in any order ({@link #provesUnique} depends on the set of runs, not their order). A
 * merged partition's runs stay runs of their own: Spark orders a scan's partitions by size, not by
 * file, so a partition merged later may fill the gap between two merged before. At most
 * {@link #MAX_RUNS} runs are kept: a full set is sorted, and the proof given up if two overlap
 * (they always will), else neighbours with no id between them are joined, or if too few are, all
 * neighbours in pairs, each pair's gap then counting as taken (a later run inside it fails the
 * proof, never wrongly).
 */
public final class AscendingIdRuns implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Runs kept before neighbours are joined: 64 KiB at most. */
    public static final int MAX_RUNS = 4096;

    private long[] firsts = new long[4];
    private long[] lasts = new long[4];
    private int runs;
    private boolean gaveUp;

    /** The next id in reading order. */
    public void add(long id) {
        append(id, id);
    }

    /** Adds the runs of {@code other}; returns this. */
    public AscendingIdRuns merge(AscendingIdRuns other) {
        gaveUp |= other.gaveUp;
        for (int i = 0; i < other.runs && !gaveUp; i++) {
            open(other.firsts[i], other.lasts[i]);
        }
        return this;
    }

    /**
     * True when the ids added are certainly unique; false when they may repeat (two runs whose
     * ranges overlap). True for no ids.
     */
    public boolean provesUnique() {
        return !gaveUp && disjoint(sortedRuns());
    }

    /** Extends the last run when {@code first} follows it (their concatenation still ascends), else opens a run. */
    private void append(long first, long last) {
        if (!gaveUp && runs > 0 && first > lasts[runs - 1]) {
            lasts[runs - 1] = last;
        } else {
            open(first, last);
        }
    }

    /** Adds {@code [first, last]} as a run of its own; a full set of runs is compacted first. */
    private void open(long first, long last) {
        if (gaveUp) {
            return;
        }
        if (runs == MAX_RUNS) {
            compact();
            if (gaveUp) {
                return;
            }
        }
        if (runs == firsts.length) {
            firsts = Arrays.copyOf(firsts, Math.min(2 * runs, MAX_RUNS));
            lasts = Arrays.copyOf(lasts, firsts.length);
        }
        firsts[runs] = first;
        lasts[runs] = last;
        runs++;
    }

    /**
     * Sorts the runs by first id and gives up the proof if two overlap. Else joins neighbours that
     * leave no id between them ({@code last + 1 = first}), which loses nothing; if that frees less
     * than half the runs, joins neighbours in pairs instead: the union of two disjoint runs, each
     * without a repeat, has none either, but an id in the gap between them now counts as taken.
     */
    private void compact() {
        Integer[] order = sortedRuns();
        if (!disjoint(order)) {
            gaveUp = true;
            firsts = new long[0];
            lasts = new long[0];
            runs = 0;
            return;
        }
        long[] f = new long[firsts.length];
        long[] l = new long[lasts.length];
        int n = 0;
        for (int k = 0; k < runs; k++) {
            if (n > 0 && l[n - 1] + 1 == firsts[order[k]]) {
                l[n - 1] = lasts[order[k]];
            } else {
                f[n] = firsts[order[k]];
                l[n] = lasts[order[k]];
                n++;
            }
        }
        if (n > runs / 2) {
            n = 0;
            for (int k = 0; k < runs; k += 2) {
                f[n] = firsts[order[k]];
                l[n] = lasts[order[Math.min(k + 1, runs - 1)]];
                n++;
            }
        }
        firsts = f;
        lasts = l;
        runs = n;
    }

    /** True when the runs, in {@code order} (by first id), have pairwise disjoint ranges. */
    private boolean disjoint(Integer[] order) {
        for (int k = 1; k < order.length; k++) {
            if (lasts[order[k - 1]] >= firsts[order[k]]) {
                return false;
            }
        }
        return true;
    }

    private Integer[] sortedRuns() {
        Integer[] order = new Integer[runs];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, Comparator.comparingLong(i -> firsts[i]));
        return order;
    }
}
