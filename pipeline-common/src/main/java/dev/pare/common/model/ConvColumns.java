package dev.pare.common.model;

import dev.pare.common.util.Layouts;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Conv2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.convolution.Convolution;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The im2col view of a 2-D convolution layer's input: the convolution {@code y = W ⊛ x + b} of a
 * DL4J {@link ConvolutionLayer} is the matrix product {@code Y = X·Wflatᵀ + b}, where
 * {@code Wflat} is the weight {@code W[nOut, C, kH, kW]} flattened over its last three dimensions
 * and {@code X} ({@link #rows}) has one row per (example, output row, output column), in that
 * C order, and one column per {@code j = (c·kH + kh)·kW + kw}. Row {@code (n, oh, ow)}, column
 * {@code j} holds {@code x[n, c, oh·sH − pH + kh·dH, ow·sW − pW + kw·dW]}, or 0 where that falls
 * in the padding. With this view a convolution layer is a dense layer over {@code C·kH·kW} input
 * columns: Wanda's {@code ||X_j||²} (Sun et al., "A Simple and Effective Pruning Approach for
 * LLMs", 2023) is {@link #squareSums}, the SparseGPT Hessian is a {@link GramMatrix} of
 * {@link #rows}.
 *
 * <p>Geometry follows DL4J: effective kernel {@code eK = (k − 1)·d + 1};
 * <ul>
 *   <li>{@code Truncate}: {@code out = ⌊(in + 2p − eK) / s⌋ + 1}, pad {@code p} on both sides;
 *   <li>{@code Strict}: the same, but {@code (in + 2p − eK)} must be divisible by {@code s};
 *   <li>{@code Same}: {@code out = ⌈in / s⌉}, the configured padding is ignored and the top/left
 *       pad is {@code ⌊((out − 1)·s + eK − in) / 2⌋} (the bottom/right pad takes the remainder;
 *       positions there read zeros, so only the top/left pad matters here).
 * </ul>
 * {@code Causal} (1-D only in DL4J) and subclasses of {@code ConvolutionLayer} (1-D, depthwise,
 * separable, deconvolution: different weight layouts) are refused. Input is NCHW
 * {@code [n, C, H, W]}, or NHWC {@code [n, H, W, C]} when the layer says so; output is double.
 */
public final class ConvColumns implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final int channels;
    private final int kH;
    private final int kW;
    private final int sH;
    private final int sW;
    private final int pH;
    private final int pW;
    private final int dH;
    private final int dW;
    private final ConvolutionMode mode;
    private final CNN2DFormat format;

    /**
     * @param channels input channels {@code C}
     * @param kernel {@code {kH, kW}}, positive
     * @param stride {@code {sH, sW}}, positive
     * @param padding {@code {pH, pW}}, non-negative (ignored in {@code Same} mode)
     * @param dilation {@code {dH, dW}}, positive
     * @param mode {@code Truncate}, {@code Strict} or {@code Same}
     * @param format layout of the input activations; {@code null} means NCHW (DL4J's default)
     */
    public ConvColumns(int channels, int[] kernel, int[] stride, int[] padding, int[] dilation,
            ConvolutionMode mode, CNN2DFormat format) {
        if (channels < 1) {
            throw new IllegalArgumentException("channels must be >= 1, was " + channels);
        }
        requirePair("kernel", kernel, 1);
        requirePair("stride", stride, 1);
        requirePair("padding", padding, 0);
        requirePair("dilation", dilation, 1);
        if (mode != ConvolutionMode.Truncate && mode != ConvolutionMode.Strict && mode != ConvolutionMode.Same) {
            throw new IllegalArgumentException("convolution mode must be one of [Truncate, Strict, Same], was " + mode);
        }
        this.channels = channels;
        this.kH = kernel[0];
        this.kW = kernel[1];
        this.sH = stride[0];
        this.sW = stride[1];
        this.pH = padding[0];
        this.pW = padding[1];
        this.dH = dilation[0];
        this.dW = dilation[1];
        this.mode = mode;
        this.format = format == null ? CNN2DFormat.NCHW : format;
        if ((long) channels * kH * kW > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("channels·kH·kW = " + channels + "·" + kH + "·" + kW
                    + " columns do not fit one array");
        }
    }

    /** The geometry of a built DL4J 2-D convolution layer (take it from a network's configuration). */
    public static ConvColumns of(ConvolutionLayer layer) {
        if (layer.getClass() != ConvolutionLayer.class) {
            throw new IllegalArgumentException("only plain 2-D ConvolutionLayer is supported, got "
                    + layer.getClass().getSimpleName() + " (its weight layout differs)");
        }
        if (layer.getNIn() < 1 || layer.getNIn() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("layer " + layer.getLayerName() + " has nIn " + layer.getNIn()
                    + "; take the config from an initialized network");
        }
        if (layer.getConvolutionMode() == null) {
            throw new IllegalArgumentException("layer " + layer.getLayerName()
                    + " has no convolution mode; take the config from a built network, which fills in the default");
        }
        return new ConvColumns((int) layer.getNIn(), layer.getKernelSize(), layer.getStride(), layer.getPadding(),
                layer.getDilation(), layer.getConvolutionMode(), layer.getCnn2dDataFormat());
    }

    private static void requirePair(String name, int[] v, int min) {
        if (v == null || v.length != 2 || v[0] < min || v[1] < min) {
            throw new IllegalArgumentException(name + " must be two values >= " + min + ", was " + Arrays.toString(v));
        }
    }

    /** Number of im2col columns {@code C·kH·kW} (the layer's fan-in). */
    public int columns() {
        return channels * kH * kW;
    }

    /** Output spatial size {@code {outH, outW}} for an {@code inH × inW} input (see the class doc). */
    public int[] outputSize(int inH, int inW) {
        return new int[] {outputLength("height", inH, kH, sH, pH, dH), outputLength("width", inW, kW, sW, pW, dW)};
    }

    private int outputLength(String axis, int in, int k, int s, int p, int d) {
        if (in < 1) {
            throw new IllegalArgumentException("input " + axis + " must be >= 1, was " + in);
        }
        if (mode == ConvolutionMode.Same) {
            return (in + s - 1) / s;
        }
        long eK = (long) (k - 1) * d + 1;
        long span = in + 2L * p - eK;
        if (span < 0) {
            throw new IllegalArgumentException("input " + axis + " " + in + " with padding " + p
                    + " is smaller than the effective kernel " + eK + " (kernel " + k + ", dilation " + d + ")");
        }
        if (mode == ConvolutionMode.Strict && span % s != 0) {
            throw new IllegalArgumentException("Strict mode: (input " + axis + " " + in + " + 2·padding " + p
                    + " − effective kernel " + eK + ") = " + span + " is not divisible by stride " + s);
        }
        return (int) (span / s + 1);
    }

    /** Top/left padding actually applied for an input of {@code inH × inW} producing {@code out}. */
    private int[] appliedPadding(int inH, int inW, int[] out) {
        if (mode != ConvolutionMode.Same) {
            return new int[] {pH, pW};
        }
        return new int[] {
            Math.max(0, ((out[0] - 1) * sH + (kH - 1) * dH + 1 - inH) / 2),
            Math.max(0, ((out[1] - 1) * sW + (kW - 1) * dW + 1 - inW) / 2)};
    }

    /** {@code {n, H, W}} of {@code input}, after checking its rank, layout and channel count. */
    private int[] nhw(INDArray input) {
        long[] shape = input.shape();
        boolean nhwc = format == CNN2DFormat.NHWC;
        if (input.rank() != 4 || shape[nhwc ? 3 : 1] != channels) {
            throw new IllegalArgumentException("expected " + format + " input with " + channels + " channels ("
                    + (nhwc ? "[n, H, W, " + channels + "]" : "[n, " + channels + ", H, W]")
                    + "), got " + Arrays.toString(shape));
        }
        return new int[] {checkedInt(shape[0]), checkedInt(shape[nhwc ? 1 : 2]), checkedInt(shape[nhwc ? 2 : 3])};
    }

    /** {@code input} as a contiguous double NCHW array: always a fresh one (a copy even of such an input). */
    private INDArray nchwDouble(INDArray input) {
        INDArray x = format == CNN2DFormat.NHWC ? input.permute(0, 3, 1, 2) : input;
        INDArray wide = x.castTo(DataType.DOUBLE);
        INDArray packed = wide.dup('c');
        if (wide != x) {
            free(wide);
        }
        return packed;
    }

    /** Number of im2col rows {@code n·outH·outW} for {@code input}. */
    public long rowCount(INDArray input) {
        int[] s = nhw(input);
        int[] out = outputSize(s[1], s[2]);
        return (long) s[0] * out[0] * out[1];
    }

    /**
     * The im2col matrix {@code [n·outH·outW, C·kH·kW]} (double) of {@code input}; rows in
     * (example, output row, output column) order, columns {@code (c·kH + kh)·kW + kw}, padding as 0.
     * It has {@code kH·kW / (sH·sW)} times as many values as the input: feed it in batches. Of a float
     * NCHW input it is built by {@link #columns} and is F order (its transpose is C order); of any other,
     * by libnd4j's im2col, C order. (libnd4j's, in double, took 1.7-1.9x as long as the XᵀX products
     * that follow it in a LeNet-5 calibration.)
     */
    public INDArray rows(INDArray input) {
        int[] s = nhw(input);
        int n = s[0];
        int inH = s[1];
        int inW = s[2];
        int[] out = outputSize(inH, inW);
        int[] pad = appliedPadding(inH, inW, out);
        long rowCount = (long) n * out[0] * out[1];
        if (rowCount == 0) {
            return Nd4j.create(DataType.DOUBLE, 0, columns());
        }
        if (input.dataType() == DataType.FLOAT && format == CNN2DFormat.NCHW) {
            return floatRows(input, n, inH, inW, out[0] * out[1]);
        }
        // same layout as DL4J's ConvolutionLayer: [n, outH, outW, C, kH, kW] seen as [n, C, kH, kW, outH, outW]
        INDArray x = nchwDouble(input);
        INDArray col = Nd4j.create(DataType.DOUBLE, new long[] {n, out[0], out[1], channels, kH, kW}, 'c');
        Convolution.im2col(x, kH, kW, sH, sW, pad[0], pad[1], dH, dW, mode == ConvolutionMode.Same,
                col.permute(0, 3, 4, 5, 1, 2));
        free(x);
        return col.reshape('c', new long[] {rowCount, columns()});
    }

    /** {@link #rows} of a float NCHW input: the transpose of {@link #columns}' matrix, built in chunks of examples. */
    private INDArray floatRows(INDArray input, int n, int inH, int inW, int p) {
        int k = columns();
        long total = (long) n * p;
        if ((long) k * total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("an im2col matrix of " + total + " x " + k + " values is too large;"
                    + " pass fewer examples at once");
        }
        float[] x = StepLayer.hostFloats(input, new float[Math.toIntExact(input.length())]);
        INDArray transposed = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {k, total}, 'c');
        java.nio.DoubleBuffer t = transposed.data().asNioDouble();
        int chunk = (int) Math.max(1, Math.min(n, 4_000_000L / ((long) k * p)));
        float[] c = new float[k * chunk * p];
        double[] row = new double[chunk * p];
        for (int from = 0; from < n; from += chunk) {
            int m = Math.min(chunk, n - from);
            columns(x, false, n, inH, inW, from, m, c);
            for (int r = 0; r < k; r++) {
                for (int i = 0; i < m * p; i++) {
                    row[i] = c[r * m * p + i];
                }
                t.put((int) (r * total + (long) from * p), row, 0, m * p);
            }
        }
        Nd4j.getAffinityManager().tagLocation(transposed, AffinityManager.Location.HOST);
        return transposed.transpose();
    }

    /**
     * The convolution's pre-activation {@code [n, O, outH, outW]} (NCHW, C order, float) of a float
     * NCHW {@code input} with DL4J's weights {@code [O, C, kH, kW]} and {@code bias} ({@code O}
     * values, or null): for chunks of examples, an im2col matrix {@code [C·kH·kW, m·outH·outW]}
     * built here, one GEMM with the weights seen as {@code [O, C·kH·kW]}, then each example's
     * {@code [O, outH·outW]} block copied out with its bias. libnd4j's im2col op, which DL4J's
     * layer uses, took 65% of a LeNet-5 forward pass and the GEMMs 10%.
     */
    public INDArray forward(INDArray input, INDArray weights, INDArray bias) {
        return forward(input, weights, bias, null, false);
    }

    /**
     * {@link #forward(INDArray, INDArray, INDArray)} with its output and working arrays taken from
     * {@code scratch} (null: fresh ones, the native temporaries freed before returning): the output
     * is valid until the next call with the same scratch. With {@code relu}, {@code max(0, z)} is
     * taken as each output block is written (a pass of libnd4j's ReLU over a LeNet-5 batch's 46 MB
     * output took 3 ms).
     */
    INDArray forward(INDArray input, INDArray weights, INDArray bias, Scratch scratch, boolean relu) {
        if (format != CNN2DFormat.NCHW || input.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("the im2col forward pass takes float NCHW input, got " + format + " "
                    + input.dataType());
        }
        int[] s = nhw(input);
        int n = s[0];
        int inH = s[1];
        int inW = s[2];
        int[] out = outputSize(inH, inW);
        int k = columns();
        int p = out[0] * out[1];
        int o = (int) weights.size(0);
        requireOnePass(n, (long) channels * inH * inW, (long) o * p);
        INDArray result = Scratch.output(scratch, DataType.FLOAT, new long[] {n, o, out[0], out[1]});
        if (n == 0) {
            return result;
        }
        // Java arrays and bulk transfers only: element-wise NIO access costs a bounds and scope check per value.
        // Without scratch the native temporaries below are freed as soon as they are done with (free):
        // left to the collector, they became fresh pages to fault in, batch after batch, a quarter of a
        // calibration task's native time in a JFR profile of the calibrate stage.
        int values = n * channels * inH * inW;
        float[] x = Scratch.floats(scratch, 0, values);
        StepLayer.hostFloats(input, x);
        FloatBuffer y = result.data().asNioFloat();
        float[] b = bias == null ? new float[o] : StepLayer.hostFloats(bias, new float[o]);
        INDArray w32 = weights.castTo(DataType.FLOAT).dup('c');
        INDArray w = w32.reshape('c', o, k);
        // Chunks of at most ~4M im2col values (16 MB); the arrays are reused from chunk to chunk.
        int chunk = (int) Math.max(1, Math.min(n, 4_000_000L / ((long) k * p)));
        float[] c = Scratch.floats(scratch, 1, k * chunk * p);
        float[] block = Scratch.floats(scratch, 2, p);
        INDArray cols = null;
        INDArray z = null;
        for (int from = 0; from < n; from += chunk) {
            int m = Math.min(chunk, n - from);
            columns(x, false, n, inH, inW, from, m, c);
            if (cols == null || cols.size(1) != (long) m * p) {
                if (scratch == null) {
                    free(cols);
                    free(z);
                }
                cols = Scratch.matrix(scratch, 0, k, (long) m * p);
                z = Scratch.matrix(scratch, 1, o, (long) m * p);
            }
            cols.data().asNioFloat().put(0, c, 0, k * m * p);
            Nd4j.getAffinityManager().tagLocation(cols, AffinityManager.Location.HOST);
            Nd4j.gemm(w, cols, z, false, false, 1.0, 0.0);
            // z is [O, m·P]: each (filter, example) block of P values is read, biased (and rectified)
            // in a small array and written to its place in the [n, O, P] output.
            FloatBuffer zb = hostFloats(z);
            for (int u = 0; u < o; u++) {
                float bu = b[u];
                for (int e = 0; e < m; e++) {
                    zb.get((u * m + e) * p, block, 0, p);
                    if (relu) {
                        for (int i = 0; i < p; i++) {
                            block[i] = Math.max(block[i] + bu, 0f);
                        }
                    } else {
                        for (int i = 0; i < p; i++) {
                            block[i] += bu;
                        }
                    }
                    y.put(((from + e) * o + u) * p, block, 0, p);
                }
            }
        }
        if (scratch == null) {
            free(cols);
            free(z);
        }
        free(w32);
        Nd4j.getAffinityManager().tagLocation(result, AffinityManager.Location.HOST);
        return result;
    }

    /** The most float values this pass addresses in one array: a Java array or an NIO view of native memory. */
    static final long MAX_PASS_VALUES = (Integer.MAX_VALUE - 8) / Float.BYTES;

    /**
     * Refuses a batch of {@code n} examples whose input ({@code inValues} per example) or output
     * ({@code outValues} per example) holds more than {@link #MAX_PASS_VALUES} floats, naming the
     * largest batch that fits (a batch that large also takes gigabytes of memory per layer).
     */
    private static void requireOnePass(int n, long inValues, long outValues) {
        long widest = Math.max(inValues, outValues);
        if (n * widest > MAX_PASS_VALUES) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "a batch of %d examples is too large for this convolution: its %s holds %,d float values,"
                            + " more than one array holds (%,d); pass at most %d examples at once"
                            + " (a smaller batch size)", n, outValues >= inValues ? "output" : "input", n * widest,
                    MAX_PASS_VALUES, MAX_PASS_VALUES / widest));
        }
    }

    /**
     * The arrays one thread's consecutive passes through one convolution or pooling layer reuse: its
     * output, and {@link #forward}'s working arrays (the input as Java floats, the im2col chunk and
     * the product, in Java and native memory), each grown to the largest batch seen
     * ({@link ReusedMemory}). Without them a LeNet-5 scoring batch of 1000 rows allocated a 44 MB
     * output and 60 MB of temporaries, which libnd4j zero-filled and the C allocator served with
     * fresh pages: a task had run some 70 batches before it stopped faulting them in.
     */
    public static final class Scratch {
        private final ReusedMemory output = new ReusedMemory();
        private final ReusedMemory[] matrices = {new ReusedMemory(), new ReusedMemory()};
        private final float[][] floats = new float[3][];

        /** A C-ordered array of {@code type} and {@code shape}: the scratch's output (null scratch: a fresh one). */
        static INDArray output(Scratch scratch, DataType type, long[] shape) {
            return scratch == null ? Nd4j.createUninitialized(type, shape, 'c') : scratch.output.array(type, 'c', shape);
        }

        /** At least {@code length} floats: slot {@code slot} of the scratch (null: exactly that many, fresh). */
        private static float[] floats(Scratch scratch, int slot, int length) {
            if (scratch == null) {
                return new float[length];
            }
            if (scratch.floats[slot] == null || scratch.floats[slot].length < length) {
                scratch.floats[slot] = new float[length];
            }
            return scratch.floats[slot];
        }

        /** A C-ordered {@code [rows, columns]} float matrix, slot {@code slot} of the scratch (null: fresh). */
        private static INDArray matrix(Scratch scratch, int slot, long rows, long columns) {
            return scratch == null ? Nd4j.createUninitialized(DataType.FLOAT, new long[] {rows, columns}, 'c')
                    : scratch.matrices[slot].array(DataType.FLOAT, 'c', rows, columns);
        }
    }

    /** Frees the native memory of a temporary (null: nothing) now, not at the next collection. */
    static void free(INDArray temporary) {
        if (temporary != null && temporary.closeable()) {
            temporary.close();
        }
    }

    /**
     * {@link #forwardByOp} when the loaded libnd4j runs its {@code conv2d} op in oneDNN ({@link #oneDnn}),
     * the convolution is not dilated and has at least {@link #ONE_DNN_MIN_COLUMNS} im2col columns, else
     * {@link #forward}. The choice depends on the build and the layer only, never on timings, so a
     * network's outputs are the same bits from run to run.
     */
    public INDArray convolve(INDArray input, INDArray weights, INDArray bias) {
        return convolve(input, weights, bias, null, new ActivationIdentity());
    }

    /**
     * {@link #convolve(INDArray, INDArray, INDArray)} into {@code scratch}'s arrays (null: fresh ones),
     * then {@code act} in inference mode (in place where the activation works in place); a plain ReLU
     * of {@link #forward}'s route is taken as its output is written.
     */
    INDArray convolve(INDArray input, INDArray weights, INDArray bias, Scratch scratch, IActivation act) {
        if (oneDnn() && !dilated() && columns() >= ONE_DNN_MIN_COLUMNS) {
            return act.getActivation(forwardByOp(input, weights, bias, scratch), false);
        }
        boolean relu = StepLayer.plainRelu(act);
        INDArray z = forward(input, weights, bias, scratch, relu);
        return relu ? z : act.getActivation(z, false);
    }

    /**
     * Fewer im2col columns ({@code C·kH·kW}) than this, and {@link #forward} is the faster: LeNet-5's
     * first convolution (1 channel, 5×5: 25 columns) took 863-880 ms per 10k examples with the ReLU
     * there and 1113-1190 in oneDNN; its second (20 channels: 500 columns) 1289-1378 there and 819-967
     * in oneDNN (batch 1000, one thread, AVX2 EPYC).
     */
    static final int ONE_DNN_MIN_COLUMNS = 64;

    private boolean dilated() {
        return dH != 1 || dW != 1;
    }

    /**
     * The pre-activation of {@link #forward} (the same arithmetic up to float rounding), computed by
     * libnd4j's {@code conv2d} op with DL4J's weight layout {@code [O, C, kH, kW]}. A oneDNN build of
     * ND4J runs it in oneDNN: LeNet-5's two convolutions at batch 1000 took 372-769 and 591-736 ms per
     * 10k examples into a preallocated output, where {@link #forward} took 863-908 and 1087-1544 (one
     * thread, AVX2 EPYC); builds without oneDNN run it with libnd4j's im2col, 2-3x slower than
     * {@link #forward}. Dilated convolutions are refused: libnd4j's oneDNN helper fails to create their
     * primitive ("could not create a descriptor for a dilated convolution forward propagation primitive").
     */
    public INDArray forwardByOp(INDArray input, INDArray weights, INDArray bias) {
        return forwardByOp(input, weights, bias, null);
    }

    /** {@link #forwardByOp(INDArray, INDArray, INDArray)} into {@code scratch}'s output (null: a fresh one). */
    INDArray forwardByOp(INDArray input, INDArray weights, INDArray bias, Scratch scratch) {
        if (format != CNN2DFormat.NCHW || input.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("the conv2d op pass takes float NCHW input, got " + format + " "
                    + input.dataType());
        }
        if (dilated()) {
            throw new IllegalArgumentException("the conv2d op pass takes undilated convolutions, got dilation {"
                    + dH + ", " + dW + "}");
        }
        int[] s = nhw(input);
        int[] out = outputSize(s[1], s[2]);
        long o = weights.size(0);
        if (weights.rank() != 4 || weights.size(1) != channels || weights.size(2) != kH || weights.size(3) != kW) {
            throw new IllegalArgumentException("expected weights [O, " + channels + ", " + kH + ", " + kW + "], got "
                    + Arrays.toString(weights.shape()));
        }
        INDArray result = Scratch.output(scratch, DataType.FLOAT, new long[] {s[0], o, out[0], out[1]});
        if (s[0] == 0) {
            return result;
        }
        Conv2DConfig config = Conv2DConfig.builder().kH(kH).kW(kW).sH(sH).sW(sW).pH(pH).pW(pW).dH(dH).dW(dW)
                .paddingMode(mode == ConvolutionMode.Same ? PaddingMode.SAME : PaddingMode.VALID)
                .dataFormat("NCHW").weightsFormat(WeightsFormat.OIYX).build();
        INDArray w = weights.castTo(DataType.FLOAT);
        INDArray[] in = bias == null ? new INDArray[] {input, w}
                : new INDArray[] {input, w, bias.castTo(DataType.FLOAT).reshape(o)};
        Nd4j.exec(new Conv2D(in, new INDArray[] {result}, config));
        return result;
    }

    /**
     * Whether ND4J's loaded native library is a oneDNN build ({@code nd4j-native} classifiers
     * {@code linux-x86_64-onednn*}): JavaCPP loads it from a folder named after the classifier.
     */
    public static boolean oneDnn() {
        return OneDnn.LOADED;
    }

    private static final class OneDnn {
        static final boolean LOADED = loaded();

        private static boolean loaded() {
            Nd4j.getBackend();
            String lib = org.bytedeco.javacpp.Loader.getLoadedLibraries().get("nd4jcpu");
            return lib != null && lib.replace('\\', '/').matches(".*/[^/]*-onednn[^/]*/[^/]*$");
        }
    }

    /** Top/left padding {@code {pH, pW}} applied to an {@code inH × inW} input (computed in {@code Same} mode). */
    public int[] appliedPadding(int inH, int inW) {
        return appliedPadding(inH, inW, outputSize(inH, inW));
    }

    /**
     * The im2col matrix {@code [C·kH·kW, m·outH·outW]} (row-major) of examples {@code [from, from + m)}
     * of {@code x} into {@code cols}: row {@code (c·kH + kh)·kW + kw}, column {@code e·outH·outW +
     * oh·outW + ow} holds input value {@code (c, e − from, oh·sH − pH + kh·dH, ow·sW − pW + kw·dW)},
     * or 0 in the padding.
     *
     * @param x the input of {@code n} examples, NCHW ({@code [n, C, H, W]}) or, when
     *     {@code channelMajor}, CNHW ({@code [C, n, H, W]}), row-major
     */
    public void columns(float[] x, boolean channelMajor, int n, int inH, int inW, int from, int m, float[] cols) {
        int[] out = outputSize(inH, inW);
        int[] pad = appliedPadding(inH, inW, out);
        int[][] inside = insideColumns(inW, out[1], pad[1]);
        int at = 0;
        for (int ch = 0; ch < channels; ch++) {
            for (int kh = 0; kh < kH; kh++) {
                for (int kw = 0; kw < kW; kw++) {
                    int lo = inside[0][kw];
                    int hi = inside[1][kw];
                    int shift = kw * dW - pad[1];
                    for (int e = from; e < from + m; e++) {
                        int plane = (channelMajor ? ch * n + e : e * channels + ch) * inH * inW;
                        for (int oh = 0; oh < out[0]; oh++, at += out[1]) {
                            int ih = oh * sH - pad[0] + kh * dH;
                            if (ih < 0 || ih >= inH || lo >= hi) {
                                Arrays.fill(cols, at, at + out[1], 0f);
                                continue;
                            }
                            int row = plane + ih * inW + shift;
                            if (lo > 0) {
                                Arrays.fill(cols, at, at + lo, 0f);
                            }
                            if (sW == 1) {
                                // a plain loop, which the JIT vectorizes: rows are short (outW values), arraycopy's call is not free
                                for (int ow = lo; ow < hi; ow++) {
                                    cols[at + ow] = x[row + ow];
                                }
                            } else {
                                for (int ow = lo; ow < hi; ow++) {
                                    cols[at + ow] = x[row + ow * sW];
                                }
                            }
                            if (hi < out[1]) {
                                Arrays.fill(cols, at + hi, at + out[1], 0f);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * For each kernel column kw, the output columns {@code [lo, hi)} whose input column
     * {@code ow·sW − pW + kw·dW} lies inside {@code [0, inW)} (the rest read padding): {@code {lo[], hi[]}}.
     */
    private int[][] insideColumns(int inW, int outW, int padW) {
        int[][] range = new int[2][kW];
        for (int kw = 0; kw < kW; kw++) {
            int shift = kw * dW - padW;
            int lo = shift >= 0 ? 0 : (-shift + sW - 1) / sW;
            int hi = inW - shift <= 0 ? 0 : Math.min(outW, (inW - shift + sW - 1) / sW);
            range[0][kw] = Math.min(lo, outW);
            range[1][kw] = Math.max(hi, range[0][kw]);
        }
        return range;
    }

    /**
     * The adjoint of {@link #columns} for all {@code n} examples of a CNHW input (col2im): adds
     * every value of {@code cols} ({@code [C·kH·kW, n·outH·outW]}, row-major) onto the input
     * position it was read from in {@code dx} ({@code [C, n, H, W]}, row-major); padding
     * positions are dropped. With {@code cols} the gradient of a loss with respect to the im2col
     * matrix, this adds the gradient with respect to the input.
     */
    public void addColumns(float[] cols, int n, int inH, int inW, float[] dx) {
        int[] out = outputSize(inH, inW);
        int[] pad = appliedPadding(inH, inW, out);
        int[][] inside = insideColumns(inW, out[1], pad[1]);
        int at = 0;
        for (int ch = 0; ch < channels; ch++) {
            for (int kh = 0; kh < kH; kh++) {
                for (int kw = 0; kw < kW; kw++) {
                    int lo = inside[0][kw];
                    int hi = inside[1][kw];
                    int shift = kw * dW - pad[1];
                    for (int e = 0; e < n; e++) {
                        int plane = (ch * n + e) * inH * inW;
                        for (int oh = 0; oh < out[0]; oh++, at += out[1]) {
                            int ih = oh * sH - pad[0] + kh * dH;
                            if (ih < 0 || ih >= inH) {
                                continue;
                            }
                            int row = plane + ih * inW + shift;
                            if (sW == 1) {
                                for (int ow = lo; ow < hi; ow++) {
                                    dx[row + ow] += cols[at + ow];
                                }
                            } else {
                                for (int ow = lo; ow < hi; ow++) {
                                    dx[row + ow * sW] += cols[at + ow];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** The host buffer of a fresh C-order float array, current on the host. */
    private static FloatBuffer hostFloats(INDArray a) {
        Nd4j.getAffinityManager().ensureLocation(a, AffinityManager.Location.HOST);
        return a.data().asNioFloat();
    }

    /**
     * {@code Σ x²} per im2col column over all rows of {@link #rows}{@code (input)} (padding counts 0),
     * computed without building the im2col matrix: {@code Σ_n x²} per input position is summed
     * over the positions each column reads.
     */
    public double[] squareSums(INDArray input) {
        int[] shape = nhw(input);
        if (shape[0] == 0) {
            return new double[columns()];
        }
        if (input.dataType() == DataType.FLOAT && format == CNN2DFormat.NCHW && Layouts.leading(input, 'c')) {
            return squareSumsOfPacked(input, shape[0], shape[1], shape[2]);
        }
        INDArray x = nchwDouble(input);
        INDArray squares = x.mul(x);
        INDArray sums = squares.sum(0);
        double[] sq = sums.reshape('c', new long[] {(long) channels * shape[1] * shape[2]}).toDoubleVector();
        // Fresh arrays of this method's, freed now (see forward); x is a copy even of a double input.
        free(x);
        free(squares);
        free(sums);
        return gatherSquareSums(sq, shape[1], shape[2]);
    }

    /**
     * {@link #squareSums(INDArray)} of a packed C-order NCHW float array, read in place one example at
     * a time: squares widened to double and summed over the examples in example order, as
     * {@link #squareSums(float[], int, int, int)} sums them. (Through ND4J, a double copy, its squares
     * and a reduction took 7.6-42 ms for LeNet-5's second convolution at batch 256, about what the
     * convolution itself takes.)
     */
    private double[] squareSumsOfPacked(INDArray input, int n, int inH, int inW) {
        int size = channels * inH * inW;
        double[] sq = new double[size];
        float[] example = new float[size];
        FloatBuffer x = hostFloats(input);
        for (int e = 0; e < n; e++) {
            x.get(e * size, example, 0, size);
            for (int i = 0; i < size; i++) {
                double v = example[i];
                sq[i] += v * v;
            }
        }
        return gatherSquareSums(sq, inH, inW);
    }

    /**
     * {@link #squareSums(INDArray)} of {@code n} examples given as a CNHW ({@code [C, n, H, W]},
     * row-major) float array, as {@link #columns} reads them: squares widened to double and summed
     * over the examples first, in example order.
     */
    public double[] squareSums(float[] x, int n, int inH, int inW) {
        int plane = inH * inW;
        double[] sq = new double[channels * plane];
        for (int c = 0; c < channels; c++) {
            for (int e = 0; e < n; e++) {
                int from = (c * n + e) * plane;
                for (int i = 0; i < plane; i++) {
                    double v = x[from + i];
                    sq[c * plane + i] += v * v;
                }
            }
        }
        return gatherSquareSums(sq, inH, inW);
    }

    /** Per im2col column, the sum of {@code sq} (one value per channel and input position) over the positions it reads. */
    private double[] gatherSquareSums(double[] sq, int inH, int inW) {
        int[] out = outputSize(inH, inW);
        int[] pad = appliedPadding(inH, inW, out);
        double[] sums = new double[columns()];
        for (int c = 0; c < channels; c++) {
            for (int kh = 0; kh < kH; kh++) {
                for (int kw = 0; kw < kW; kw++) {
                    double s = 0;
                    for (int oh = 0; oh < out[0]; oh++) {
                        int ih = oh * sH - pad[0] + kh * dH;
                        if (ih < 0 || ih >= inH) {
                            continue;
                        }
                        int base = (c * inH + ih) * inW;
                        for (int ow = 0; ow < out[1]; ow++) {
                            int iw = ow * sW - pad[1] + kw * dW;
                            if (iw >= 0 && iw < inW) {
                                s += sq[base + iw];
                            }
                        }
                    }
                    sums[(c * kH + kh) * kW + kw] = s;
                }
            }
        }
        return sums;
    }


    private static int checkedInt(long v) {
        if (v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("dimension " + v + " is too large");
        }
        return (int) v;
    }

    public int channels() {
        return channels;
    }

    public ConvolutionMode mode() {
        return mode;
    }

    public CNN2DFormat format() {
        return format;
    }
}
