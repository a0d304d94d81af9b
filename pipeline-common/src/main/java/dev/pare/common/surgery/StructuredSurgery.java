package dev.pare.common.surgery;

import dev.pare.common.model.Networks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.conf.layers.convolutional.Cropping2D;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Structured pruning by physical removal: whole neurons, filters or layers leave the network,
 * so the result has fewer parameters and less compute, not just more zeros. Both operations
 * return a new, initialized {@link MultiLayerNetwork}; the input is never modified. The new
 * network keeps the data type, layer names, activations and updater configuration, and every
 * parameter it keeps is bit-identical to the original; the updater state (e.g. Adam moments)
 * starts fresh.
 *
 * <p>Only plain layers are supported (exact classes, not subclasses such as depthwise or
 * separable convolutions), convolutions in NCHW layout. Anything else on the way is refused
 * with an {@link IllegalArgumentException} that names the layer, never silently skipped.
 */
public final class StructuredSurgery {
    /** Parameter-free layers that act on each channel (or feature) separately. */
    private static final Set<Class<? extends Layer>> PASS_THROUGH = Set.of(ActivationLayer.class, DropoutLayer.class,
            SubsamplingLayer.class, GlobalPoolingLayer.class, Upsampling2D.class, ZeroPaddingLayer.class,
            Cropping2D.class);

    private StructuredSurgery() {}

    /**
     * Removes output units: for each entry, layer {@code key} (a {@link DenseLayer}: neurons, or a
     * {@link ConvolutionLayer}: filters) keeps only the units in the value, which must be sorted,
     * distinct and non-empty. Along with a unit go its weights and bias, its channel of every
     * following {@link BatchNormalization} (gamma, beta and the running mean and variance or
     * log-std), and the inputs of the next Dense, Output or Convolution layer that read it;
     * parameter-free per-channel layers in between (activation, dropout, pooling, padding,
     * cropping, upsampling, global pooling) pass the cut on. A Dense layer after a convolution
     * reads the channel-major flattening of {@link CnnToFeedForwardPreProcessor}, so channel
     * {@code c} of an {@code H×W} map is its inputs {@code c·H·W + h·W + w}.
     *
     * <p>Keeping every unit of a layer leaves it as it is. The output layer's units (the classes)
     * cannot be removed, nor can units whose removal would cross a layer that mixes channels or
     * features (e.g. local response normalization, layer norm) or one of unknown type.
     *
     * @param keptUnits layer index → sorted indices of the units to keep
     */
    public static MultiLayerNetwork removeUnits(MultiLayerNetwork net, Map<Integer, int[]> keptUnits) {
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        int n = net.getnLayers();
        int[][] keepOut = new int[n][];
        int[][] keepIn = new int[n][];
        int[][] keepFeatures = new int[n][];
        Map<Integer, Long> preprocessorChannels = new HashMap<>();

        for (Map.Entry<Integer, int[]> e : new TreeMap<>(keptUnits).entrySet()) {
            int i = e.getKey();
            if (i < 0 || i >= n) {
                throw new IllegalArgumentException("layer index " + i + " is out of range: the network has " + n
                        + " layers");
            }
            String name = Networks.name(net, i);
            if (i == n - 1) {
                throw new IllegalArgumentException("the units of the output layer " + name
                        + " are the classes and cannot be removed");
            }
            Layer layer = layerConf(net, i);
            if (layer.getClass() != DenseLayer.class && layer.getClass() != ConvolutionLayer.class) {
                throw new IllegalArgumentException("units can be removed only from DenseLayer and ConvolutionLayer,"
                        + " but layer " + i + " (" + name + ") is a " + layer.getClass().getSimpleName());
            }
            FeedForwardLayer producer = (FeedForwardLayer) layer;
            if (producer instanceof DenseLayer dense && dense.hasLayerNorm()) {
                throw new IllegalArgumentException("layer " + i + " (" + name + ") uses layer normalization, which"
                        + " mixes its units; they cannot be removed one by one");
            }
            if (producer instanceof ConvolutionLayer convolution && !isNchw(convolution.getCnn2dDataFormat())) {
                throw new IllegalArgumentException("layer " + i + " (" + name + ") uses the "
                        + convolution.getCnn2dDataFormat() + " layout; only NCHW convolutions are supported");
            }
            int[] keep = checkedKeep(e.getValue(), producer.getNOut(), i, name);
            if (keep.length == producer.getNOut()) {
                continue;
            }
            keepOut[i] = keep;
            carryCut(net, i, keep, keepIn, keepFeatures, preprocessorChannels);
        }

        MultiLayerConfiguration newConf = conf.clone();
        for (int j = 0; j < n; j++) {
            Layer layer = newConf.getConf(j).getLayer();
            if (keepOut[j] != null) {
                ((FeedForwardLayer) layer).setNOut(keepOut[j].length);
            }
            if (keepIn[j] != null) {
                ((FeedForwardLayer) layer).setNIn(keepIn[j].length);
            }
            if (keepFeatures[j] != null && layer instanceof FeedForwardLayer ff) {
                ff.setNIn(keepFeatures[j].length);
                ff.setNOut(keepFeatures[j].length);
            }
        }
        for (Map.Entry<Integer, Long> e : preprocessorChannels.entrySet()) {
            ((CnnToFeedForwardPreProcessor) newConf.getInputPreProcess(e.getKey())).setNumChannels(e.getValue());
        }

        MultiLayerNetwork result = new MultiLayerNetwork(newConf);
        result.init();
        for (int j = 0; j < n; j++) {
            Layer layer = layerConf(net, j);
            for (Map.Entry<String, INDArray> p : net.getLayer(j).paramTable().entrySet()) {
                String key = p.getKey();
                INDArray value = p.getValue();
                INDArray cut;
                if (keepFeatures[j] != null) {
                    cut = Slices.takeLast(value, keepFeatures[j]);
                } else if (keepIn[j] == null && keepOut[j] == null) {
                    cut = value.dup();
                } else if (key.equals("W")) {
                    boolean convolution = layer instanceof ConvolutionLayer;
                    // Dense/Output W is [nIn, nOut]; Convolution W is [nOut, nIn, kH, kW]
                    cut = Slices.take(Slices.take(value, convolution ? 1 : 0, keepIn[j]), convolution ? 0 : 1, keepOut[j]);
                } else if (key.equals("b")) {
                    cut = Slices.takeLast(value, keepOut[j]);
                } else if (keepOut[j] == null) {
                    cut = value.dup();
                } else {
                    throw new IllegalArgumentException("layer " + j + " (" + Networks.name(net, j) + ") has parameter '"
                            + key + "', which this surgery does not know how to cut");
                }
                copyInto(result, j, key, cut);
            }
        }
        return result;
    }

