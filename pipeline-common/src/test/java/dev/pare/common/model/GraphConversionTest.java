package dev.pare.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class GraphConversionTest {

    // ---------------------------------------------------------------- graphs under test

    private static ComputationGraphConfiguration.GraphBuilder builder(DataType type) {
        return new NeuralNetConfiguration.Builder()
                .seed(42)
                .dataType(type)
                .updater(new Adam(0.05))
                .weightInit(WeightInit.XAVIER)
                .graphBuilder();
    }

    private static OutputLayer softmax(int nIn, int nOut) {
        return new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(nIn).nOut(nOut)
                .activation(Activation.SOFTMAX).build();
    }

    /** (a) dense chain 6-5-4-3 with softmax output. */
    private static ComputationGraph denseChain(DataType type) {
        ComputationGraph g = new ComputationGraph(builder(type)
                .addInputs("in")
                .addLayer("fc1", new DenseLayer.Builder().nIn(6).nOut(5).activation(Activation.RELU).build(), "in")
                .addLayer("fc2", new DenseLayer.Builder().nIn(5).nOut(4).activation(Activation.TANH).build(), "fc1")
                .addLayer("out", softmax(4, 3), "fc2")
                .setOutputs("out")
                .build());
        g.init();
        // Non-zero biases so that a dropped bias would show.
        for (String v : List.of("fc1", "fc2", "out")) {
            INDArray b = g.getLayer(v).getParam("b");
            b.assign(Nd4j.rand(type, b.shape()).subi(0.5));
        }
        return g;
    }

    /** (b) conv → BN → max-pool → dense → softmax on flat 8×8×1 rows (pre-processors added by setInputTypes). */
    private static ComputationGraph cnn(DataType type) {
        ComputationGraph g = new ComputationGraph(builder(type)
                .addInputs("pixels")
                .setInputTypes(InputType.convolutionalFlat(8, 8, 1))
                .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.IDENTITY).build(),
                        "pixels")
                .addLayer("bn", new BatchNormalization.Builder().activation(Activation.RELU).build(), "conv")
                .addLayer("pool", new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(2, 2).stride(2, 2).build(), "bn")
                .addLayer("fc", new DenseLayer.Builder().nOut(10).activation(Activation.RELU).build(), "pool")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "fc")
                .setOutputs("out")
                .build());
        g.init();
        return g;
    }

    private static INDArray rows(DataType type, long seed, int n, int cols) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double[][] x = new double[n][cols];
        for (double[] r : x) {
            for (int j = 0; j < cols; j++) {
                r[j] = rnd.nextDouble() * 2 - 1;
            }
        }
        return Nd4j.create(x).castTo(type);
    }

    private static INDArray oneHot(DataType type, long seed, int n, int classes) {
        SplittableRandom rnd = new SplittableRandom(seed);
        INDArray y = Nd4j.zeros(type, n, classes);
        for (int r = 0; r < n; r++) {
            y.putScalar(r, rnd.nextInt(classes), 1.0);
        }
        return y;
    }

    private static void assertSameNumbers(INDArray expected, INDArray actual, double tol, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        assertArrayEquals(expected.castTo(DataType.DOUBLE).data().asDouble(),
                actual.castTo(DataType.DOUBLE).data().asDouble(), tol, what);
    }

    // ---------------------------------------------------------------- conversion of sequential graphs

    @Test
    void denseChainInDoubleGivesExactlyTheGraphOutputs() {
        ComputationGraph g = denseChain(DataType.DOUBLE);
        MultiLayerNetwork net = GraphConversion.toMultiLayer(g, "dense.zip");

        assertEquals(3, net.getnLayers());
        assertEquals(List.of("fc1", "fc2", "out"), List.of(Networks.name(net, 0), Networks.name(net, 1),
                Networks.name(net, 2)));
        assertEquals(DataType.DOUBLE, net.getLayerWiseConfigurations().getDataType());
        assertEquals(42, net.getLayerWiseConfigurations().getConf(0).getSeed());
        assertEquals(new Adam(0.05), net.getLayer(1).conf().getLayer().getUpdaterByParam("W"));
        assertEquals(g.numParams(), net.numParams());
        for (int i = 0; i < 3; i++) {
            String v = Networks.name(net, i);
            assertEquals(g.getLayer(v).getParam("W"), net.getLayer(i).getParam("W"), v + " W");
            assertEquals(g.getLayer(v).getParam("b"), net.getLayer(i).getParam("b"), v + " b");
        }
        INDArray x = rows(DataType.DOUBLE, 7, 9, 6);
        INDArray expected = g.outputSingle(false, x);
        assertSameNumbers(expected, net.output(x, false), 0.0, "softmax outputs");
        // the outputs are real class probabilities, not a degenerate all-equal row
        assertNotEquals(expected.getDouble(0, 0), expected.getDouble(0, 1));
    }

    @Test
    void denseChainInFloatMatchesToOneMillionth() {
        ComputationGraph g = denseChain(DataType.FLOAT);
        MultiLayerNetwork net = GraphConversion.toMultiLayer(g, "dense-float.zip");
        assertEquals(DataType.FLOAT, net.params().dataType());
        INDArray x = rows(DataType.FLOAT, 8, 11, 6);
        assertSameNumbers(g.outputSingle(false, x), net.output(x, false), 1e-6, "softmax outputs");
    }

    @Test
    void convertedNetworkSharesNoParametersWithTheGraph() {
        ComputationGraph g = denseChain(DataType.DOUBLE);
        INDArray x = rows(DataType.DOUBLE, 9, 4, 6);
        INDArray before = g.outputSingle(false, x).dup();
        MultiLayerNetwork net = GraphConversion.toMultiLayer(g, "dense.zip");
        net.getLayer(0).getParam("W").addi(1.0);
        assertSameNumbers(before, g.outputSingle(false, x), 0.0, "graph outputs after changing the copy");
        assertEquals("fc1", g.getConfiguration().getVertices().keySet().iterator().next());
    }

    @Test
    void cnnWithBatchNormCarriesPreProcessorsAndRunningStatistics() {
        ComputationGraph g = cnn(DataType.FLOAT);
        // One training step moves the BN running statistics away from their initial values; then set
        // them to clearly non-trivial values too, so that a conversion dropping them cannot pass.
        // DL4J's default BN keeps log10(std) ("log10stdev") rather than the variance.
        g.fit(new org.nd4j.linalg.dataset.DataSet(rows(DataType.FLOAT, 1, 16, 64), oneHot(DataType.FLOAT, 2, 16, 3)));
        assertEquals(java.util.Set.of("gamma", "beta", "mean", "log10stdev"), g.getLayer("bn").paramTable().keySet());
        INDArray mean = g.getLayer("bn").getParam("mean");
        INDArray logStd = g.getLayer("bn").getParam("log10stdev");
        mean.assign(Nd4j.create(new float[] {0.3f, -0.2f, 0.5f, 0.1f}).reshape(mean.shape()));
        logStd.assign(Nd4j.create(new float[] {-0.15f, 0.15f, 0.08f, -0.3f}).reshape(logStd.shape()));

        MultiLayerNetwork net = GraphConversion.toMultiLayer(g, "cnn.zip");

        assertEquals(5, net.getnLayers());
        assertInstanceOf(FeedForwardToCnnPreProcessor.class, net.getLayerWiseConfigurations().getInputPreProcess(0));
        assertEquals(((LayerVertex) g.getConfiguration().getVertices().get("conv")).getPreProcessor(),
                net.getLayerWiseConfigurations().getInputPreProcess(0));
        assertInstanceOf(CnnToFeedForwardPreProcessor.class, net.getLayerWiseConfigurations().getInputPreProcess(3));
        assertEquals(2, net.getLayerWiseConfigurations().getInputPreProcessors().size(),
                "only conv and fc have pre-processors");
        assertEquals(64, Networks.inputSize(net), "8 x 8 x 1 flat rows");
        assertSameNumbers(mean, net.getLayer(1).getParam("mean"), 0.0, "BN running mean");
        assertSameNumbers(logStd, net.getLayer(1).getParam("log10stdev"), 0.0, "BN running log10 std");
        assertSameNumbers(g.params(), net.params(), 0.0, "all parameters, in the same flat order");

        INDArray x = rows(DataType.FLOAT, 3, 10, 64);
        INDArray expected = g.outputSingle(false, x);
        assertSameNumbers(expected, net.output(x, false), 1e-6, "inference outputs");
        // Guard against a test that cannot fail: resetting the running statistics changes the outputs.
        net.getLayer(1).getParam("mean").assign(0);
        net.getLayer(1).getParam("log10stdev").assign(0);
        INDArray withoutStats = net.output(x, false);
        assertTrue(Math.abs(expected.sub(withoutStats).amaxNumber().doubleValue()) > 1e-4,
                "running statistics matter for this input");
    }

    @Test
    void updaterStateAndIterationCountCarrySoTrainingContinuesIdentically() {
        ComputationGraph g = denseChain(DataType.DOUBLE);
        INDArray x = rows(DataType.DOUBLE, 4, 12, 6);
        INDArray y = oneHot(DataType.DOUBLE, 5, 12, 3);
        org.nd4j.linalg.dataset.DataSet batch = new org.nd4j.linalg.dataset.DataSet(x, y);
        g.fit(batch);
        g.fit(batch);

        MultiLayerNetwork net = GraphConversion.toMultiLayer(g, "dense.zip");
        assertEquals(2, net.getLayerWiseConfigurations().getIterationCount());
        assertSameNumbers(g.updaterState(), net.updaterState(), 0.0, "Adam moments");

        INDArray before = net.params().dup();
        g.fit(batch);
        net.fit(batch);
        assertTrue(net.params().sub(before).amaxNumber().doubleValue() > 1e-6, "the step changed the weights");
        // Adam with fresh moments or iteration 0 (bias correction) would give a different step.
        assertSameNumbers(g.params(), net.params(), 1e-12, "parameters after one more Adam step");
    }

    // ---------------------------------------------------------------- refusals

    private static ModelFormatException refused(ComputationGraphConfiguration conf) {
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        return assertThrows(ModelFormatException.class, () -> GraphConversion.toMultiLayer(g, "teacher.zip"));
    }

    private static void assertMessage(ModelFormatException e, String... parts) {
        assertTrue(e.getMessage().startsWith("teacher.zip: "), e.getMessage());
        assertTrue(e.getMessage().contains("only sequential ComputationGraphs"), e.getMessage());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' in: " + e.getMessage());
        }
    }

    @Test
    void mergeVertexIsRefusedNamingIt() {
        ModelFormatException e = refused(builder(DataType.FLOAT)
                .addInputs("in")
                .addLayer("left", new DenseLayer.Builder().nIn(6).nOut(3).build(), "in")
                .addLayer("right", new DenseLayer.Builder().nIn(6).nOut(3).build(), "in")
                .addVertex("joined", new MergeVertex(), "left", "right")
                .addLayer("out", softmax(6, 3), "joined")
                .setOutputs("out")
                .build());
        // "in" feeding both branches is met first in topological order
        assertMessage(e, "'in'", "more than one vertex");
    }

    @Test
    void mergeVertexAfterOneLayerIsRefusedAsANonLayerVertex() {
        ModelFormatException e = refused(builder(DataType.FLOAT)
                .addInputs("in")
                .addLayer("fc", new DenseLayer.Builder().nIn(6).nOut(3).build(), "in")
                .addVertex("joined", new MergeVertex(), "fc")
                .addLayer("out", softmax(3, 3), "joined")
                .setOutputs("out")
                .build());
        assertMessage(e, "vertex 'joined' (type MergeVertex, inputs [fc]) is not a layer vertex");
    }

    @Test
    void elementWiseResidualIsRefused() {
        ModelFormatException e = refused(builder(DataType.FLOAT)
                .addInputs("in")
                .addLayer("fc1", new DenseLayer.Builder().nIn(6).nOut(4).build(), "in")
                .addLayer("fc2", new DenseLayer.Builder().nIn(4).nOut(4).build(), "fc1")
                .addVertex("residual", new ElementWiseVertex(ElementWiseVertex.Op.Add), "fc1", "fc2")
                .addLayer("out", softmax(4, 3), "residual")
                .setOutputs("out")
                .build());
        // the residual vertex comes after fc2 in topological order, so it is what is reported
        assertMessage(e, "vertex 'residual' (type ElementWiseVertex, inputs [fc1, fc2]) is not a layer vertex");
    }

    @Test
    void twoOutputsAreRefused() {
        ModelFormatException e = refused(builder(DataType.FLOAT)
                .addInputs("in")
                .addLayer("fc", new DenseLayer.Builder().nIn(6).nOut(4).build(), "in")
                .addLayer("outA", softmax(4, 3), "fc")
                .addLayer("outB", softmax(4, 2), "fc")
                .setOutputs("outA", "outB")
                .build());
        assertMessage(e, "2 network outputs", "outA", "outB");
    }

    @Test
    void twoInputsAreRefused() {
        ModelFormatException e = refused(builder(DataType.FLOAT)
                .addInputs("a", "b")
                .addLayer("fc", new DenseLayer.Builder().nIn(6).nOut(4).build(), "a")
                .addLayer("fcB", new DenseLayer.Builder().nIn(6).nOut(4).build(), "b")
                .addVertex("sum", new ElementWiseVertex(ElementWiseVertex.Op.Add), "fc", "fcB")
                .addLayer("out", softmax(4, 3), "sum")
                .setOutputs("out")
                .build());
        assertMessage(e, "2 network inputs", "[a, b]");
    }

    @Test
    void outputLayerBeforeTheLastVertexIsRefused() {
        ModelFormatException e = refused(builder(DataType.FLOAT)
                .addInputs("in")
                .addLayer("early", softmax(6, 4), "in")
                .addLayer("out", softmax(4, 3), "early")
                .setOutputs("out")
                .build());
        assertMessage(e, "vertex 'early' is an output layer but not the last vertex");
    }

    @Test
    void isGraphConfigurationParsesTheTopLevelObject() throws IOException {
        String graphJson = denseChain(DataType.FLOAT).getConfiguration().toJson();
        assertTrue(GraphConversion.isGraphConfiguration(graphJson, "g"));
        // A MultiLayerNetwork whose layer is *named* "vertices" fooled the old substring test.
        MultiLayerNetwork mln = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().list()
                .layer(new OutputLayer.Builder().name("vertices").nIn(2).nOut(2).activation(Activation.SOFTMAX).build())
                .build());
        mln.init();
        String mlnJson = mln.getLayerWiseConfigurations().toJson();
        assertTrue(mlnJson.contains("\"vertices\""));
        assertFalse(GraphConversion.isGraphConfiguration(mlnJson, "m"));
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> GraphConversion.isGraphConfiguration("{not json", "broken.zip"));
        assertTrue(e.getMessage().startsWith("broken.zip has a configuration.json that is not valid JSON"),
                e.getMessage());
        // and Networks.read round-trips that network despite the name
        MultiLayerNetwork back = Networks.read(Networks.toBytes(mln, false), "m.zip", false);
        assertEquals("vertices", Networks.name(back, 0));
    }

    // ---------------------------------------------------------------- through Networks.read

    private static byte[] zip(ComputationGraph g, boolean saveUpdater) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ModelSerializer.writeModel(g, out, saveUpdater);
        return out.toByteArray();
    }

    @Test
    void networksReadConvertsASavedSequentialGraph() throws IOException {
        ComputationGraph g = cnn(DataType.FLOAT);
        g.fit(new org.nd4j.linalg.dataset.DataSet(rows(DataType.FLOAT, 1, 16, 64), oneHot(DataType.FLOAT, 2, 16, 3)));
        MultiLayerNetwork net = Networks.read(zip(g, true), "cnn-teacher.zip", true);

        INDArray x = rows(DataType.FLOAT, 6, 7, 64);
        assertSameNumbers(g.outputSingle(false, x), net.output(x, false), 1e-6, "outputs after reading");
        assertSameNumbers(g.updaterState(), net.updaterState(), 0.0, "updater state loaded with loadUpdater");
        Networks.checkTeacher(net, "cnn-teacher.zip", 64, 3);

        MultiLayerNetwork noUpdater = Networks.read(zip(g, true), "cnn-teacher.zip", false);
        assertSameNumbers(g.outputSingle(false, x), noUpdater.output(x, false), 1e-6, "outputs, no updater");
    }

    @Test
    void networksReadRefusesANonSequentialGraphNamingFileAndVertex() throws IOException {
        ComputationGraph g = new ComputationGraph(builder(DataType.FLOAT)
                .addInputs("in")
                .addLayer("fc1", new DenseLayer.Builder().nIn(6).nOut(4).build(), "in")
                .addLayer("fc2", new DenseLayer.Builder().nIn(4).nOut(4).build(), "fc1")
                .addVertex("residual", new ElementWiseVertex(ElementWiseVertex.Op.Add), "fc1", "fc2")
                .addLayer("out", softmax(4, 3), "residual")
                .setOutputs("out")
                .build());
        g.init();
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> Networks.read(zip(g, false), "resnet-teacher.zip", false));
        assertTrue(e.getMessage().startsWith("resnet-teacher.zip: ComputationGraph"), e.getMessage());
        assertTrue(e.getMessage().contains("vertex 'residual'") && e.getMessage().contains("only sequential"),
                e.getMessage());
    }
}
