package dev.pare.common.calibration;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.same.Abs;
import org.nd4j.linalg.factory.Nd4j;

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
 * handled. Sums are double precision; merging adds sums and counts. Double samples are multiplied
 * in double. Float matrices (calibration's default precision) have their terms {@code |w·g|} and
 * {@code g²} computed in float and summed in float over at most {@value #PENDING_SAMPLES} additions
 * (samples, or batches of {@link #addOuterProducts}) before they join the double sums: a relative error below {@code 2⁻²⁴} per term and per pending
 * addition (PyTorch keeps such sums in float throughout). With no samples, {@link #fisherDiagonal()}
 * is all zeros.
 */
public final class WeightGradientSums implements java.io.Serializable {
    private static final long serialVersionUID = 2L;
    /** Values read per bulk copy out of a matrix's buffer. */
    private static final int CHUNK = 2048;
    /** Float samples summed in float before they join the double sums: at most this many. */
    static final int PENDING_SAMPLES = 16;
    private final long[] shape;
    // Stored in C order of the shape, or, for matrices once 'f'-ordered ones were added (DL4J's
    // weights are), in F order: the sums then run along both buffers without a transposed copy.
    private final double[] taylorSums;
    private final double[] squareGradientSums;
    private boolean columnMajor;
    private long count;
    // Float matrix samples' terms |w·g| and g², computed and summed in float over fewer than
    // PENDING_SAMPLES samples (stored order), added into the double sums before any read, merge
    // or re-layout. Not transient: a serializer that skips writeObject (Kryo's) still carries them.
    private float[] pendingTaylor;
    private float[] pendingSquares;
    private int pendingSamples;
    /** Copies of a float sample's matrices, reused (scratch, not state). */
    private transient float[][] floatScratch;
    /** {@link #addOuterProducts}'s per-batch arrays, kept for the next batch (never serialized). */
    private transient INDArray[] batchArrays;
    private transient INDArray[] productArrays;

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
        if (length > 0 && shape.length == 2) {
            // Read in place (DL4J's weights are 'f'-ordered views of the flattened parameters).
            HostMatrix w = HostMatrix.of(weights);
            HostMatrix g = HostMatrix.of(gradient);
            char layout = HostMatrix.commonLayout(w, g);
            if (layout != 0 && w.isFloat() && g.isFloat()) {
                storeIn(layout);
                addPending(w, g);
            } else if (layout != 0) {
                storeIn(layout);
                double[] wc = new double[Math.min(CHUNK, length)];
                double[] gc = new double[wc.length];
                for (int from = 0; from < length; from += CHUNK) {
                    int n = Math.min(CHUNK, length - from);
                    w.read(from, wc, n);
                    g.read(from, gc, n);
                    for (int k = 0; k < n; k++) {
                        double gi = gc[k];
                        taylorSums[from + k] += Math.abs(wc[k] * gi);
                        squareGradientSums[from + k] += gi * gi;
                    }
                }
            } else {
                for (int r = 0; r < w.rows(); r++) {
                    for (int c = 0; c < w.columns(); c++) {
                        int i = index(r, c);
                        double gi = g.get(r, c);
                        taylorSums[i] += Math.abs(w.get(r, c) * gi);
                        squareGradientSums[i] += gi * gi;
                    }
                }
            }
        } else if (length > 0) {
            // Any other shape (convolution kernels, stored in C order): C-order double copies own exactly
            // `length` values.
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
     * Adds a float sample's terms, computed in float, to the pending float sums (stored order),
     * which join the double sums every {@value #PENDING_SAMPLES} samples: widening each value to
     * double (a scalar conversion in Java 17) took most of the time of a per-sample double loop.
     */
    private void addPending(HostMatrix w, HostMatrix g) {
        int length = taylorSums.length;
        // Whole-array copies: the JIT vectorizes this loop only when all arrays share one index (with a
        // chunk offset on some of them it stays scalar, 5x slower).
        float[] wf = floatScratch(0);
        float[] gf = floatScratch(1);
        float[] t = pending(0);
        float[] q = pending(1);
        w.read(0, wf, length);
        g.read(0, gf, length);
        for (int i = 0; i < length; i++) {
            float gi = gf[i];
            t[i] += Math.abs(wf[i] * gi);
            q[i] += gi * gi;
        }
        pendingAdded();
    }

    /**
     * A batch of outer products ({@link #addOuterProducts}) into the pending float sums, as one
     * pending addition: {@code |w| ⊙ taylorTerms} and {@code squareTerms} (float GEMM results).
     */
    private void addPendingProducts(HostMatrix w, HostMatrix taylorTerms, HostMatrix squareTerms) {
        int length = taylorSums.length;
        float[] wf = floatScratch(0);
        float[] tf = floatScratch(1);
        float[] qf = floatScratch(2);
        w.read(0, wf, length);
        taylorTerms.read(0, tf, length);
        squareTerms.read(0, qf, length);
        float[] t = pending(0);
        float[] q = pending(1);
        for (int i = 0; i < length; i++) {
            t[i] += Math.abs(wf[i]) * tf[i];
            q[i] += qf[i];
        }
        pendingAdded();
    }

    /** Counts one more pending addition; the {@value #PENDING_SAMPLES}th flushes them all. */
    private void pendingAdded() {
        if (++pendingSamples == PENDING_SAMPLES) {
            flush();
        }
    }

    /** Pending float sums {@code which} (0: taylor terms, 1: squares), allocated on first use. */
    private float[] pending(int which) {
        if (pendingTaylor == null) {
            pendingTaylor = new float[taylorSums.length];
            pendingSquares = new float[taylorSums.length];
        }
        return which == 0 ? pendingTaylor : pendingSquares;
    }

    /** Scratch array {@code k} (0-2) of the accumulator's length, for copies of one sample's matrices. */
    private float[] floatScratch(int k) {
        if (floatScratch == null) {
            floatScratch = new float[3][];
        }
        if (floatScratch[k] == null) {
            floatScratch[k] = new float[taylorSums.length];
        }
        return floatScratch[k];
    }

    /** Adds the pending float sums into the double sums. */
    private void flush() {
        if (pendingSamples == 0) {
            return;
        }
        for (int i = 0; i < taylorSums.length; i++) {
            taylorSums[i] += pendingTaylor[i];
            squareGradientSums[i] += pendingSquares[i];
        }
        Arrays.fill(pendingTaylor, 0f);
        Arrays.fill(pendingSquares, 0f);
        pendingSamples = 0;
    }

    private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
        flush();
        // Zeros after the flush: not worth sending (they are allocated again on the next float sample).
        pendingTaylor = null;
        pendingSquares = null;
        out.defaultWriteObject();
    }

    /**
     * Adds the per-example gradients of a dense layer for a whole batch: with inputs {@code a_r}
     * ({@code [n, nIn]}) and pre-activation loss gradients {@code δ_r} ({@code [n, nOut]}) of rows r,
     * example r's gradient is {@code g_r = a_r δ_rᵀ}, so {@code Σ_r |w⊙g_r| = |w| ⊙ (|A|ᵀ|Δ|)} and
     * {@code Σ_r g_r² = (A⊙A)ᵀ(Δ⊙Δ)}: two matrix products instead of n samples, in the inputs'
     * precision (float GEMMs for float inputs), summed into this accumulator in double. Counts n samples.
     */
    public void addOuterProducts(INDArray weights, INDArray inputs, INDArray deltas) {
        long n = inputs.rows();
        if (shape.length != 2 || !Arrays.equals(weights.shape(), shape) || inputs.rank() != 2 || deltas.rank() != 2
                || inputs.columns() != shape[0] || deltas.columns() != shape[1] || deltas.rows() != n) {
            throw new IllegalArgumentException("expected weights " + Arrays.toString(shape) + ", inputs [n, " + shape[0]
                    + "] and deltas [n, " + shape[1] + "]; got " + Arrays.toString(weights.shape()) + ", "
                    + Arrays.toString(inputs.shape()) + " and " + Arrays.toString(deltas.shape()));
        }
        // The two products in the inputs' precision (float inputs: float GEMMs), summed here in double.
        DataType type = inputs.dataType() == DataType.DOUBLE || deltas.dataType() == DataType.DOUBLE
                ? DataType.DOUBLE : DataType.FLOAT;
        INDArray a = inputs.castTo(type);
        INDArray d = deltas.castTo(type);
        // Into arrays kept from batch to batch: fresh native arrays of a few hundred KB each cost page
        // faults on every batch (as the per-batch feature arrays did, ForwardPass.Buffers).
        INDArray absA = batchArray(0, type, n, shape[0], a);
        INDArray absD = batchArray(1, type, n, shape[1], d);
        Nd4j.exec(new Abs(a, absA));
        Nd4j.exec(new Abs(d, absD));
        INDArray abs = products(0, type);
        Nd4j.gemm(absA, absD, abs, true, false, 1.0, 0.0);
        INDArray squareA = batchArray(2, type, n, shape[0], a);
        INDArray squareD = batchArray(3, type, n, shape[1], d);
        a.mul(a, squareA);
        d.mul(d, squareD);
        INDArray squares = products(1, type);
        Nd4j.gemm(squareA, squareD, squares, true, false, 1.0, 0.0);
        HostMatrix t = HostMatrix.of(abs);
        HostMatrix gg = HostMatrix.of(squares);
        HostMatrix w = HostMatrix.of(weights);
        char layout = HostMatrix.commonLayout(w, t, gg);
        if (layout != 0 && w.isFloat() && t.isFloat() && gg.isFloat()) {
            storeIn(layout);
            addPendingProducts(w, t, gg);
        } else if (layout != 0) {
            storeIn(layout);
            int length = taylorSums.length;
            double[] wc = new double[Math.min(CHUNK, length)];
            double[] tc = new double[wc.length];
            double[] gc = new double[wc.length];
            for (int from = 0; from < length; from += CHUNK) {
                int m = Math.min(CHUNK, length - from);
                w.read(from, wc, m);
                t.read(from, tc, m);
                gg.read(from, gc, m);
                for (int k = 0; k < m; k++) {
                    taylorSums[from + k] += Math.abs(wc[k]) * tc[k];
                    squareGradientSums[from + k] += gc[k];
                }
            }
        } else {
            for (int r = 0; r < shape[0]; r++) {
                for (int c = 0; c < shape[1]; c++) {
                    int i = index(r, c);
                    taylorSums[i] += Math.abs(w.get(r, c)) * t.get(r, c);
                    squareGradientSums[i] += gg.get(r, c);
                }
            }
        }
        count += n;
    }

    /**
     * The reused {@code type} array {@code k} (0-3) of {@code [n, cols]} in {@code like}'s ordering (an
     * element-wise op between orderings takes libnd4j's strided path); made anew when any of these changes.
     */
    private INDArray batchArray(int k, DataType type, long n, long cols, INDArray like) {
        if (batchArrays == null) {
            batchArrays = new INDArray[4];
        }
        INDArray b = batchArrays[k];
        char order = like.ordering();
        if (b == null || b.dataType() != type || b.rows() != n || b.columns() != cols || b.ordering() != order) {
            b = Nd4j.createUninitialized(type, new long[] {n, cols}, order);
            batchArrays[k] = b;
        }
        return b;
    }

    /** The reused 'f'-ordered {@code type} product array {@code k} (0: |A|ᵀ|Δ|, 1: (A⊙A)ᵀ(Δ⊙Δ)) of the weights' shape. */
    private INDArray products(int k, DataType type) {
        if (productArrays == null) {
            productArrays = new INDArray[2];
        }
        if (productArrays[k] == null || productArrays[k].dataType() != type) {
            productArrays[k] = Nd4j.createUninitialized(type, shape, 'f');
        }
        return productArrays[k];
    }

    /** Adds {@code other} into this accumulator. */
    public void merge(WeightGradientSums other) {
        if (!Arrays.equals(other.shape, shape)) {
            throw new IllegalArgumentException("cannot merge statistics of shape " + Arrays.toString(other.shape)
                    + " into " + Arrays.toString(shape));
        }
        other.flush();
        storeIn(other.columnMajor ? 'f' : 'c');
        for (int i = 0; i < taylorSums.length; i++) {
            taylorSums[i] += other.taylorSums[i];
            squareGradientSums[i] += other.squareGradientSums[i];
        }
        count += other.count;
    }

    /** The storage index of weight (r, c) of a matrix shape. */
    private int index(int r, int c) {
        return columnMajor ? c * (int) shape[0] + r : r * (int) shape[1] + c;
    }

    /** Rearranges the sums into {@code layout} ('c' or 'f') order; only matrices are ever stored in 'f'. */
    private void storeIn(char layout) {
        boolean f = layout == 'f';
        if (f != columnMajor) {
            flush();
            // A fresh accumulator (every task's, at its first sample) has nothing to move.
            if (count > 0 || !allZero(taylorSums) || !allZero(squareGradientSums)) {
                transpose(taylorSums, f);
                transpose(squareGradientSums, f);
            }
            columnMajor = f;
        }
    }

    private static boolean allZero(double[] v) {
        for (double x : v) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    /** {@code v}, in C (F) order of the matrix shape, rearranged in place into F (C) order when {@code toF}. */
    private void transpose(double[] v, boolean toF) {
        int rows = (int) shape[0];
        int columns = (int) shape[1];
        double[] copy = v.clone();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < columns; c++) {
                if (toF) {
                    v[c * rows + r] = copy[r * columns + c];
                } else {
                    v[r * columns + c] = copy[c * rows + r];
                }
            }
        }
    }

    /** {@code v} (stored order, pending sums added) in C order: a copy. */
    private double[] inCOrder(double[] v) {
        flush();
        double[] c = v.clone();
        if (columnMajor) {
            transpose(c, false);
        }
        return c;
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
        return inCOrder(taylorSums);
    }

    /** {@code Σ_s g_si²} per weight (C order, a copy). */
    public double[] squareGradientSums() {
        return inCOrder(squareGradientSums);
    }

    /** Empirical Fisher diagonal {@code E[g_i²] = Σ_s g_si² / count} (C order); zeros when no sample was added. */
    public double[] fisherDiagonal() {
        double[] f = squareGradientSums();
        for (int i = 0; i < f.length; i++) {
            f[i] = count > 0 ? f[i] / count : 0;
        }
        return f;
    }

    public WeightGradientSums copy() {
        return new WeightGradientSums(shape, taylor(), squareGradientSums(), count);
    }
}
