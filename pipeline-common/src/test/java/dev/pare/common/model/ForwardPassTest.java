package dev.pare.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.TinyNets;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class ForwardPassTest {

    @Test
    void rowMajorReadsEveryLayoutRowByRow() {
        // m[r][c] = 10 r + c, as 'f' (the passes' layout), 'c', a double array and a column view.
        float[] expected = {0, 1, 2, 10, 11, 12};
        INDArray c = org.nd4j.linalg.factory.Nd4j.create(expected, new long[] {2, 3}, 'c');
        assertArrayEquals(expected, ForwardPass.rowMajor(c.dup('f')));
        assertArrayEquals(expected, ForwardPass.rowMajor(c));
        assertArrayEquals(expected, ForwardPass.rowMajor(c.castTo(DataType.DOUBLE).dup('f')));
        INDArray wide = org.nd4j.linalg.factory.Nd4j.create(new float[] {0, 1, 2, 9, 10, 11, 12, 9}, new long[] {2, 4},
                'c');
        assertArrayEquals(expected, ForwardPass.rowMajor(wide.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 3))));
    }

    @Test
    void columnsComeInOrderEachInTheGivenArray() {
        // m[r][c] = 10 r + c: column c is {c, 10 + c}, in any layout; the array may be longer than a column.
        INDArray c = org.nd4j.linalg.factory.Nd4j.create(new float[] {0, 1, 2, 10, 11, 12}, new long[] {2, 3}, 'c');
        for (INDArray a : new INDArray[] {c.dup('f'), c, c.castTo(DataType.DOUBLE)}) {
            float[] column = {-1, -1, -1};
            java.util.List<String> seen = new java.util.ArrayList<>();
            ForwardPass.columns(a, column, k -> seen.add(k + ":" + column[0] + "," + column[1] + "," + column[2]));
            assertEquals(java.util.List.of("0:0.0,10.0,-1.0", "1:1.0,11.0,-1.0", "2:2.0,12.0,-1.0"), seen);
        }
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ForwardPass.columns(c, new float[1], k -> { }));
        assertEquals("a column of 2 values does not fit 1", e.getMessage());
    }

    @Test
    void logitsAreTheOutputLayerPreActivationComputedByHand() {
        MultiLayerNetwork net = TinyNets.dense(8, 4, 3, 2);
        float[][] x = TinyNets.randomRows(4, 5, 4);
        ForwardPass pass = ForwardPass.run(net, TinyNets.toArray(x));
        float[][] w0 = TinyNets.weights(net, 0);
        float[] b0 = TinyNets.bias(net, 0);
        float[][] w1 = TinyNets.weights(net, 1);
        float[] b1 = TinyNets.bias(net, 1);

        assertEquals(2, pass.layerInputs().size());
        float[][] in0 = pass.layerInputs().get(0).toFloatMatrix();
        float[][] in1 = pass.layerInputs().get(1).toFloatMatrix();
        float[][] z = pass.logits().toFloatMatrix();
        float[][] probs = net.output(TinyNets.toArray(x)).toFloatMatrix();
        for (int r = 0; r < x.length; r++) {
            assertArrayEquals(x[r], in0[r], "layer 0 input is the features");
            double[] h = new double[3];
            for (int j = 0; j < 3; j++) {
                double s = b0[j];
                for (int i = 0; i < 4; i++) {
                    s += (double) x[r][i] * w0[i][j];
                }
                h[j] = Math.max(0, s);
                assertEquals(h[j], in1[r][j], 1e-5, "hidden " + r + "," + j);
            }
            double[] logits = new double[2];
            for (int c = 0; c < 2; c++) {
                double s = b1[c];
                for (int j = 0; j < 3; j++) {
                    s += h[j] * w1[j][c];
                }
                logits[c] = s;
                assertEquals(s, z[r][c], 1e-5, "logit " + r + "," + c);
            }
            // softmax of the logits is the network's own output
            double p0 = 1 / (1 + Math.exp(logits[1] - logits[0]));
            assertEquals(p0, probs[r][0], 1e-5);
            assertEquals(1 - p0, probs[r][1], 1e-5);
        }
    }

    @Test
    void denseNetworksGiveDl4jsOwnActivationsBitForBitAndKeepPreActivations() {
        // fc1 20→16 ReLU, fc2 16→12 ReLU, out 12→5 softmax; float, as teachers are stored.
        MultiLayerNetwork net = TinyNets.dense(31, 20, 16, 12, 5);
        INDArray x = TinyNets.toArray(TinyNets.randomRows(32, 9, 20));
        ForwardPass pass = ForwardPass.run(net, x);
        java.util.List<INDArray> dl4j = net.feedForward(x, false);
        assertEquals(3, pass.preActivations().size());
        for (int l = 0; l < 3; l++) {
            // INDArray.equals allows 1e-5: compare the values exactly.
            assertArrayEquals(values(dl4j.get(l)), values(pass.layerInputs().get(l)), 0f, "input of layer " + l);
            assertArrayEquals(values(dl4j.get(l + 1)), values(pass.layerOutputs().get(l)), 0f, "output of layer " + l);
            // z = a W + b, and the activation of z is the layer's output
            INDArray z = pass.preActivations().get(l);
            float[][] a = pass.layerInputs().get(l).toFloatMatrix();
            float[][] w = TinyNets.weights(net, l);
            float[] b = TinyNets.bias(net, l);
            for (int r = 0; r < 9; r++) {
                for (int j = 0; j < w[0].length; j++) {
                    double sum = b[j];
                    for (int i = 0; i < w.length; i++) {
                        sum += (double) a[r][i] * w[i][j];
                    }
                    assertEquals(sum, z.getDouble(r, j), 1e-5, "z of layer " + l + " at " + r + "," + j);
                    if (l < 2) {
                        assertEquals(Math.max(0, z.getDouble(r, j)), pass.layerOutputs().get(l).getDouble(r, j), 0.0);
                    }
                }
            }
        }
        assertEquals(pass.preActivations().get(2), pass.logits());
        // A network that is not a dense chain keeps no pre-activations.
        assertTrue(ForwardPass.run(TinyNets.cnn(12, DataType.FLOAT), TinyNets.toArray(TinyNets.randomRows(13, 2,
                TinyNets.CNN_CHANNELS * TinyNets.CNN_SIZE * TinyNets.CNN_SIZE))).preActivations().isEmpty());
    }

    @Test
    void floatConvolutionsThroughPareIm2colMatchDl4j() {
        // The tiny CNN, and one with 2 input channels, stride 2, padding 1, dilation 2, no bias, two
        // convolutions (Truncate and Same mode) and tanh: every layer's output against feedForward.
        MultiLayerNetwork odd = new MultiLayerNetwork(new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder()
                .seed(3).dataType(DataType.FLOAT).list()
                .layer(new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(3, 3).nOut(3).stride(2, 2)
                        .padding(1, 1).dilation(2, 2).hasBias(false)
                        .activation(org.nd4j.linalg.activations.Activation.TANH).build())
                .layer(new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(2, 2).nOut(4)
                        .convolutionMode(org.deeplearning4j.nn.conf.ConvolutionMode.Same)
                        .activation(org.nd4j.linalg.activations.Activation.RELU).build())
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder(
                        org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build())
                .setInputType(org.deeplearning4j.nn.conf.inputs.InputType.convolutionalFlat(9, 7, 2))
                .build());
        odd.init();
        TinyNets.randomizeParams(odd, 4);
        MultiLayerNetwork tiny = TinyNets.cnn(12, DataType.FLOAT);
        int tinyWidth = TinyNets.CNN_CHANNELS * TinyNets.CNN_SIZE * TinyNets.CNN_SIZE;
        for (Object[] c : new Object[][] {{tiny, tinyWidth}, {odd, 2 * 9 * 7}}) {
            MultiLayerNetwork net = (MultiLayerNetwork) c[0];
            INDArray x = TinyNets.toArray(TinyNets.randomRows(14, 5, (Integer) c[1]));
            ForwardPass pass = ForwardPass.run(net, x);
            java.util.List<INDArray> dl4j = net.feedForward(x, false);
            for (int l = 0; l < net.getnLayers(); l++) {
                assertArrayEquals(dl4j.get(l + 1).shape(), pass.layerOutputs().get(l).shape(), "shape of layer " + l);
                float[] expected = values(dl4j.get(l + 1));
                float[] actual = values(pass.layerOutputs().get(l));
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], actual[i], 1e-5, "layer " + l + " value " + i);
                }
            }
        }
    }

    @Test
    void toLogitsGivesRunsLogitsAndInputsBitForBitWithoutTheOutputActivation() {
        // A dense chain (Pare's GEMM path, through buffers and without), a dense chain without an output bias,
        // and a CNN (layer by layer).
        MultiLayerNetwork noBias = new MultiLayerNetwork(new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder()
                .seed(5).dataType(DataType.FLOAT).list()
                .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(6).nOut(5)
                        .activation(org.nd4j.linalg.activations.Activation.RELU).build())
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder(
                        org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction.MCXENT).nIn(5).nOut(3).hasBias(false)
                        .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build())
                .build());
        noBias.init();
        TinyNets.randomizeParams(noBias, 6);
        int cnnWidth = TinyNets.CNN_CHANNELS * TinyNets.CNN_SIZE * TinyNets.CNN_SIZE;
        for (Object[] c : new Object[][] {{TinyNets.dense(31, 20, 16, 12, 5), 20}, {noBias, 6},
                {TinyNets.cnn(12, DataType.FLOAT), cnnWidth}}) {
            MultiLayerNetwork net = (MultiLayerNetwork) c[0];
            INDArray x = TinyNets.toArray(TinyNets.randomRows(17, 11, (Integer) c[1]));
            ForwardPass full = ForwardPass.run(net, x);
            for (ForwardPass.Buffers buffers : new ForwardPass.Buffers[] {null, new ForwardPass.Buffers()}) {
                ForwardPass logits = ForwardPass.toLogits(net, x, buffers);
                assertArrayEquals(values(full.logits()), values(logits.logits()), 0f);
                assertEquals(net.getnLayers(), logits.layerInputs().size());
                for (int l = 0; l < net.getnLayers(); l++) {
                    assertArrayEquals(values(full.layerInputs().get(l)), values(logits.layerInputs().get(l)), 0f,
                            "input of layer " + l);
                }
                assertEquals(net.getnLayers() - 1, logits.layerOutputs().size(), "the hidden layers' outputs only");
            }
            // Buffers used again: their prepared products serve the next passes, read the inputs' new values
            // and are prepared anew for another input array.
            ForwardPass.Buffers reused = new ForwardPass.Buffers();
            INDArray input = x.dup();
            for (int pass = 0; pass < 3; pass++) {
                assertArrayEquals(values(full.logits()), values(ForwardPass.toLogits(net, input, reused).logits()), 0f,
                        "pass " + pass);
            }
            input.muli(-0.5);
            INDArray other = x.mul(2);
            assertArrayEquals(values(ForwardPass.run(net, input).logits()),
                    values(ForwardPass.toLogits(net, input, reused).logits()), 0f, "new values in the same array");
            assertArrayEquals(values(ForwardPass.run(net, other).logits()),
                    values(ForwardPass.toLogits(net, other, reused).logits()), 0f, "another array");
            // The logits computed by hand from the output layer's input: z = h W (+ b).
            float[][] h = full.layerInputs().get(net.getnLayers() - 1).reshape(11, -1).toFloatMatrix();
            float[][] w = TinyNets.weights(net, net.getnLayers() - 1);
            INDArray b = net.getLayer(net.getnLayers() - 1).paramTable().get("b");
            float[][] z = ForwardPass.logits(net, x).toFloatMatrix();
            for (int r = 0; r < 11; r++) {
                for (int k = 0; k < w[0].length; k++) {
                    double sum = b == null ? 0 : b.getDouble(k);
                    for (int i = 0; i < w.length; i++) {
                        sum += (double) h[r][i] * w[i][k];
                    }
                    assertEquals(sum, z[r][k], 1e-5, "logit " + r + "," + k);
                }
            }
        }
    }

    @Test
    void buffersServeBatchesOfEverySizeFromTheSameMemory() {
        // Batches of varying sizes (as a task's row-group chunks are) through one buffer set: every pass
        // gives a fresh pass's logits and layer inputs bit for bit, and the layers' arrays lie in the same
        // native memory whatever the size (a CNN: the convolution's and pooling's outputs, the dense
        // layer's; a dense network: every layer's).
        int cnnWidth = TinyNets.CNN_CHANNELS * TinyNets.CNN_SIZE * TinyNets.CNN_SIZE;
        for (Object[] c : new Object[][] {{TinyNets.cnn(21, DataType.FLOAT), cnnWidth},
                {TinyNets.dense(22, 20, 16, 12, 5), 20}}) {
            MultiLayerNetwork net = (MultiLayerNetwork) c[0];
            int width = (Integer) c[1];
            ForwardPass.Buffers buffers = new ForwardPass.Buffers();
            long[] addresses = null;
            int[] sizes = {13, 9, 13, 12, 5, 13, 1};
            for (int b = 0; b < sizes.length; b++) {
                dev.pare.common.data.ExampleArrays batch = TinyNets.examples(30 + b, sizes[b], width, 3, 0);
                INDArray x = buffers.features(batch);
                ForwardPass fresh = ForwardPass.toLogits(net, batch.featureRange(0, batch.size()), null);
                ForwardPass reused = ForwardPass.toLogits(net, x, buffers);
                assertArrayEquals(values(fresh.logits()), values(reused.logits()), 0f, "logits of batch " + b);
                for (int l = 0; l < net.getnLayers(); l++) {
                    assertArrayEquals(values(fresh.layerInputs().get(l)), values(reused.layerInputs().get(l)), 0f,
                            "input of layer " + l + " in batch " + b);
                }
                long[] now = new long[reused.layerOutputs().size() + 1];
                for (int l = 0; l < reused.layerOutputs().size(); l++) {
                    now[l] = reused.layerOutputs().get(l).data().addressPointer().address();
                }
                now[now.length - 1] = x.data().addressPointer().address();
                if (addresses == null) {
                    addresses = now;
                } else {
                    assertArrayEquals(addresses, now, "batch " + b + " (" + sizes[b] + " rows) in the first's memory");
                }
            }
        }
    }

    /** Every value in C order. */
    private static float[] values(INDArray a) {
        return a.dup('c').data().asFloat();
    }

    @Test
    void rowMajorLogitsMatchTheMatrix() {
        MultiLayerNetwork net = TinyNets.dense(8, 4, 3, 2);
        INDArray x = TinyNets.toArray(TinyNets.randomRows(6, 7, 4));
        float[][] m = ForwardPass.logits(net, x).toFloatMatrix();
        float[] flat = ForwardPass.logitsRowMajor(net, x);
        assertEquals(14, flat.length);
        for (int r = 0; r < 7; r++) {
            for (int c = 0; c < 2; c++) {
                assertEquals(m[r][c], flat[r * 2 + c], 0.0f);
            }
        }
    }

    @Test
    void cnnLayerInputsAreWhatEachLayerReadAfterItsPreprocessor() {
        // conv1 3×3 (2 → 4 channels, 6×6 → 4×4) → pool1 2×2 (→ 2×2) → fc 16 → 8 → out 8 → 3
        MultiLayerNetwork net = TinyNets.cnn(12, DataType.DOUBLE);
        int b = 5;
        int c = TinyNets.CNN_CHANNELS;
        int size = TinyNets.CNN_SIZE;
        float[][] x = TinyNets.randomRows(13, b, c * size * size);
        INDArray features = TinyNets.toArray(x).castTo(DataType.DOUBLE);
        ForwardPass pass = ForwardPass.run(net, features);
        assertEquals(4, pass.layerInputs().size());
        assertEquals(4, pass.layerOutputs().size());

        // conv1 reads [b, C, H, W]: feature (ch·H + h)·W + w of the flat input
        INDArray in0 = pass.layerInputs().get(0);
        assertArrayEquals(new long[] {b, c, size, size}, in0.shape());
        for (int n = 0; n < b; n++) {
            for (int ch = 0; ch < c; ch++) {
                for (int h = 0; h < size; h++) {
                    for (int w = 0; w < size; w++) {
                        assertEquals(x[n][(ch * size + h) * size + w], in0.getDouble(n, ch, h, w), 0.0);
                    }
                }
            }
        }

        // conv1's output by hand (ReLU of the 3×3 correlation plus bias) is pool1's input
        INDArray w0 = net.getLayer(0).getParam("W");
        INDArray b0 = net.getLayer(0).getParam("b");
        double[][][][] conv = new double[b][4][4][4];
        for (int n = 0; n < b; n++) {
            for (int o = 0; o < 4; o++) {
                for (int oh = 0; oh < 4; oh++) {
                    for (int ow = 0; ow < 4; ow++) {
                        double s = b0.getDouble(o);
                        for (int ch = 0; ch < c; ch++) {
                            for (int kh = 0; kh < 3; kh++) {
                                for (int kw = 0; kw < 3; kw++) {
                                    s += in0.getDouble(n, ch, oh + kh, ow + kw) * w0.getDouble(o, ch, kh, kw);
                                }
                            }
                        }
                        conv[n][o][oh][ow] = Math.max(0, s);
                        assertEquals(conv[n][o][oh][ow], pass.layerOutputs().get(0).getDouble(n, o, oh, ow), 1e-12);
                        assertEquals(conv[n][o][oh][ow], pass.layerInputs().get(1).getDouble(n, o, oh, ow), 1e-12);
                    }
                }
            }
        }

        // fc reads the 2×2 max-pooled maps flattened channel-major: [b, 4·2·2], index ch·4 + h·2 + w
        INDArray pooled = pass.layerOutputs().get(1);
        INDArray in2 = pass.layerInputs().get(2);
        assertArrayEquals(new long[] {b, 4, 2, 2}, pooled.shape());
        assertArrayEquals(new long[] {b, 16}, in2.shape());
        for (int n = 0; n < b; n++) {
            for (int ch = 0; ch < 4; ch++) {
                for (int h = 0; h < 2; h++) {
                    for (int w = 0; w < 2; w++) {
                        double max = Math.max(Math.max(conv[n][ch][2 * h][2 * w], conv[n][ch][2 * h][2 * w + 1]),
                                Math.max(conv[n][ch][2 * h + 1][2 * w], conv[n][ch][2 * h + 1][2 * w + 1]));
                        assertEquals(max, pooled.getDouble(n, ch, h, w), 1e-12, "pool " + n + "," + ch + "," + h + "," + w);
                        assertEquals(pooled.getDouble(n, ch, h, w), in2.getDouble(n, ch * 4 + h * 2 + w), 0.0);
                    }
                }
            }
        }
        INDArray reshaped = pooled.dup('c').reshape('c', b, 16);
        assertEquals(reshaped, in2);

        // logits: out's pre-softmax from fc's output, by hand; softmax(logits) is net.output
        INDArray fcOut = pass.layerOutputs().get(2);
        assertEquals(fcOut, pass.layerInputs().get(3));
        INDArray w3 = net.getLayer(3).getParam("W");
        INDArray b3 = net.getLayer(3).getParam("b");
        INDArray probs = net.output(features);
        assertArrayEquals(new long[] {b, 3}, pass.logits().shape());
        for (int n = 0; n < b; n++) {
            double[] z = new double[3];
            double norm = 0;
            for (int k = 0; k < 3; k++) {
                z[k] = b3.getDouble(k);
                for (int j = 0; j < 8; j++) {
                    z[k] += fcOut.getDouble(n, j) * w3.getDouble(j, k);
                }
                assertEquals(z[k], pass.logits().getDouble(n, k), 1e-12, "logit " + n + "," + k);
                norm += Math.exp(z[k]);
            }
            for (int k = 0; k < 3; k++) {
                assertEquals(Math.exp(z[k]) / norm, probs.getDouble(n, k), 1e-6, "softmax " + n + "," + k);
            }
        }
        assertTrue(pass.logits().sub(probs).amaxNumber().doubleValue() > 0.1, "logits are not the probabilities");
    }
}
