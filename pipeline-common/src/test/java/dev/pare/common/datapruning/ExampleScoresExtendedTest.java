package dev.pare.common.datapruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Entropy, margin and the last-layer GraNd score of {@link ExampleScores}. */
class ExampleScoresExtendedTest {

    private static final float[] Z = {2, 1, 0};
    private static final float[] H = {1, 2, -2}; // ||h||² = 9

    @Test
    void everyScoreOfAThreeClassRowByHand() {
        // p = softmax(2, 1, 0) = (0.66524, 0.24473, 0.09003); literals from an independent computation
        double p0 = 0.6652409557748219;
        double p1 = 0.24472847105479764;
        double p2 = 0.09003057317038046;
        ExampleScores s = ExampleScores.of(Z, 0, 3, 1, H, 0, 3);

        assertEquals(-Math.log(p1), s.loss(), 1e-12);
        assertEquals(1.4076059644443804, s.loss(), 1e-12);
        double el2n = Math.sqrt(p0 * p0 + (p1 - 1) * (p1 - 1) + p2 * p2);
        assertEquals(el2n, s.el2n(), 1e-12);
        assertEquals(1.0104880582079183, s.el2n(), 1e-12);
        assertEquals(-(p0 * Math.log(p0) + p1 * Math.log(p1) + p2 * Math.log(p2)), s.entropy(), 1e-12);
        assertEquals(0.8323955818399389, s.entropy(), 1e-12);
        assertEquals(p0 - p1, s.margin(), 1e-12);
        assertEquals(0.4205124847200242, s.margin(), 1e-12);
        // ||h ⊗ (p - y)||² + ||p - y||² = ||p - y||² (||h||² + 1) = el2n² · 10
        assertEquals(el2n * Math.sqrt(10), s.grand(), 1e-12);
        assertEquals(3.195443812337825, s.grand(), 1e-12);
        // the same from the square norm of h alone
        assertEquals(s, ExampleScores.of(Z, 0, 3, 1, 9.0));
        assertThrows(IllegalArgumentException.class, () -> ExampleScores.of(Z, 0, 3, 1, -1.0));
        assertThrows(IllegalArgumentException.class, () -> ExampleScores.of(Z, 0, 3, 1, Double.NaN));
    }

    @Test
    void entropyAndMarginIgnoreTheLabel() {
        ExampleScores a = ExampleScores.of(Z, 0, 3, 0);
        ExampleScores c = ExampleScores.of(Z, 0, 3, 2);
        assertEquals(0.8323955818399389, a.entropy(), 1e-12);
        assertEquals(a.entropy(), c.entropy(), 0);
        // top-1 minus top-2 whatever the label, even when the label is the least likely class
        assertEquals(0.4205124847200242, c.margin(), 1e-12);
        assertEquals(a.margin(), c.margin(), 0);
        // the largest logit is not first
        assertEquals(0.4205124847200242, ExampleScores.of(new float[] {1, 0, 2}, 0, 3, 0).margin(), 1e-12);
    }

    @Test
    void uniformLogitsHaveEntropyLogCAndMarginZero() {
        ExampleScores s = ExampleScores.of(new float[] {0.5f, 0.5f, 0.5f, 0.5f}, 0, 4, 3, H, 0, 3);
        assertEquals(Math.log(4), s.entropy(), 1e-12);
        assertEquals(0.0, s.margin(), 0);
        assertEquals(Math.log(4), s.loss(), 1e-12);
        assertEquals(Math.sqrt(3.0 / 4), s.el2n(), 1e-12); // (3/4)² + 3 (1/4)²
        assertEquals(Math.sqrt(3.0 / 4) * Math.sqrt(10), s.grand(), 1e-12);
        // a tie for the top only: margin 0 although the third class is less likely
        assertEquals(0.0, ExampleScores.of(new float[] {3, 1, 3}, 0, 3, 1).margin(), 0);
    }

