package dev.pare.common.sparsity;

import java.util.Arrays;

/**
 * Unstructured masks from scores: in each comparison group of n weights the
 * {@code k = round(sparsity · n)} lowest scores are pruned.
 *
 * <p>Ties break by index, the lower index being pruned first. Indices follow PyTorch's
 * {@code (out, in)} layout so that masks match a PyTorch implementation bit for bit: across a
 * layer the index of {@code w[i][j]} is {@code j·nIn + i}; within output neuron j it is i.
 * NaN scores are rejected.
 */
public final class UnstructuredMasks {
    private UnstructuredMasks() {}

    /** Number of weights pruned out of {@code n} at {@code sparsity}: {@code round(sparsity · n)}. */
    public static int prunedCount(int n, double sparsity) {
        if (!(sparsity >= 0 && sparsity < 1)) {
            throw new IllegalArgumentException("sparsity must be in [0, 1), was " + sparsity);
        }
        return (int) Math.round(sparsity * n);
    }

    /**
     * @param scores {@code [nIn][nOut]}
     * @return keep flags of the same shape
     */
    public static boolean[][] keep(double[][] scores, ComparisonGroup group, double sparsity) {
        int nIn = scores.length;
        int nOut = nIn == 0 ? 0 : scores[0].length;
        boolean[][] keep = new boolean[nIn][nOut];
        for (boolean[] row : keep) {
            Arrays.fill(row, true);
        }
        switch (group) {
            case LAYER -> {
                double[] flat = new double[nIn * nOut];
                for (int j = 0; j < nOut; j++) {
                    for (int i = 0; i < nIn; i++) {
                        flat[j * nIn + i] = scores[i][j];
                    }
                }
                for (int idx : lowest(flat, prunedCount(flat.length, sparsity))) {
                    keep[idx % nIn][idx / nIn] = false;
                }
            }
            case OUTPUT_NEURON -> {
                int k = prunedCount(nIn, sparsity);
                double[] column = new double[nIn];
                for (int j = 0; j < nOut; j++) {
                    for (int i = 0; i < nIn; i++) {
                        column[i] = scores[i][j];
                    }
                    for (int i : lowest(column, k)) {
                        keep[i][j] = false;
                    }
                }
            }
        }
        return keep;
    }

    /** Indices of the k lowest values, ties by lower index; a stable sort of (value, index). */
    static int[] lowest(double[] values, int k) {
        long nan = Arrays.stream(values).filter(Double::isNaN).count();
        if (nan > 0) {
            throw new IllegalArgumentException(nan + " importance scores are NaN");
        }
        Integer[] order = new Integer[values.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        // Arrays.sort on objects is a stable merge sort: equal values keep index order.
        Arrays.sort(order, (a, b) -> Double.compare(values[a], values[b]));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            out[i] = order[i];
        }
        return out;
    }
}
