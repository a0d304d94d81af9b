package dev.pare.common.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class KnowledgeDistillationLossTest {
    /** Student logits z, teacher logits t and hard labels of a 2-row, 3-class batch. */
    private static final double[][] Z = {{1.0, -0.5, 2.0}, {0.3, 0.8, -1.2}};
    private static final double[][] TEACHER = {{2.5, 0.1, 1.0}, {-0.7, 1.9, 0.4}};
    private static final int[] Y = {2, 0};

    private static INDArray labels(double[][] t, int[] y) {
        int c = t[0].length;
        double[][] l = new double[t.length][2 * c];
        for (int r = 0; r < t.length; r++) {
            l[r][y[r]] = 1.0;
            System.arraycopy(t[r], 0, l[r], c, c);
        }
        return Nd4j.create(l);
    }

    private static double[] softmax(double[] v, double temperature) {
        double[] e = new double[v.length];
        double sum = 0;
        for (int k = 0; k < v.length; k++) {
            e[k] = Math.exp(v[k] / temperature);
            sum += e[k];
        }
        for (int k = 0; k < v.length; k++) {
            e[k] /= sum;
        }
        return e;
    }

    /** α·CE(y, softmax(z)) + (1−α)·T²·KL(softmax(t/T) ‖ softmax(z/T)), in plain doubles. */
    private static double byHand(double[] z, double[] t, int y, double temperature, double alpha) {
        double ce = -Math.log(softmax(z, 1)[y]);
        double[] q = softmax(t, temperature);
        double[] p = softmax(z, temperature);
        double kl = 0;
        for (int k = 0; k < z.length; k++) {
            kl += q[k] * Math.log(q[k] / p[k]);
        }
        return alpha * ce + (1 - alpha) * temperature * temperature * kl;
    }

    @ParameterizedTest
    @CsvSource({"4.0, 0.5", "2.0, 0.25", "1.0, 1.0", "7.5, 0.0"})
    void scoreArrayMatchesTheFormula(double temperature, double alpha) {
        KnowledgeDistillationLoss loss = new KnowledgeDistillationLoss(temperature, alpha);
        INDArray score = loss.computeScoreArray(labels(TEACHER, Y), Nd4j.create(Z), new ActivationSoftmax(), null);
        assertArrayEquals(new long[] {2, 1}, score.shape());
        double[] s = score.reshape(2).toDoubleVector();
        for (int r = 0; r < 2; r++) {
            double expected = byHand(Z[r], TEACHER[r], Y[r], temperature, alpha);
            assertEquals(expected, s[r], 1e-12 * Math.max(1, Math.abs(expected)), "row " + r);
        }
        double sum = byHand(Z[0], TEACHER[0], Y[0], temperature, alpha) + byHand(Z[1], TEACHER[1], Y[1], temperature, alpha);
        INDArray l = labels(TEACHER, Y);
        assertEquals(sum, loss.computeScore(l, Nd4j.create(Z), new ActivationSoftmax(), null, false), 1e-12);
        assertEquals(sum / 2, loss.computeScore(l, Nd4j.create(Z), new ActivationSoftmax(), null, true), 1e-12);
    }

    @Test
    void softTermVanishesWhenStudentEqualsTeacher() {
        KnowledgeDistillationLoss loss = new KnowledgeDistillationLoss(4.0, 0.0);
        double[] s = loss.computeScoreArray(labels(TEACHER, Y), Nd4j.create(TEACHER), new ActivationSoftmax(), null)
                .reshape(2).toDoubleVector();
        assertEquals(0.0, s[0], 1e-12);
        assertEquals(0.0, s[1], 1e-12);
    }

    @Test
    void largeLogitsStayFinite() {
        double[][] z = {{1000, 0, -1000}};
        double[][] t = {{-1000, 1000, 0}};
        double s = new KnowledgeDistillationLoss(1.0, 0.5)
                .computeScoreArray(labels(t, new int[] {2}), Nd4j.create(z), new ActivationSoftmax(), null)
                .getDouble(0);
        // CE = 2000; KL(q‖p) with q ≈ onehot(1): log q1 − log p1 = 0 − (−1000) = 1000
        assertEquals(0.5 * 2000 + 0.5 * 1000, s, 1e-9);
    }

    @ParameterizedTest
    @CsvSource({"4.0, 0.5", "2.0, 0.25", "0.5, 0.9"})
    void gradientMatchesCentralFiniteDifferences(double temperature, double alpha) {
        KnowledgeDistillationLoss loss = new KnowledgeDistillationLoss(temperature, alpha);
        INDArray labels = labels(TEACHER, Y);
        INDArray z = Nd4j.create(Z);
        assertEquals(DataType.DOUBLE, z.dataType());
        double[][] grad = loss.computeGradient(labels, z, new ActivationSoftmax(), null).toDoubleMatrix();
        double eps = 1e-6;
        for (int r = 0; r < 2; r++) {
            for (int c = 0; c < 3; c++) {
                INDArray plus = z.dup();
                plus.putScalar(r, c, Z[r][c] + eps);
                INDArray minus = z.dup();
                minus.putScalar(r, c, Z[r][c] - eps);
                double fd = (loss.computeScore(labels, plus, new ActivationSoftmax(), null, false)
                        - loss.computeScore(labels, minus, new ActivationSoftmax(), null, false)) / (2 * eps);
                assertEquals(fd, grad[r][c], 1e-6, "d/dz[" + r + "][" + c + "]");
            }
        }
        // and against the closed form α(σ(z) − y) + (1−α)·T·(σ(z/T) − σ(t/T))
        for (int r = 0; r < 2; r++) {
            double[] p1 = softmax(Z[r], 1);
            double[] pT = softmax(Z[r], temperature);
            double[] qT = softmax(TEACHER[r], temperature);
            for (int c = 0; c < 3; c++) {
                double expected = alpha * (p1[c] - (c == Y[r] ? 1 : 0)) + (1 - alpha) * temperature * (pT[c] - qT[c]);
                assertEquals(expected, grad[r][c], 1e-12);
            }
        }
    }

    @Test
    void maskZeroesTheScoreAndGradientOfMaskedRows() {
        KnowledgeDistillationLoss loss = new KnowledgeDistillationLoss(4.0, 0.5);
        INDArray mask = Nd4j.create(new double[][] {{1}, {0}});
        double[] s = loss.computeScoreArray(labels(TEACHER, Y), Nd4j.create(Z), new ActivationSoftmax(), mask)
                .reshape(2).toDoubleVector();
        assertEquals(byHand(Z[0], TEACHER[0], Y[0], 4.0, 0.5), s[0], 1e-12);
        assertEquals(0.0, s[1]);
        double[][] g = loss.computeGradient(labels(TEACHER, Y), Nd4j.create(Z), new ActivationSoftmax(), mask)
                .toDoubleMatrix();
        assertArrayEquals(new double[3], g[1], 0.0);
        assertTrue(Math.abs(g[0][0]) > 0);
    }

    @Test
    void gradientKeepsTheDataTypeOfTheLogits() {
        KnowledgeDistillationLoss loss = new KnowledgeDistillationLoss(4.0, 0.5);
        INDArray zf = Nd4j.create(Z).castTo(DataType.FLOAT);
        INDArray lf = labels(TEACHER, Y).castTo(DataType.FLOAT);
        INDArray g = loss.computeGradient(lf, zf, new ActivationSoftmax(), null);
        assertEquals(DataType.FLOAT, g.dataType());
        double[][] gd = loss.computeGradient(labels(TEACHER, Y), Nd4j.create(Z), new ActivationSoftmax(), null)
                .toDoubleMatrix();
        double[][] gf = g.castTo(DataType.DOUBLE).toDoubleMatrix();
        for (int r = 0; r < 2; r++) {
            assertArrayEquals(gd[r], gf[r], 1e-5);
        }
    }

    @Test
    void scoreAndGradientDoNotModifyTheirInputs() {
        KnowledgeDistillationLoss loss = new KnowledgeDistillationLoss(2.0, 0.3);
        INDArray labels = labels(TEACHER, Y);
        INDArray z = Nd4j.create(Z);
        INDArray labelsBefore = labels.dup();
        INDArray zBefore = z.dup();
        loss.computeScoreArray(labels, z, new ActivationSoftmax(), null);
        loss.computeGradient(labels, z, new ActivationSoftmax(), null);
        loss.computeGradientAndScore(labels, z, new ActivationSoftmax(), null, true);
        assertArrayEquals(labelsBefore.toDoubleMatrix()[0], labels.toDoubleMatrix()[0], 0.0);
        assertArrayEquals(labelsBefore.toDoubleMatrix()[1], labels.toDoubleMatrix()[1], 0.0);
        assertArrayEquals(zBefore.toDoubleMatrix()[0], z.toDoubleMatrix()[0], 0.0);
        assertArrayEquals(zBefore.toDoubleMatrix()[1], z.toDoubleMatrix()[1], 0.0);
    }

    @Test
    void labelsOfTheWrongWidthThrow() {
        KnowledgeDistillationLoss loss = new KnowledgeDistillationLoss(4.0, 0.5);
        INDArray z = Nd4j.create(Z);
        INDArray oneHotOnly = Nd4j.create(new double[][] {{0, 0, 1}, {1, 0, 0}});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> loss.computeScoreArray(oneHotOnly, z, new ActivationSoftmax(), null));
        assertTrue(e.getMessage().contains("2x3") && e.getMessage().contains("[batch, 2C]"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> loss.computeGradient(Nd4j.zeros(DataType.DOUBLE, 2, 5), z, new ActivationSoftmax(), null));
        // wrong row count
        assertThrows(IllegalArgumentException.class,
                () -> loss.computeScoreArray(Nd4j.zeros(DataType.DOUBLE, 3, 6), z, new ActivationSoftmax(), null));
    }

    @Test
    void invalidHyperParametersThrow() {
        assertThrows(IllegalArgumentException.class, () -> new KnowledgeDistillationLoss(0.0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new KnowledgeDistillationLoss(Double.NaN, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new KnowledgeDistillationLoss(4.0, 1.5));
        assertThrows(IllegalArgumentException.class, () -> new KnowledgeDistillationLoss(4.0, -0.1));
    }

    @Test
    void configurationJsonRoundTripKeepsTemperatureAndAlpha() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(1)
                .dataType(DataType.FLOAT)
                .list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder().lossFunction(new KnowledgeDistillationLoss(3.5, 0.3))
                        .nIn(3).nOut(2).activation(Activation.SOFTMAX).build())
                .build();
        String json = conf.toJson();
        assertTrue(json.contains("KnowledgeDistillationLoss"), json);
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(json);
        OutputLayer out = (OutputLayer) back.getConf(1).getLayer();
        assertTrue(out.getLossFn() instanceof KnowledgeDistillationLoss, String.valueOf(out.getLossFn()));
        KnowledgeDistillationLoss kd = (KnowledgeDistillationLoss) out.getLossFn();
        assertEquals(3.5, kd.getTemperature());
        assertEquals(0.3, kd.getAlpha());
        assertEquals(new KnowledgeDistillationLoss(3.5, 0.3), kd);
        assertEquals(conf, back);
    }
}
