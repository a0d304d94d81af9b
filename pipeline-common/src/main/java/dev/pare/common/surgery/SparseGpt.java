package dev.pare.common.surgery;

import dev.pare.common.sparsity.UnstructuredMasks;
import java.util.Arrays;

/**
 * SparseGPT: one-shot pruning of one dense layer with Optimal Brain Surgeon weight
 * reconstruction (Frantar, Alistarh, "SparseGPT: Massive Language Models Can Be Accurately Pruned
 * in One-Shot", ICML 2023). The math follows the authors' reference implementation
 * ({@code sparsegpt.py}, {@code fasterprune}).
 *
 * <p>For each output neuron the layer minimizes {@code ‖X·w − X·ŵ‖²} over the calibration rows X
 * subject to the mask, using the Hessian {@code H = XᵀX/n} of that loss. Input columns are
 * visited in order. Pruning column i of row w sets {@code q_i = w_i·keep_i} and moves the error
 * onto the columns not yet visited with the OBS update
 * {@code w_j −= (w_i − q_i)/U_ii · U_ij} for {@code j > i}, where U is the upper Cholesky factor
 * of the inverse Hessian, {@code H⁻¹ = UᵀU}. Its row i holds exactly the inverse of the Hessian
 * restricted to the columns {@code i..d−1} (up to the factor {@code U_ii}), which is what OBS
 * needs after columns {@code 0..i−1} have been fixed. Columns are handled in blocks of
 * {@code blockSize}: updates inside a block are immediate, updates to later columns are applied
 * once per block as {@code W[:, end:] −= Err·U[start:end, end:]} (same result, fewer passes).
 *
 * <p>Preparation of H, as in the reference:
 * <ul>
 *   <li>dead inputs: where {@code H_ii = 0} (the input was always zero) {@code H_ii} is set to 1
 *       and every weight reading input i is set to 0;
 *   <li>damping: {@code H += λ·I} with {@code λ = dampFraction · mean(diag H)}
 *       ({@link #DEFAULT_DAMP_FRACTION} = 0.01), so the solver minimizes
 *       {@code (w−ŵ)ᵀ(H + λI)(w−ŵ)}.
 * </ul>
 * H must be symmetric (to a relative {@code 1e-6} of its largest diagonal entry; the average
 * {@code (H + Hᵀ)/2} is used) and positive definite after damping, else an
 * {@link IllegalArgumentException} is thrown.
 *
 * <p>Masks, scored by {@code w_ij² / U_ii²} on the weights as updated so far:
 * <ul>
 *   <li>{@link Pattern.Unstructured} at sparsity s: once per block, over every (output, column)
 *       of the block, the {@code round(s · nOut · blockWidth)} lowest scores are pruned; ties go to
 *       the lower index, the index running over the block in (output, column) order.
 *       Sparsity 0 leaves the weights unchanged.
 *   <li>{@link Pattern.NOfM} (n kept of every m consecutive inputs, per output neuron): at every
 *       column i with {@code i % m == 0} the {@code m − n} lowest scores of columns
 *       {@code i..i+m−1} are pruned, ties to the lower column. nIn must be divisible by m; the
 *       block size is rounded down to a multiple of m (at least m) so groups never straddle
 *       blocks, which does not change the result.
 *   <li>{@link #reconstruct}: a mask given by the caller, kept fixed.
 * </ul>
 * A dead input scores 0 and is pruned first; where it is kept its weight is 0 all the same.
 *
 * <p>Cost: {@code O(nIn³)} for the factorization plus {@code O(nOut·nIn²)} for the updates; memory
 * two {@code nIn×nIn} and one {@code nOut×nIn} double arrays.
 */
public final class SparseGpt {
    /** Default damping fraction of the mean Hessian diagonal (the reference's {@code percdamp}). */
    public static final double DEFAULT_DAMP_FRACTION = 0.01;
    /** Default number of input columns per lazy-update block (the reference's {@code blocksize}). */
    public static final int DEFAULT_BLOCK_SIZE = 128;

    private static final double SYMMETRY_TOLERANCE = 1e-6;

    private SparseGpt() {}

    /** Which weights SparseGPT prunes. */
    public sealed interface Pattern {
        /** A fraction {@code sparsity ∈ [0, 1)} of each block's weights, chosen by OBS score. */
        static Pattern unstructured(double sparsity) {
            return new Unstructured(sparsity);
        }

