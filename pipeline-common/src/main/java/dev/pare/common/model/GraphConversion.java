package dev.pare.common.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Converts a DL4J {@link ComputationGraph} that is really sequential into an equivalent
 * {@link MultiLayerNetwork}, so that graph teachers can go through Pare's MultiLayerNetwork-only
 * pruning and distillation code.
 *
 * <p>A graph is <em>sequential</em> when it has exactly one network input and one network output,
 * and its vertices are all {@link LayerVertex}es forming one chain: each vertex has exactly one
 * input, each input or vertex feeds at most one later vertex, the chain starts at the network
 * input and ends at the network output, and no layer before the last is an output/loss layer.
 * Anything else (merge, element-wise, subset, frozen or other non-layer vertices, residual or
 * branching connections, several inputs or outputs, a graph with no layers) is refused with a
 * {@link ModelFormatException} naming the source and the offending vertex.
 *
 * <p>The result has, in chain order: the same layer configurations (cloned; layer names = vertex
 * names), the same input pre-processors at the same positions (e.g. the
 * {@code FeedForwardToCnnPreProcessor} that {@code setInputTypes(InputType.convolutionalFlat(..))}
 * puts on the first convolution vertex), the graph's data type, back-propagation / TBPTT settings,
 * workspace and cache modes, iteration and epoch counts (which Adam's bias correction and
 * schedules read), and every parameter copied exactly, BatchNormalization running mean and
 * variance included. Seeds and updater configurations are per layer in DL4J and travel with the
 * cloned layer configurations. When the graph holds updater state (e.g. restored with
 * {@code loadUpdater = true}), that state is copied too: both networks lay it out layer by layer in
 * the same order, so training either one further gives the same parameters.
 */
public final class GraphConversion {
    private static final String SEQUENTIAL_ONLY = "only sequential ComputationGraphs (one input, a chain of layer"
            + " vertices each with one input, one output) can be converted to a MultiLayerNetwork";

    private GraphConversion() {}