    /**
     * Follows the cut of layer {@code i}'s units forward to the layer that reads them, recording
     * what each layer on the way loses.
     */
    private static void carryCut(MultiLayerNetwork net, int i, int[] keep, int[][] keepIn, int[][] keepFeatures,
                                 Map<Integer, Long> preprocessorChannels) {
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        String name = Networks.name(net, i);
        long features = ((FeedForwardLayer) layerConf(net, i)).getNOut();
        boolean spatial = layerConf(net, i) instanceof ConvolutionLayer;
        int[] kept = keep;
        for (int j = i + 1; j < net.getnLayers(); j++) {
            String here = "layer " + j + " (" + Networks.name(net, j) + ")";
            InputPreProcessor pre = conf.getInputPreProcess(j);
            if (pre != null) {
                if (pre.getClass() != CnnToFeedForwardPreProcessor.class || !spatial) {
                    throw new IllegalArgumentException("cannot remove units of layer " + i + " (" + name + "): " + here
                            + " has input preprocessor " + pre.getClass().getSimpleName()
                            + ", which does not pass single channels through");
                }
                CnnToFeedForwardPreProcessor flatten = (CnnToFeedForwardPreProcessor) pre;
                if (!isNchw(flatten.getFormat()) || flatten.getNumChannels() != features) {
                    throw new IllegalArgumentException("cannot remove units of layer " + i + " (" + name + "): " + here
                            + " flattens " + flatten.getNumChannels() + " channels in " + flatten.getFormat()
                            + " layout, expected " + features + " channels in NCHW");
                }
                long area = flatten.getInputHeight() * flatten.getInputWidth();
                preprocessorChannels.put(j, (long) kept.length);
                kept = flattenedIndices(kept, area);
                features *= area;
                spatial = false;
            }
            Layer layer = layerConf(net, j);
            Class<?> type = layer.getClass();
            if (type == DenseLayer.class || type == OutputLayer.class || type == ConvolutionLayer.class) {
                long nIn = ((FeedForwardLayer) layer).getNIn();
                boolean convolution = type == ConvolutionLayer.class;
                if (convolution != spatial || nIn != features
                        || (convolution && !isNchw(((ConvolutionLayer) layer).getCnn2dDataFormat()))) {
                    throw new IllegalArgumentException("cannot remove units of layer " + i + " (" + name + "): " + here
                            + " is a " + type.getSimpleName() + " with nIn " + nIn + ", but receives " + features
                            + (spatial ? " channels of a convolution" : " features"));
                }
                keepIn[j] = kept;
                return;
            }
            if (type == BatchNormalization.class) {
                keepFeatures[j] = kept;
            } else if (PASS_THROUGH.contains(type) && net.getLayer(j).numParams() == 0) {
                if (layer instanceof FeedForwardLayer) {
                    keepFeatures[j] = kept;
                }
                if (layer instanceof GlobalPoolingLayer pooling && pooling.isCollapseDimensions()) {
                    spatial = false;
                }
            } else {
                throw new IllegalArgumentException("cannot remove units of layer " + i + " (" + name + "): " + here
                        + " is a " + type.getSimpleName() + ", which this surgery cannot cut or pass through");
            }
        }
        throw new IllegalArgumentException("cannot remove units of layer " + i + " (" + name
                + "): no later Dense, Output or Convolution layer reads them");
    }