        /** {@code n} kept of every {@code m} consecutive inputs of each output neuron, {@code 0 < n < m}. */
        static Pattern nOfM(int n, int m) {
            return new NOfM(n, m);
        }

        record Unstructured(double sparsity) implements Pattern {
            public Unstructured {
                if (!(sparsity >= 0 && sparsity < 1)) {
                    throw new IllegalArgumentException("sparsity must be in [0, 1), was " + sparsity);
                }
            }
        }

        record NOfM(int n, int m) implements Pattern {
            public NOfM {
                if (n <= 0 || n >= m) {
                    throw new IllegalArgumentException("N:M pattern needs 0 < n < m, was " + n + ":" + m);
                }
            }
        }
    }

    /**
     * @param weights {@code [nIn][nOut]}, reconstructed; pruned entries are exactly 0.0
     * @param keep {@code [nIn][nOut]}, false where pruned
     */
    public record Result(double[][] weights, boolean[][] keep) {}

    /** {@link #prune(double[][], double[][], Pattern, double, int)} with the default damping and block size. */
    public static Result prune(double[][] weights, double[][] hessian, Pattern pattern) {
        return prune(weights, hessian, pattern, DEFAULT_DAMP_FRACTION, DEFAULT_BLOCK_SIZE);
    }

    /**
     * Chooses a mask of the given pattern and reconstructs the kept weights.
     *
     * @param weights {@code [nIn][nOut]} (DL4J layout), not changed
     * @param hessian {@code [nIn][nIn]}, {@code XᵀX/n} of the layer input, not changed
     * @param dampFraction λ as a fraction of the mean diagonal, {@code ≥ 0}
     * @param blockSize input columns per block, {@code ≥ 1}
     */
    public static Result prune(double[][] weights, double[][] hessian, Pattern pattern, double dampFraction,
            int blockSize) {
        if (pattern == null) {
            throw new IllegalArgumentException("pattern is null");
        }
        int nIn = checkShapes(weights, hessian);
        if (pattern instanceof Pattern.NOfM p && nIn % p.m() != 0) {
            throw new IllegalArgumentException("N:M pattern " + p.n() + ":" + p.m() + " needs nIn divisible by m, but nIn = "
                    + nIn + " and m = " + p.m());
        }
        return solve(weights, hessian, pattern, null, dampFraction, blockSize);
    }

    /** {@link #reconstruct(double[][], double[][], boolean[][], double, int)} with the default damping and block size. */
    public static Result reconstruct(double[][] weights, double[][] hessian, boolean[][] keep) {
        return reconstruct(weights, hessian, keep, DEFAULT_DAMP_FRACTION, DEFAULT_BLOCK_SIZE);
    }

    /**
     * Reconstructs the kept weights for a given mask, with the same sequential OBS updates.
     *
     * @param keep {@code [nIn][nOut]}, false where pruned; returned as a copy in the result
     */
    public static Result reconstruct(double[][] weights, double[][] hessian, boolean[][] keep, double dampFraction,
            int blockSize) {
        int nIn = checkShapes(weights, hessian);
        int nOut = weights[0].length;
        if (keep == null || keep.length != nIn) {
            throw new IllegalArgumentException("keep mask has " + (keep == null ? "no" : keep.length)
                    + " rows but the weights are " + nIn + "x" + nOut);
        }
        for (int i = 0; i < nIn; i++) {
            if (keep[i] == null || keep[i].length != nOut) {
                throw new IllegalArgumentException("keep mask row " + i + " has "
                        + (keep[i] == null ? "no" : keep[i].length) + " entries but the weights are " + nIn + "x" + nOut);
            }
        }
        return solve(weights, hessian, null, keep, dampFraction, blockSize);
    }

