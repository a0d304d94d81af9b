package dev.pare.common.surgery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.TinyNets;
import dev.pare.common.model.Networks;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class StructuredSurgeryTest {

    // ---- helpers -------------------------------------------------------------------------

    /** Random inputs of {@code net}'s data type, seeded. */
    private static INDArray inputs(long seed, int rows, int cols, DataType type) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double[][] x = new double[rows][cols];
        for (double[] r : x) {
            for (int j = 0; j < cols; j++) {
                r[j] = rnd.nextDouble() * 2 - 1;
            }
        }
        return Nd4j.create(x).castTo(type);
    }

    /** Overwrites every parameter with seeded values; running variances stay positive. */
    private static void randomizeParams(MultiLayerNetwork net, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int l = 0; l < net.getnLayers(); l++) {
            for (Map.Entry<String, INDArray> p : net.getLayer(l).paramTable().entrySet()) {
                INDArray a = p.getValue();
                boolean positive = p.getKey().equals("var");
                double[] v = new double[(int) a.length()];
                for (int k = 0; k < v.length; k++) {
                    v[k] = positive ? 0.5 + rnd.nextDouble() : rnd.nextDouble() - 0.5;
                }
                a.assign(Nd4j.create(v, a.shape(), 'c').castTo(a.dataType()));
            }
        }
    }

    private static double maxAbsDiff(INDArray a, INDArray b) {
        assertArrayEquals(a.shape(), b.shape());
        return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    }

    private static long nIn(MultiLayerNetwork net, int l) {
        return ((FeedForwardLayer) net.getLayer(l).conf().getLayer()).getNIn();
    }

    private static long nOut(MultiLayerNetwork net, int l) {
        return ((FeedForwardLayer) net.getLayer(l).conf().getLayer()).getNOut();
    }

    private static String name(MultiLayerNetwork net, int l) {
        return net.getLayer(l).conf().getLayer().getLayerName();
    }

    private static void assertUnchanged(INDArray before, MultiLayerNetwork net) {
        assertEquals(0.0, maxAbsDiff(before, net.params()), "the input network was modified");
    }

    // ---- dense -------------------------------------------------------------------------

    @Test
    void denseUnitsAreRemovedAndTheKeptStructureComputesTheSame() {
        // fc1 6→5, fc2 5→4, out 4→3 (softmax)
        MultiLayerNetwork net = TinyNets.dense(7, 6, 5, 4, 3);
        INDArray before = net.params().dup();
        int[] keep0 = {1, 3, 4};  // removes neurons 0 and 2 of fc1
        int[] keep1 = {0, 1, 3};  // removes neuron 2 of fc2

        MultiLayerNetwork small = StructuredSurgery.removeUnits(net, Map.of(0, keep0, 1, keep1));
        assertNotSame(net, small);
        assertUnchanged(before, net);

        // 6·5+5 + 5·4+4 + 4·3+3 = 74 before; 6·3+3 + 3·3+3 + 3·3+3 = 45 after
        assertEquals(74, net.numParams());
        assertEquals(45, small.numParams());
        assertEquals(List.of(6L, 3L, 3L), List.of(nIn(small, 0), nIn(small, 1), nIn(small, 2)));
        assertEquals(List.of(3L, 3L, 3L), List.of(nOut(small, 0), nOut(small, 1), nOut(small, 2)));
        assertArrayEquals(new long[] {3, 3}, small.getLayer(1).getParam("W").shape());
        assertEquals(List.of("fc1", "fc2", "out"), List.of(name(small, 0), name(small, 1), name(small, 2)));
        assertEquals(DataType.FLOAT, small.params().dataType());
        assertEquals(Activation.RELU.getActivationFunction(),
                ((FeedForwardLayer) small.getLayer(0).conf().getLayer()).getActivationFn());

        // kept weights are the original's, by index
        float[][] w1 = TinyNets.weights(net, 1);
        float[][] s1 = TinyNets.weights(small, 1);
        for (int a = 0; a < keep0.length; a++) {
            for (int b = 0; b < keep1.length; b++) {
                assertEquals(w1[keep0[a]][keep1[b]], s1[a][b], 0.0f, "fc2 W[" + a + "][" + b + "]");
            }
        }
        float[] b0 = TinyNets.bias(net, 0);
        float[] sb0 = TinyNets.bias(small, 0);
        for (int a = 0; a < keep0.length; a++) {
            assertEquals(b0[keep0[a]], sb0[a], 0.0f);
        }

        // reference: the original with the removed units' outgoing weights set to zero
        MultiLayerNetwork ref = net.clone();
        INDArray refW1 = ref.getLayer(1).getParam("W");
        INDArray refW2 = ref.getLayer(2).getParam("W");
        for (int removed : new int[] {0, 2}) {
            for (int o = 0; o < 4; o++) {
                refW1.putScalar(removed, o, 0.0);
            }
        }
        for (int o = 0; o < 3; o++) {
            refW2.putScalar(2, o, 0.0);
        }
        INDArray x = inputs(21, 16, 6, DataType.FLOAT);
        assertTrue(maxAbsDiff(net.output(x), ref.output(x)) > 1e-4, "the removed units must matter for this test");
        double diff = maxAbsDiff(ref.output(x), small.output(x));
        assertTrue(diff < 1e-6, "max |reference - smaller| = " + diff);
    }

    @Test
    void keepingAllUnitsChangesNothing() {
        MultiLayerNetwork net = TinyNets.dense(7, 6, 5, 4, 3);
        MultiLayerNetwork same = StructuredSurgery.removeUnits(net, Map.of(0, new int[] {0, 1, 2, 3, 4}));
        assertEquals(net.numParams(), same.numParams());
        assertEquals(0.0, maxAbsDiff(net.params(), same.params()));
    }

    @Test
    void invalidUnitRequestsAreRefused() {
        MultiLayerNetwork net = TinyNets.dense(7, 6, 5, 4, 3);
        INDArray before = net.params().dup();
        String none = assertThrows(IllegalArgumentException.class,
                () -> StructuredSurgery.removeUnits(net, Map.of(1, new int[0]))).getMessage();
        assertTrue(none.contains("fc2") && none.contains("no units"), none);
        String classes = assertThrows(IllegalArgumentException.class,
                () -> StructuredSurgery.removeUnits(net, Map.of(2, new int[] {0, 1}))).getMessage();
        assertTrue(classes.contains("out") && classes.contains("classes"), classes);
        String unsorted = assertThrows(IllegalArgumentException.class,
                () -> StructuredSurgery.removeUnits(net, Map.of(0, new int[] {3, 1}))).getMessage();
        assertTrue(unsorted.contains("fc1") && unsorted.contains("sorted"), unsorted);
        String range = assertThrows(IllegalArgumentException.class,
                () -> StructuredSurgery.removeUnits(net, Map.of(0, new int[] {1, 5}))).getMessage();
        assertTrue(range.contains("fc1") && range.contains("5 units"), range);
        assertUnchanged(before, net);
    }

    // ---- convolution -------------------------------------------------------------------------

    /** 8×8×1 → conv1 3×3 (4) → bn1 → pool1 2×2 → conv2 3×3 same (6) → fc 10 → out 3, double. */
    private static MultiLayerNetwork cnn(long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.DOUBLE)
                .updater(new Adam(1e-3))
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3).name("conv1").nOut(4).activation(Activation.RELU).build())
                .layer(new BatchNormalization.Builder().name("bn1").build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("pool1").kernelSize(2, 2)
                        .stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(3, 3).name("conv2").nOut(6).convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().name("fc").nOut(10).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(8, 8, 1))
                .build());
        net.init();
        randomizeParams(net, seed + 1);
        return net;
    }

    @Test
    void dl4jFlattensChannelMajor() {
        // the order StructuredSurgery relies on: feature c·H·W + h·W + w holds activation [c][h][w]
        int c = 4;
        int h = 3;
        int w = 3;
        INDArray act = Nd4j.arange(2 * c * h * w).castTo(DataType.DOUBLE).reshape('c', 2, c, h, w);
        INDArray flat = new CnnToFeedForwardPreProcessor(h, w, c).preProcess(act, 2, LayerWorkspaceMgr.noWorkspaces());
        assertArrayEquals(new long[] {2, c * h * w}, flat.shape());
        for (int n = 0; n < 2; n++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        assertEquals(act.getDouble(n, ch, y, x), flat.getDouble(n, ch * h * w + y * w + x), 0.0);
                    }
                }
            }
        }
        assertArrayEquals(new int[] {3, 4, 5, 9, 10, 11}, StructuredSurgery.flattenedIndices(new int[] {1, 3}, 3));
    }

    @Test
    void filtersAreRemovedThroughBatchNormPoolingAndFlattening() {
        MultiLayerNetwork net = cnn(5);
        INDArray before = net.params().dup();
        int[] keep1 = {0, 2, 3};        // conv1 loses filter 1
        int[] keep2 = {1, 2, 4, 5};     // conv2 loses filters 0 and 3

        MultiLayerNetwork small = StructuredSurgery.removeUnits(net, Map.of(0, keep1, 3, keep2));
        assertUnchanged(before, net);

        // conv1 4·1·9+4, bn 4·4 (gamma, beta, mean, var or log-std), conv2 6·4·9+6, fc 54·10+10, out 10·3+3
        assertEquals(40 + 16 + 222 + 550 + 33, net.numParams());
        // conv1 3·9+3, bn 3·4, conv2 4·3·9+4, fc 36·10+10, out 33
        assertEquals(30 + 12 + 112 + 370 + 33, small.numParams());
        assertArrayEquals(new long[] {3, 1, 3, 3}, small.getLayer(0).getParam("W").shape());
        assertArrayEquals(new long[] {4, 3, 3, 3}, small.getLayer(3).getParam("W").shape());
        assertArrayEquals(new long[] {36, 10}, small.getLayer(4).getParam("W").shape());
        assertEquals(3, nIn(small, 1));
        assertEquals(3, nOut(small, 1));
        assertEquals(3, nIn(small, 3));
        assertEquals(36, nIn(small, 4));
        assertEquals(4, ((CnnToFeedForwardPreProcessor) small.getLayerWiseConfigurations().getInputPreProcess(4))
                .getNumChannels());
        assertEquals(DataType.DOUBLE, small.params().dataType());

        // every batch-norm vector keeps exactly the kept channels
        Map<String, INDArray> bn = net.getLayer(1).paramTable();
        assertTrue(bn.keySet().containsAll(List.of("gamma", "beta", "mean")), bn.keySet().toString());
        assertEquals(4, bn.size(), bn.keySet().toString());
        for (Map.Entry<String, INDArray> p : bn.entrySet()) {
            INDArray cut = small.getLayer(1).getParam(p.getKey());
            assertEquals(keep1.length, cut.length(), p.getKey());
            for (int k = 0; k < keep1.length; k++) {
                assertEquals(p.getValue().getDouble(keep1[k]), cut.getDouble(k), 0.0, "bn1 " + p.getKey() + "[" + k + "]");
            }
        }
        // conv2 keeps [kept out][kept in]
        INDArray w2 = net.getLayer(3).getParam("W");
        INDArray s2 = small.getLayer(3).getParam("W");
        for (int o = 0; o < keep2.length; o++) {
            for (int i = 0; i < keep1.length; i++) {
                assertEquals(w2.getDouble(keep2[o], keep1[i], 1, 2), s2.getDouble(o, i, 1, 2), 0.0);
            }
        }

        // reference: zero, in the original, the weights that read the removed channels
        MultiLayerNetwork ref = net.clone();
        INDArray refW2 = ref.getLayer(3).getParam("W");
        for (int o = 0; o < 6; o++) {
            for (int y = 0; y < 3; y++) {
                for (int x = 0; x < 3; x++) {
                    refW2.putScalar(new long[] {o, 1, y, x}, 0.0);
                }
            }
        }
        INDArray refFc = ref.getLayer(4).getParam("W");
        for (int removed : new int[] {0, 3}) {
            for (int p = 0; p < 9; p++) {          // conv2's maps are 3×3
                for (int o = 0; o < 10; o++) {
                    refFc.putScalar(removed * 9 + p, o, 0.0);
                }
            }
        }
        INDArray x = inputs(33, 12, 64, DataType.DOUBLE);
        assertTrue(maxAbsDiff(net.output(x), ref.output(x)) > 1e-4, "the removed filters must matter for this test");
        double diff = maxAbsDiff(ref.output(x), small.output(x));
        assertTrue(diff < 1e-6, "max |reference - smaller| = " + diff);

        // the new configuration is coherent: it survives a save/load round trip and a training step
        MultiLayerNetwork reloaded = Networks.read(Networks.toBytes(small, true), "small", true);
        assertEquals(0.0, maxAbsDiff(small.output(x), reloaded.output(x)));
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, 12, 3);
        for (int r = 0; r < 12; r++) {
            labels.putScalar(r, r % 3, 1.0);
        }
        INDArray trained = small.params().dup();
        small.fit(x, labels);
        assertTrue(maxAbsDiff(trained, small.params()) > 0.0, "a training step changes the smaller network");
    }

    @Test
    void aLayerThatMixesChannelsStopsTheCut() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(3)
                .dataType(DataType.FLOAT)
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3).name("conv1").nOut(4).build())
                .layer(new LocalResponseNormalization.Builder().name("lrn").build())
                .layer(new ConvolutionLayer.Builder(3, 3).name("conv2").nOut(2).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(8, 8, 1))
                .build());
        net.init();
        String m = assertThrows(IllegalArgumentException.class,
                () -> StructuredSurgery.removeUnits(net, Map.of(0, new int[] {0, 1}))).getMessage();
        assertTrue(m.contains("conv1") && m.contains("lrn") && m.contains("LocalResponseNormalization"), m);
    }

    // ---- whole layers -------------------------------------------------------------------------

    private static void copyParams(MultiLayerNetwork from, int fromLayer, MultiLayerNetwork to, int toLayer) {
        for (Map.Entry<String, INDArray> p : from.getLayer(fromLayer).paramTable().entrySet()) {
            to.getLayer(toLayer).getParam(p.getKey()).assign(p.getValue());
        }
    }

    @Test
    void aSquareDenseLayerIsRemoved() {
        // fc1 6→5, fc2 5→5, fc3 5→4, out 4→3
        MultiLayerNetwork net = TinyNets.dense(11, 6, 5, 5, 4, 3);
        INDArray before = net.params().dup();
        MultiLayerNetwork shorter = StructuredSurgery.removeLayers(net, Set.of(1));
        assertUnchanged(before, net);

        assertEquals(3, shorter.getnLayers());
        assertEquals(List.of("fc1", "fc3", "out"), List.of(name(shorter, 0), name(shorter, 1), name(shorter, 2)));
        assertEquals(net.numParams() - (5 * 5 + 5), shorter.numParams());

        // hand-built 6-5-4-3 with fc1, fc3, out's parameters
        MultiLayerNetwork hand = TinyNets.dense(99, 6, 5, 4, 3);
        copyParams(net, 0, hand, 0);
        copyParams(net, 2, hand, 1);
        copyParams(net, 3, hand, 2);
        assertEquals(0.0, maxAbsDiff(hand.params(), shorter.params()));
        INDArray x = inputs(4, 10, 6, DataType.FLOAT);
        assertTrue(maxAbsDiff(hand.output(x), shorter.output(x)) < 1e-7);
        assertTrue(maxAbsDiff(net.output(x), shorter.output(x)) > 1e-4, "fc2 mattered, so the outputs differ");
    }

    @Test
    void aLayerThatChangesTheShapeIsNotRemoved() {
        MultiLayerNetwork net = TinyNets.dense(11, 6, 5, 5, 4, 3);
        INDArray before = net.params().dup();
        String m = assertThrows(IllegalArgumentException.class,
                () -> StructuredSurgery.removeLayers(net, Set.of(2))).getMessage();
        assertTrue(m.contains("fc3") && m.contains("5 inputs to 4 outputs"), m);
        String out = assertThrows(IllegalArgumentException.class,
                () -> StructuredSurgery.removeLayers(net, Set.of(3))).getMessage();
        assertTrue(out.contains("output layer"), out);
        assertUnchanged(before, net);
    }

    /** 6×6×2 (flat input) → same 3×3 conv (2→2) → truncate 3×3 conv (2→2, 6×6 → 4×4) → out 3. */
    private static MultiLayerNetwork twoConvs(long seed, boolean withSame) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.DOUBLE)
                .list();
        if (withSame) {
            list.layer(new ConvolutionLayer.Builder(3, 3).name("same").nOut(2).convolutionMode(ConvolutionMode.Same)
                    .activation(Activation.TANH).build());
        }
        list.layer(new ConvolutionLayer.Builder(3, 3).name("shrink").nOut(2).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(6, 6, 2));
        MultiLayerNetwork net = new MultiLayerNetwork(list.build());
        net.init();
        randomizeParams(net, seed);
        return net;
    }

    @Test
    void aSizeKeepingConvolutionIsRemovedAndOneThatShrinksIsNot() {
        MultiLayerNetwork net = twoConvs(8, true);
        INDArray before = net.params().dup();
        MultiLayerNetwork shorter = StructuredSurgery.removeLayers(net, Set.of(0));
        assertUnchanged(before, net);

        MultiLayerNetwork hand = twoConvs(80, false);
        copyParams(net, 1, hand, 0);
        copyParams(net, 2, hand, 1);
        assertEquals(List.of("shrink", "out"), List.of(name(shorter, 0), name(shorter, 1)));
        assertEquals(0.0, maxAbsDiff(hand.params(), shorter.params()));
        INDArray x = inputs(6, 5, 72, DataType.DOUBLE);
        assertTrue(maxAbsDiff(hand.output(x), shorter.output(x)) < 1e-12);

        String m = assertThrows(IllegalArgumentException.class,
                () -> StructuredSurgery.removeLayers(net, Set.of(1))).getMessage();
        assertTrue(m.contains("shrink") && m.contains("spatial size") && m.contains("Truncate"), m);
    }
}
