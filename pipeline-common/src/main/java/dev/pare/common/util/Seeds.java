package dev.pare.common.util;

import java.nio.charset.StandardCharsets;

/**
 * Derives independent seeds for stages, epochs and partitions from the one configured seed, so
 * that e.g. the shuffle of epoch 3 is the same whether or not epochs 1-2 ran in this process.
 */
public final class Seeds {
    private Seeds() {}

    /** A seed for {@code purpose} number {@code index}, mixed from {@code seed} with SplitMix64. */
    public static long derive(long seed, String purpose, long index) {
        long h = seed;
        for (byte b : purpose.getBytes(StandardCharsets.UTF_8)) {
            h = mix(h ^ b);
        }
        return mix(h ^ mix(index));
    }

    private static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
