package dev.pare.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class MaxPoolingTest {

    /** A one-layer network: max pooling of [n, 3, h, w] float input. */
    private static MultiLayerNetwork pooling(int h, int w, int[] kernel, int[] stride, int[] padding, int[] dilation,
                                             ConvolutionMode mode) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
                .list()
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(kernel).stride(stride)
                        .padding(padding).dilation(dilation).convolutionMode(mode).build())
                .setInputType(InputType.convolutional(h, w, 3))
                .build());
        net.init();
        return net;
    }

    @Test
    void givesDl4jsMaxPoolingOnAGridOfGeometries() {
        Object[][] cases = {
            {8, 8, new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, new int[] {1, 1}, ConvolutionMode.Truncate},
            {7, 9, new int[] {3, 2}, new int[] {2, 1}, new int[] {1, 0}, new int[] {1, 1}, ConvolutionMode.Truncate},
            {7, 7, new int[] {3, 3}, new int[] {2, 2}, new int[] {0, 0}, new int[] {1, 1}, ConvolutionMode.Same},
            {9, 8, new int[] {2, 2}, new int[] {1, 2}, new int[] {1, 1}, new int[] {1, 1}, ConvolutionMode.Truncate},
            {6, 6, new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, new int[] {1, 1}, ConvolutionMode.Strict},
        };
        for (Object[] c : cases) {
            int h = (Integer) c[0];
            int w = (Integer) c[1];
            MultiLayerNetwork net = pooling(h, w, (int[]) c[2], (int[]) c[3], (int[]) c[4], (int[]) c[5],
                    (ConvolutionMode) c[6]);
            SubsamplingLayer conf = (SubsamplingLayer) net.getLayer(0).conf().getLayer();
            assertTrue(MaxPooling.handles(conf, DataType.FLOAT));
            // Negative values too, and ties: a maximum is exact whichever library computes it.
            INDArray x = Nd4j.rand(DataType.FLOAT, 4, 3, h, w).subi(0.5).muli(4).castTo(DataType.FLOAT);
            x.putScalar(new long[] {0, 0, 0, 0}, 1.5f);
            x.putScalar(new long[] {0, 0, 0, 1}, 1.5f);
            INDArray expected = net.getLayer(0).activate(x, false, LayerWorkspaceMgr.noWorkspaces());
            INDArray actual = MaxPooling.forward(conf, x);
            String where = "case " + java.util.Arrays.deepToString(c);
            assertArrayEquals(expected.shape(), actual.shape(), where);
            assertArrayEquals(expected.dup('c').data().asFloat(), actual.dup('c').data().asFloat(), 0f, where);
        }
    }

    @Test
    void poolsA2x2WindowByHand() {
        MultiLayerNetwork net = pooling(4, 4, new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, new int[] {1, 1},
                ConvolutionMode.Truncate);
        float[] v = new float[3 * 16];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i * 7 % 11) - 5;
        }
        INDArray x = Nd4j.create(v, new long[] {1, 3, 4, 4}, 'c');
        INDArray y = MaxPooling.forward((SubsamplingLayer) net.getLayer(0).conf().getLayer(), x);
        assertArrayEquals(new long[] {1, 3, 2, 2}, y.shape());
        for (int ch = 0; ch < 3; ch++) {
            for (int oh = 0; oh < 2; oh++) {
                for (int ow = 0; ow < 2; ow++) {
                    float max = Float.NEGATIVE_INFINITY;
                    for (int i = 0; i < 2; i++) {
                        for (int j = 0; j < 2; j++) {
                            max = Math.max(max, v[ch * 16 + (2 * oh + i) * 4 + 2 * ow + j]);
                        }
                    }
                    assertEquals(max, y.getFloat(0, ch, oh, ow), 0f);
                }
            }
        }
    }

    @Test
    void leavesOtherPoolingToDl4j() {
        assertFalse(MaxPooling.handles(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.AVG).build(),
                DataType.FLOAT));
        assertFalse(MaxPooling.handles(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                .dataFormat(CNN2DFormat.NHWC).build(), DataType.FLOAT));
        assertFalse(MaxPooling.handles(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).build(),
                DataType.DOUBLE));
        assertFalse(MaxPooling.handles(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                .dilation(2, 2).build(), DataType.FLOAT));
    }
}
