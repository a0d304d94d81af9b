package dev.pare.common.distill;

import dev.pare.common.data.ExampleArrays;
import dev.pare.common.util.Seeds;
import java.util.Random;

/**
 * Holds out a seeded share of the distillation subset as a validation split for early stopping
 * and best-epoch selection; the test split is never used to choose. {@code floor(f·n)} rows go to
 * validation (chosen by a seeded shuffle), the rest stay for training; both keep row order. With
 * none held out, {@code train} and {@code trainLogits} are the given arrays themselves.
 *
 * @param train the remaining rows
 * @param trainLogits their teacher logits, row-major
 * @param validation the held-out rows (empty when f = 0)
 */
public record ValidationSplit(ExampleArrays train, float[] trainLogits, ExampleArrays validation) {

    public static ValidationSplit of(ExampleArrays all, float[] logits, int classes, double fraction, long seed) {
        int n = all.size();
        boolean[] held = heldOut(n, fraction, seed);
        int v = 0;
        for (boolean h : held) {
            v += h ? 1 : 0;
        }
        if (v == 0) {
            // Nothing held out: the subset itself trains (a copy would double the driver's largest arrays).
            return new ValidationSplit(all, logits, all.rows(new int[0]));
        }
        int[] trainRows = new int[n - v];
        int[] validRows = new int[v];
        int a = 0;
        int b = 0;
        for (int i = 0; i < n; i++) {
            if (held[i]) {
                validRows[b++] = i;
            } else {
                trainRows[a++] = i;
            }
        }
        float[] trainLogits = new float[trainRows.length * classes];
        for (int r = 0; r < trainRows.length; r++) {
            System.arraycopy(logits, trainRows[r] * classes, trainLogits, r * classes, classes);
        }
        return new ValidationSplit(all.rows(trainRows), trainLogits, all.rows(validRows));
    }

    /**
     * Which of {@code n} rows (the subset in id order) are held out for validation: {@code floor(f·n)}
     * of them (at most n − 1), chosen by a shuffle seeded from {@code seed}. Data-parallel distillation
     * uses it on the sorted ids so both modes hold out the same examples.
     */
    public static boolean[] heldOut(int n, double fraction, long seed) {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new IllegalArgumentException("validation fraction must be in [0, 1), was " + fraction);
        }
        int v = (int) Math.floor(fraction * n);
        if (v > 0 && v == n) {
            v = n - 1;
        }
        if (v == 0) {
            return new boolean[n];
        }
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Random random = new Random(Seeds.derive(seed, "distill-validation", 0));
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        boolean[] held = new boolean[n];
        for (int i = 0; i < v; i++) {
            held[order[i]] = true;
        }
        return held;
    }
}
