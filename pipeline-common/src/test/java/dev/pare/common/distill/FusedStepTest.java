package dev.pare.common.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.TinyNets;
import dev.pare.common.data.ExampleArrays;
import dev.pare.common.importance.MagnitudeCriterion;
import dev.pare.common.model.ForwardPass;
import dev.pare.common.surgery.OneShotPruner;
import dev.pare.common.surgery.PrunedModel;
import java.util.Arrays;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The fused step against DL4J's own {@code fit} on the same network: the same gradient, the same
 * loss, and students that agree after whole distillation runs.
 */
class FusedStepTest {
    private static final double T = 4.0;
    private static final double ALPHA = 0.3;

    /** A tiny MLP with two hidden activations DL4J implements differently, the KD loss and plain SGD. */
    private static MultiLayerNetwork kdNet(double lr) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(7)
                .dataType(DataType.FLOAT)
                .updater(new Sgd(lr))
                .list()
                .layer(new DenseLayer.Builder().nIn(6).nOut(5).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(5).nOut(4).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder().nIn(4).nOut(3).activation(Activation.SOFTMAX)
                        .lossFunction(new KnowledgeDistillationLoss(T, ALPHA)).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        TinyNets.randomizeParams(net, 11);
        return net;
    }

    /** Features and KD labels (one-hot | teacher logits) of {@code rows} random examples. */
    private static INDArray[] batch(int rows) {
        return kdBatch(rows, 6, 3);
    }

    /**
     * {@code rows} random examples of {@code width} features (seed {@code seed}) and their KD labels
     * {@code [rows, 6]}: one-hot class {@code r mod 3}, then 3 random teacher logits (seed + 1).
     */
    private static INDArray[] kdBatch(int rows, int width, long seed) {
        INDArray x = TinyNets.toArray(TinyNets.randomRows(seed, rows, width));
        float[][] teacher = TinyNets.randomRows(seed + 1, rows, 3);
        float[] y = new float[rows * 6];
        for (int r = 0; r < rows; r++) {
            y[r * 6 + r % 3] = 1;
            for (int c = 0; c < 3; c++) {
                y[r * 6 + 3 + c] = 3 * teacher[r][c];
            }
        }
        return new INDArray[] {x, Nd4j.create(y, new long[] {rows, 6}, 'c')};
    }

    @Test
    void oneSgdStepMovesTheParametersAsDl4jFitDoes() {
        INDArray[] xy = batch(9);
        MultiLayerNetwork viaFit = kdNet(0.5);
        MultiLayerNetwork fused = kdNet(0.5);
        float[] start = fused.params().toFloatVector();
        assertArrayEquals(start, viaFit.params().toFloatVector());

        viaFit.fit(new DataSet(xy[0], xy[1]));
        double loss = new FusedStep(fused, T, ALPHA, null).fit(xy[0], xy[1]);

        float[] expected = viaFit.params().toFloatVector();
        float[] actual = fused.params().toFloatVector();
        double moved = 0;
        for (int k = 0; k < start.length; k++) {
            moved = Math.max(moved, Math.abs(expected[k] - start[k]));
            assertEquals(expected[k], actual[k], 2e-6, "parameter " + k);
        }
        assertTrue(moved > 1e-3, "the step must move the parameters (largest move " + moved + ")");
        assertEquals(viaFit.score(), loss, 1e-5, "mean KD loss of the minibatch");
        assertEquals(1, fused.getIterationCount());
        assertEquals(viaFit.getIterationCount(), fused.getIterationCount());
    }

    @Test
    void severalStepsTrackFit() {
        MultiLayerNetwork viaFit = kdNet(0.1);
        MultiLayerNetwork fused = kdNet(0.1);
        FusedStep step = new FusedStep(fused, T, ALPHA, null);
        for (int i = 0; i < 5; i++) {
            INDArray[] xy = batch(4 + i);
            viaFit.fit(new DataSet(xy[0], xy[1]));
            step.fit(xy[0], xy[1]);
        }
        assertArrayEquals(viaFit.params().toFloatVector(), fused.params().toFloatVector(), 1e-5f);
        assertEquals(5, fused.getIterationCount());
    }

