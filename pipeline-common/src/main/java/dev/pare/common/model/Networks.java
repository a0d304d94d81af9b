package dev.pare.common.model;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;

/**
 * Reading, checking and describing DL4J networks. Only {@link MultiLayerNetwork}s with a dense
 * softmax {@link OutputLayer} are accepted as teachers in this version (sequential
 * ComputationGraphs are read as such, see {@link GraphConversion}); every refusal names the
 * source and what was found.
 */
public final class Networks {
    private static final String CONFIG_ENTRY = "configuration.json";
    private static final String PARAMS_ENTRY = "coefficients.bin";

    private Networks() {}

    /**
     * Reads a model zip written by {@link ModelSerializer}, checking its entries first. A
     * ComputationGraph is accepted when it is sequential and comes back converted to the equivalent
     * MultiLayerNetwork (see {@link GraphConversion}); any other graph is refused naming the source
     * and the offending vertex.
     */
    public static MultiLayerNetwork read(byte[] bytes, String source, boolean loadUpdater) {
        String configJson = checkEntries(bytes, source);
        if (GraphConversion.isGraphConfiguration(configJson, source)) {
            ComputationGraph graph;
            try {
                graph = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(bytes), loadUpdater);
            } catch (IOException | RuntimeException e) {
                throw new ModelFormatException(source + " is not a readable DL4J ComputationGraph: " + e.getMessage(), e);
            }
            return GraphConversion.toMultiLayer(graph, source);
        }
        try {
            return ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes), loadUpdater);
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(source + " is not a readable DL4J MultiLayerNetwork: " + e.getMessage(), e);
        }
    }

    public static MultiLayerNetwork read(InputStream in, String source, boolean loadUpdater) throws IOException {
        return read(in.readAllBytes(), source, loadUpdater);
    }

    /** The model as ModelSerializer zip bytes. */
    public static byte[] toBytes(MultiLayerNetwork net, boolean saveUpdater) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ModelSerializer.writeModel(net, out, saveUpdater);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static String checkEntries(byte[] bytes, String source) {
        String configJson = null;
        boolean params = false;
        int entries = 0;
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(bytes))) {
            ZipEntry e;
            while ((e = zip.getNextEntry()) != null) {
                entries++;
                String name = e.getName();
                if (escapesFolder(name)) {
                    throw new ModelFormatException(source + " has a zip entry escaping its folder: '" + name + "'");
                }
                if (name.equals(CONFIG_ENTRY)) {
                    configJson = new String(zip.readAllBytes(), StandardCharsets.UTF_8);
                } else if (name.equals(PARAMS_ENTRY)) {
                    params = true;
                }
            }
        } catch (IOException e) {
            throw new ModelFormatException(source + " is not a DL4J model (not a readable zip file: " + e.getMessage() + ")", e);
        }
        if (entries == 0) {
            throw new ModelFormatException(source + " is not a DL4J model (not a zip file, or an empty one)");
        }
        if (configJson == null || !params) {
            throw new ModelFormatException(source + " is not a DL4J model saved with ModelSerializer (missing "
                    + (configJson == null ? CONFIG_ENTRY : PARAMS_ENTRY) + ")");
        }
        return configJson;
    }

    /**
     * True for a zip entry name that would land outside the folder it is extracted to ("zip
     * slip"): absolute ({@code /x}, {@code \x}, {@code C:x}), or with a {@code ..} segment
     * (either separator). Neither Pare nor DL4J extracts model zips to disk (ModelSerializer reads
     * the entries into memory by name), but such a zip was not written by ModelSerializer and is
     * refused before any of it is read, so a later tool that does extract it is not the first to look.
     */
    static boolean escapesFolder(String name) {
        if (name.startsWith("/") || name.startsWith("\\") || name.matches("^[A-Za-z]:.*")) {
            return true;
        }
        for (String segment : name.split("[/\\\\]")) {
            if (segment.equals("..")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Length of the flat feature vector the network takes: the first layer's input width, or for a
     * convolutional network fed flat rows (DL4J's {@code InputType.convolutionalFlat}), height ×
     * width × channels of its input pre-processor.
     */
    public static long inputSize(MultiLayerNetwork net) {
        if (net.getnLayers() > 0
                && net.getLayerWiseConfigurations().getInputPreProcess(0) instanceof FeedForwardToCnnPreProcessor pre) {
            return pre.getInputHeight() * pre.getInputWidth() * pre.getNumChannels();
        }
        if (net.getnLayers() == 0 || !(net.getLayer(0).conf().getLayer() instanceof FeedForwardLayer ff)
                || net.getLayer(0).conf().getLayer() instanceof ConvolutionLayer) {
            throw new ModelFormatException("the network's first layer is not a dense layer with a known input size, nor a"
                    + " convolution layer fed flat rows (InputType.convolutionalFlat)");
        }
        return ff.getNIn();
    }

    /** Output width of the last layer. */
    public static long outputSize(MultiLayerNetwork net) {
        return ((FeedForwardLayer) outputLayerConf(net)).getNOut();
    }

    private static BaseOutputLayer outputLayerConf(MultiLayerNetwork net) {
        Layer last = net.getLayer(net.getnLayers() - 1);
        if (!(last.conf().getLayer() instanceof BaseOutputLayer out)) {
            throw new ModelFormatException("the network's last layer (" + name(net, net.getnLayers() - 1)
                    + ") is not an output layer");
        }
        return out;
    }

    /**
     * Checks that a network can act as a teacher for data with {@code featureLength} features and
     * {@code numClasses} classes: a dense softmax output layer of that width, input of that width.
     */
    public static void checkTeacher(MultiLayerNetwork net, String source, long featureLength, int numClasses) {
        BaseOutputLayer out = outputLayerConf(net);
        if (!(out instanceof OutputLayer) || !(out.getActivationFn() instanceof ActivationSoftmax)) {
            throw new ModelFormatException(source + ": the output layer must be a dense OutputLayer with softmax"
                    + " activation, found " + out.getClass().getSimpleName() + " with " + out.getActivationFn());
        }
        long nOut = outputSize(net);
        if (nOut != numClasses) {
            throw new ModelFormatException(source + ": the model has " + nOut + " outputs but data.num-classes = "
                    + numClasses);
        }
        long nIn = inputSize(net);
        if (featureLength >= 0 && nIn != featureLength) {
            throw new ModelFormatException(source + ": the model expects " + nIn + " input features but the data has "
                    + featureLength);
        }
    }

    /** The configured name of layer {@code i}, or {@code layer<i>}. */
    public static String name(MultiLayerNetwork net, int i) {
        String n = net.getLayer(i).conf().getLayer().getLayerName();
        return n == null || n.isBlank() ? "layer" + i : n;
    }

    /** Result of {@link #prunableLayers}: the layers to prune and the ones skipped, with reasons. */
    public record LayerSurvey(List<PrunableLayer> prunable, List<String> skipped) {}

    /**
     * Dense and 2-D convolution layers (and the dense output layer when {@code includeOutput}) are
     * prunable; every other layer with parameters is listed in {@code skipped} with the reason,
     * never silently ignored.
     */
    public static LayerSurvey prunableLayers(MultiLayerNetwork net, boolean includeOutput) {
        List<PrunableLayer> prunable = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        int last = net.getnLayers() - 1;
        for (int i = 0; i <= last; i++) {
            org.deeplearning4j.nn.conf.layers.Layer conf = net.getLayer(i).conf().getLayer();
            String name = name(net, i);
            boolean isOutput = i == last;
            if (conf instanceof DenseLayer || conf instanceof OutputLayer) {
                FeedForwardLayer ff = (FeedForwardLayer) conf;
                if (isOutput && !includeOutput) {
                    skipped.add(name + " (output layer; set prune.prune-output-layer = true to prune it)");
                } else {
                    prunable.add(PrunableLayer.dense(i, name, ff.getNIn(), ff.getNOut(), isOutput));
                }
            } else if (conf.getClass() == ConvolutionLayer.class) {
                // Exact class: subclasses (1-D, depthwise, separable, deconvolution) lay out W differently.
                ConvolutionLayer c = (ConvolutionLayer) conf;
                if (c.getKernelSize().length != 2) {
                    skipped.add(name + " (convolution with a " + c.getKernelSize().length + "-D kernel: not supported)");
                } else if (c.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
                    skipped.add(name + " (convolution in " + c.getCnn2dDataFormat() + " format: only NCHW is supported)");
                } else if (c.hasBias() && net.getLayer(i).getParam("b") == null) {
                    skipped.add(name + " (convolution without a readable bias)");
                } else {
                    prunable.add(new PrunableLayer(i, name, PrunableLayer.Kind.CONVOLUTION, c.getNIn(),
                            c.getKernelSize()[0], c.getKernelSize()[1], c.getNOut(), false));
                }
            } else if (conf instanceof BatchNormalization) {
                skipped.add(name + " (BatchNormalization: not pruned itself; structured pruning cuts it with the"
                        + " layer before it)");
            } else if (net.getLayer(i).numParams() > 0) {
                skipped.add(name + " (" + conf.getClass().getSimpleName() + ": not supported by this version)");
            }
        }
        return new LayerSurvey(List.copyOf(prunable), List.copyOf(skipped));
    }

    /** Number of parameters of all layers (weights and biases). */
    public static long parameterCount(MultiLayerNetwork net) {
        return net.numParams();
    }

    /**
     * Why {@code net} is not a plain chain of dense layers (naming the layer), or empty: every layer
     * but the last a {@code DenseLayer}, the last an {@code OutputLayer}, with no input
     * pre-processors, dropout, weight noise or layer normalization, so that training and inference
     * passes agree and the rows of a batch never interact. Code that runs such a network with its own
     * matrix products (the fused KD step, batched per-example gradients) checks this first.
     */
    public static java.util.Optional<String> notDenseChain(MultiLayerNetwork net) {
        org.deeplearning4j.nn.conf.MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        int n = conf.getConfs().size();
        for (int i = 0; i < n; i++) {
            org.deeplearning4j.nn.conf.layers.Layer l = conf.getConf(i).getLayer();
            String name = "layer " + i + (l.getLayerName() == null ? "" : " (" + l.getLayerName() + ")");
            Class<?> expected = i == n - 1 ? org.deeplearning4j.nn.conf.layers.OutputLayer.class
                    : org.deeplearning4j.nn.conf.layers.DenseLayer.class;
            if (l.getClass() != expected) {
                return java.util.Optional.of(name + " is a " + l.getClass().getSimpleName()
                        + "; expected DenseLayers followed by one OutputLayer");
            }
            String why = l.getIDropout() != null ? "has dropout"
                    : ((org.deeplearning4j.nn.conf.layers.BaseLayer) l).getWeightNoise() != null ? "has weight noise"
                    : l instanceof org.deeplearning4j.nn.conf.layers.DenseLayer d && d.hasLayerNorm()
                            ? "has layer normalization"
                    : null;
            if (why != null) {
                return java.util.Optional.of(name + " " + why);
            }
        }
        if (conf.getInputPreProcessors() != null && !conf.getInputPreProcessors().isEmpty()) {
            return java.util.Optional.of("it has input pre-processors at layers " + conf.getInputPreProcessors().keySet());
        }
        return java.util.Optional.empty();
    }
}
