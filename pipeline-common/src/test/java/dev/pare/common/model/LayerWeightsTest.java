package dev.pare.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.TinyNets;
import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class LayerWeightsTest {
    private static final int C = 2;   // input channels
    private static final int O = 3;   // filters
    private static final int K = 2;   // kernel 2×2
    private static final int S = 4;   // input 4×4 → output 3×3

    /** flat [b, 2·4·4] → conv 2×2, 2 → 3 filters, identity activation (3×3 maps) → out 2, float. */
    private static MultiLayerNetwork convNet(long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .list()
                .layer(new ConvolutionLayer.Builder(K, K).name("conv").nOut(O).activation(Activation.IDENTITY).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(S, S, C))
                .build());
        net.init();
        TinyNets.randomizeParams(net, seed);
        return net;
    }

    private static PrunableLayer conv(MultiLayerNetwork net) {
        PrunableLayer p = Networks.prunableLayers(net, true).prunable().get(0);
        assertEquals(PrunableLayer.Kind.CONVOLUTION, p.kind());
        assertEquals(C * K * K, p.nIn());
        assertEquals(O, p.nOut());
        assertArrayEquals(new long[] {O, C, K, K}, p.weightShape());
        return p;
    }

    @Test
    void convMatrixViewPutsFilterWeightsAtTheIm2colRow() {
        MultiLayerNetwork net = convNet(3);
        PrunableLayer p = conv(net);
        INDArray w = net.getLayer(0).getParam("W");
        double[][] m = LayerWeights.matrix(net.getLayer(0), p);
        assertEquals(8, m.length);
        int checked = 0;
        for (int o = 0; o < O; o++) {
            for (int c = 0; c < C; c++) {
                for (int kh = 0; kh < K; kh++) {
                    for (int kw = 0; kw < K; kw++) {
                        int row = (c * K + kh) * K + kw;
                        assertEquals(O, m[row].length);
                        assertEquals(w.getDouble(o, c, kh, kw), m[row][o], 0.0, "W[" + o + "][" + c + "][" + kh + "][" + kw + "]");
                        checked++;
                    }
                }
            }
        }
        assertEquals(24, checked);
        // all 24 values are distinct, so a transposed or permuted view could not pass the loop above
        assertEquals(24, java.util.Arrays.stream(m).flatMapToDouble(java.util.Arrays::stream).distinct().count());
    }

    @Test
    void denseMatrixViewIsTheWeightParameter() {
        MultiLayerNetwork net = TinyNets.dense(4, 5, 3, 2);
        PrunableLayer p = Networks.prunableLayers(net, true).prunable().get(0);
        float[][] w = TinyNets.weights(net, 0);
        double[][] m = LayerWeights.matrix(net.getLayer(0), p);
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 3; j++) {
                assertEquals(w[i][j], m[i][j], 0.0);
            }
        }
    }

    @Test
    void fromMatrixViewUndoesToMatrixView() {
        MultiLayerNetwork net = convNet(5);
        PrunableLayer p = conv(net);
        INDArray w = net.getLayer(0).getParam("W");
        INDArray back = LayerWeights.fromMatrixView(LayerWeights.toMatrixView(w, p), p, DataType.FLOAT);
        assertEquals(DataType.FLOAT, back.dataType());
        assertArrayEquals(w.shape(), back.shape());
        assertEquals(w, back);

        // and the other way round: a matrix with value 100·row + column comes back unchanged
        double[][] m = new double[8][O];
        for (int i = 0; i < 8; i++) {
            for (int o = 0; o < O; o++) {
                m[i][o] = 100 * i + o;
            }
        }
        INDArray asParam = LayerWeights.fromMatrixView(Nd4j.createFromArray(m), p, DataType.DOUBLE);
        assertEquals(102.0, asParam.getDouble(2, 0, 0, 1), 0.0, "row (0·2+0)·2+1 = 1, filter 2");
        assertEquals(700.0, asParam.getDouble(0, 1, 1, 1), 0.0, "row (1·2+1)·2+1 = 7, filter 0");
        assertArrayEquals(m, LayerWeights.toMatrixView(asParam, p).toDoubleMatrix());

        String msg = assertThrows(IllegalArgumentException.class,
                () -> LayerWeights.fromMatrixView(Nd4j.zeros(DataType.DOUBLE, O, 8), p, DataType.FLOAT)).getMessage();
        assertTrue(msg.contains("conv") && msg.contains("8x3"), msg);
    }

    @Test
    void setMatrixInPlaceChangesTheNetworkAndTheConvolutionReadsTheViewAsIm2col() {
        MultiLayerNetwork net = convNet(7);
        PrunableLayer p = conv(net);
        INDArray paramsBefore = net.params().dup();
        double[][] m = new double[8][O];
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(11);
        for (double[] row : m) {
            for (int o = 0; o < O; o++) {
                row[o] = Math.round((rnd.nextDouble() - 0.5) * 64) / 64.0;  // exact in float
            }
        }
        LayerWeights.setMatrixInPlace(net.getLayer(0), p, m);

        assertArrayEquals(m, LayerWeights.matrix(net.getLayer(0), p));
        // the layer's W is a view of the network's flat parameter vector: exactly its 24 entries changed there
        assertEquals(paramsBefore.length(), net.params().length());
        assertEquals(24, net.params().neq(paramsBefore).castTo(DataType.INT).sumNumber().intValue());

        // the network's own convolution equals Σ_row x_im2col[row] · m[row][o] + b[o]
        float[][] x = TinyNets.randomRows(2, 3, C * S * S);
        INDArray out = net.feedForward(TinyNets.toArray(x), false).get(1);
        assertArrayEquals(new long[] {3, O, 3, 3}, out.shape());
        float[] b = net.getLayer(0).getParam("b").toFloatVector();
        for (int n = 0; n < 3; n++) {
            for (int o = 0; o < O; o++) {
                for (int oh = 0; oh < 3; oh++) {
                    for (int ow = 0; ow < 3; ow++) {
                        double s = b[o];
                        for (int c = 0; c < C; c++) {
                            for (int kh = 0; kh < K; kh++) {
                                for (int kw = 0; kw < K; kw++) {
                                    // convolutionalFlat: feature (c·H + h)·W + w
                                    s += x[n][(c * S + oh + kh) * S + ow + kw] * m[(c * K + kh) * K + kw][o];
                                }
                            }
                        }
                        assertEquals(s, out.getDouble(n, o, oh, ow), 1e-5, "output " + List.of(n, o, oh, ow));
                    }
                }
            }
        }
    }

    @Test
    void aLayerOfAnotherShapeIsRefused() {
        MultiLayerNetwork net = convNet(3);
        PrunableLayer wrong = new PrunableLayer(0, "conv", PrunableLayer.Kind.CONVOLUTION, C, 3, 3, O, false);
        String msg = assertThrows(IllegalArgumentException.class, () -> LayerWeights.matrix(net.getLayer(0), wrong))
                .getMessage();
        assertTrue(msg.contains("conv") && msg.contains("[3, 2, 3, 3]") && msg.contains("[3, 2, 2, 2]"), msg);
    }
}
