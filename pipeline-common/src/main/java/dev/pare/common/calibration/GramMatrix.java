package dev.pare.common.calibration;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Mergeable accumulator of the Gram matrix {@code G = XᵀX = Σ_n x_n x_nᵀ} ({@code d×d}) over the
 * rows {@code x_n} a layer received, with the row count. {@code H = G / count} is the layer-wise
 * Hessian of the reconstruction error {@code ||WX − ŴX||²} (up to a factor 2) that Optimal Brain
 * Surgeon based pruners invert: SparseGPT (Frantar &amp; Alistarh, "SparseGPT: Massive Language
 * Models Can Be Accurately Pruned in One-Shot", 2023) adds a dampening {@code λI} and prunes
 * column-block-wise with weight reconstruction.
 *
 * <p>Sums are double precision; float rows are widened before the product, and each
 * {@link #add(INDArray)} is one double GEMM {@code xᵀ·x}. Only the upper triangle of each
 * product is added, mirrored into the lower one, so the stored matrix is exactly symmetric.
 * Merging adds sums and counts, so the merge of parts equals the accumulator of the union up to
 * double rounding. Memory: {@link #bytes(int)} ({@code 8·d²}) for the sums, plus a transient
 * {@code d×d} product during each add; callers should refuse layers whose {@code d} is too large.
 * With no rows added, {@link #hessian()} is all zeros.
 */
public final class GramMatrix implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    /** Largest {@code d} whose {@code d²} doubles fit one Java array. */
    public static final int MAX_DIMENSION = 46_340;

    private final int d;
    /** Row-major {@code d×d}, exactly symmetric. */
    private final double[] sums;
    private long count;

    public GramMatrix(int dimension) {
        if (dimension < 0 || dimension > MAX_DIMENSION) {
            throw new IllegalArgumentException("dimension must be in [0, " + MAX_DIMENSION + "], was " + dimension);
        }
        this.d = dimension;
        this.sums = new double[dimension * dimension];
    }

    /** An accumulator holding {@code sums} ({@code d×d}, symmetric) over {@code count} rows. */
    public GramMatrix(double[][] sums, long count) {
        this(sums.length);
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, was " + count);
        }
        for (int i = 0; i < d; i++) {
            if (sums[i].length != d) {
                throw new IllegalArgumentException("sums must be square " + d + "x" + d + ", row " + i + " has "
                        + sums[i].length + " columns");
            }
        }
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                if (Double.compare(sums[i][j], sums[j][i]) != 0) {
                    throw new IllegalArgumentException("sums must be symmetric, but [" + i + "][" + j + "] = "
                            + sums[i][j] + " and [" + j + "][" + i + "] = " + sums[j][i]);
                }
                this.sums[i * d + j] = sums[i][j];
            }
        }
        this.count = count;
    }

    private GramMatrix(GramMatrix other) {
        this.d = other.d;
        this.sums = other.sums.clone();
        this.count = other.count;
    }

    /** Bytes the sums of a {@code d×d} accumulator take ({@code 8·d²}); an add needs as much again. */
    public static long bytes(int d) {
        if (d < 0) {
            throw new IllegalArgumentException("dimension must be >= 0, was " + d);
        }
        return 8L * d * d;
    }

    /** Adds every row of {@code rows} ({@code [n, d]}, any floating type; widened to double). */
    public void add(INDArray rows) {
        if (rows.rank() != 2 || rows.columns() != d) {
            throw new IllegalArgumentException("expected [rows, " + d + "] rows, got " + Arrays.toString(rows.shape()));
        }
        long n = rows.rows();
        if (n == 0 || d == 0) {
            count += n;
            return;
        }
        INDArray x = rows.castTo(DataType.DOUBLE);
        double[] g = x.transpose().mmul(x).reshape('c', new long[] {(long) d * d}).toDoubleVector();
        addUpperMirrored(g);
        count += n;
    }

    /** Adds rows given as plain arrays (row-major {@code [n, d]}). */
    public void add(double[][] rows) {
        for (int r = 0; r < rows.length; r++) {
            if (rows[r].length != d) {
                throw new IllegalArgumentException("expected rows of " + d + " columns, row " + r + " has "
                        + rows[r].length);
            }
        }
        for (double[] x : rows) {
            for (int i = 0; i < d; i++) {
                double xi = x[i];
                for (int j = i; j < d; j++) {
                    sums[i * d + j] += xi * x[j];
                }
            }
        }
        mirrorUpper();
        count += rows.length;
    }

    private void addUpperMirrored(double[] g) {
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                sums[i * d + j] += g[i * d + j];
            }
        }
        mirrorUpper();
    }

    private void mirrorUpper() {
        for (int i = 0; i < d; i++) {
            for (int j = i + 1; j < d; j++) {
                sums[j * d + i] = sums[i * d + j];
            }
        }
    }

    /** Adds {@code other} into this accumulator. */
    public void merge(GramMatrix other) {
        if (other.d != d) {
            throw new IllegalArgumentException("cannot merge a " + other.d + "x" + other.d + " Gram matrix into a "
                    + d + "x" + d + " one");
        }
        for (int k = 0; k < sums.length; k++) {
            sums[k] += other.sums[k];
        }
        count += other.count;
    }

    public int dimension() {
        return d;
    }

    /** Number of rows added. */
    public long count() {
        return count;
    }

    /** {@code XᵀX = Σ_n x_n x_nᵀ} (a fresh {@code d×d} copy, symmetric). */
    public double[][] sums() {
        return divided(1);
    }

    /** {@code H = XᵀX / count} (fresh {@code d×d}, symmetric); all zeros when no row was added. */
    public double[][] hessian() {
        return count == 0 ? new double[d][d] : divided(count);
    }

    private double[][] divided(long divisor) {
        double[][] m = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                m[i][j] = sums[i * d + j] / divisor;
            }
        }
        return m;
    }

    public GramMatrix copy() {
        return new GramMatrix(this);
    }
}
