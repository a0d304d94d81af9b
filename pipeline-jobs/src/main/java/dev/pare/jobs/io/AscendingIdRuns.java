package dev.pare.jobs.io;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Comparator;

/**
 * A proof, found without a shuffle, that a table's ids are unique: the ids in reading order, cut
 * into strictly ascending runs. Within a run no id repeats; when the {@code [first, last]} ranges of
 * all runs are disjoint, no id repeats across runs either. A table written in id order (as
 * {@code pare import-idx} writes, and most exports) is proven unique by the pass that reads it;
 * for anything else the proof fails and the caller counts distinct ids. Failing is never wrong, so
 * at most {@link #MAX_RUNS} runs are kept (a shuffled table would otherwise keep one per two ids).
 *
 * <p>A mergeable accumulator: {@link #add} the ids of a partition in order, {@link #merge} the
 * partitions in any order ({@link #provesUnique} depends on the set of runs, not their order). Where
 * a table is cut into partitions can decide whether a proof is found (a run cut in two may no longer
 * overlap a third), never whether it is right.
 */
public final class AscendingIdRuns implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Runs kept before giving up the proof: 64 KiB at most. */
    public static final int MAX_RUNS = 4096;

    private long[] firsts = new long[4];
    private long[] lasts = new long[4];
    private int runs;
    private boolean overflowed;

    /** The next id in reading order. */
    public void add(long id) {
        append(id, id);
    }

    /** Adds the runs of {@code other}; returns this. */
    public AscendingIdRuns merge(AscendingIdRuns other) {
        overflowed |= other.overflowed;
        for (int i = 0; i < other.runs; i++) {
            append(other.firsts[i], other.lasts[i]);
        }
        return this;
    }

    /**
     * True when the ids added are certainly unique; false when they may repeat (more than
     * {@link #MAX_RUNS} runs, or two runs whose ranges overlap). True for no ids.
     */
    public boolean provesUnique() {
        if (overflowed) {
            return false;
        }
        Integer[] order = new Integer[runs];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, Comparator.comparingLong(i -> firsts[i]));
        for (int k = 1; k < runs; k++) {
            if (lasts[order[k - 1]] >= firsts[order[k]]) {
                return false;
            }
        }
        return true;
    }

    /** Extends the last run when {@code first} follows it (their concatenation still ascends), else opens a run. */
    private void append(long first, long last) {
        if (overflowed) {
            return;
        }
        if (runs > 0 && first > lasts[runs - 1]) {
            lasts[runs - 1] = last;
            return;
        }
        if (runs == MAX_RUNS) {
            overflowed = true;
            firsts = new long[0];
            lasts = new long[0];
            runs = 0;
            return;
        }
        if (runs == firsts.length) {
            firsts = Arrays.copyOf(firsts, Math.min(2 * runs, MAX_RUNS));
            lasts = Arrays.copyOf(lasts, firsts.length);
        }
        firsts[runs] = first;
        lasts[runs] = last;
        runs++;
    }
}
