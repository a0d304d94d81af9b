package dev.pare.common.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SeedsTest {

    @Test
    void deriveIsAPureFunction() {
        assertEquals(Seeds.derive(42, "distill-shuffle", 3), Seeds.derive(42, "distill-shuffle", 3));
    }

    @Test
    void everyInputChangesTheSeed() {
        long base = Seeds.derive(42, "distill-shuffle", 3);
        assertNotEquals(base, Seeds.derive(43, "distill-shuffle", 3));
        assertNotEquals(base, Seeds.derive(42, "teacher-shuffle", 3));
        assertNotEquals(base, Seeds.derive(42, "distill-shuffle", 4));
        // the purpose is not just concatenated with the index
        assertNotEquals(Seeds.derive(0, "a1", 0), Seeds.derive(0, "a", 1));
    }

    @Test
    void consecutiveIndicesGiveDistinctSeeds() {
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            seen.add(Seeds.derive(0, "partition", i));
        }
        assertEquals(1000, seen.size());
    }

    @Test
    void derivedSeedsAreWellMixed() {
        // SplitMix64 output: about half of the 64 bits differ between neighbouring indices
        int totalBits = 0;
        for (int i = 0; i < 100; i++) {
            totalBits += Long.bitCount(Seeds.derive(7, "x", i) ^ Seeds.derive(7, "x", i + 1));
        }
        double mean = totalBits / 100.0;
        assertEquals(32, mean, 4, "mean differing bits " + mean);
    }
}
