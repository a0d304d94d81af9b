package dev.pare.common.calibration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.model.ConvColumns;
import dev.pare.common.model.ForwardPass;
import dev.pare.common.model.FusedBackprop;
import dev.pare.common.model.LayerWeights;
import dev.pare.common.model.Networks;
import dev.pare.common.model.PrunableLayer;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Per-layer calibration statistics of a teacher, for every prunable layer (dense and 2-D
 * convolution, output layer included): always the column square sums of the layer's input
 * ({@link ColumnSquareSums}; im2col columns for convolutions), and, when asked for, the Gram
 * matrix {@code XᵀX} ({@link GramMatrix}), per-weight gradient sums ({@link WeightGradientSums}),
 * per-unit output activation sums ({@link UnitActivationSums}) and the input/output cosine
 * similarity of layers whose input and output shapes match ({@link CosineSimilaritySums}).
 * Built per Spark partition with {@link #add}, merged in partition order with {@link #merge}; the
 * merge of parts equals the statistics of the union up to double rounding.
 *
 * <p>Gradient statistics are in the matrix view of {@link PrunableLayer} (row-major
 * {@code [nIn, nOut]}), of the teacher's own loss on groups of {@code gradientBatchSize} examples,
 * as DL4J's training-mode backward pass gives them. Dense networks ({@code DenseDeltas}) and float
 * CNNs ({@link FusedBackprop}) take them from one batched backward pass per batch (no layer mixes
 * examples); other networks from one DL4J backward pass per group.
 *
 * <p>Files ({@code calibration/}): {@code statistics.json}, UTF-8 JSON with doubles in their
 * shortest exact form (a reload is bit-identical), and one {@code gram-<index>.bin} per layer
 * when Gram matrices were computed:
 * <pre>{@code
 * { "format": "pare-calibration-statistics/2", "samples": 2048,
 *   "statistics": ["INPUT_NORMS", "GRAM", ...],
 *   "layers": [ { "index": 0, "name": "fc1", "kind": "DENSE", "nIn": 784, "nOut": 300,
 *                 "count": 2048, "inputSquareSums": [ nIn doubles ],
 *                 "outputActivations": { "count": n, "absSums": [...], "squareSums": [...] },
 *                 "gradients": { "count": n, "taylorSums": [...], "squareGradientSums": [...] },
 *                 "cosine": { "sum": s, "count": n },
 *                 "gram": { "file": "gram-0.bin", "count": n } }, ... ] }
 * }</pre>
 * A gram file is big-endian: magic {@code PAREGRAM}, int version 1, int d, long count, then the
 * {@code d·d} sums row by row. Format 1 files (input square sums only) still load.
 */
public final class CalibrationStatistics implements Serializable {
    private static final long serialVersionUID = 2L;
    public static final String FORMAT = "pare-calibration-statistics/2";
    private static final String FORMAT_1 = "pare-calibration-statistics/1";
    public static final String FILE = "statistics.json";
    private static final byte[] GRAM_MAGIC = "PAREGRAM".getBytes(StandardCharsets.US_ASCII);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Opens the named file of a statistics folder for writing. */
    @FunctionalInterface
    public interface Sink {
        OutputStream create(String name) throws IOException;
    }

    /** Opens the named file of a statistics folder for reading. */
    @FunctionalInterface
    public interface Source {
        InputStream open(String name) throws IOException;
    }

    /** Statistics of one layer; the optional parts are null when not computed. */
    public static final class LayerStatistics implements Serializable {
        private static final long serialVersionUID = 2L;
        private final PrunableLayer layer;
        private final ColumnSquareSums inputSquareSums;
        private final GramMatrix gram;
        private final WeightGradientSums gradients;
        private final UnitActivationSums outputActivations;
        private CosineSimilaritySums cosine;

        public LayerStatistics(PrunableLayer layer, ColumnSquareSums inputSquareSums, GramMatrix gram,
                               WeightGradientSums gradients, UnitActivationSums outputActivations,
                               CosineSimilaritySums cosine) {
            this.layer = layer;
            this.inputSquareSums = inputSquareSums;
            this.gram = gram;
            this.gradients = gradients;
            this.outputActivations = outputActivations;
            this.cosine = cosine;
        }

        /** Input norms only, of a dense layer {@code [inputSquareSums.columns(), ?]} (tests and tools). */
        public static LayerStatistics inputNorms(int index, String name, ColumnSquareSums inputSquareSums) {
            return new LayerStatistics(PrunableLayer.dense(index, name, inputSquareSums.columns(), -1, false),
                    inputSquareSums, null, null, null, null);
        }

        public int index() {
            return layer.index();
        }

        public String name() {
            return layer.name();
        }

        public PrunableLayer layer() {
            return layer;
        }

        public ColumnSquareSums inputSquareSums() {
            return inputSquareSums;
        }

        public GramMatrix gram() {
            return gram;
        }

        public WeightGradientSums gradients() {
            return gradients;
        }

        public UnitActivationSums outputActivations() {
            return outputActivations;
        }

        /** Null unless the layer's input and output had the same shape (and COSINE was asked for). */
        public CosineSimilaritySums cosine() {
            return cosine;
        }

        public boolean has(Statistic s) {
            return switch (s) {
                case INPUT_NORMS -> inputSquareSums != null;
                case GRAM -> gram != null;
                case GRADIENTS -> gradients != null;
                case OUTPUT_ACTIVATIONS -> outputActivations != null;
                case COSINE -> cosine != null;
            };
        }

        /** A flat row-major {@code [nIn · nOut]} statistic as a matrix shaped like {@code weights}. */
        public double[][] matrix(double[] flat, double[][] weights, String what) {
            int nIn = weights.length;
            int nOut = nIn == 0 ? 0 : weights[0].length;
            if (flat.length != (long) nIn * nOut) {
                throw new IllegalArgumentException("layer " + name() + ": " + what + " statistics have " + flat.length
                        + " values but the weights are " + nIn + "x" + nOut);
            }
            double[][] m = new double[nIn][];
            for (int i = 0; i < nIn; i++) {
                m[i] = Arrays.copyOfRange(flat, i * nOut, (i + 1) * nOut);
            }
            return m;
        }

        LayerStatistics copy() {
            return new LayerStatistics(layer, inputSquareSums.copy(), gram == null ? null : gram.copy(),
                    gradients == null ? null : gradients.copy(),
                    outputActivations == null ? null : outputActivations.copy(), cosine == null ? null : cosine.copy());
        }

        void merge(LayerStatistics o) {
            inputSquareSums.merge(o.inputSquareSums);
            if (gram != null) {
                gram.merge(o.gram);
            }
            if (gradients != null) {
                gradients.merge(o.gradients);
            }
            if (outputActivations != null) {
                outputActivations.merge(o.outputActivations);
            }
            if (o.cosine != null) {
                if (cosine == null) {
                    cosine = o.cosine.copy();
                } else {
                    cosine.merge(o.cosine);
                }
            }
        }
    }

    /** The statistics a fused pass gives without DL4J's forward pass. */
    private static final Set<Statistic> FUSED_FORWARD = EnumSet.of(Statistic.INPUT_NORMS, Statistic.GRADIENTS);
    private final EnumSet<Statistic> computed;
    private final LinkedHashMap<Integer, LayerStatistics> layers;
    private long samples;
    /** {@link #fused}'s cache: not part of the statistics, and not sent with them. */
    private transient FusedBackprop backprop;
    private transient MultiLayerNetwork backpropNet;
    /** One gradient matrix per layer, {@code [nIn, nOut]} 'f', reused batch after batch (a task's batches). */
    private transient HashMap<Integer, INDArray> gradientBuffers;

    private CalibrationStatistics(EnumSet<Statistic> computed, LinkedHashMap<Integer, LayerStatistics> layers,
                                  long samples) {
        this.computed = computed;
        this.layers = layers;
        this.samples = samples;
    }

    /** Empty accumulators of input square sums for every prunable layer of {@code net}. */
    public static CalibrationStatistics emptyFor(MultiLayerNetwork net) {
        return emptyFor(net, EnumSet.of(Statistic.INPUT_NORMS), Long.MAX_VALUE);
    }

    /**
     * Empty accumulators of {@code statistics} (INPUT_NORMS is always added) for every prunable
     * layer of {@code net}.
     *
     * @param maxGramBytes refuse when the Gram matrices of all layers would need more memory
     */
    public static CalibrationStatistics emptyFor(MultiLayerNetwork net, Set<Statistic> statistics, long maxGramBytes) {
        EnumSet<Statistic> s = EnumSet.of(Statistic.INPUT_NORMS);
        s.addAll(statistics);
        List<PrunableLayer> prunable = Networks.prunableLayers(net, true).prunable();
        if (s.contains(Statistic.GRAM)) {
            long total = 0;
            StringBuilder widths = new StringBuilder();
            for (PrunableLayer l : prunable) {
                total += GramMatrix.bytes((int) l.nIn());
                widths.append(widths.length() == 0 ? "" : ", ").append(l.name()).append(' ').append(l.nIn());
            }
            if (total > maxGramBytes) {
                throw new IllegalArgumentException("the XᵀX matrices sparsegpt needs take " + total + " bytes (8·nIn² per"
                        + " layer; nIn: " + widths + "), above calibration.max-gram-bytes = " + maxGramBytes
                        + "; raise it if the executors and the driver have the memory, or exclude wide layers");
            }
        }
        LinkedHashMap<Integer, LayerStatistics> m = new LinkedHashMap<>();
        for (PrunableLayer l : prunable) {
            int nIn = (int) l.nIn();
            m.put(l.index(), new LayerStatistics(l, new ColumnSquareSums(nIn),
                    s.contains(Statistic.GRAM) ? new GramMatrix(nIn) : null,
                    s.contains(Statistic.GRADIENTS) ? new WeightGradientSums(l.nIn(), l.nOut()) : null,
                    s.contains(Statistic.OUTPUT_ACTIVATIONS) ? new UnitActivationSums((int) l.nOut()) : null, null));
        }
        return new CalibrationStatistics(s, m, 0);
    }

    /** The kinds of statistics held. */
    public Set<Statistic> computed() {
        return Collections.unmodifiableSet(computed);
    }

    /** Runs {@code net} forward on {@code features} and adds the forward-pass statistics. */
    public void add(MultiLayerNetwork net, INDArray features) {
        add(net, ForwardPass.run(net, features));
    }

    /** Adds the forward-pass statistics of a pass of {@code net} that was already run. */
    public void add(MultiLayerNetwork net, ForwardPass pass) {
        for (LayerStatistics l : layers.values()) {
            INDArray in = pass.layerInputs().get(l.index());
            if (l.layer().kind() == PrunableLayer.Kind.CONVOLUTION) {
                ConvColumns cols = ConvColumns.of((ConvolutionLayer) net.getLayer(l.index()).conf().getLayer());
                l.inputSquareSums.merge(new ColumnSquareSums(cols.squareSums(in), cols.rowCount(in)));
                if (l.gram != null) {
                    l.gram.add(cols.rows(in));
                }
            } else {
                l.inputSquareSums.add(in);
                if (l.gram != null) {
                    l.gram.add(in);
                }
            }
            INDArray out = pass.layerOutputs().get(l.index());
            if (l.outputActivations != null) {
                l.outputActivations.add(out);
            }
            if (computed.contains(Statistic.COSINE) && Arrays.equals(in.shape(), out.shape())) {
                if (l.cosine == null) {
                    l.cosine = new CosineSimilaritySums();
                }
                l.cosine.add(in, out);
            }
        }
        samples += pass.logits().rows();
    }

    /**
     * Adds everything for one batch: the forward-pass statistics, and when GRADIENTS are held, the
     * gradient sums of the teacher's loss on consecutive groups of {@code gradientBatchSize} rows.
     *
     * @param labels one-hot {@code [batch, numClasses]}, same data type as the network; may be null
     *               when GRADIENTS are not held
     */
    public void add(MultiLayerNetwork net, INDArray features, INDArray labels, int gradientBatchSize) {
        add(net, features, labels, gradientBatchSize, null);
    }

    /**
     * {@link #add(MultiLayerNetwork, INDArray, INDArray, int)} with the forward pass run into
     * {@code buffers} (a task's arrays, reused batch after batch; null: fresh ones).
     */
    public void add(MultiLayerNetwork net, INDArray features, INDArray labels, int gradientBatchSize,
                    ForwardPass.Buffers buffers) {
        boolean gradients = computed.contains(Statistic.GRADIENTS);
        // Checked before anything is added, so that a refused batch leaves these statistics unchanged.
        if (gradients) {
            if (labels == null || labels.rows() != features.rows()) {
                throw new IllegalArgumentException("gradient statistics need one label row per example");
            }
            if (gradientBatchSize < 1) {
                throw new IllegalArgumentException("the gradient batch size must be at least 1, was " + gradientBatchSize);
            }
            checkGradientBatch(net, gradientBatchSize);
        }
        long n = features.rows();
        boolean dense = DenseDeltas.supports(net);
        FusedBackprop passes = gradients && !dense ? fused(net) : null;
        if (passes != null && FUSED_FORWARD.containsAll(computed)) {
            // One forward pass for everything: the input norms come from the fused pass's own layer
            // inputs, so DL4J's forward pass (as costly as the fused one) is not run.
            INDArray logits = passes.forward(features);
            for (LayerStatistics l : layers.values()) {
                if (l.layer().kind() == PrunableLayer.Kind.CONVOLUTION) {
                    l.inputSquareSums.merge(new ColumnSquareSums(passes.convolutionInputSquareSums(l.index()),
                            n * passes.convolutionPositions(l.index())));
                } else {
                    l.inputSquareSums.add(passes.denseInput(l.index()));
                }
            }
            samples += n;
            addFusedGradients(net, passes, logits, labels, gradientBatchSize);
            return;
        }
        ForwardPass pass = ForwardPass.run(net, features, buffers);
        add(net, pass);
        if (!gradients) {
            return;
        }
        if (dense) {
            // A dense network: every example's δ from one batched backward pass; a group's gradient
            // (summed over its rows, as DL4J's backward pass gives it) is A_gᵀ Δ_g.
            INDArray[] deltas = DenseDeltas.perExample(net, pass, labels);
            for (LayerStatistics l : layers.values()) {
                addDenseGradients(l, LayerWeights.weightParam(net.getLayer(l.index()), l.layer()),
                        pass.layerInputs().get(l.index()), deltas[l.index()], gradientBatchSize);
            }
            return;
        }
        if (passes != null) {
            addFusedGradients(net, passes, passes.forward(features), labels, gradientBatchSize);
            return;
        }
        for (long from = 0; from < n; from += gradientBatchSize) {
            long to = Math.min(n, from + gradientBatchSize);
            net.setInput(features.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, to)).dup());
            net.setLabels(labels.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, to)).dup());
            net.computeGradientAndScore();
            for (LayerStatistics l : layers.values()) {
                INDArray w = LayerWeights.weightParam(net.getLayer(l.index()), l.layer());
                INDArray g = net.gradient().getGradientFor(l.index() + "_W");
                l.gradients.add(LayerWeights.toMatrixView(w, l.layer()), LayerWeights.toMatrixView(g, l.layer()));
            }
        }
        net.clear();
    }

    /**
     * The gradient samples of every layer from one batched backward pass of Pare's own (convolutions
     * as GEMMs on im2col matrices) after {@code passes.forward} gave {@code logits}: no layer mixes
     * examples, so a group's gradient is its examples' share of the batched products.
     */
    private void addFusedGradients(MultiLayerNetwork net, FusedBackprop passes, INDArray logits, INDArray labels,
                                   int gradientBatchSize) {
        long n = logits.rows();
        OutputLayer out = (OutputLayer) net.getLayer(net.getnLayers() - 1).conf().getLayer();
        passes.backward(out.getLossFn().computeGradient(labels, logits.dup(), out.getActivationFn(), null), null);
        for (LayerStatistics l : layers.values()) {
            INDArray w = LayerWeights.weightParam(net.getLayer(l.index()), l.layer());
            if (gradientBatchSize >= n) {
                // One group: its gradient is the one the backward pass wrote.
                INDArray g = passes.gradient().getGradientFor(l.index() + "_W");
                l.gradients.add(LayerWeights.toMatrixView(w, l.layer()), LayerWeights.toMatrixView(g, l.layer()));
                continue;
            }
            if (l.layer().kind() == PrunableLayer.Kind.DENSE) {
                INDArray[] inputAndDelta = passes.denseInputAndDelta(l.index());
                addDenseGradients(l, w, inputAndDelta[0], inputAndDelta[1], gradientBatchSize);
                continue;
            }
            INDArray view = LayerWeights.toMatrixView(w, l.layer());
            INDArray g = gradientBuffer(l, w.dataType());
            for (long from = 0; from < n; from += gradientBatchSize) {
                passes.weightGradient(l.index(), (int) from, (int) Math.min(n, from + gradientBatchSize), g);
                l.gradients.add(view, g);
            }
        }
    }

    /**
     * The gradient samples of dense layer {@code l} with weights {@code w}, from its inputs
     * {@code [n, nIn]} and per-example {@code δ} {@code [n, nOut]}: per example as outer products,
     * or per group of {@code gradientBatchSize} rows as {@code A_gᵀ Δ_g}.
     */
    private void addDenseGradients(LayerStatistics l, INDArray w, INDArray in, INDArray delta,
                                   int gradientBatchSize) {
        if (gradientBatchSize == 1) {
            l.gradients.addOuterProducts(w, in, delta);
            return;
        }
        long n = in.rows();
        INDArray g = gradientBuffer(l, delta.dataType());
        for (long from = 0; from < n; from += gradientBatchSize) {
            long to = Math.min(n, from + gradientBatchSize);
            INDArrayIndex[] group = {NDArrayIndex.interval(from, to), NDArrayIndex.all()};
            Nd4j.gemm(in.get(group), delta.get(group), g, true, false, 1.0, 0.0);
            l.gradients.add(w, g);
        }
    }

    /** Layer {@code l}'s gradient matrix {@code [nIn, nOut]} 'f' of {@code type}, allocated once (natively: costly). */
    private INDArray gradientBuffer(LayerStatistics l, DataType type) {
        if (gradientBuffers == null) {
            gradientBuffers = new HashMap<>();
        }
        INDArray g = gradientBuffers.get(l.index());
        if (g == null || g.dataType() != type) {
            g = Nd4j.createUninitialized(type, new long[] {l.layer().nIn(), l.layer().nOut()}, 'f');
            gradientBuffers.put(l.index(), g);
        }
        return g;
    }

    /**
     * The fused passes of {@code net}, or null when {@link FusedBackprop} cannot compute it; kept
     * while the same network is passed (a task's batches).
     */
    private FusedBackprop fused(MultiLayerNetwork net) {
        if (backpropNet != net) {
            backprop = FusedBackprop.unsupported(net).isEmpty() ? new FusedBackprop(net) : null;
            backpropNet = net;
        }
        return backprop;
    }

    /** Refuses per-example gradients through BatchNormalization (batch statistics of one example). */
    public static void checkGradientBatch(MultiLayerNetwork net, int gradientBatchSize) {
        if (gradientBatchSize < 2) {
            for (int i = 0; i < net.getnLayers(); i++) {
                if (net.getLayer(i).conf().getLayer() instanceof BatchNormalization) {
                    throw new IllegalArgumentException("layer " + Networks.name(net, i) + " is a BatchNormalization,"
                            + " which normalizes by batch statistics in DL4J's backward pass, so per-example gradients"
                            + " (calibration.gradient-batch-size = 1) are meaningless; use 32 or more");
                }
            }
        }
    }

    /** Adds {@code other} (same layers and statistics) into this. */
    public void merge(CalibrationStatistics other) {
        if (!other.layers.keySet().equals(layers.keySet()) || !other.computed.equals(computed)) {
            throw new IllegalArgumentException("cannot merge statistics " + other.computed + " of layers "
                    + other.layers.keySet() + " into " + computed + " of " + layers.keySet());
        }
        for (LayerStatistics l : layers.values()) {
            l.merge(other.layers.get(l.index()));
        }
        samples += other.samples;
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
        layers.forEach((k, v) -> m.put(k, v.copy()));
        return new CalibrationStatistics(EnumSet.copyOf(computed), m, samples);
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

    /** Examples seen. */
    public long samples() {
        return samples;
    }

    /** Writes {@value #FILE} and the Gram files through {@code sink}. */
    public void write(Sink sink) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("samples", samples);
        ArrayNode kinds = root.putArray("statistics");
        computed.forEach(s -> kinds.add(s.name()));
        ArrayNode arr = root.putArray("layers");
        for (LayerStatistics l : layers.values()) {
            ObjectNode n = arr.addObject();
            PrunableLayer p = l.layer();
            n.put("index", p.index());
            n.put("name", p.name());
            n.put("kind", p.kind().name());
            n.put("inChannels", p.inChannels());
            n.put("kernelH", p.kernelH());
            n.put("kernelW", p.kernelW());
            n.put("nIn", p.nIn());
            n.put("nOut", p.nOut());
            n.put("output", p.output());
            n.put("count", l.inputSquareSums.count());
            doubles(n.putArray("inputSquareSums"), l.inputSquareSums.sums());
            if (l.outputActivations != null) {
                ObjectNode a = n.putObject("outputActivations");
                a.put("count", l.outputActivations.count());
                doubles(a.putArray("absSums"), l.outputActivations.absSums());
                doubles(a.putArray("squareSums"), l.outputActivations.squareSums());
            }
            if (l.gradients != null) {
                ObjectNode g = n.putObject("gradients");
                g.put("count", l.gradients.count());
                doubles(g.putArray("taylorSums"), l.gradients.taylor());
                doubles(g.putArray("squareGradientSums"), l.gradients.squareGradientSums());
            }
            if (l.cosine != null) {
                ObjectNode c = n.putObject("cosine");
                c.put("sum", l.cosine.sum());
                c.put("count", l.cosine.count());
            }
            if (l.gram != null) {
                String file = "gram-" + p.index() + ".bin";
                ObjectNode g = n.putObject("gram");
                g.put("file", file);
                g.put("count", l.gram.count());
                try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(sink.create(file)))) {
                    out.write(GRAM_MAGIC);
                    out.writeInt(1);
                    out.writeInt(l.gram.dimension());
                    out.writeLong(l.gram.count());
                    for (double[] row : l.gram.sums()) {
                        for (double v : row) {
                            out.writeDouble(v);
                        }
                    }
                }
            }
        }
        try (OutputStream out = sink.create(FILE)) {
            JSON.writeValue(out, root);
        }
    }

    private static void doubles(ArrayNode a, double[] values) {
        for (double v : values) {
            a.add(v);
        }
    }

    /** Reads what {@link #write} wrote; {@code where} names the folder in error messages. */
    public static CalibrationStatistics read(Source source, String where) throws IOException {
        String at = where + "/" + FILE;
        JsonNode root;
        try (InputStream in = source.open(FILE)) {
            root = JSON.readTree(in);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(at + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        String format = root == null ? "" : root.path("format").asText();
        if (!FORMAT.equals(format) && !FORMAT_1.equals(format)) {
            throw new IOException(at + ": not a Pare calibration statistics file (expected format " + FORMAT + ")");
        }
        if (!root.path("layers").isArray() || root.path("layers").isEmpty()) {
            throw new IOException(at + ": calibration statistics without layers");
        }
        EnumSet<Statistic> computed = EnumSet.of(Statistic.INPUT_NORMS);
        for (JsonNode s : root.path("statistics")) {
            try {
                computed.add(Statistic.valueOf(s.asText()));
            } catch (IllegalArgumentException e) {
                throw new IOException(at + ": unknown statistic '" + s.asText() + "'");
            }
        }
        LinkedHashMap<Integer, LayerStatistics> m = new LinkedHashMap<>();
        for (JsonNode n : root.path("layers")) {
            String name = n.path("name").asText();
            int index = n.path("index").asInt();
            double[] sums = doubles(n.path("inputSquareSums"));
            long nIn = n.path("nIn").asLong();
            PrunableLayer p = n.has("kind")
                    ? new PrunableLayer(index, name, PrunableLayer.Kind.valueOf(n.path("kind").asText()),
                            n.path("inChannels").asLong(), n.path("kernelH").asInt(), n.path("kernelW").asInt(),
                            n.path("nOut").asLong(), n.path("output").asBoolean())
                    : PrunableLayer.dense(index, name, nIn, -1, false);
            if (sums.length != nIn || p.nIn() != nIn) {
                throw new IOException(at + ": layer " + name + " has " + sums.length + " input sums but nIn = " + nIn);
            }
            GramMatrix gram = null;
            if (n.has("gram")) {
                gram = readGram(source, n.path("gram").path("file").asText(), where, (int) nIn);
            }
            WeightGradientSums grads = null;
            if (n.has("gradients")) {
                JsonNode g = n.path("gradients");
                grads = new WeightGradientSums(new long[] {nIn, p.nOut()}, doubles(g.path("taylorSums")),
                        doubles(g.path("squareGradientSums")), g.path("count").asLong());
            }
            UnitActivationSums acts = null;
            if (n.has("outputActivations")) {
                JsonNode a = n.path("outputActivations");
                acts = new UnitActivationSums(doubles(a.path("absSums")), doubles(a.path("squareSums")),
                        a.path("count").asLong());
            }
            CosineSimilaritySums cos = null;
            if (n.has("cosine")) {
                cos = new CosineSimilaritySums(n.path("cosine").path("sum").asDouble(), n.path("cosine").path("count").asLong());
            }
            for (Statistic s : computed) {
                boolean missing = switch (s) {
                    case GRAM -> gram == null;
                    case GRADIENTS -> grads == null;
                    case OUTPUT_ACTIVATIONS -> acts == null;
                    default -> false;
                };
                if (missing) {
                    throw new IOException(at + ": layer " + name + " lacks its " + s + " statistics");
                }
            }
            m.put(index, new LayerStatistics(p, new ColumnSquareSums(sums, n.path("count").asLong()), gram, grads, acts,
                    cos));
        }
        long samples = root.has("samples") ? root.path("samples").asLong() : 0;
        return new CalibrationStatistics(computed, m, samples);
    }

    private static double[] doubles(JsonNode a) {
        double[] d = new double[a.size()];
        for (int j = 0; j < d.length; j++) {
            d[j] = a.get(j).asDouble();
        }
        return d;
    }

    private static GramMatrix readGram(Source source, String file, String where, int d) throws IOException {
        if (file.isEmpty() || file.contains("/") || file.contains("\\") || file.contains("..")) {
            throw new IOException(where + "/" + FILE + ": invalid gram file name '" + file + "'");
        }
        String at = where + "/" + file;
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(source.open(file)))) {
            byte[] magic = new byte[GRAM_MAGIC.length];
            in.readFully(magic);
            if (!Arrays.equals(magic, GRAM_MAGIC) || in.readInt() != 1) {
                throw new IOException(at + ": not a Pare Gram matrix file");
            }
            int dim = in.readInt();
            if (dim != d) {
                throw new IOException(at + ": Gram matrix is " + dim + "x" + dim + " but the layer has nIn = " + d);
            }
            long count = in.readLong();
            double[][] sums = new double[d][d];
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    sums[i][j] = in.readDouble();
                }
            }
            return new GramMatrix(sums, count);
        } catch (java.io.EOFException e) {
            throw new IOException(at + ": truncated Gram matrix file", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof CalibrationStatistics other) || !other.layers.keySet().equals(layers.keySet())
                || !other.computed.equals(computed) || other.samples != samples) {
            return false;
        }
        for (LayerStatistics a : layers.values()) {
            LayerStatistics b = other.layers.get(a.index());
            if (!sameSums(a.inputSquareSums, b.inputSquareSums)) {
                return false;
            }
            if (a.gram != null && !Arrays.deepEquals(a.gram.sums(), b.gram.sums())) {
                return false;
            }
            if (a.gradients != null && (!Arrays.equals(a.gradients.taylor(), b.gradients.taylor())
                    || !Arrays.equals(a.gradients.squareGradientSums(), b.gradients.squareGradientSums()))) {
                return false;
            }
            if (a.outputActivations != null && (!Arrays.equals(a.outputActivations.absSums(), b.outputActivations.absSums())
                    || !Arrays.equals(a.outputActivations.squareSums(), b.outputActivations.squareSums()))) {
                return false;
            }
            if ((a.cosine == null) != (b.cosine == null)
                    || a.cosine != null && (a.cosine.sum() != b.cosine.sum() || a.cosine.count() != b.cosine.count())) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameSums(ColumnSquareSums a, ColumnSquareSums b) {
        return a.count() == b.count() && Arrays.equals(a.sums(), b.sums());
    }

    @Override
    public int hashCode() {
        return layers.keySet().hashCode();
    }
}
