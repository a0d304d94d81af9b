package dev.pare.common.sparsity;

import java.util.Arrays;

/**
 * N:M semi-structured masks along the input dimension: for each output neuron j and each group
 * of M consecutive inputs {@code i = g·M … g·M + M − 1}, the N highest scores are kept and the
 * {@code M − N} lowest pruned, so every layer ends at sparsity exactly {@code 1 − N/M}.
 *
 * <p>2:4 is the pattern that NVIDIA Ampere sparse tensor cores accelerate (Mishra et al. 2021,
 * "Accelerating Sparse Deep Neural Networks"); on a CPU the mask saves nothing by itself, but a
 * model pruned this way can be exported to such hardware unchanged.
 *
 * <p>Ties break by index as in {@link UnstructuredMasks} within one output neuron: the lower
 * input index i is pruned first. NaN scores are rejected. The pattern needs {@code nIn} to be a
 * multiple of M ({@link #applicable}); layers where it is not must be skipped or pruned another
 * way, never padded silently.
 */
public final class NmMasks {
    private NmMasks() {}

    /** Whether a layer with {@code nIn} inputs can take an N:M pattern of group size {@code m}. */
    public static boolean applicable(long nIn, int m) {
        return m > 0 && nIn % m == 0;
    }

    /**
     * @param scores {@code [nIn][nOut]}, larger = more important
     * @param n weights kept per group, {@code 0 < n < m}
     * @param m group size along the input dimension; must divide {@code nIn}
     * @return keep flags of the same shape, exactly n per group and output neuron
     */
    public static boolean[][] keep(double[][] scores, int n, int m) {
        int nIn = scores.length;
        int nOut = nIn == 0 ? 0 : scores[0].length;
        if (!(0 < n && n < m)) {
            throw new IllegalArgumentException("N:M pattern " + n + ":" + m + " needs 0 < N < M (nIn = " + nIn + ")");
        }
        if (!applicable(nIn, m)) {
            throw new IllegalArgumentException("N:M pattern " + n + ":" + m + " needs nIn divisible by M, but nIn = "
                    + nIn + " is not a multiple of " + m);
        }
        boolean[][] keep = new boolean[nIn][nOut];
        for (boolean[] row : keep) {
            Arrays.fill(row, true);
        }
        double[] group = new double[m];
        for (int j = 0; j < nOut; j++) {
            for (int start = 0; start < nIn; start += m) {
                for (int k = 0; k < m; k++) {
                    group[k] = scores[start + k][j];
                }
                for (int k : UnstructuredMasks.lowest(group, m - n)) {
                    keep[start + k][j] = false;
                }
            }
        }
        return keep;
    }
}