    /**
     * Removes whole layers. A layer may go only where doing so leaves every shape as it was: a
     * {@link DenseLayer} with {@code nIn == nOut}, or a {@link ConvolutionLayer} with as many input
     * as output channels and stride 1, whose padding keeps the spatial size ("same" mode, or
     * {@code 2·padding == effective kernel − 1}). The output layer always stays. An input
     * preprocessor of a removed layer moves to the layer after it. An empty set gives a copy.
     */
    public static MultiLayerNetwork removeLayers(MultiLayerNetwork net, Set<Integer> layers) {
        int n = net.getnLayers();
        TreeSet<Integer> removed = new TreeSet<>(layers);
        for (int i : removed) {
            if (i < 0 || i >= n) {
                throw new IllegalArgumentException("layer index " + i + " is out of range: the network has " + n
                        + " layers");
            }
            if (i == n - 1) {
                throw new IllegalArgumentException("the output layer " + Networks.name(net, i) + " cannot be removed");
            }
            checkShapePreserving(net, i);
        }

        MultiLayerConfiguration newConf = net.getLayerWiseConfigurations().clone();
        List<NeuralNetConfiguration> confs = new ArrayList<>();
        Map<Integer, InputPreProcessor> preprocessors = new HashMap<>();
        int[] source = new int[n - removed.size()];
        InputPreProcessor pending = null;
        String pendingFrom = null;
        for (int i = 0; i < n; i++) {
            InputPreProcessor pre = newConf.getInputPreProcess(i);
            if (removed.contains(i)) {
                if (pre != null && pending != null) {
                    throw new IllegalArgumentException("cannot remove layers " + pendingFrom + " and " + i + " ("
                            + Networks.name(net, i) + "): both have an input preprocessor");
                }
                if (pre != null) {
                    pending = pre;
                    pendingFrom = i + " (" + Networks.name(net, i) + ")";
                }
                continue;
            }
            if (pending != null) {
                if (pre != null) {
                    throw new IllegalArgumentException("cannot remove layer " + pendingFrom + ": its input preprocessor "
                            + pending.getClass().getSimpleName() + " would meet the input preprocessor "
                            + pre.getClass().getSimpleName() + " of layer " + i + " (" + Networks.name(net, i) + ")");
                }
                pre = pending;
                pending = null;
            }
            if (pre != null) {
                preprocessors.put(confs.size(), pre);
            }
            source[confs.size()] = i;
            confs.add(newConf.getConf(i));
        }
        newConf.setConfs(confs);
        newConf.setInputPreProcessors(preprocessors);

        MultiLayerNetwork result = new MultiLayerNetwork(newConf);
        result.init();
        for (int j = 0; j < source.length; j++) {
            for (Map.Entry<String, INDArray> p : net.getLayer(source[j]).paramTable().entrySet()) {
                copyInto(result, j, p.getKey(), p.getValue());
            }
        }
        return result;
    }