    /**
     * A small CNN on 2×12×14 inputs covering the geometry the fused step handles: a 3×3 convolution
     * with padding 1 (Truncate) or Same mode, pooling 2×2 stride 2 (in Same mode: padded at the
     * border), a strided dilated convolution, a second pooling, then dense, with the KD loss.
     */
    private static MultiLayerNetwork cnnKdNet(PoolingType pooling, ConvolutionMode mode, double lr) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(7)
                .dataType(DataType.FLOAT)
                .updater(lr > 0 ? new Sgd(lr) : new Adam(1e-2))
                .convolutionMode(mode)
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3).name("conv1").padding(1, 1).nOut(3)
                        .activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(pooling).name("pool1").kernelSize(2, 2).stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(2, 3).name("conv2").stride(1, 2).dilation(1, 2).nOut(4)
                        .activation(Activation.TANH).build())
                .layer(new SubsamplingLayer.Builder(pooling).name("pool2").kernelSize(2, 1).stride(1, 1).build())
                .layer(new DenseLayer.Builder().name("fc").nOut(5).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder().name("out").nOut(3).activation(Activation.SOFTMAX)
                        .lossFunction(new KnowledgeDistillationLoss(T, ALPHA)).build())
                .setInputType(InputType.convolutionalFlat(12, 14, 2))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        TinyNets.randomizeParams(net, 13);
        return net;
    }

    /** Features (2×12×14 images, NCHW rows) and KD labels of {@code rows} random examples. */
    private static INDArray[] imageBatch(int rows, long seed) {
        return kdBatch(rows, 336, seed);
    }

    /**
     * One SGD step on a CNN moves every parameter as DL4J's {@code fit} does (its im2col, col2im and
     * pooling ops): the gradients of both convolutions (weights and biases, through stride,
     * padding, dilation and Same mode), of the pooling routing and the dense layers agree.
     */
    @ParameterizedTest
    @EnumSource(value = ConvolutionMode.class, names = {"Truncate", "Same"})
    void oneSgdStepOnACnnMovesTheParametersAsDl4jFitDoes(ConvolutionMode mode) {
        INDArray[] xy = imageBatch(7, 21);
        MultiLayerNetwork viaFit = cnnKdNet(PoolingType.MAX, mode, 0.5);
        MultiLayerNetwork fused = cnnKdNet(PoolingType.MAX, mode, 0.5);
        float[] start = fused.params().toFloatVector();

        viaFit.fit(new DataSet(xy[0], xy[1]));
        double loss = new FusedStep(fused, T, ALPHA, null).fit(xy[0], xy[1]);

        float[] expected = viaFit.params().toFloatVector();
        float[] actual = fused.params().toFloatVector();
        for (int layer = 0; layer < 4; layer += 2) {
            // every convolution parameter moves (so its gradient is compared, not two zeros)
            long from = 0;
            for (int l = 0; l < layer; l++) {
                from += fused.getLayer(l).numParams();
            }
            for (long k = from; k < from + fused.getLayer(layer).numParams(); k++) {
                assertTrue(Math.abs(expected[(int) k] - start[(int) k]) > 1e-6, "layer " + layer + " parameter " + k
                        + " did not move");
            }
        }
        for (int k = 0; k < start.length; k++) {
            assertEquals(expected[k], actual[k], 2e-5, "parameter " + k);
        }
        assertEquals(viaFit.score(), loss, 1e-5, "mean KD loss of the minibatch");
    }

    @Test
    void adamStepsOnACnnWithChangingBatchSizesTrackFit() {
        MultiLayerNetwork viaFit = cnnKdNet(PoolingType.MAX, ConvolutionMode.Same, 0);
        MultiLayerNetwork fused = cnnKdNet(PoolingType.MAX, ConvolutionMode.Same, 0);
        FusedStep step = new FusedStep(fused, T, ALPHA, null);
        for (int i = 0; i < 6; i++) {
            INDArray[] xy = imageBatch(5 + i % 3, 40 + i);
            viaFit.fit(new DataSet(xy[0], xy[1]));
            step.fit(xy[0], xy[1]);
        }
        assertArrayEquals(viaFit.params().toFloatVector(), fused.params().toFloatVector(), 1e-4f);
        assertEquals(6, fused.getIterationCount());
    }

    @Test
    void autoPicksFusedOnlyForNetworksItComputes() {
        MultiLayerNetwork mlp = TinyNets.dense(1, 6, 8, 3);
        assertEquals(DistillEngine.FUSED, Distiller.engineFor(DistillEngine.AUTO, mlp));
        assertEquals(DistillEngine.DL4J, Distiller.engineFor(DistillEngine.DL4J, mlp));

        assertEquals(DistillEngine.FUSED, Distiller.engineFor(DistillEngine.AUTO, TinyNets.cnn(1, DataType.FLOAT)));
        MultiLayerNetwork doubleCnn = TinyNets.cnn(1, DataType.DOUBLE);
        assertEquals(DistillEngine.DL4J, Distiller.engineFor(DistillEngine.AUTO, doubleCnn));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Distiller.engineFor(DistillEngine.FUSED, doubleCnn));
        assertTrue(e.getMessage().contains("layer 0 (conv1) is a convolution, computed here in FLOAT only"),
                e.getMessage());
        MultiLayerNetwork avg = cnnKdNet(PoolingType.AVG, ConvolutionMode.Truncate, 0.1);
        e = assertThrows(IllegalArgumentException.class, () -> Distiller.engineFor(DistillEngine.FUSED, avg));
        assertTrue(e.getMessage().contains("layer 1 (pool1) is AVG pooling"), e.getMessage());

        MultiLayerNetwork withDropout = TinyNets.dense(1, 6, 8, 3);
        MultiLayerConfiguration conf = withDropout.getLayerWiseConfigurations().clone();
        ((BaseLayer) conf.getConf(0).getLayer()).setIDropout(new org.deeplearning4j.nn.conf.dropout.Dropout(0.5));
        MultiLayerNetwork dropped = new MultiLayerNetwork(conf);
        dropped.init();
        assertEquals(DistillEngine.DL4J, Distiller.engineFor(DistillEngine.AUTO, dropped));
        e = assertThrows(IllegalArgumentException.class, () -> Distiller.engineFor(DistillEngine.FUSED, dropped));
        assertTrue(e.getMessage().contains("layer 0 (fc1) has dropout"), e.getMessage());

        MultiLayerNetwork sgdOut = kdNet(0.1);
        MultiLayerConfiguration c2 = sgdOut.getLayerWiseConfigurations().clone();
        ((BaseLayer) c2.getConf(2).getLayer()).setActivationFn(Activation.SIGMOID.getActivationFunction());
        MultiLayerNetwork sigmoidOut = new MultiLayerNetwork(c2);
        sigmoidOut.init();
        e = assertThrows(IllegalArgumentException.class, () -> Distiller.engineFor(DistillEngine.FUSED, sigmoidOut));
        assertTrue(e.getMessage().contains("layer 2") && e.getMessage().contains("not softmax"), e.getMessage());
    }

    @Test
    void bothEnginesDistillToTheSameStudentAndKeepMasksZero() throws Exception {
        MultiLayerNetwork teacher = TinyNets.dense(5, 6, 8, 3);
        PrunedModel pruned = OneShotPruner.prune(teacher, null, new MagnitudeCriterion(), 0.5, true);
        ExampleArrays train = TinyNets.examples(20, 64, 6, 3, 1000);
        ExampleArrays test = TinyNets.examples(30, 16, 6, 3, 1000);
        float[] logits = ForwardPass.logitsRowMajor(teacher, train.featureRange(0, train.size()));
        DistillSettings settings = new DistillSettings(3, 16, 0.01, 4.0, 0.5, 99);

        Distiller.Result viaFit = new Distiller(settings.withEngine(DistillEngine.DL4J)).run(pruned.network(),
                pruned.masks(), train, logits, test, new MemoryCheckpointStore(), false, h -> { });
        Distiller.Result fused = new Distiller(settings.withEngine(DistillEngine.FUSED)).run(pruned.network(),
                pruned.masks(), train, logits, test, new MemoryCheckpointStore(), false, h -> { });
        assertEquals(DistillEngine.DL4J, viaFit.engine());
        assertEquals(DistillEngine.FUSED, fused.engine());

        float[] a = viaFit.student().params().toFloatVector();
        float[] b = fused.student().params().toFloatVector();
        assertFalse(Arrays.equals(pruned.network().params().toFloatVector(), b), "the student was trained");
        assertArrayEquals(a, b, 1e-4f);
        for (int e = 0; e < 3; e++) {
            assertEquals(viaFit.epochs().get(e).trainLoss(), fused.epochs().get(e).trainLoss(), 1e-4);
        }
        assertTrue(TinyNets.assertPrunedWeightsZero(fused.student(), pruned.masks()) > 0);
    }

    @Test
    void resumeWithTheDl4jEngineIsBitIdentical() throws Exception {
        MultiLayerNetwork teacher = TinyNets.dense(5, 6, 8, 3);
        PrunedModel pruned = OneShotPruner.prune(teacher, null, new MagnitudeCriterion(), 0.5, true);
        ExampleArrays train = TinyNets.examples(20, 64, 6, 3, 1000);
        ExampleArrays test = TinyNets.examples(30, 16, 6, 3, 1000);
        float[] logits = ForwardPass.logitsRowMajor(teacher, train.featureRange(0, train.size()));
        DistillSettings two = new DistillSettings(2, 16, 0.01, 4.0, 0.5, 99).withEngine(DistillEngine.DL4J);
        DistillSettings one = new DistillSettings(1, 16, 0.01, 4.0, 0.5, 99).withEngine(DistillEngine.DL4J);

        Distiller.Result straight = new Distiller(two).run(pruned.network(), pruned.masks(), train, logits, test,
                new MemoryCheckpointStore(), false, h -> { });
        MemoryCheckpointStore store = new MemoryCheckpointStore();
        new Distiller(one).run(pruned.network(), pruned.masks(), train, logits, test, store, false, h -> { });
        Distiller.Result resumed = new Distiller(two).run(pruned.network(), pruned.masks(), train, logits, test, store,
                true, h -> { });
        assertArrayEquals(straight.student().params().toFloatVector(), resumed.student().params().toFloatVector());
    }
}
