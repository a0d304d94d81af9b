package dev.pare.jobs.io;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
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
    void moreRunsThanKeptGiveUpTheProof() {
        long[] descending = LongStream.range(0, AscendingIdRuns.MAX_RUNS + 1L).map(i -> -i).toArray();
        assertTrue(of(java.util.Arrays.copyOf(descending, AscendingIdRuns.MAX_RUNS)).provesUnique());
        AscendingIdRuns overflowed = of(descending);
        assertFalse(overflowed.provesUnique());
        assertFalse(new AscendingIdRuns().merge(of(range(1_000, 1_010))).merge(overflowed).provesUnique());
        assertFalse(of(range(1_000, 1_010)).merge(overflowed).provesUnique());
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
}
