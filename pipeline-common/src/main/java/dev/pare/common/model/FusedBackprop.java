package dev.pare.common.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A network's training-mode forward pass and backward pass computed layer by layer with one GEMM
 * per product ({@link StepLayer}) instead of DL4J's layer machinery, for networks of dense layers
 * and, in float, plain 2-D convolutions (im2col and col2im of {@link ConvColumns}) and max
 * pooling, ending in a softmax output layer. DL4J's layers recompute each layer's pre-activation
 * during backprop, compute the first layer's input gradient nobody needs, and build a
 * convolution's im2col matrix with an op that took 65% of a LeNet-5 forward pass.
 *
 * <p>{@link #forward} gives the output layer's logits; {@link #backward} takes the loss gradient
 * with respect to them (per example, not averaged) and writes every parameter's gradient, summed
 * over the minibatch as DL4J's backward pass gives it, into the network's flattened gradient view
 * ({@link #gradient}, keyed as DL4J keys it). Between the two, {@link #weightGradient} gives any
 * group of examples' own weight gradient of a layer. Not thread-safe: one per network and thread.
 */
public final class FusedBackprop {
    private final MultiLayerNetwork net;
    private final List<StepLayer> pieces;
    /** {@code pieceOf[i]}: the piece computing layer i (after its input conversion, if any). */
    private final int[] pieceOf;
    private final Gradient gradient;
    private final DataType type;
    private int rows;

    /**
     * {@code act'(z) ⊙ ε}, the loss gradient at pre-activations {@code z} given the gradient
     * {@code epsilon} at the activations; {@code z} is left as it is. A plain ReLU writes it into
     * {@code epsilon} with one op (no allocation); any other activation into a new array.
     */
    public static INDArray activationGradient(IActivation act, INDArray z, INDArray epsilon) {
        if (StepLayer.plainRelu(act)) {
            StepLayer.reluGradient(z, epsilon, epsilon);
            return epsilon;
        }
        return act.backprop(z.dup(), epsilon).getFirst();
    }

    /**
     * Why {@code net} cannot be computed here (naming the layer), or empty when it can: every layer
     * a {@link DenseLayer}, a plain {@link ConvolutionLayer} (NCHW, float parameters) or a
     * max-pooling {@link SubsamplingLayer}, the last an {@link OutputLayer} with softmax, all with
     * biases, without dropout, weight noise, constraints, regularization, gradient normalization
     * or layer normalization, and no input pre-processors but DL4J's NCHW reshapes between dense
     * and convolutional layers.
     */
    public static Optional<String> unsupported(MultiLayerNetwork net) {
        return plan(net, false).refusal();
    }

    /** @param net a network {@link #unsupported} accepts; its gradient view is initialized if needed */
    public FusedBackprop(MultiLayerNetwork net) {
        Optional<String> why = unsupported(net);
        if (why.isPresent()) {
            throw new IllegalArgumentException("fused training cannot compute this network: " + why.get());
        }
        this.net = net;
        this.type = net.params().dataType();
        if (net.getFlattenedGradients() == null) {
            net.initGradientsView();
        }
        Plan plan = plan(net, true);
        this.pieces = plan.pieces();
        this.pieceOf = plan.pieceOf();
        this.gradient = new ViewGradient(net.getFlattenedGradients());
        for (int i = 0; i < net.getnLayers(); i++) {
            String prefix = i + "_";
            StepLayer.gradientViews(net.getLayer(i)).forEach((key, view) -> gradient.setGradientFor(prefix + key, view));
        }
    }

    /** The logits {@code [n, C]} of {@code features} ({@code [n, width]}); valid until the next call. */
    public INDArray forward(INDArray features) {
        rows = (int) features.size(0);
        INDArray a = features.castTo(type);
        for (StepLayer piece : pieces) {
            a = piece.forward(a, rows);
        }
        return a;
    }

    /**
     * The backward pass of the last {@link #forward}.
     *
     * @param logitGradient {@code ∂L/∂z} of the output logits, {@code [n, C]}, per example
     * @param outputGradients for each layer, a gradient added to {@code ∂L/∂(its output)} (null
     *     entries, or a null array: none); only dense layers' outputs take one
     */
    public void backward(INDArray logitGradient, INDArray[] outputGradients) {
        INDArray d = logitGradient.castTo(type);
        int layer = pieceOf.length - 1;
        for (int p = pieces.size() - 1; p >= 0; p--) {
            if (layer >= 0 && pieceOf[layer] == p) {
                if (outputGradients != null && outputGradients[layer] != null) {
                    d.addi(outputGradients[layer]);
                }
                layer--;
            }
            d = pieces.get(p).backward(d, rows, p > pieceOf[0]);
        }
    }

    /** The network's flattened gradient view, keyed per layer and parameter as DL4J keys it (for its updater). */
    public Gradient gradient() {
        return gradient;
    }

    /**
     * A gradient whose {@link #gradient()} is the network's flattened gradient view itself.
     * {@link DefaultGradient#gradient()} returns a reshaped header of it instead, and DL4J's updater
     * takes any other object than the view for a gradient of another network: on every step it then
     * slices the view and the parameters again for each variable (new arrays, each with native
     * shape buffers) where it otherwise uses its cached slices. Same memory, same arithmetic.
     */
    private static final class ViewGradient extends DefaultGradient {
        private final INDArray view;

        ViewGradient(INDArray view) {
            super(view);
            this.view = view;
        }

        @Override
        public INDArray gradient() {
            return view;
        }
    }

    /**
     * The output after its activation, {@code [n, width]}, of dense layer {@code layer} in the last
     * {@link #forward}.
     */
    public INDArray denseOutput(int layer) {
        return dense(layer).output();
    }

    private StepLayer.Dense dense(int layer) {
        return piece(layer, StepLayer.Dense.class, "a dense layer");
    }

    /** The piece computing {@code layer}, which must be a {@code type} ({@code what} names it in the refusal). */
    private <T extends StepLayer> T piece(int layer, Class<T> type, String what) {
        StepLayer p = pieces.get(pieceOf[layer]);
        if (!type.isInstance(p)) {
            throw new IllegalArgumentException("layer " + layer + " (" + Networks.name(net, layer) + ") is not " + what);
        }
        return type.cast(p);
    }

    /**
     * The weight gradient of layer {@code layer} (dense or convolution) summed over examples
     * {@code [from, to)} of the last {@link #backward}, into {@code into}: {@code [nIn, nOut]}, the
     * layout of {@link LayerWeights#toMatrixView} (for a convolution, rows {@code (c·kH + kh)·kW + kw}).
     * Each example's gradient depends on that example only (no layer here mixes examples).
     */
    public void weightGradient(int layer, int from, int to, INDArray into) {
        StepLayer piece = pieces.get(pieceOf[layer]);
        if (piece instanceof StepLayer.Dense d) {
            Nd4j.gemm(d.input().get(NDArrayIndex.interval(from, to), NDArrayIndex.all()),
                    d.delta().get(NDArrayIndex.interval(from, to), NDArrayIndex.all()), into, true, false, 1.0, 0.0);
        } else if (piece instanceof StepLayer.Convolution c) {
            long p = c.positions();
            INDArrayIndex[] cols = {NDArrayIndex.all(), NDArrayIndex.interval(from * p, to * p)};
            Nd4j.gemm(c.columns().get(cols), c.delta().get(cols), into, false, true, 1.0, 0.0);
        } else {
            throw new IllegalArgumentException("layer " + layer + " (" + Networks.name(net, layer) + ") has no weights");
        }
    }

    /** The input {@code [n, nIn]} of dense layer {@code layer} in the last {@link #forward}. */
    public INDArray denseInput(int layer) {
        return dense(layer).input();
    }

    /**
     * For convolution {@code layer}, {@code Σ x²} per row of the im2col matrix of its input in the
     * last {@link #forward} (row {@code (c·kH + kh)·kW + kw}, over its n·P columns), in double;
     * the same sums as {@link ConvColumns#squareSums(INDArray)} of that input.
     */
    public double[] convolutionInputSquareSums(int layer) {
        return convolution(layer).inputSquareSums(rows);
    }

    /** The im2col columns per example (output positions P) of convolution {@code layer}. */
    public int convolutionPositions(int layer) {
        return convolution(layer).positions();
    }

    private StepLayer.Convolution convolution(int layer) {
        return piece(layer, StepLayer.Convolution.class, "a convolution");
    }

    /** The input {@code [n, nIn]} and {@code ∂L/∂z} {@code [n, nOut]} of dense layer {@code layer} in the last passes. */
    public INDArray[] denseInputAndDelta(int layer) {
        StepLayer.Dense d = dense(layer);
        return new INDArray[] {d.input(), d.delta()};
    }

    /** What {@link #plan} finds: the pieces (when built), which piece computes each layer, or why none can. */
    private record Plan(List<StepLayer> pieces, int[] pieceOf, Optional<String> refusal) {
        static Plan refused(String why) {
            return new Plan(List.of(), new int[0], Optional.of(why));
        }
    }

    /**
     * Walks {@code net}'s layers, tracking the activations' shape, and returns the pieces that
     * compute it (built only when {@code build}: building reads the gradient view), or the reason
     * it cannot be computed here.
     */
    private static Plan plan(MultiLayerNetwork net, boolean build) {
        DataType type = net.params().dataType();
        if (type != DataType.FLOAT && type != DataType.DOUBLE) {
            return Plan.refused("its parameters are " + type + ", not FLOAT or DOUBLE");
        }
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        int n = conf.getConfs().size();
        List<StepLayer> pieces = new ArrayList<>();
        int[] pieceOf = new int[n];
        boolean spatial = false;
        int channels = 0;
        int height = 0;
        int width = 0;
        for (int i = 0; i < n; i++) {
            Layer layer = conf.getConf(i).getLayer();
            String name = "layer " + i + (layer.getLayerName() == null ? "" : " (" + layer.getLayerName() + ")");
            String why = unsupportedSettings(layer, i == n - 1);
            if (why != null) {
                return Plan.refused(name + " " + why);
            }
            InputPreProcessor pre = conf.getInputPreProcess(i);
            if (pre instanceof FeedForwardToCnnPreProcessor f && !spatial) {
                spatial = true;
                channels = (int) f.getNumChannels();
                height = (int) f.getInputHeight();
                width = (int) f.getInputWidth();
                if (build) {
                    pieces.add(StepLayer.Relayout.toChannelMajor(channels, height, width));
                }
            } else if (pre instanceof CnnToFeedForwardPreProcessor f && spatial && f.getFormat() != CNN2DFormat.NHWC
                    && f.getNumChannels() == channels && f.getInputHeight() == height && f.getInputWidth() == width) {
                spatial = false;
                if (build) {
                    pieces.add(StepLayer.Relayout.toRows(channels, height, width));
                }
            } else if (pre != null) {
                return Plan.refused(name + " has the input pre-processor " + pre.getClass().getSimpleName()
                        + ", which fused training does not compute");
            }
            pieceOf[i] = pieces.size();
            Class<?> kind = layer.getClass();
            if (kind == OutputLayer.class || kind == DenseLayer.class) {
                if (spatial) {
                    return Plan.refused(name + " is a dense layer fed 4-D activations without a pre-processor");
                }
                if (build) {
                    pieces.add(new StepLayer.Dense(net.getLayer(i), kind == OutputLayer.class, type));
                }
            } else if (kind == ConvolutionLayer.class) {
                ConvolutionLayer c = (ConvolutionLayer) layer;
                if (type != DataType.FLOAT) {
                    return Plan.refused(name + " is a convolution, computed here in FLOAT only; the parameters are "
                            + type);
                }
                if (!spatial || c.getCnn2dDataFormat() == CNN2DFormat.NHWC || c.getNIn() != channels) {
                    return Plan.refused(name + " is a convolution whose input is not NCHW with " + channels
                            + " channels (pre-processor or data format)");
                }
                int[] out;
                try {
                    out = ConvColumns.of(c).outputSize(height, width);
                } catch (IllegalArgumentException e) {
                    return Plan.refused(name + ": " + e.getMessage());
                }
                if (build) {
                    pieces.add(new StepLayer.Convolution(net.getLayer(i), height, width));
                }
                channels = (int) c.getNOut();
                height = out[0];
                width = out[1];
            } else if (kind == SubsamplingLayer.class) {
                SubsamplingLayer p = (SubsamplingLayer) layer;
                if (p.getPoolingType() != PoolingType.MAX || !spatial || p.getCnn2dDataFormat() == CNN2DFormat.NHWC) {
                    return Plan.refused(name + " is " + p.getPoolingType() + " pooling on " + p.getCnn2dDataFormat()
                            + " input; fused training computes max pooling of NCHW activations");
                }
                int[] out;
                try {
                    out = new ConvColumns(channels, p.getKernelSize(), p.getStride(), p.getPadding(), p.getDilation(),
                            p.getConvolutionMode(), null).outputSize(height, width);
                } catch (IllegalArgumentException e) {
                    return Plan.refused(name + ": " + e.getMessage());
                }
                if (build) {
                    pieces.add(new StepLayer.MaxPooling(p, channels, height, width));
                }
                height = out[0];
                width = out[1];
            } else {
                return Plan.refused(name + " is a " + kind.getSimpleName() + "; fused training computes DenseLayer,"
                        + " ConvolutionLayer, max-pooling SubsamplingLayer and a final OutputLayer");
            }
        }
        return new Plan(pieces, pieceOf, Optional.empty());
    }

    /** Why {@code layer}'s settings keep it from this step, or null. */
    private static String unsupportedSettings(Layer layer, boolean last) {
        if (last != (layer.getClass() == OutputLayer.class)) {
            return last ? "is the last layer but a " + layer.getClass().getSimpleName() + ", not an OutputLayer"
                    : "is an OutputLayer before the last layer";
        }
        if (layer.getIDropout() != null) {
            return "has dropout";
        }
        if (!(layer instanceof BaseLayer b)) {
            return null;
        }
        boolean hasBias = b instanceof DenseLayer d ? d.hasBias()
                : b instanceof OutputLayer o ? o.hasBias()
                : !(b instanceof ConvolutionLayer c) || c.hasBias();
        return !hasBias ? "has no bias"
                : b.getWeightNoise() != null ? "has weight noise"
                : b instanceof DenseLayer d && d.hasLayerNorm() ? "has layer normalization"
                : b.getConstraints() != null && !b.getConstraints().isEmpty() ? "has constraints"
                : !b.getRegularization().isEmpty() || !b.getRegularizationBias().isEmpty() ? "has regularization"
                : b.getGradientNormalization() != null && b.getGradientNormalization() != GradientNormalization.None
                        ? "has gradient normalization"
                : last && !(b.getActivationFn() instanceof ActivationSoftmax)
                        ? "has activation " + b.getActivationFn() + ", not softmax"
                : null;
    }

}
