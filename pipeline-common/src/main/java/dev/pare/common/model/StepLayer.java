package dev.pare.common.model;

import dev.pare.common.util.Layouts;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinearDerivative;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One piece of {@link FusedBackprop}'s computation: a layer's training-mode forward pass, which keeps
 * what its backward pass needs, and that backward pass, which writes the layer's parameter
 * gradients (summed over the minibatch, as DL4J's backward pass gives them) into the network's
 * flattened gradient view.
 *
 * <p>Two layouts travel between pieces: <em>rows</em>, {@code [n, width]} (any order), for dense
 * layers, and <em>channel-major</em>, {@code [C, n·H·W]} (row-major: channel, example, row,
 * column), for convolutions and pooling. Channel-major is what a convolution's GEMM
 * {@code Wflat[O, C·kH·kW] · cols[C·kH·kW, n·outH·outW]} produces and what the next im2col reads,
 * so convolutions follow each other without transposing; {@link Relayout} converts at the edges
 * (DL4J's {@code FeedForwardToCnnPreProcessor} and {@code CnnToFeedForwardPreProcessor}, NCHW).
 */
abstract class StepLayer {

    /**
     * The output for {@code input} of {@code n} examples; valid until the next {@link #forward} with
     * the same {@code n} (arrays are reused per minibatch size).
     */
    abstract INDArray forward(INDArray input, int n);

    /**
     * The backward pass of the last {@link #forward}.
     *
     * @param epsilon the loss gradient with respect to this piece's output (for the output layer:
     *     with respect to its pre-softmax logits); may be overwritten
     * @param inputGradient whether the gradient with respect to the input is needed
     * @return that gradient, or null when not asked for
     */
    abstract INDArray backward(INDArray epsilon, int n, boolean inputGradient);

    /**
     * Arrays for one minibatch size: an epoch has at most two (its full batches and the last one),
     * so two are kept and a third size replaces the older.
     */
    static final class PerSize<T> {
        private final java.util.function.IntFunction<T> create;
        private final int[] sizes = {-1, -1};
        private final Object[] held = new Object[2];
        private int next;

        PerSize(java.util.function.IntFunction<T> create) {
            this.create = create;
        }

        @SuppressWarnings("unchecked")
        T get(int n) {
            for (int i = 0; i < 2; i++) {
                if (sizes[i] == n) {
                    return (T) held[i];
                }
            }
            T t = create.apply(n);
            sizes[next] = n;
            held[next] = t;
            next = 1 - next;
            return t;
        }
    }

    /**
     * The values of {@code a} in C order, into the front of {@code into} (bulk transfers only), read in
     * place where they lie packed: a float array over its buffer's leading values in C order
     * ({@link Layouts#leading}), or a float vector with unit stride (a layer's bias is a view of the
     * network's parameters, which a native copy first cost 14-37 µs). Other arrays are read through a
     * C-ordered float copy, freed at once.
     */
    static float[] hostFloats(INDArray a, float[] into) {
        int length = Math.toIntExact(a.length());
        boolean packed = a.dataType() == DataType.FLOAT && (Layouts.leading(a, 'c')
                || a.isVector() && a.elementWiseStride() == 1 && a.offset() + a.length() <= Integer.MAX_VALUE);
        if (packed) {
            Nd4j.getAffinityManager().ensureLocation(a, AffinityManager.Location.HOST);
            a.data().asNioFloat().get((int) a.offset(), into, 0, length);
            return into;
        }
        INDArray wide = a.castTo(DataType.FLOAT);
        INDArray copy = wide.dup('c');
        Nd4j.getAffinityManager().ensureLocation(copy, AffinityManager.Location.HOST);
        copy.data().asNioFloat().get(0, into, 0, length);
        ConvColumns.free(copy);
        if (wide != a) {
            ConvColumns.free(wide);
        }
        return into;
    }

    /** Copies {@code values} into the fresh C-order float array {@code a}, marking the host copy current. */
    static INDArray fill(INDArray a, float[] values) {
        FloatBuffer b = a.data().asNioFloat();
        b.put(0, values, 0, values.length);
        Nd4j.getAffinityManager().tagLocation(a, AffinityManager.Location.HOST);
        return a;
    }

    /** The activation function of a DL4J layer. */
    static IActivation activation(Layer layer) {
        return ((BaseLayer) layer.conf().getLayer()).getActivationFn();
    }

    /**
     * {@code act'(z) ⊙ ε}, overwriting {@code z}. For a plain ReLU this is one op into {@code z}:
     * DL4J's own {@code backprop} allocates its result, and for a convolution's activations that
     * native allocation (megabytes per minibatch) took 15% of a LeNet-5 training step.
     */
    static INDArray backprop(IActivation act, INDArray z, INDArray epsilon) {
        if (plainRelu(act)) {
            reluGradient(z, epsilon, z);
            return z;
        }
        return act.backprop(z, epsilon).getFirst();
    }

    /**
     * {@code into = z > 0 ? epsilon : 0}, the ReLU's backward pass ({@code into} may be {@code z} or
     * {@code epsilon}). On dense float arrays of one ordering it runs in Java on the raw bits, bulk
     * copies in and out: libnd4j's {@code relu_bp} (RectifiedLinearDerivative) took 70 µs for 128×300
     * values here, a multiply of the same arrays 9 µs.
     */
    static void reluGradient(INDArray z, INDArray epsilon, INDArray into) {
        if (!denseFloats(z, z) || !denseFloats(epsilon, z) || !denseFloats(into, z)) {
            Nd4j.getExecutioner().exec(new RectifiedLinearDerivative(z, epsilon, into));
            return;
        }
        for (INDArray a : new INDArray[] {z, epsilon}) {
            Nd4j.getAffinityManager().ensureLocation(a, AffinityManager.Location.HOST);
        }
        IntBuffer zb = intView(z);
        IntBuffer eb = intView(epsilon);
        IntBuffer out = intView(into);
        int length = (int) z.length();
        int[][] scratch = RELU_SCRATCH.get();
        int[] zc = scratch[0];
        int[] ec = scratch[1];
        for (int from = 0; from < length; from += RELU_CHUNK) {
            int n = Math.min(RELU_CHUNK, length - from);
            zb.get(from, zc, 0, n);
            eb.get(from, ec, 0, n);
            for (int k = 0; k < n; k++) {
                // All ones when z's bits are a positive int (z > 0, or a positive NaN), else zero: -0.0 is
                // Integer.MIN_VALUE, whose complement is positive.
                int bits = zc[k];
                ec[k] &= (~bits & -bits) >> 31;
            }
            out.put(from, ec, 0, n);
        }
        Nd4j.getAffinityManager().tagLocation(into, AffinityManager.Location.HOST);
    }

    private static final int RELU_CHUNK = 4096;
    /** Two chunks per thread for {@link #reluGradient}, reused call after call. */
    private static final ThreadLocal<int[][]> RELU_SCRATCH =
            ThreadLocal.withInitial(() -> new int[][] {new int[RELU_CHUNK], new int[RELU_CHUNK]});

    /** Whether {@code a} is a float array whose values lie packed in {@code like}'s shape and ordering. */
    private static boolean denseFloats(INDArray a, INDArray like) {
        return a.dataType() == DataType.FLOAT && a.ordering() == like.ordering()
                && Arrays.equals(a.shape(), like.shape()) && Shape.hasDefaultStridesForShape(a)
                && a.length() <= Integer.MAX_VALUE - a.offset();
    }

    /** {@code a}'s float values as raw int bits, index 0 at its first value. */
    private static IntBuffer intView(INDArray a) {
        IntBuffer b = a.data().asNio().order(ByteOrder.nativeOrder()).asIntBuffer();
        return b.position((int) a.offset()).slice();
    }

    /**
     * {@code z = in · weights + bias} (the bias a row vector, or null; {@code z} is {@code [n, out]}),
     * then, unless {@code act} is null, {@code h = act(z)} (in training mode or not) with {@code z}
     * kept; returns {@code h} (or {@code z}). Into an 'f'-ordered float {@code z} the bias goes first,
     * column by column, and one GEMM adds the product to it ({@code beta = 1}): no pass of its own
     * over {@code z} to add it after. A plain ReLU into an 'f'-ordered float {@code h} is then one Java
     * pass over bulk copies (libnd4j's broadcast add, copy and ReLU took 34 µs for 128×300 values,
     * 3.5x a Java pass). In a LeNet-300-100 forward pass at batch 1000 (one thread) this took 4-5%
     * off the pass against the product, then the bias and ReLU in one pass of their own.
     *
     * <p>The sums are the same as a product followed by {@code z += bias} up to rounding: OpenBLAS
     * adds a product of more than one block of the inner dimension (a few hundred) to {@code z} block
     * after block, so the bias enters before the blocks' sums rather than after them (equal bits for
     * shorter inner dimensions, where it adds the whole product once).
     *
     * @param product the layer's prepared product ({@link PreparedProduct}), or null: {@code Nd4j.gemm}
     */
    static INDArray affine(PreparedProduct product, INDArray in, INDArray weights, INDArray bias, INDArray z,
                           IActivation act, INDArray h, boolean training) {
        if (bias == null || !packedColumns(z) || bias.length() != z.columns()) {
            PreparedProduct.gemm(product, in, weights, z, false, false, 1.0, 0.0);
            if (bias != null) {
                z.addiRowVector(bias);
            }
            return act == null ? z : act.getActivation(h.assign(z), training);
        }
        int rows = (int) z.rows();
        int columns = (int) z.columns();
        float[] b = hostFloats(bias, new float[(int) bias.length()]);
        float[] v = scratch(Math.max(CHUNK, rows));
        Nd4j.getAffinityManager().ensureLocation(z, AffinityManager.Location.HOST);
        FloatBuffer zb = z.data().asNioFloat();
        for (int j = 0; j < columns; j++) {
            Arrays.fill(v, 0, rows, b[j]);
            zb.put(j * rows, v, 0, rows);
        }
        Nd4j.getAffinityManager().tagLocation(z, AffinityManager.Location.HOST);
        PreparedProduct.gemm(product, in, weights, z, false, false, 1.0, 1.0);
        if (act == null) {
            return z;
        }
        if (!plainRelu(act) || !packedColumns(h) || !Arrays.equals(h.shape(), z.shape())) {
            return act.getActivation(h.assign(z), training);
        }
        Nd4j.getAffinityManager().ensureLocation(z, AffinityManager.Location.HOST);
        FloatBuffer hb = h.data().asNioFloat();
        int length = rows * columns;
        // Chunks of CHUNK values stay in the first-level cache between their copy in, ReLU and copy out.
        for (int from = 0; from < length; from += CHUNK) {
            int n = Math.min(CHUNK, length - from);
            zb.get(from, v, 0, n);
            for (int i = 0; i < n; i++) {
                v[i] = Math.max(v[i], 0f);
            }
            hb.put(from, v, 0, n);
        }
        Nd4j.getAffinityManager().tagLocation(h, AffinityManager.Location.HOST);
        return h;
    }

    /** This thread's reused float array of at least {@code length} values. */
    private static float[] scratch(int length) {
        float[] v = SCRATCH.get();
        if (v.length < length) {
            v = new float[length];
            SCRATCH.set(v);
        }
        return v;
    }

    /** Values per chunk of {@link #affine}'s ReLU: 16 KiB. */
    private static final int CHUNK = 4096;
    /** A reused array per thread for {@link #affine} (executors run tasks on several threads). */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * A float [rows, columns] array whose values are its buffer's leading values in 'f' order (its
     * own buffer, or the front of a larger one reused by batches of other sizes: {@link Layouts#leading}).
     */
    static boolean packedColumns(INDArray a) {
        return a != null && a.rank() == 2 && a.dataType() == DataType.FLOAT && Layouts.leading(a, 'f');
    }

    /** {@code max(0, x)}: no cap, threshold or negative slope. */
    static boolean plainRelu(IActivation act) {
        return act instanceof ActivationReLU relu && relu.getMax() == null && isZeroOrNull(relu.getThreshold())
                && isZeroOrNull(relu.getNegativeSlope());
    }

    private static boolean isZeroOrNull(Double v) {
        return v == null || v == 0.0;
    }

    /** The gradient views of {@code layer}'s parameters in the network's flattened gradient. */
    static Map<String, INDArray> gradientViews(Layer layer) {
        return layer.conf().getLayer().initializer().getGradientsFromFlattened(layer.conf(),
                layer.getGradientsViewArray());
    }

    /**
     * A dense or output layer: {@code z = a·W + b}, {@code h = act(z)} ({@code [n, out]}, 'f'); the
     * output layer returns {@code z} and takes {@code ∂L/∂z} back. Backward:
     * {@code dW = aᵀ·δ}, {@code db = 1ᵀ·δ}, {@code ∂L/∂a = δ·Wᵀ} with {@code δ = act'(z) ⊙ ε}.
     */
    static final class Dense extends StepLayer {
        private final INDArray weights;
        private final INDArray bias;
        private final INDArray weightGrad;
        private final INDArray biasGrad;
        private final IActivation activation;
        private final boolean output;
        private final DataType type;
        private final PerSize<INDArray[]> work;
        private final PreparedProduct forwardProduct = new PreparedProduct();
        private final PreparedProduct weightGradProduct = new PreparedProduct();
        private final PreparedProduct biasGradProduct = new PreparedProduct();
        private final PreparedProduct inputGradProduct = new PreparedProduct();
        private INDArray input;
        private INDArray[] current;
        private INDArray delta;

        Dense(Layer layer, boolean output, DataType type) {
            this.weights = layer.getParam("W");
            this.bias = layer.getParam("b");
            Map<String, INDArray> views = gradientViews(layer);
            this.weightGrad = views.get("W");
            long out = weights.size(1);
            this.biasGrad = views.get("b").reshape(1, out);
            this.activation = activation(layer);
            this.output = output;
            this.type = type;
            long in = weights.size(0);
            // pre-activation, activation, input gradient, a row of ones
            this.work = new PerSize<>(n -> new INDArray[] {
                Nd4j.createUninitialized(type, new long[] {n, out}, 'f'),
                Nd4j.createUninitialized(type, new long[] {n, out}, 'f'),
                Nd4j.createUninitialized(type, new long[] {n, in}, 'f'),
                Nd4j.ones(type, 1, n)});
        }

        @Override
        INDArray forward(INDArray in, int n) {
            current = work.get(n);
            input = in.dataType() == type ? in : in.castTo(type);
            return affine(forwardProduct, input, weights, bias, current[0], output ? null : activation, current[1],
                    true);
        }

        /** This layer's output (after its activation) in the last forward pass. */
        INDArray output() {
            return current[1];
        }

        /** The input {@code [n, in]} of the last forward pass. */
        INDArray input() {
            return input;
        }

        /** {@code ∂L/∂z} per example, {@code [n, out]}, of the last backward pass. */
        INDArray delta() {
            return delta;
        }

        @Override
        INDArray backward(INDArray epsilon, int n, boolean inputGradient) {
            INDArray delta = output ? epsilon : backprop(activation, current[0], epsilon);
            this.delta = delta;
            weightGradProduct.run(input, delta, weightGrad, true, false, 1.0, 0.0);
            biasGradProduct.run(current[3], delta, biasGrad, false, false, 1.0, 0.0);
            if (!inputGradient) {
                return null;
            }
            inputGradProduct.run(delta, weights, current[2], false, true, 1.0, 0.0);
            return current[2];
        }
    }

    /**
     * A plain 2-D convolution ({@link ConvolutionLayer}, float, NCHW weights {@code [O, C, kH, kW]}),
     * channel-major in and out: the im2col matrix {@code X [C·kH·kW, n·P]} of the input
     * ({@link ConvColumns#columns}), {@code Z = Wflat·X + b}, {@code H = act(Z)}. Backward:
     * {@code dWflat = Δ·Xᵀ}, {@code db = Δ·1}, {@code ∂L/∂X = Wflatᵀ·Δ} folded back onto the input
     * positions ({@link ConvColumns#addColumns}, col2im). The im2col matrix of a minibatch is held
     * for its backward pass: {@code C·kH·kW·n·P} floats.
     */
    static final class Convolution extends StepLayer {
        private final ConvColumns geometry;
        private final int inH;
        private final int inW;
        private final int positions;
        private final INDArray weights;
        private final INDArray bias;
        private final INDArray weightGrad;
        private final INDArray biasGrad;
        private final IActivation activation;
        private final PerSize<Work> work;
        private Work current;

        /** Arrays of one minibatch size. */
        private static final class Work {
            final float[] input;
            final float[] columns;
            final INDArray cols;
            final INDArray z;
            final INDArray h;
            final INDArray ones;
            float[] inputGradient;
            INDArray delta;
            INDArray colsGradient;
            INDArray inputGradientArray;

            Work(int n, int channels, int inH, int inW, int k, int p, int o) {
                input = new float[n * channels * inH * inW];
                columns = new float[k * n * p];
                cols = Nd4j.createUninitialized(DataType.FLOAT, new long[] {k, (long) n * p}, 'c');
                z = Nd4j.createUninitialized(DataType.FLOAT, new long[] {o, (long) n * p}, 'c');
                h = Nd4j.createUninitialized(DataType.FLOAT, new long[] {o, (long) n * p}, 'c');
                ones = Nd4j.ones(DataType.FLOAT, (long) n * p, 1);
            }
        }

        /**
         * @param inH input height
         * @param inW input width
         */
        Convolution(Layer layer, int inH, int inW) {
            ConvolutionLayer conf = (ConvolutionLayer) layer.conf().getLayer();
            this.geometry = ConvColumns.of(conf);
            this.inH = inH;
            this.inW = inW;
            int[] out = geometry.outputSize(inH, inW);
            this.positions = out[0] * out[1];
            int o = (int) conf.getNOut();
            int k = geometry.columns();
            this.weights = layer.getParam("W").reshape('c', o, k);
            this.bias = layer.getParam("b").reshape(o, 1);
            Map<String, INDArray> views = gradientViews(layer);
            this.weightGrad = views.get("W").reshape('c', o, k);
            this.biasGrad = views.get("b").reshape(o, 1);
            this.activation = activation(layer);
            int channels = geometry.channels();
            this.work = new PerSize<>(n -> new Work(n, channels, inH, inW, k, positions, o));
        }

        /** The im2col matrix {@code [C·kH·kW, n·P]} of the last forward pass (columns in example order). */
        INDArray columns() {
            return current.cols;
        }

        /** {@code ∂L/∂Z} {@code [O, n·P]} of the last backward pass (columns in example order). */
        INDArray delta() {
            return current.delta;
        }

        /** Output positions P per example. */
        int positions() {
            return positions;
        }

        /** {@link ConvColumns#squareSums(float[], int, int, int)} of the last forward pass's {@code n} examples. */
        double[] inputSquareSums(int n) {
            return geometry.squareSums(current.input, n, inH, inW);
        }

        @Override
        INDArray forward(INDArray in, int n) {
            current = work.get(n);
            hostFloats(in, current.input);
            geometry.columns(current.input, true, n, inH, inW, 0, n, current.columns);
            fill(current.cols, current.columns);
            Nd4j.gemm(weights, current.cols, current.z, false, false, 1.0, 0.0);
            current.z.addiColumnVector(bias);
            return activation.getActivation(current.h.assign(current.z), true);
        }

        @Override
        INDArray backward(INDArray epsilon, int n, boolean inputGradient) {
            Work w = current;
            INDArray delta = backprop(activation, w.z, epsilon);
            w.delta = delta;
            Nd4j.gemm(delta, w.cols, weightGrad, false, true, 1.0, 0.0);
            Nd4j.gemm(delta, w.ones, biasGrad, false, false, 1.0, 0.0);
            if (!inputGradient) {
                return null;
            }
            if (w.colsGradient == null) {
                w.colsGradient = Nd4j.createUninitialized(DataType.FLOAT, w.cols.shape(), 'c');
                w.inputGradient = new float[w.input.length];
                w.inputGradientArray = Nd4j.createUninitialized(DataType.FLOAT,
                        new long[] {geometry.channels(), (long) n * inH * inW}, 'c');
            }
            Nd4j.gemm(weights, delta, w.colsGradient, true, false, 1.0, 0.0);
            hostFloats(w.colsGradient, w.columns);
            Arrays.fill(w.inputGradient, 0f);
            geometry.addColumns(w.columns, n, inH, inW, w.inputGradient);
            return fill(w.inputGradientArray, w.inputGradient);
        }
    }

    /**
     * Max pooling ({@link SubsamplingLayer} with {@code MAX}), channel-major in and out: each output
     * is the largest input in its window (padding excluded), and the backward pass routes its
     * gradient to that input (the first of equal ones).
     */
    static final class MaxPooling extends StepLayer {
        private final ConvColumns geometry;
        private final int channels;
        private final int inH;
        private final int inW;
        private final int[] kernel;
        private final int[] stride;
        private final int[] dilation;
        private final PerSize<Work> work;
        private Work current;

        private static final class Work {
            final float[] input;
            final float[] output;
            final int[] argmax;
            final INDArray outputArray;
            final float[] gradient;
            final INDArray gradientArray;

            Work(int n, int channels, int inH, int inW, int outPositions) {
                input = new float[n * channels * inH * inW];
                output = new float[n * channels * outPositions];
                argmax = new int[output.length];
                outputArray = Nd4j.createUninitialized(DataType.FLOAT, new long[] {channels, (long) n * outPositions}, 'c');
                gradient = new float[input.length];
                gradientArray = Nd4j.createUninitialized(DataType.FLOAT, new long[] {channels, (long) n * inH * inW}, 'c');
            }
        }

        MaxPooling(SubsamplingLayer conf, int channels, int inH, int inW) {
            this.geometry = new ConvColumns(channels, conf.getKernelSize(), conf.getStride(), conf.getPadding(),
                    conf.getDilation(), conf.getConvolutionMode(), null);
            this.channels = channels;
            this.inH = inH;
            this.inW = inW;
            this.kernel = conf.getKernelSize();
            this.stride = conf.getStride();
            this.dilation = conf.getDilation();
            int[] out = geometry.outputSize(inH, inW);
            this.work = new PerSize<>(n -> new Work(n, channels, inH, inW, out[0] * out[1]));
        }

        @Override
        INDArray forward(INDArray in, int n) {
            current = work.get(n);
            float[] x = hostFloats(in, current.input);
            float[] y = current.output;
            int[] arg = current.argmax;
            int[] out = geometry.outputSize(inH, inW);
            int[] pad = geometry.appliedPadding(inH, inW);
            // Output rows/columns [lo, hi) whose windows lie wholly inside the input: no bounds checks there.
            int[] rows = insideWindows(out[0], inH, stride[0], pad[0], kernel[0], dilation[0]);
            int[] cols = insideWindows(out[1], inW, stride[1], pad[1], kernel[1], dilation[1]);
            // Geometry in locals: stores into arg (an int[]) would otherwise make the JIT reload kernel[], stride[]...
            int kH = kernel[0];
            int kW = kernel[1];
            int sH = stride[0];
            int sW = stride[1];
            int dW = dilation[1];
            int rowStep = dilation[0] * inW;
            int colLo = cols[0];
            int colHi = cols[1];
            int at = 0;
            boolean twoByTwo = kH == 2 && kW == 2 && sH == 2 && sW == 2 && rowStep == inW && dW == 1;
            for (int plane = 0; plane < channels * n; plane++) {
                int base = plane * inH * inW;
                for (int oh = 0; oh < out[0]; oh++) {
                    boolean rowInside = oh >= rows[0] && oh < rows[1];
                    int rowStart = base + (oh * sH - pad[0]) * inW - pad[1];
                    if (twoByTwo && rowInside && colLo == 0 && colHi == out[1]) {
                        pool2x2(x, rowStart, inW, out[1], y, arg, at);
                        at += out[1];
                        continue;
                    }
                    for (int ow = 0; ow < out[1]; ow++, at++) {
                        if (!rowInside || ow < colLo || ow >= colHi) {
                            pooledAtBorder(x, base, oh, ow, pad, y, arg, at);
                            continue;
                        }
                        // Without branches (which input is largest is a coin flip for a branch predictor): floats
                        // compared as order-preserving ints, the first largest kept. (+0 counts above −0 here.)
                        int first = rowStart + ow * sW;
                        int best = sortable(x[first]);
                        int where = first;
                        for (int kh = 0, row = first; kh < kH; kh++, row += rowStep) {
                            for (int kw = 0, i = row; kw < kW; kw++, i += dW) {
                                int key = sortable(x[i]);
                                int larger = (int) (((long) best - key) >>> 63);
                                where += larger * (i - where);
                                best = Math.max(best, key);
                            }
                        }
                        y[at] = x[where];
                        arg[at] = where;
                    }
                }
            }
            return fill(current.outputArray, y);
        }

        /**
         * One output row of a 2×2, stride-2 pooling whose windows all lie inside the input (LeNet's):
         * the general loop's result (the first largest of inputs in row-major window order), unrolled,
         * without branches: 1.5x faster than the general loop on LeNet-5's first pooling (2.9 → 1.9 ms
         * per batch of 128).
         */
        private static void pool2x2(float[] x, int rowStart, int inW, int outW, float[] y, int[] arg, int at) {
            for (int ow = 0; ow < outW; ow++) {
                int top = rowStart + 2 * ow;
                int bottom = top + inW;
                int k0 = sortable(x[top]);
                int k1 = sortable(x[top + 1]);
                int k2 = sortable(x[bottom]);
                int k3 = sortable(x[bottom + 1]);
                // (a − b) >>> 63 on longs is 1 exactly when a < b: ternaries here compiled to branches.
                int topWhere = top + (int) (((long) k0 - k1) >>> 63);
                int bottomWhere = bottom + (int) (((long) k2 - k3) >>> 63);
                int lower = (int) (((long) Math.max(k0, k1) - Math.max(k2, k3)) >>> 63);
                int where = topWhere + lower * (bottomWhere - topWhere);
                y[at + ow] = x[where];
                arg[at + ow] = where;
            }
        }

        /** An int ordered as the float {@code v} is (NaN above +∞, −0 below +0). */
        private static int sortable(float v) {
            int bits = Float.floatToRawIntBits(v);
            return bits ^ ((bits >> 31) & 0x7fffffff);
        }

        /** {@code [lo, hi)}: the outputs along one axis whose pooling window lies inside {@code [0, in)}. */
        private static int[] insideWindows(int out, int in, int s, int p, int k, int d) {
            int lo = (p + s - 1) / s;
            int span = (k - 1) * d;
            int hi = in - 1 - span + p < 0 ? 0 : Math.min(out, (in - 1 - span + p) / s + 1);
            return new int[] {Math.min(lo, out), Math.max(hi, Math.min(lo, out))};
        }

        /** The largest input in output {@code (oh, ow)}'s window, which reaches into the padding (excluded). */
        private void pooledAtBorder(float[] x, int base, int oh, int ow, int[] pad, float[] y, int[] arg, int at) {
            float best = Float.NEGATIVE_INFINITY;
            int where = -1;
            for (int kh = 0; kh < kernel[0]; kh++) {
                int ih = oh * stride[0] - pad[0] + kh * dilation[0];
                if (ih < 0 || ih >= inH) {
                    continue;
                }
                for (int kw = 0; kw < kernel[1]; kw++) {
                    int iw = ow * stride[1] - pad[1] + kw * dilation[1];
                    if (iw >= 0 && iw < inW) {
                        int i = base + ih * inW + iw;
                        if (x[i] > best || where < 0) {
                            best = x[i];
                            where = i;
                        }
                    }
                }
            }
            y[at] = where < 0 ? 0f : best;
            arg[at] = where;
        }

        @Override
        INDArray backward(INDArray epsilon, int n, boolean inputGradient) {
            if (!inputGradient) {
                return null;
            }
            Work w = current;
            float[] e = hostFloats(epsilon, w.output);
            Arrays.fill(w.gradient, 0f);
            for (int i = 0; i < e.length; i++) {
                if (w.argmax[i] >= 0) {
                    w.gradient[w.argmax[i]] += e[i];
                }
            }
            return fill(w.gradientArray, w.gradient);
        }
    }

    /**
     * A change of layout between rows {@code [n, C·H·W]} (each row an NCHW example) and
     * channel-major {@code [C, n·H·W]}, undone in the backward pass: {@link #toChannelMajor} where
     * DL4J's {@code FeedForwardToCnnPreProcessor} feeds a convolution, {@link #toRows} where its
     * {@code CnnToFeedForwardPreProcessor} feeds a dense layer (NCHW flattening).
     */
    static final class Relayout extends StepLayer {
        private final boolean toChannelMajor;
        private final int channels;
        private final int plane;
        private final PerSize<float[][]> work;
        private final PerSize<INDArray[]> arrays;

        private Relayout(boolean toChannelMajor, int channels, int height, int width) {
            this.toChannelMajor = toChannelMajor;
            this.channels = channels;
            this.plane = height * width;
            int size = channels * plane;
            this.work = new PerSize<>(n -> new float[][] {new float[n * size], new float[n * size]});
            // [0]: this piece's output layout, [1]: its input layout (the backward pass's output)
            this.arrays = new PerSize<>(n -> {
                INDArray channelMajor = Nd4j.createUninitialized(DataType.FLOAT, new long[] {channels, (long) n * plane}, 'c');
                INDArray asRows = Nd4j.createUninitialized(DataType.FLOAT, new long[] {n, size}, 'c');
                return toChannelMajor ? new INDArray[] {channelMajor, asRows} : new INDArray[] {asRows, channelMajor};
            });
        }

        static Relayout toChannelMajor(int channels, int height, int width) {
            return new Relayout(true, channels, height, width);
        }

        static Relayout toRows(int channels, int height, int width) {
            return new Relayout(false, channels, height, width);
        }

        @Override
        INDArray forward(INDArray in, int n) {
            float[][] w = work.get(n);
            transpose(hostFloats(in, w[0]), w[1], n, channels, plane, toChannelMajor);
            return fill(arrays.get(n)[0], w[1]);
        }

        @Override
        INDArray backward(INDArray epsilon, int n, boolean inputGradient) {
            if (!inputGradient) {
                return null;
            }
            float[][] w = work.get(n);
            transpose(hostFloats(epsilon, w[1]), w[0], n, channels, plane, !toChannelMajor);
            return fill(arrays.get(n)[1], w[0]);
        }
    }

    /**
     * Between NCHW {@code [n, C, plane]} and channel-major {@code [C, n, plane]}, one plane at a
     * time: {@code toChannelMajor} reads the former into the latter, else the reverse.
     */
    private static void transpose(float[] from, float[] to, int n, int channels, int plane, boolean toChannelMajor) {
        for (int e = 0; e < n; e++) {
            for (int c = 0; c < channels; c++) {
                int nchw = (e * channels + c) * plane;
                int cnhw = (c * n + e) * plane;
                if (toChannelMajor) {
                    System.arraycopy(from, nchw, to, cnhw, plane);
                } else {
                    System.arraycopy(from, cnhw, to, nchw, plane);
                }
            }
        }
    }
}
