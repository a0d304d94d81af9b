package dev.pare.common;

import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
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

    /** Input height and width of {@link #cnn}. */
    public static final int CNN_SIZE = 6;
    /** Input channels of {@link #cnn}. */
    public static final int CNN_CHANNELS = 2;

    /**
     * A small CNN on flat {@code [batch, 2·6·6]} features (input type {@code convolutionalFlat(6, 6, 2)}):
     * layer 0 {@code conv1} 3×3, 4 filters, ReLU, stride 1, no padding (6×6 → 4×4); layer 1
     * {@code pool1} 2×2 max pooling, stride 2 (4×4 → 2×2); layer 2 {@code fc} 16 → 8, ReLU; layer 3
     * {@code out} 8 → 3 softmax. Every parameter is overwritten with seeded values uniform in
     * [-0.5, 0.5), so biases are non-zero.
     */
    public static MultiLayerNetwork cnn(long seed, DataType dataType) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(dataType)
                .updater(new Adam(1e-3))
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3).name("conv1").nOut(4).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("pool1").kernelSize(2, 2)
                        .stride(2, 2).build())
                .layer(new DenseLayer.Builder().name("fc").nOut(8).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(CNN_SIZE, CNN_SIZE, CNN_CHANNELS))
                .build());
        net.init();
        randomizeParams(net, seed + 1);
        return net;
    }

    /** Overwrites every parameter of {@code net} with seeded values uniform in [-0.5, 0.5). */
    public static void randomizeParams(MultiLayerNetwork net, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int l = 0; l < net.getnLayers(); l++) {
            for (INDArray a : net.getLayer(l).paramTable().values()) {
                double[] v = new double[(int) a.length()];
                for (int k = 0; k < v.length; k++) {
                    v[k] = rnd.nextDouble() - 0.5;
                }
                a.assign(Nd4j.create(v, a.shape(), 'c').castTo(a.dataType()));
            }
        }
    }

    /** One-hot labels {@code [rows, classes]} of {@code dataType}, class {@code (r·7 + 3) mod classes} for row r. */
    public static INDArray oneHot(int rows, int classes, DataType dataType) {
        INDArray y = Nd4j.zeros(dataType, rows, classes);
        for (int r = 0; r < rows; r++) {
            y.putScalar(r, (r * 7 + 3) % classes, 1.0);
        }
        return y;
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

    /** {@code n} seeded examples of width {@code in} with random labels in [0, classes), ids from {@code firstId}. */
    public static dev.pare.common.data.ExampleArrays examples(long seed, int n, int in, int classes, long firstId) {
        float[][] x = randomRows(seed, n, in);
        float[] flat = new float[n * in];
        long[] ids = new long[n];
        int[] labels = new int[n];
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed + 1);
        for (int r = 0; r < n; r++) {
            System.arraycopy(x[r], 0, flat, r * in, in);
            ids[r] = firstId + r;
            labels[r] = rnd.nextInt(classes);
        }
        return new dev.pare.common.data.ExampleArrays(ids, flat, in, labels);
    }

    /** Asserts every weight {@code masks} prunes is exactly zero in {@code net}; returns how many there are. */
    public static long assertPrunedWeightsZero(MultiLayerNetwork net, dev.pare.common.sparsity.MaskSet masks) {
        long pruned = 0;
        for (dev.pare.common.sparsity.LayerMask m : masks.layers()) {
            float[][] w = weights(net, m.index());
            for (int i = 0; i < m.nIn(); i++) {
                for (int j = 0; j < m.nOut(); j++) {
                    if (!m.kept(i, j)) {
                        org.junit.jupiter.api.Assertions.assertEquals(0.0f, w[i][j], 0.0f,
                                "pruned w[" + i + "][" + j + "] of " + m.name());
                        pruned++;
                    }
                }
            }
        }
        return pruned;
    }
}