    @Test
    void degenerateRows() {
        // one class: p = 1, nothing to be uncertain about, the missing second probability is 0
        ExampleScores one = ExampleScores.of(new float[] {5}, 0, 1, 0, new float[] {3, 4}, 0, 2);
        assertEquals(new ExampleScores(0, 0, 0, 1, 0), one);
        // extreme logits: p = (1, 0), entropy 0 (1000·e^-1000 underflows), margin 1
        ExampleScores sure = ExampleScores.of(new float[] {1000, 0}, 0, 2, 1);
        assertEquals(0.0, sure.entropy(), 1e-12);
        assertEquals(1.0, sure.margin(), 1e-12);
        // a logit of -∞ is a probability of exactly 0 and 0·log 0 counts as 0
        ExampleScores minusInf = ExampleScores.of(new float[] {0, 0, Float.NEGATIVE_INFINITY}, 0, 3, 2);
        assertEquals(Math.log(2), minusInf.entropy(), 1e-12);
        assertEquals(0.0, minusInf.margin(), 0);
        assertEquals(Double.POSITIVE_INFINITY, minusInf.loss());
        // a NaN logit spoils every score instead of hiding in a plausible entropy
        ExampleScores nan = ExampleScores.of(new float[] {0, Float.NaN}, 0, 2, 0, H, 0, 3);
        assertEquals(new ExampleScores(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN), nan);
        // no activations: only the bias gradient is left
        ExampleScores noH = ExampleScores.of(Z, 0, 3, 1, new float[0], 0, 0);
        assertEquals(noH.el2n(), noH.grand(), 0);
    }

    @Test
    void theFactoryWithoutActivationsLeavesOnlyGrandUnset() {
        ExampleScores without = ExampleScores.of(Z, 0, 3, 1);
        ExampleScores with = ExampleScores.of(Z, 0, 3, 1, H, 0, 3);
        assertTrue(Double.isNaN(without.grand()));
        assertEquals(new ExampleScores(with.loss(), with.el2n(), with.entropy(), with.margin(), Double.NaN), without);
    }

    @Test
    void readsBothRowsAtTheirOffsets() {
        float[] logits = {7, 7, 7, 2, 1, 0};
        float[] h = {9, 9, 9, 9, 1, 2, -2, 9};
        assertEquals(ExampleScores.of(Z, 0, 3, 1, H, 0, 3), ExampleScores.of(logits, 3, 3, 1, h, 4, 3));
    }