    /** Checks that weights are a finite non-empty [nIn][nOut] array and hessian a finite [nIn][nIn] one; returns nIn. */
    private static int checkShapes(double[][] weights, double[][] hessian) {
        if (weights == null || weights.length == 0 || weights[0] == null || weights[0].length == 0) {
            throw new IllegalArgumentException("weights must be a non-empty [nIn][nOut] array");
        }
        int nIn = weights.length;
        int nOut = weights[0].length;
        for (int i = 0; i < nIn; i++) {
            if (weights[i] == null || weights[i].length != nOut) {
                throw new IllegalArgumentException("weights row " + i + " has "
                        + (weights[i] == null ? "no" : weights[i].length) + " entries, row 0 has " + nOut);
            }
            for (int j = 0; j < nOut; j++) {
                if (!Double.isFinite(weights[i][j])) {
                    throw new IllegalArgumentException("weights[" + i + "][" + j + "] is " + weights[i][j]);
                }
            }
        }
        if (hessian == null || hessian.length != nIn) {
            throw new IllegalArgumentException("hessian has " + (hessian == null ? "no" : hessian.length)
                    + " rows but the weights have nIn = " + nIn);
        }
        for (int i = 0; i < nIn; i++) {
            if (hessian[i] == null || hessian[i].length != nIn) {
                throw new IllegalArgumentException("hessian row " + i + " has "
                        + (hessian[i] == null ? "no" : hessian[i].length) + " entries but must be " + nIn + "x" + nIn);
            }
            for (int j = 0; j < nIn; j++) {
                if (!Double.isFinite(hessian[i][j])) {
                    throw new IllegalArgumentException("hessian[" + i + "][" + j + "] is " + hessian[i][j]);
                }
            }
        }
        return nIn;
    }

    /** The reference's {@code fasterprune}; exactly one of pattern and fixedKeep is non-null. */
    private static Result solve(double[][] weights, double[][] hessian, Pattern pattern, boolean[][] fixedKeep,
            double dampFraction, int blockSize) {
        if (!(dampFraction >= 0) || Double.isInfinite(dampFraction)) {
            throw new IllegalArgumentException("dampFraction must be finite and >= 0, was " + dampFraction);
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize must be >= 1, was " + blockSize);
        }
        int nIn = weights.length;
        int nOut = weights[0].length;

        // Work in the paper's layout W[out][in]: each output row is contiguous for the updates.
        double[][] w = new double[nOut][nIn];
        for (int i = 0; i < nIn; i++) {
            for (int j = 0; j < nOut; j++) {
                w[j][i] = weights[i][j];
            }
        }
        double[][] h = symmetricCopy(hessian);
        for (int i = 0; i < nIn; i++) {
            if (h[i][i] == 0) {
                h[i][i] = 1;
                for (double[] row : w) {
                    row[i] = 0.0;
                }
            }
        }
        double meanDiag = 0;
        for (int i = 0; i < nIn; i++) {
            meanDiag += h[i][i];
        }
        meanDiag /= nIn;
        double lambda = dampFraction * meanDiag;
        for (int i = 0; i < nIn; i++) {
            h[i][i] += lambda;
        }
        double[][] u;
        try {
            u = Cholesky.upperFactorOfInverse(h);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("hessian (" + nIn + "x" + nIn + ") is not positive definite after damping"
                    + " with lambda = " + lambda + " (dampFraction " + dampFraction + "): " + e.getMessage(), e);
        }
        h = null; // only U is needed from here on; let a large H go

        boolean[][] pruned = new boolean[nOut][nIn];
        if (fixedKeep != null) {
            for (int i = 0; i < nIn; i++) {
                for (int j = 0; j < nOut; j++) {
                    pruned[j][i] = !fixedKeep[i][j];
                }
            }
        }
        int step = blockSize;
        if (pattern instanceof Pattern.NOfM p) {
            step = Math.max(p.m(), blockSize - blockSize % p.m());
        }
        double[][] err = new double[nOut][Math.min(step, nIn)];
        for (int start = 0; start < nIn; start += step) {
            int end = Math.min(start + step, nIn);
            if (pattern instanceof Pattern.Unstructured p) {
                chooseBlockMask(w, u, start, end, p.sparsity(), pruned);
            }
            for (int i = start; i < end; i++) {
                if (pattern instanceof Pattern.NOfM p && (i - start) % p.m() == 0) {
                    chooseGroupMask(w, u, i, p, pruned);
                }
                double[] ui = u[i];
                double d = ui[i];
                for (int r = 0; r < nOut; r++) {
                    double[] wr = w[r];
                    double e = pruned[r][i] ? wr[i] / d : 0.0;
                    err[r][i - start] = e;
                    if (pruned[r][i]) {
                        wr[i] = 0.0;
                        for (int j = i + 1; j < end; j++) {
                            wr[j] -= e * ui[j];
                        }
                    }
                }
            }
            if (end < nIn) {
                // lazy batch update of all later columns: W[:, end:] -= Err · U[start:end, end:]
                for (int r = 0; r < nOut; r++) {
                    double[] wr = w[r];
                    double[] er = err[r];
                    for (int k = 0; k < end - start; k++) {
                        double e = er[k];
                        if (e != 0) {
                            double[] uk = u[start + k];
                            for (int j = end; j < nIn; j++) {
                                wr[j] -= e * uk[j];
                            }
                        }
                    }
                }
            }
        }

        double[][] outWeights = new double[nIn][nOut];
        boolean[][] outKeep = new boolean[nIn][nOut];
        for (int i = 0; i < nIn; i++) {
            for (int j = 0; j < nOut; j++) {
                outWeights[i][j] = w[j][i];
                outKeep[i][j] = !pruned[j][i];
            }
        }
        return new Result(outWeights, outKeep);
    }

