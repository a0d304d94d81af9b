package dev.pare.common;

import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Tiny seeded float networks (dense ReLU layers and a softmax output) and synthetic data for unit tests. */
public final class TinyNets {
    private TinyNets() {}

    /**
     * A float MultiLayerNetwork with layer widths {@code widths} (e.g. 4, 3, 2: one ReLU layer
     * 4→3 and a softmax output 3→2). Biases are set to non-zero seeded values so that tests can
     * tell whether they are touched.
     */
    public static MultiLayerNetwork dense(long seed, int... widths) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .updater(new Adam(1e-3))
                .weightInit(WeightInit.XAVIER)
                .list();
        int last = widths.length - 2;
        for (int l = 0; l < last; l++) {
            list.layer(new DenseLayer.Builder().name("fc" + (l + 1)).nIn(widths[l]).nOut(widths[l + 1])
                    .activation(Activation.RELU).build());
        }
        list.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nIn(widths[last])
                .nOut(widths[last + 1]).activation(Activation.SOFTMAX).build());
        MultiLayerNetwork net = new MultiLayerNetwork(list.build());
        net.init();
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
        for (int l = 0; l < net.getnLayers(); l++) {
            INDArray b = net.getLayer(l).getParam("b");
            float[] v = new float[(int) b.length()];
            for (int k = 0; k < v.length; k++) {
                v[k] = (float) (rnd.nextDouble() * 0.4 - 0.1);
            }
            b.assign(Nd4j.create(v, b.shape(), 'c'));
        }
        return net;
    }

    /** {@code rows x cols} floats uniform in [-1, 1), seeded. */
    public static float[][] randomRows(long seed, int rows, int cols) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[][] x = new float[rows][cols];
        for (float[] r : x) {
            for (int j = 0; j < cols; j++) {
                r[j] = (float) (rnd.nextDouble() * 2 - 1);
            }
        }
        return x;
    }

    public static INDArray toArray(float[][] rows) {
        return Nd4j.create(rows).castTo(DataType.FLOAT);
    }

    /** The weights of layer {@code l} as {@code [nIn][nOut]} floats (a copy). */
    public static float[][] weights(MultiLayerNetwork net, int l) {
        return net.getLayer(l).getParam("W").toFloatMatrix();
    }

    public static float[] bias(MultiLayerNetwork net, int l) {
        return net.getLayer(l).getParam("b").toFloatVector();
    }
}
