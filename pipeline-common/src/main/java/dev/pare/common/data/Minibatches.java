package dev.pare.common.data;

import dev.pare.common.util.Seeds;
import java.util.SplittableRandom;

/**
 * Epoch orders for minibatch training. The order of epoch e depends only on (seed, purpose, e), so
 * a run resumed at epoch e sees exactly the batches an uninterrupted run would.
 */
public final class Minibatches {
    private Minibatches() {}

    /** A Fisher-Yates permutation of {@code [0, n)} for epoch {@code epoch}. */
    public static int[] epochOrder(int n, long seed, String purpose, int epoch) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom rnd = new SplittableRandom(Seeds.derive(seed, purpose, epoch));
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** Number of batches of size {@code batchSize} covering n rows (the last may be smaller). */
    public static int count(int n, int batchSize) {
        return (n + batchSize - 1) / batchSize;
    }
}
