package dev.pare.common.calibration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.TinyNets;

import java.util.Set;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Per-example gradient sums of a dense network from one batched pass, against one DL4J backward pass per example. */
class DenseDeltasTest {
    private static final int ROWS = 9;

    private static MultiLayerNetwork net() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(3)
                .dataType(DataType.DOUBLE)
                .list()
                .layer(new DenseLayer.Builder().name("fc1").nIn(6).nOut(5).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().name("fc2").nIn(5).nOut(4).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nIn(4).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        TinyNets.randomizeParams(net, 5);
        return net;
    }

    @Test
    void batchedSumsEqualOneBackwardPassPerExample() {
        assertSumsEqualOneBackwardPassPerGroup(1);
    }

    @Test
    void batchedGroupSumsEqualOneBackwardPassPerGroup() {
        // 9 rows in groups of 4: 4, 4 and 1
        assertSumsEqualOneBackwardPassPerGroup(4);
    }

    private static void assertSumsEqualOneBackwardPassPerGroup(int group) {
        MultiLayerNetwork net = net();
        assertTrue(DenseDeltas.supports(net));
        INDArray x = TinyNets.toArray(TinyNets.randomRows(6, ROWS, 6)).castTo(DataType.DOUBLE);
        INDArray y = TinyNets.oneHot(ROWS, 3, DataType.DOUBLE);
        CalibrationStatistics stats = CalibrationStatistics.emptyFor(net, Set.of(Statistic.GRADIENTS), Long.MAX_VALUE);
        stats.add(net, x, y, group);

        for (int l = 0; l < 3; l++) {
            INDArray w = net.getLayer(l).getParam("W");
            WeightGradientSums expected = new WeightGradientSums(w.shape());
            for (int r = 0; r < ROWS; r += group) {
                int to = Math.min(ROWS, r + group);
                net.setInput(x.get(NDArrayIndex.interval(r, to), NDArrayIndex.all()).dup());
                net.setLabels(y.get(NDArrayIndex.interval(r, to), NDArrayIndex.all()).dup());
                net.computeGradientAndScore();
                expected.add(w, net.gradient().getGradientFor(l + "_W"));
            }
            WeightGradientSums actual = stats.layer(l).gradients();
            assertEquals((ROWS + group - 1) / group, actual.count());
            double[] te = expected.taylor();
            double[] ta = actual.taylor();
            double[] fe = expected.fisherDiagonal();
            double[] fa = actual.fisherDiagonal();
            double largest = 0;
            for (int i = 0; i < te.length; i++) {
                assertEquals(te[i], ta[i], 1e-12 * (1 + Math.abs(te[i])), "taylor of layer " + l + " weight " + i);
                assertEquals(fe[i], fa[i], 1e-12 * (1 + Math.abs(fe[i])), "fisher of layer " + l + " weight " + i);
                largest = Math.max(largest, te[i]);
            }
            assertTrue(largest > 1e-3, "layer " + l + " gradients are not vacuous");
        }
    }

    @Test
    void networksWithConvolutionsOrDropoutUseOnePassPerExample() {
        assertFalse(DenseDeltas.supports(TinyNets.cnn(1, DataType.DOUBLE)));
        MultiLayerNetwork dropout = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .list()
                .layer(new DenseLayer.Builder().nIn(6).nOut(5).dropOut(0.5).build())
                .layer(new OutputLayer.Builder().nIn(5).nOut(3).activation(Activation.SOFTMAX).build())
                .build());
        dropout.init();
        assertFalse(DenseDeltas.supports(dropout));
    }
}
