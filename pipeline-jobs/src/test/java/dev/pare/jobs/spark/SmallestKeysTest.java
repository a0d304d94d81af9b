package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link CalibrationJob.SmallestKeys} against a sort of every pair, added at once or in merged parts. */
class SmallestKeysTest {

    /** Pairs with keys drawn from a small range, so that equal keys (ordered by id) occur. */
    private static List<long[]> pairs(long seed, int n) {
        SplittableRandom random = new SplittableRandom(seed);
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new long[] {random.nextLong(-40, 40), random.nextLong(1_000)});
        }
        return out;
    }

    private static List<String> expected(List<long[]> pairs, int limit) {
        return pairs.stream().sorted(Comparator.<long[]>comparingLong(p -> p[0]).thenComparingLong(p -> p[1]))
                .limit(limit).map(p -> p[0] + "/" + p[1]).toList();
    }

    private static List<String> held(CalibrationJob.SmallestKeys keys) {
        List<String> out = new ArrayList<>();
        for (CalibrationJob.RankKey k : keys.sorted()) {
            assertEquals(0, k.shard());
            out.add(k.key() + "/" + k.id());
        }
        return out;
    }

    @Test
    void keepsTheSmallestPairsInKeyThenIdOrder() {
        List<long[]> all = pairs(1, 500);
        for (int limit : new int[] {1, 7, 64, 500, 2000}) {
            CalibrationJob.SmallestKeys keys = new CalibrationJob.SmallestKeys(limit);
            all.forEach(p -> keys.add(p[0], p[1]));
            assertEquals(expected(all, limit), held(keys), "limit " + limit);
        }
    }

    @Test
    void mergedPartsHoldWhatOnePassHolds() {
        List<long[]> all = pairs(2, 900);
        int limit = 50;
        // Parts of unequal sizes, one empty, merged in a tree as treeAggregate would.
        int[] cuts = {0, 10, 10, 400, 401, 900};
        List<CalibrationJob.SmallestKeys> parts = new ArrayList<>();
        for (int c = 0; c + 1 < cuts.length; c++) {
            CalibrationJob.SmallestKeys part = new CalibrationJob.SmallestKeys(limit);
            all.subList(cuts[c], cuts[c + 1]).forEach(p -> part.add(p[0], p[1]));
            parts.add(part);
        }
        CalibrationJob.SmallestKeys left = parts.get(0).merge(parts.get(1)).merge(parts.get(2));
        CalibrationJob.SmallestKeys right = parts.get(3).merge(parts.get(4));
        assertEquals(expected(all, limit), held(new CalibrationJob.SmallestKeys(limit).merge(right).merge(left)));
        assertEquals(List.of(), held(new CalibrationJob.SmallestKeys(3)));
    }
}