    /** {@code (H + Hᵀ)/2}, after checking that H is symmetric to a tolerance relative to its largest diagonal entry. */
    private static double[][] symmetricCopy(double[][] hessian) {
        int d = hessian.length;
        double scale = 0;
        for (int i = 0; i < d; i++) {
            scale = Math.max(scale, Math.abs(hessian[i][i]));
        }
        double[][] h = new double[d][d];
        for (int i = 0; i < d; i++) {
            h[i][i] = hessian[i][i];
            for (int j = i + 1; j < d; j++) {
                double a = hessian[i][j];
                double b = hessian[j][i];
                if (Math.abs(a - b) > SYMMETRY_TOLERANCE * scale) {
                    throw new IllegalArgumentException("hessian is not symmetric: [" + i + "][" + j + "] = " + a
                            + " but [" + j + "][" + i + "] = " + b);
                }
                h[i][j] = (a + b) / 2;
                h[j][i] = h[i][j];
            }
        }
        return h;
    }

    /** Unstructured: prunes the round(s·count) lowest w²/U_ii² of the block, index r·width + c. */
    private static void chooseBlockMask(double[][] w, double[][] u, int start, int end, double sparsity,
            boolean[][] pruned) {
        int width = end - start;
        double[] scores = new double[w.length * width];
        for (int r = 0; r < w.length; r++) {
            for (int c = 0; c < width; c++) {
                double d = u[start + c][start + c];
                scores[r * width + c] = w[r][start + c] * w[r][start + c] / (d * d);
            }
        }
        boolean[] low = lowest(scores, UnstructuredMasks.prunedCount(scores.length, sparsity));
        for (int idx = 0; idx < low.length; idx++) {
            pruned[idx / width][start + idx % width] = low[idx];
        }
    }

    /** N:M: in each output row prunes the m − n lowest w²/U_ii² among columns first..first+m−1. */
    private static void chooseGroupMask(double[][] w, double[][] u, int first, Pattern.NOfM p, boolean[][] pruned) {
        double[] scores = new double[p.m()];
        for (int r = 0; r < w.length; r++) {
            for (int c = 0; c < p.m(); c++) {
                double d = u[first + c][first + c];
                scores[c] = w[r][first + c] * w[r][first + c] / (d * d);
            }
            boolean[] low = lowest(scores, p.m() - p.n());
            for (int c = 0; c < p.m(); c++) {
                pruned[r][first + c] = low[c];
            }
        }
    }

    /**
     * Flags the k lowest values, ties to the lower index: everything below the k-th smallest value,
     * then values equal to it in index order until k are flagged. Values are non-negative, never NaN.
     */
    static boolean[] lowest(double[] values, int k) {
        boolean[] out = new boolean[values.length];
        if (k == 0) {
            return out;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double threshold = sorted[k - 1];
        int ties = k;
        for (double v : values) {
            if (v < threshold) {
                ties--;
            }
        }
        for (int i = 0; i < values.length; i++) {
            if (values[i] < threshold) {
                out[i] = true;
            } else if (values[i] == threshold && ties > 0) {
                out[i] = true;
                ties--;
            }
        }
        return out;
    }
}