    /**
     * Whether a {@code configuration.json} written by {@code ModelSerializer} describes a
     * ComputationGraph: its top-level object has a {@code "vertices"} field (a MultiLayerNetwork's
     * has {@code "confs"}). Parsing, unlike a substring test, is not fooled by a MultiLayerNetwork
     * layer named "vertices".
     *
     * @throws ModelFormatException naming {@code source} if the text is not a JSON object
     */
    public static boolean isGraphConfiguration(String configurationJson, String source) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(configurationJson);
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(source + " has a configuration.json that is not valid JSON: "
                    + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(source + " has a configuration.json that is not a JSON object");
        }
        return root.has("vertices");
    }

    /**
     * The sequential {@code graph} as an initialised MultiLayerNetwork with the same outputs on
     * every input. The graph is not changed and shares no configuration or arrays with the result.
     *
     * @param source names the graph in error messages (a file path, "teacher", ...)
     * @throws ModelFormatException naming {@code source} and the offending vertex if the graph is
     *     not sequential
     */
    public static MultiLayerNetwork toMultiLayer(ComputationGraph graph, String source) {
        ComputationGraphConfiguration conf = graph.getConfiguration();
        List<String> chain = sequentialChain(graph, source);

        List<NeuralNetConfiguration> confs = new ArrayList<>(chain.size());
        Map<Integer, InputPreProcessor> preProcessors = new HashMap<>();
        for (int i = 0; i < chain.size(); i++) {
            LayerVertex vertex = (LayerVertex) conf.getVertices().get(chain.get(i));
            NeuralNetConfiguration layerConf = vertex.getLayerConf().clone();
            layerConf.getLayer().setLayerName(chain.get(i));
            confs.add(layerConf);
            if (vertex.getPreProcessor() != null) {
                preProcessors.put(i, vertex.getPreProcessor().clone());
            }
        }
        MultiLayerConfiguration mlc = new MultiLayerConfiguration.Builder()
                .confs(confs)
                .inputPreProcessors(preProcessors)
                .dataType(conf.getDataType())
                .backpropType(conf.getBackpropType())
                .tBPTTForwardLength(conf.getTbpttFwdLength())
                .tBPTTBackwardLength(conf.getTbpttBackLength())
                .trainingWorkspaceMode(conf.getTrainingWorkspaceMode())
                .inferenceWorkspaceMode(conf.getInferenceWorkspaceMode())
                .cacheMode(conf.getCacheMode())
                .validateOutputLayerConfig(conf.isValidateOutputLayerConfig())
                .build();
        mlc.setIterationCount(conf.getIterationCount());
        mlc.setEpochCount(conf.getEpochCount());

        MultiLayerNetwork net = new MultiLayerNetwork(mlc);
        net.init();
        for (int i = 0; i < chain.size(); i++) {
            copyParameters(graph.getLayer(chain.get(i)), net.getLayer(i), chain.get(i), source);
        }
        copyUpdaterState(graph, net, source);
        return net;
    }

    /**
     * The layer vertex names from the network input to the network output, after checking that the
     * graph is sequential (see the class comment).
     */
    private static List<String> sequentialChain(ComputationGraph graph, String source) {
        ComputationGraphConfiguration conf = graph.getConfiguration();
        List<String> inputs = conf.getNetworkInputs();
        List<String> outputs = conf.getNetworkOutputs();
        if (inputs.size() != 1) {
            throw refuse(source, "has " + inputs.size() + " network inputs " + inputs);
        }
        if (outputs.size() != 1) {
            throw refuse(source, "has " + outputs.size() + " network outputs " + outputs);
        }
        // Vertices in topological order, so that the first offending vertex reported is the earliest.
        Map<String, GraphVertex> vertices = new LinkedHashMap<>();
        for (int idx : graph.topologicalSortOrder()) {
            String name = graph.getVertices()[idx].getVertexName();
            if (conf.getVertices().containsKey(name)) {
                vertices.put(name, conf.getVertices().get(name));
            }
        }
        Map<String, String> consumerOf = new HashMap<>();
        for (Map.Entry<String, GraphVertex> e : vertices.entrySet()) {
            String name = e.getKey();
            List<String> in = conf.getVertexInputs().getOrDefault(name, List.of());
            if (!(e.getValue() instanceof LayerVertex)) {
                throw refuse(source, "vertex '" + name + "' (type " + e.getValue().getClass().getSimpleName()
                        + ", inputs " + in + ") is not a layer vertex");
            }
            if (in.size() != 1) {
                throw refuse(source, "vertex '" + name + "' has " + in.size() + " inputs " + in);
            }
            String previous = consumerOf.putIfAbsent(in.get(0), name);
            if (previous != null) {
                throw refuse(source, "vertex '" + in.get(0) + "' feeds more than one vertex ('" + previous
                        + "' and '" + name + "')");
            }
        }
        List<String> chain = new ArrayList<>();
        String at = inputs.get(0);
        while (consumerOf.containsKey(at)) {
            at = consumerOf.get(at);
            chain.add(at);
        }
        if (chain.isEmpty()) {
            throw refuse(source, "has no layer vertex after its input '" + inputs.get(0) + "'");
        }
        if (!at.equals(outputs.get(0))) {
            throw refuse(source, "the chain from input '" + inputs.get(0) + "' ends at vertex '" + at
                    + "', not at the network output '" + outputs.get(0) + "'");
        }
        if (chain.size() != vertices.size()) {
            // Unreachable for a valid DL4J graph (every vertex would be on the chain), kept as a guard.
            List<String> off = new ArrayList<>(vertices.keySet());
            off.removeAll(chain);
            throw refuse(source, "vertices " + off + " are not on the chain from input '" + inputs.get(0) + "'");
        }
        for (int i = 0; i < chain.size() - 1; i++) {
            if (graph.getLayer(chain.get(i)) instanceof IOutputLayer) {
                throw refuse(source, "vertex '" + chain.get(i) + "' is an output layer but not the last vertex (the"
                        + " last is '" + chain.get(chain.size() - 1) + "')");
            }
        }
        return chain;
    }

    private static ModelFormatException refuse(String source, String what) {
        return new ModelFormatException(source + ": ComputationGraph " + what + "; " + SEQUENTIAL_ONLY);
    }

    /** Copies every parameter (weights, biases, BatchNormalization mean/var ...) by key, checking shapes. */
    private static void copyParameters(Layer from, Layer to, String vertex, String source) {
        Map<String, INDArray> fromTable = from.paramTable();
        Map<String, INDArray> toTable = to.paramTable();
        if (!fromTable.keySet().equals(toTable.keySet())) {
            throw new ModelFormatException(source + ": vertex '" + vertex + "' has parameters " + fromTable.keySet()
                    + " but the converted layer has " + toTable.keySet());
        }
        for (Map.Entry<String, INDArray> e : fromTable.entrySet()) {
            INDArray target = toTable.get(e.getKey());
            if (!Arrays.equals(target.shape(), e.getValue().shape())) {
                throw new ModelFormatException(source + ": vertex '" + vertex + "' parameter " + e.getKey()
                        + " has shape " + Arrays.toString(e.getValue().shape())
                        + " but the converted layer expects " + Arrays.toString(target.shape()));
            }
            // assign writes into the network's flat parameter view, so net.params() sees the copy.
            target.assign(e.getValue());
        }
    }

    /**
     * Copies the updater state (Adam moments etc.) when the graph has any. Both updaters lay out
     * state in blocks of consecutive parameters with equal updater configuration, layer by layer
     * in the same order, so the flat arrays line up; lengths are checked anyway.
     */
    private static void copyUpdaterState(ComputationGraph graph, MultiLayerNetwork net, String source) {
        ComputationGraphUpdater graphUpdater = graph.getUpdater(false);
        INDArray state = graphUpdater == null ? null : graphUpdater.getStateViewArray();
        if (state == null || state.length() == 0) {
            return;
        }
        Updater netUpdater = net.getUpdater(true);
        INDArray target = netUpdater.getStateViewArray();
        if (target == null || target.length() != state.length()) {
            throw new ModelFormatException(source + ": the graph's updater state has " + state.length()
                    + " values but the converted network's has " + (target == null ? 0 : target.length()));
        }
        target.assign(state.reshape(target.shape()));
    }
}
