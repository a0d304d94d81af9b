package dev.pare.jobs.io;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class AscendingIdRunsTest {
    private static AscendingIdRuns of(long... ids) {
        AscendingIdRuns runs = new AscendingIdRuns();
        for (long id : ids) {
            runs.add(id);
        }
        return runs;
    }

    private static long[] range(long from, long to) {
        return LongStream.range(from, to).toArray();
    }

    @Test
    void ascendingIdsAndNoIdsAreUnique() {
        assertTrue(of(range(0, 1000)).provesUnique());
        assertTrue(of(-5, 0, 7, Long.MAX_VALUE).provesUnique());
        assertTrue(new AscendingIdRuns().provesUnique());
    }

    @Test
    void aRepeatedIdIsNeverProvenUnique() {
        assertFalse(of(1, 2, 2, 3).provesUnique());
        assertFalse(of(3, 1, 2, 3).provesUnique());
        assertFalse(of(7, 7).provesUnique());
    }

    @Test
    void sortedPartitionsWithDisjointRangesAreUniqueInAnyMergeOrder() {
        AscendingIdRuns a = of(range(0, 10));
        AscendingIdRuns b = of(range(10, 20));
        AscendingIdRuns c = of(range(20, 30));
        assertTrue(new AscendingIdRuns().merge(c).merge(a).merge(b).provesUnique());
        assertTrue(new AscendingIdRuns().merge(a).merge(b).merge(c).provesUnique());
        assertFalse(new AscendingIdRuns().merge(c).merge(a).merge(b).merge(of(15)).provesUnique());
    }

    @Test
    void aPartitionOfSeveralSortedFilesIsUnique() {
        long[] ids = LongStream.concat(LongStream.range(100, 200), LongStream.range(0, 100)).toArray();
        assertTrue(of(ids).provesUnique());
        // Descending: one run per id, all disjoint.
        assertTrue(of(5, 4, 3, 2, 1).provesUnique());
    }

    @Test
    void overlappingRangesAreNotProvenEvenWithoutADuplicate() {
        assertFalse(new AscendingIdRuns().merge(of(0, 2, 4)).merge(of(1, 3, 5)).provesUnique());
    }

    @Test
    void partitionsMergedOutOfFileOrderAreUnique() {
        // Spark packs a scan's splits by size: the first halves of two files may come before the second half of the first.
        AscendingIdRuns a = of(range(0, 10));
        AscendingIdRuns b = of(range(10, 20));
        AscendingIdRuns c = of(range(20, 30));
        AscendingIdRuns d = of(range(30, 40));
        assertTrue(new AscendingIdRuns().merge(a).merge(c).merge(b).merge(d).provesUnique());
        assertTrue(new AscendingIdRuns().merge(d).merge(b).merge(a).merge(c).provesUnique());
        assertFalse(new AscendingIdRuns().merge(a).merge(c).merge(b).merge(of(25)).provesUnique());
    }

    @Test
    void moreRunsThanKeptAreJoinedInPairsOrGiveUpTheProof() {
        // Descending: one run per id, all disjoint; past MAX_RUNS neighbours are joined, still a proof.
        long[] descending = LongStream.range(0, 3L * AscendingIdRuns.MAX_RUNS).map(i -> -i).toArray();
        assertTrue(of(descending).provesUnique());
        long[] repeated = java.util.Arrays.copyOf(descending, descending.length + 1);
        repeated[descending.length] = -(3L * AscendingIdRuns.MAX_RUNS - 1); // the last id again
        assertFalse(of(repeated).provesUnique());
        // An id in a gap that a join took: not proven, though unique (never wrong, only cautious).
        long[] even = LongStream.range(0, 2L * AscendingIdRuns.MAX_RUNS).map(i -> -2 * i).toArray();
        AscendingIdRuns joined = of(even);
        assertFalse(joined.merge(of(-1)).provesUnique());
        // Two overlapping runs among MAX_RUNS + 1: the compaction gives the proof up for good.
        long[] overlapping = LongStream.concat(LongStream.of(1_000_000, 1_000_000),
                LongStream.range(1, AscendingIdRuns.MAX_RUNS).map(i -> -i)).toArray();
        AscendingIdRuns gaveUp = of(overlapping);
        assertFalse(gaveUp.provesUnique());
        assertFalse(new AscendingIdRuns().merge(of(range(2_000_000, 2_000_010))).merge(gaveUp).provesUnique());
        assertFalse(gaveUp.merge(of(3_000_000)).provesUnique());
    }

    @Test
    void aProofIsNeverWrongOnRandomTables() {
        Random random = new Random(7);
        int proven = 0;
        for (int trial = 0; trial < 500; trial++) {
            int n = 1 + random.nextInt(300);
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ids.add((long) (trial % 2 == 0 ? i : random.nextInt(2 * n)));
            }
            if (trial % 3 == 0) {
                Collections.shuffle(ids, random);
            }
            AscendingIdRuns merged = new AscendingIdRuns();
            int from = 0;
            while (from < n) {
                int to = Math.min(n, from + 1 + random.nextInt(n));
                AscendingIdRuns part = new AscendingIdRuns();
                ids.subList(from, to).forEach(part::add);
                merged.merge(part);
                from = to;
            }
            boolean unique = new HashSet<>(ids).size() == n;
            if (merged.provesUnique()) {
                proven++;
                assertTrue(unique, "trial " + trial + " proved repeated ids unique: " + ids);
            }
            if (unique && trial % 3 != 0 && trial % 2 == 0) {
                assertTrue(merged.provesUnique(), "trial " + trial + ": ascending ids 0..n-1 in slices");
            }
        }
        assertTrue(proven > 100, "proofs found: " + proven);
    }

    @Test
    void aProofIsNeverWrongPastTheKeptRuns() {
        Random random = new Random(11);
        for (int trial = 0; trial < 40; trial++) {
            // Blocks of a permutation of 0..n-1, each block in descending order: thousands of runs.
            int n = 10_000 + random.nextInt(10_000);
            List<Long> ids = new ArrayList<>();
            for (long i = 0; i < n; i++) {
                ids.add(i);
            }
            Collections.shuffle(ids, random);
            boolean repeat = trial % 2 == 1;
            if (repeat) {
                ids.set(random.nextInt(n), ids.get(random.nextInt(n)));
            }
            AscendingIdRuns merged = new AscendingIdRuns();
            for (int from = 0; from < n; ) {
                int to = Math.min(n, from + 1 + random.nextInt(4_000));
                AscendingIdRuns part = new AscendingIdRuns();
                ids.subList(from, to).stream().sorted(Comparator.reverseOrder()).forEach(part::add);
                merged.merge(part);
                from = to;
            }
            boolean unique = new HashSet<>(ids).size() == n;
            if (merged.provesUnique()) {
                assertTrue(unique, "trial " + trial + " proved repeated ids unique");
            }
        }
        // Disjoint descending blocks in shuffled order: proven, though far more runs than kept.
        List<AscendingIdRuns> blocks = new ArrayList<>();
        for (long b = 0; b < 50; b++) {
            long end = (b + 1) * 500;
            blocks.add(of(LongStream.range(0, 500).map(i -> end - 1 - i).toArray()));
        }
        Collections.shuffle(blocks, random);
        AscendingIdRuns all = new AscendingIdRuns();
        blocks.forEach(all::merge);
        assertTrue(all.provesUnique());
    }
}
