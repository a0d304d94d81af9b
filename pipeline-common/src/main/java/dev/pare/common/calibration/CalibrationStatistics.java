package dev.pare.common.calibration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.model.ForwardPass;
import dev.pare.common.model.Networks;
import dev.pare.common.model.PrunableLayer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per-layer calibration statistics of a teacher: for every dense layer, the column square sums
 * of its inputs ({@link ColumnSquareSums}). Built per Spark partition with {@link #add}, merged
 * in partition order with {@link #merge}; the merge of parts equals the statistics of the union.
 *
 * <p>File format ({@code calibration/statistics.json}, UTF-8 JSON; doubles are written in their
 * shortest exact form, so a reload is bit-identical):
 * <pre>{@code
 * { "format": "pare-calibration-statistics/1",
 *   "samples": 2048,
 *   "layers": [ { "index": 0, "name": "fc1", "nIn": 784, "count": 2048,
 *                 "inputSquareSums": [ ... nIn doubles ... ] }, ... ] }
 * }</pre>
 */
public final class CalibrationStatistics implements Serializable {
    private static final long serialVersionUID = 1L;
    public static final String FORMAT = "pare-calibration-statistics/1";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Statistics of one layer. */
    public record LayerStatistics(int index, String name, ColumnSquareSums inputSquareSums) implements Serializable {}

    private final LinkedHashMap<Integer, LayerStatistics> layers;

    private CalibrationStatistics(LinkedHashMap<Integer, LayerStatistics> layers) {
        this.layers = layers;
    }

    /** Empty accumulators for every dense layer of {@code net}, output layer included. */
    public static CalibrationStatistics emptyFor(MultiLayerNetwork net) {
        LinkedHashMap<Integer, LayerStatistics> m = new LinkedHashMap<>();
        for (PrunableLayer l : Networks.prunableLayers(net, true).prunable()) {
            m.put(l.index(), new LayerStatistics(l.index(), l.name(), new ColumnSquareSums((int) l.nIn())));
        }
        return new CalibrationStatistics(m);
    }

    /** Runs {@code net} forward on {@code features} and adds every layer's input rows. */
    public void add(MultiLayerNetwork net, INDArray features) {
        add(ForwardPass.run(net, features));
    }

    /** Adds the layer inputs of a forward pass that was already run. */
    public void add(ForwardPass pass) {
        for (LayerStatistics l : layers.values()) {
            l.inputSquareSums().add(pass.layerInputs().get(l.index()));
        }
    }

    /** Adds {@code other} (same layers) into this. */
    public void merge(CalibrationStatistics other) {
        if (!other.layers.keySet().equals(layers.keySet())) {
            throw new IllegalArgumentException("cannot merge statistics of layers " + other.layers.keySet()
                    + " into " + layers.keySet());
        }
        for (LayerStatistics l : layers.values()) {
            l.inputSquareSums().merge(other.layers.get(l.index()).inputSquareSums());
        }
    }

    /** Merges parts in the order given (callers pass partition order) into a new object. */
    public static CalibrationStatistics mergeInOrder(List<CalibrationStatistics> parts) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("no calibration statistics to merge");
        }
        CalibrationStatistics total = parts.get(0).copy();
        for (int i = 1; i < parts.size(); i++) {
            total.merge(parts.get(i));
        }
        return total;
    }

    public CalibrationStatistics copy() {
        LinkedHashMap<Integer, LayerStatistics> m = new LinkedHashMap<>();
        layers.forEach((k, v) -> m.put(k, new LayerStatistics(v.index(), v.name(), v.inputSquareSums().copy())));
        return new CalibrationStatistics(m);
    }

    /** Statistics of layer {@code index}. */
    public LayerStatistics layer(int index) {
        LayerStatistics l = layers.get(index);
        if (l == null) {
            throw new IllegalArgumentException("no calibration statistics for layer " + index + "; have " + layers.keySet());
        }
        return l;
    }

    public List<LayerStatistics> layers() {
        return Collections.unmodifiableList(new ArrayList<>(layers.values()));
    }

    /** Rows seen (the count of the first layer; every layer sees every row). */
    public long samples() {
        return layers.isEmpty() ? 0 : layers.values().iterator().next().inputSquareSums().count();
    }

    public void write(OutputStream out) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("samples", samples());
        ArrayNode arr = root.putArray("layers");
        for (LayerStatistics l : layers.values()) {
            ObjectNode n = arr.addObject();
            n.put("index", l.index());
            n.put("name", l.name());
            n.put("nIn", l.inputSquareSums().columns());
            n.put("count", l.inputSquareSums().count());
            ArrayNode s = n.putArray("inputSquareSums");
            for (double v : l.inputSquareSums().sums()) {
                s.add(v);
            }
        }
        JSON.writeValue(out, root);
    }

    public static CalibrationStatistics read(InputStream in, String source) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(in);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(source + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !FORMAT.equals(root.path("format").asText())) {
            throw new IOException(source + ": not a Pare calibration statistics file (expected format " + FORMAT + ")");
        }
        if (!root.path("layers").isArray() || root.path("layers").isEmpty()) {
            throw new IOException(source + ": calibration statistics without layers");
        }
        LinkedHashMap<Integer, LayerStatistics> m = new LinkedHashMap<>();
        for (JsonNode n : root.path("layers")) {
            JsonNode s = n.path("inputSquareSums");
            double[] sums = new double[s.size()];
            for (int j = 0; j < sums.length; j++) {
                sums[j] = s.get(j).asDouble();
            }
            if (sums.length != n.path("nIn").asInt()) {
                throw new IOException(source + ": layer " + n.path("name").asText() + " has " + sums.length
                        + " sums but nIn = " + n.path("nIn").asInt());
            }
            int index = n.path("index").asInt();
            m.put(index, new LayerStatistics(index, n.path("name").asText(),
                    new ColumnSquareSums(sums, n.path("count").asLong())));
        }
        return new CalibrationStatistics(m);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof CalibrationStatistics other) || !other.layers.keySet().equals(layers.keySet())) {
            return false;
        }
        for (Map.Entry<Integer, LayerStatistics> e : layers.entrySet()) {
            ColumnSquareSums a = e.getValue().inputSquareSums();
            ColumnSquareSums b = other.layers.get(e.getKey()).inputSquareSums();
            if (a.count() != b.count() || !java.util.Arrays.equals(a.sums(), b.sums())) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return layers.keySet().hashCode();
    }
}