    private static void checkShapePreserving(MultiLayerNetwork net, int i) {
        Layer layer = layerConf(net, i);
        String here = "layer " + i + " (" + Networks.name(net, i) + ")";
        if (layer.getClass() == DenseLayer.class) {
            DenseLayer dense = (DenseLayer) layer;
            if (dense.getNIn() != dense.getNOut()) {
                throw new IllegalArgumentException("cannot remove " + here + ": it maps " + dense.getNIn()
                        + " inputs to " + dense.getNOut() + " outputs; only layers with equal input and output shapes"
                        + " can be removed");
            }
            return;
        }
        if (layer.getClass() == ConvolutionLayer.class) {
            ConvolutionLayer conv = (ConvolutionLayer) layer;
            if (conv.getNIn() != conv.getNOut()) {
                throw new IllegalArgumentException("cannot remove " + here + ": it maps " + conv.getNIn()
                        + " channels to " + conv.getNOut() + "; only layers with equal input and output shapes can be"
                        + " removed");
            }
            int[] k = conv.getKernelSize();
            int[] s = conv.getStride();
            int[] p = conv.getPadding();
            int[] d = conv.getDilation();
            for (int a = 0; a < k.length; a++) {
                long effectiveKernel = k[a] + (long) (k[a] - 1) * (d[a] - 1);
                boolean keepsSize = s[a] == 1 && (conv.getConvolutionMode() == ConvolutionMode.Same
                        || ((conv.getConvolutionMode() == ConvolutionMode.Truncate
                                || conv.getConvolutionMode() == ConvolutionMode.Strict)
                            && 2L * p[a] == effectiveKernel - 1));
                if (!keepsSize) {
                    throw new IllegalArgumentException("cannot remove " + here + ": kernel " + Arrays.toString(k)
                            + ", stride " + Arrays.toString(s) + ", padding " + Arrays.toString(p) + ", dilation "
                            + Arrays.toString(d) + " in " + conv.getConvolutionMode() + " mode change the spatial size;"
                            + " only layers with equal input and output shapes can be removed");
                }
            }
            return;
        }
        throw new IllegalArgumentException("cannot remove " + here + ": only DenseLayer and ConvolutionLayer layers"
                + " can be removed, found " + layer.getClass().getSimpleName());
    }

    private static int[] checkedKeep(int[] keep, long nOut, int i, String name) {
        if (keep == null || keep.length == 0) {
            throw new IllegalArgumentException("layer " + i + " (" + name + ") would keep no units; remove the layer"
                    + " instead, or keep at least one");
        }
        for (int k = 0; k < keep.length; k++) {
            if (keep[k] < 0 || keep[k] >= nOut) {
                throw new IllegalArgumentException("layer " + i + " (" + name + ") has " + nOut + " units, so unit "
                        + keep[k] + " does not exist");
            }
            if (k > 0 && keep[k] <= keep[k - 1]) {
                throw new IllegalArgumentException("the units to keep of layer " + i + " (" + name
                        + ") must be sorted and distinct: " + Arrays.toString(keep));
            }
        }
        return keep.clone();
    }

    /** Indices {@code c·area + p}, p in [0, area), for each kept channel c, in order. */
    static int[] flattenedIndices(int[] channels, long area) {
        int a = Math.toIntExact(area);
        int[] out = new int[Math.multiplyExact(channels.length, a)];
        for (int k = 0; k < channels.length; k++) {
            for (int p = 0; p < a; p++) {
                out[k * a + p] = Math.toIntExact((long) channels[k] * a + p);
            }
        }
        return out;
    }

    private static void copyInto(MultiLayerNetwork target, int j, String key, INDArray value) {
        INDArray dest = target.getLayer(j).getParam(key);
        if (dest == null || !Arrays.equals(dest.shape(), value.shape())) {
            // a bug here, not bad input: the new configuration and the cut parameters disagree
            throw new IllegalStateException("parameter '" + key + "' of layer " + j + " (" + Networks.name(target, j)
                    + ") has shape " + (dest == null ? "none" : Arrays.toString(dest.shape())) + " in the new network"
                    + " but the copied value has shape " + Arrays.toString(value.shape()));
        }
        dest.assign(value);
    }

    private static Layer layerConf(MultiLayerNetwork net, int i) {
        return net.getLayerWiseConfigurations().getConf(i).getLayer();
    }

    private static boolean isNchw(CNN2DFormat format) {
        return format == null || format == CNN2DFormat.NCHW;
    }
}
