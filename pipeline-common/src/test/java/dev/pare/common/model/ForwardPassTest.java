package dev.pare.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pare.common.TinyNets;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class ForwardPassTest {

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
}
