package dev.pare.common.calibration;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Mergeable accumulator of per-weight gradient statistics over gradient samples {@code g_s}
 * (each {@link #add} is one sample: a per-example or a per-mini-batch gradient of the loss):
 * {@code T_i = Σ_s |w_i·g_si|} and {@code F_i = Σ_s g_si²}, with the number of samples.
 *
 * <ul>
 *   <li>{@link #taylor()} {@code = T_i}: first-order Taylor importance, the loss change estimated
 *       for zeroing weight {@code i} (Molchanov et al., "Importance Estimation for Neural Network
 *       Pruning", CVPR 2019). It is a sum, so it grows with the number of samples; ranks within
 *       one accumulator are unaffected.
 *   <li>{@link #fisherDiagonal()} {@code = F_i / count = E[g_i²]}: the empirical Fisher diagonal,
 *       which Optimal Brain Damage (LeCun et al., "Optimal Brain Damage", NIPS 1990) uses in place
 *       of the Hessian diagonal; the OBD saliency is {@code ½·w_i²·E[g_i²]}.
 * </ul>
 *
 * <p>Weights and gradients may have any shape; the accumulator fixes it at construction and
 * stores the statistics flattened in C (row-major) order of that shape, whatever the ordering of
 * the arrays passed in (DL4J parameter views are often 'f' ordered). The weights passed with each
 * sample are the ones the gradient was taken at, so weights that change between samples are
 * handled. Sums are double precision (values are widened before multiplying); merging adds sums
 * and counts. With no samples, {@link #fisherDiagonal()} is all zeros.
 */
public final class WeightGradientSums implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final long[] shape;
    private final double[] taylorSums;
    private final double[] squareGradientSums;
    private long count;

    /** An empty accumulator for weights of {@code shape}. */
    public WeightGradientSums(long... shape) {
        this.shape = shape.clone();
        int length = lengthOf(this.shape);
        this.taylorSums = new double[length];
        this.squareGradientSums = new double[length];
    }

    /**
     * An accumulator holding {@code Σ|w·g|} and {@code Σg²} (C order of {@code shape}) over
     * {@code count} samples.
     */
    public WeightGradientSums(long[] shape, double[] taylorSums, double[] squareGradientSums, long count) {
        this.shape = shape.clone();
        int length = lengthOf(this.shape);
        if (taylorSums.length != length || squareGradientSums.length != length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + length
                    + " weights, but taylorSums has " + taylorSums.length + " and squareGradientSums has "
                    + squareGradientSums.length);
        }
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, was " + count);
        }
        this.taylorSums = taylorSums.clone();
        this.squareGradientSums = squareGradientSums.clone();
        this.count = count;
    }

    private static int lengthOf(long[] shape) {
        long length = 1;
        for (long s : shape) {
            if (s < 0) {
                throw new IllegalArgumentException("shape must not be negative, was " + Arrays.toString(shape));
            }
            length *= s;
            if (length > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape)
                        + " has too many weights for one array");
            }
        }
        return (int) length;
    }

    /** Adds one gradient sample: {@code gradient} of the loss at {@code weights}, both of this accumulator's shape. */
    public void add(INDArray weights, INDArray gradient) {
        if (!Arrays.equals(weights.shape(), shape) || !Arrays.equals(gradient.shape(), shape)) {
            throw new IllegalArgumentException("expected weights and gradient of shape " + Arrays.toString(shape)
                    + ", got weights " + Arrays.toString(weights.shape()) + " and gradient "
                    + Arrays.toString(gradient.shape()));
        }
        int length = taylorSums.length;
        if (length > 0) {
            // Fresh C-order double copies own exactly `length` values in C order, whatever the
            // orderings passed in (element-wise ND4J ops on mixed orderings take a slow strided path).
            double[] w = weights.castTo(DataType.DOUBLE).dup('c').data().asDouble();
            double[] g = gradient.castTo(DataType.DOUBLE).dup('c').data().asDouble();
            for (int i = 0; i < length; i++) {
                taylorSums[i] += Math.abs(w[i] * g[i]);
                squareGradientSums[i] += g[i] * g[i];
            }
        }
        count++;
    }

    /**
     * Adds the per-example gradients of a dense layer for a whole batch: with inputs {@code a_r}
     * ({@code [n, nIn]}) and pre-activation loss gradients {@code δ_r} ({@code [n, nOut]}) of rows r,
     * example r's gradient is {@code g_r = a_r δ_rᵀ}, so {@code Σ_r |w⊙g_r| = |w| ⊙ (|A|ᵀ|Δ|)} and
     * {@code Σ_r g_r² = (A⊙A)ᵀ(Δ⊙Δ)}: two matrix products instead of n samples. Counts n samples.
     */
    public void addOuterProducts(INDArray weights, INDArray inputs, INDArray deltas) {
        long n = inputs.rows();
        if (shape.length != 2 || !Arrays.equals(weights.shape(), shape) || inputs.rank() != 2 || deltas.rank() != 2
                || inputs.columns() != shape[0] || deltas.columns() != shape[1] || deltas.rows() != n) {
            throw new IllegalArgumentException("expected weights " + Arrays.toString(shape) + ", inputs [n, " + shape[0]
                    + "] and deltas [n, " + shape[1] + "]; got " + Arrays.toString(weights.shape()) + ", "
                    + Arrays.toString(inputs.shape()) + " and " + Arrays.toString(deltas.shape()));
        }
        int length = taylorSums.length;
        INDArray a = inputs.castTo(DataType.DOUBLE);
        INDArray d = deltas.castTo(DataType.DOUBLE);
        INDArray absW = Transforms.abs(weights.castTo(DataType.DOUBLE), true);
        double[] t = absW.muli(Transforms.abs(a, true).transpose().mmul(Transforms.abs(d, true)))
                .reshape('c', new long[] {length}).toDoubleVector();
        double[] gg = a.mul(a).transpose().mmul(d.mul(d)).reshape('c', new long[] {length}).toDoubleVector();
        for (int i = 0; i < length; i++) {
            taylorSums[i] += t[i];
            squareGradientSums[i] += gg[i];
        }
        count += n;
    }

    /** Adds {@code other} into this accumulator. */
    public void merge(WeightGradientSums other) {
        if (!Arrays.equals(other.shape, shape)) {
            throw new IllegalArgumentException("cannot merge statistics of shape " + Arrays.toString(other.shape)
                    + " into " + Arrays.toString(shape));
        }
        for (int i = 0; i < taylorSums.length; i++) {
            taylorSums[i] += other.taylorSums[i];
            squareGradientSums[i] += other.squareGradientSums[i];
        }
        count += other.count;
    }

    /** The weight shape (a copy); the statistics are flattened in C order of it. */
    public long[] shape() {
        return shape.clone();
    }

    /** Number of gradient samples added. */
    public long count() {
        return count;
    }

    /** First-order Taylor importance {@code Σ_s |w_i·g_si|} per weight (C order, a copy). */
    public double[] taylor() {
        return taylorSums.clone();
    }

    /** {@code Σ_s g_si²} per weight (C order, a copy). */
    public double[] squareGradientSums() {
        return squareGradientSums.clone();
    }

    /** Empirical Fisher diagonal {@code E[g_i²] = Σ_s g_si² / count} (C order); zeros when no sample was added. */
    public double[] fisherDiagonal() {
        double[] f = new double[squareGradientSums.length];
        if (count > 0) {
            for (int i = 0; i < f.length; i++) {
                f[i] = squareGradientSums[i] / count;
            }
        }
        return f;
    }

    public WeightGradientSums copy() {
        return new WeightGradientSums(shape, taylorSums, squareGradientSums, count);
    }
}