    @Test
    void refusesRowsOutsideTheArrays() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ExampleScores.of(Z, 1, 3, 0));
        assertEquals("logits: row [1, 4) is outside the array of length 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ExampleScores.of(Z, 0, 0, 0));
        assertEquals("logits: row length 0 is below 1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ExampleScores.of(Z, 0, 3, 3, H, 0, 3));
        assertEquals("label 3 is outside [0, 3)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ExampleScores.of(Z, 0, 3, 0, H, 1, 3));
        assertEquals("penultimate: row [1, 4) is outside the array of length 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ExampleScores.of(Z, 0, 3, 0, H, -1, 2));
        assertEquals("penultimate: row [-1, 1) is outside the array of length 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ExampleScores.of(Z, 0, 3, 0, H, 0, -1));
        assertEquals("penultimate: row length -1 is below 0", e.getMessage());
    }

    /**
     * GraNd against DL4J's own backpropagation: the joint L2 norm of the output layer's "W" and "b"
     * gradients for one example equals the closed form {@code el2n · sqrt(||h||² + 1)}.
     * {@code computeGradientAndScore} returns the gradient of the summed loss of the minibatch, so
     * for one example it is that example's gradient; the two-example check below pins that scale down.
     */
    @Test
    void grandEqualsTheNormOfDl4jsOutputLayerGradient() {
        MultiLayerNetwork net = doubleNet();
        // inputs and parameters are multiples of 1/4 and 1/8, so h and z are exact in float too
        double[][] x = {{1.0, -0.5, 0.75, 2.0}, {-1.25, 0.5, 1.5, -0.25}};
        int[] labels = {2, 0};
        double[] grands = new double[2];
        double[][] gW = new double[2][];
        double[][] gb = new double[2][];
        for (int r = 0; r < 2; r++) {
            INDArray input = Nd4j.create(new double[][] {x[r]});
            INDArray y = Nd4j.zeros(DataType.DOUBLE, 1, 3);
            y.putScalar(0, labels[r], 1.0);
            net.setInput(input);
            net.setLabels(y);
            net.computeGradientAndScore();
            INDArray dW = net.gradient().getGradientFor("1_W");
            INDArray db = net.gradient().getGradientFor("1_b");
            gW[r] = dW.dup().data().asDouble();
            gb[r] = db.dup().data().asDouble();
            double dl4jNorm = Math.sqrt(Math.pow(dW.norm2Number().doubleValue(), 2) + Math.pow(db.norm2Number().doubleValue(), 2));
            double dl4jLoss = net.score();

            List<INDArray> acts = net.feedForward(input, false);
            double[] h = acts.get(1).data().asDouble();
            double[] z = acts.get(1).mmul(net.getLayer(1).getParam("W")).addRowVector(net.getLayer(1).getParam("b"))
                    .data().asDouble();
            float[] hf = toExactFloats(h);
            float[] zf = toExactFloats(z);
            ExampleScores s = ExampleScores.of(zf, 0, 3, labels[r], hf, 0, 3);
            grands[r] = s.grand();
            assertTrue(dl4jNorm > 0.1, "a gradient worth comparing: " + dl4jNorm);
            assertEquals(dl4jNorm, s.grand(), 1e-9);
            assertEquals(dl4jLoss, s.loss(), 1e-9);
            // and element by element: dL/dW[i][j] = h_i (p_j - y_j) (W is [nIn, nOut], 'c' order), dL/db = p - y
            double[] p = acts.get(2).data().asDouble();
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) {
                    double d = p[j] - (j == labels[r] ? 1 : 0);
                    assertEquals(h[i] * d, dW.getDouble(i, j), 1e-12);
                    assertEquals(d, db.getDouble(j), 1e-12); // linear index: b's gradient may be [3] or [1, 3]
                }
            }
        }
        // both examples at once: DL4J's gradient is the sum of the two (no division by the batch size here)
        INDArray y2 = Nd4j.zeros(DataType.DOUBLE, 2, 3);
        y2.putScalar(0, labels[0], 1.0);
        y2.putScalar(1, labels[1], 1.0);
        net.setInput(Nd4j.create(x));
        net.setLabels(y2);
        net.computeGradientAndScore();
        double[] sumW = net.gradient().getGradientFor("1_W").dup().data().asDouble();
        double[] sumB = net.gradient().getGradientFor("1_b").dup().data().asDouble();
        for (int k = 0; k < 9; k++) {
            assertEquals(gW[0][k] + gW[1][k], sumW[k], 1e-12);
        }
        for (int k = 0; k < 3; k++) {
            assertEquals(gb[0][k] + gb[1][k], sumB[k], 1e-12);
        }
        assertTrue(grands[0] != grands[1]);
    }

    /** Dense 4→3 ReLU and softmax output 3→3 (MCXENT) in double, parameters seeded multiples of 1/8. */
    private static MultiLayerNetwork doubleNet() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(7)
                .dataType(DataType.DOUBLE)
                .updater(new Sgd(0.1))
                .list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(3).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        SplittableRandom rnd = new SplittableRandom(11);
        INDArray params = net.params().dup();
        for (long k = 0; k < params.length(); k++) {
            params.putScalar(k, (rnd.nextInt(17) - 8) / 8.0);
        }
        net.setParams(params);
        return net;
    }

    private static float[] toExactFloats(double[] v) {
        float[] f = new float[v.length];
        for (int k = 0; k < v.length; k++) {
            f[k] = (float) v[k];
            assertEquals(v[k], f[k], 0, "not exact in float: " + v[k]);
        }
        return f;
    }
}
