package dev.pare.common.surgery;

import java.util.Arrays;

/**
 * Dense Cholesky arithmetic on {@code double[][]} for {@link SparseGpt}.
 *
 * <p>SparseGPT needs the upper Cholesky factor U of the inverse Hessian, {@code H⁻¹ = UᵀU}. The
 * reference computes it as {@code cholesky(cholesky_inverse(cholesky(H)), upper=True)}: factor,
 * invert, factor again (about {@code 4/3·d³} flops). Here it is found in {@code 2/3·d³}: write
 * {@code H = V·Vᵀ} with V upper triangular (a Cholesky factorization run from the last index
 * back); then {@code H⁻¹ = V⁻ᵀ·V⁻¹}, so {@code U = V⁻¹}. Both routes give the same matrix because
 * the Cholesky factor with a positive diagonal is unique.
 */
final class Cholesky {
    private Cholesky() {}

    /**
     * @param a symmetric positive definite {@code d×d}; only its upper triangle is read, and it is
     *     not changed
     * @return upper triangular U with positive diagonal and {@code UᵀU = a⁻¹}
     * @throws IllegalArgumentException if a is not (numerically) positive definite
     */
    static double[][] upperFactorOfInverse(double[][] a) {
        double[][] v = reverseFactor(a);
        invertUpperInPlace(v);
        return v;
    }

    /**
     * Upper triangular V with {@code a = V·Vᵀ}: column j, from {@code d−1} down to 0, is
     * {@code V_jj = sqrt(a_jj − Σ_{k>j} V_jk²)}, {@code V_ij = (a_ij − Σ_{k>j} V_ik·V_jk) / V_jj}
     * for {@code i < j}. The sums run along rows, so the inner loops read memory in order.
     */
    static double[][] reverseFactor(double[][] a) {
        int d = a.length;
        double[][] v = new double[d][d];
        for (int j = d - 1; j >= 0; j--) {
            double[] vj = v[j];
            double s = a[j][j];
            for (int k = j + 1; k < d; k++) {
                s -= vj[k] * vj[k];
            }
            if (!(s > 0) || Double.isInfinite(s)) {
                throw new IllegalArgumentException("matrix (" + d + "x" + d + ") is not positive definite: pivot "
                        + s + " at index " + j);
            }
            double pivot = Math.sqrt(s);
            vj[j] = pivot;
            for (int i = 0; i < j; i++) {
                double[] vi = v[i];
                double t = a[i][j];
                for (int k = j + 1; k < d; k++) {
                    t -= vi[k] * vj[k];
                }
                vi[j] = t / pivot;
            }
        }
        return v;
    }

    /**
     * Replaces the upper triangular v (positive diagonal) by its inverse U, row by row from the
     * top, using {@code U·V = I}: {@code U_ij = (δ_ij − Σ_{i≤k<j} U_ik·V_kj) / V_jj}. The sums are
     * accumulated as row updates (axpy over rows of V), so memory is read in order. Row i of U
     * needs only rows {@code k ≥ i} of V, which are still intact when row i is written.
     */
    static void invertUpperInPlace(double[][] v) {
        int d = v.length;
        double[] acc = new double[d];
        double[] row = new double[d];
        for (int i = 0; i < d; i++) {
            Arrays.fill(acc, i, d, 0.0);
            for (int k = i; k < d; k++) {
                double[] vk = v[k];
                double uik = ((k == i ? 1.0 : 0.0) - acc[k]) / vk[k];
                row[k] = uik;
                if (uik != 0) {
                    for (int j = k + 1; j < d; j++) {
                        acc[j] += uik * vk[j];
                    }
                }
            }
            System.arraycopy(row, i, v[i], i, d - i);
        }
    }
}
