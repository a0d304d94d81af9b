package dev.pare.common.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class ModelSizeTest {

    /** 100-50 dense, 50-3 softmax output, float. */
    private static MultiLayerNetwork net() {
        MultiLayerNetwork n = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT)
                .list()
                .layer(new DenseLayer.Builder().nIn(100).nOut(50).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(50).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build());
        n.init();
        return n;
    }

    @Test
    void denseModelsCountEveryParameterAtItsWidth() {
        MultiLayerNetwork n = net();
        // No zeros: CSR would cost more than dense, so every array counts dense: (100·50 + 50 + 50·3 + 3) · 4.
        assertEquals((100 * 50 + 50 + 50 * 3 + 3) * 4L, ModelSize.sparseBytes(n));
        assertTrue(ModelSize.serializedBytes(n) > 0);
    }

    @Test
    void sparseWeightMatricesCountAsCsr() {
        MultiLayerNetwork n = net();
        // Keep 10% of the first layer's weights: 500 non-zeros.
        float[] w = new float[100 * 50];
        for (int k = 0; k < w.length; k += 10) {
            w[k] = 0.5f;
        }
        n.getLayer(0).getParam("W").assign(Nd4j.create(w, new long[] {100, 50}, 'c'));
        // CSR by output unit: 500 · (4 value + 2 index) + 4 · (50 + 1) offsets; bias and output layer dense.
        long expected = 500L * (4 + 2) + 4L * 51 + 50 * 4 + (50 * 3 + 3) * 4L;
        assertEquals(expected, ModelSize.sparseBytes(n));
        // The saved zip compresses the zeros but still holds every float position.
        assertTrue(ModelSize.serializedBytes(n) < ModelSize.serializedBytes(net()));
    }

    @Test
    void latencyIsAPositiveMedian() {
        MultiLayerNetwork n = net();
        double ms = InferenceLatency.medianMillis(n, Nd4j.rand(DataType.FLOAT, 8, 100), 1, 3);
        assertTrue(ms > 0 && ms < 10_000, "ms " + ms);
        assertThrows(IllegalArgumentException.class, () -> InferenceLatency.medianMillis(n, Nd4j.rand(DataType.FLOAT, 8, 100), 0, 0));
    }
}
