package dev.pare.common.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.TinyNets;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
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

class HiddenStatesTest {
    private static final double T = 2.0;
    private static final double ALPHA = 0.4;
    private static final double BETA = 0.7;

    /** A double-precision MLP 5-h1-h2-3 (tanh, sigmoid) with the KD loss and SGD at {@code lr}. */
    private static MultiLayerNetwork net(long seed, int h1, int h2, double lr) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.DOUBLE)
                .updater(new Sgd(lr))
                .list()
                .layer(new DenseLayer.Builder().name("fc1").nIn(5).nOut(h1).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().name("fc2").nIn(h1).nOut(h2).activation(Activation.SIGMOID).build())
                .layer(new OutputLayer.Builder().name("out").nIn(h2).nOut(3).activation(Activation.SOFTMAX)
                        .lossFunction(new KnowledgeDistillationLoss(T, ALPHA)).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        TinyNets.randomizeParams(net, seed);
        return net;
    }

    private static INDArray[] batch(int rows) {
        INDArray x = TinyNets.toArray(TinyNets.randomRows(8, rows, 5)).castTo(DataType.DOUBLE);
        float[][] t = TinyNets.randomRows(9, rows, 3);
        double[] y = new double[rows * 6];
        for (int r = 0; r < rows; r++) {
            y[r * 6 + (r * 7) % 3] = 1;
            for (int c = 0; c < 3; c++) {
                y[r * 6 + 3 + c] = 2 * t[r][c];
            }
        }
        return new INDArray[] {x, Nd4j.create(y, new long[] {rows, 6}, 'c')};
    }

    /** The step's loss at the network's current parameters (SGD with rate 0 leaves them as they are). */
    private static double loss(MultiLayerNetwork student, HiddenStates hidden, INDArray[] xy) {
        MultiLayerNetwork probe = net(1, (int) student.getLayer(0).getParam("W").size(1),
                (int) student.getLayer(1).getParam("W").size(1), 0.0);
        probe.setParams(student.params().dup());
        return new FusedStep(probe, T, ALPHA, hidden).fit(xy[0], xy[1]);
    }

    @Test
    void gradientMatchesFiniteDifferencesOnKeptUnits() {
        MultiLayerNetwork teacher = net(21, 6, 5, 0.0);
        MultiLayerNetwork student = net(1, 4, 5, 1.0);
        // fc1 was cut structurally to 4 of the teacher's 6 units; fc2 keeps all 5
        HiddenStates hidden = HiddenStates.of(teacher, student, BETA, List.of(), Map.of(0, new int[] {0, 2, 3, 5}));
        assertEquals(2, hidden.pairs().size());
        INDArray[] xy = batch(7);

        double[] before = student.params().dup().toDoubleVector();
        MultiLayerNetwork stepped = net(1, 4, 5, 1.0);
        stepped.setParams(student.params().dup());
        new FusedStep(stepped, T, ALPHA, hidden).fit(xy[0], xy[1]);
        double[] after = stepped.params().toDoubleVector();

        double eps = 1e-6;
        double largest = 0;
        for (int k = 0; k < before.length; k++) {
            MultiLayerNetwork plus = net(1, 4, 5, 0.0);
            INDArray p = student.params().dup();
            p.putScalar(k, before[k] + eps);
            plus.setParams(p);
            INDArray m = student.params().dup();
            m.putScalar(k, before[k] - eps);
            MultiLayerNetwork minus = net(1, 4, 5, 0.0);
            minus.setParams(m);
            double numeric = (loss(plus, hidden, xy) - loss(minus, hidden, xy)) / (2 * eps);
            double analytic = before[k] - after[k];
            largest = Math.max(largest, Math.abs(numeric));
            assertEquals(numeric, analytic, 1e-7 + 1e-5 * Math.abs(numeric), "d loss / d param " + k);
        }
        assertTrue(largest > 1e-2, "the gradient is not vacuous: largest " + largest);
    }

    @Test
    void hiddenLossIsTheMeanSquaredDistanceOnKeptUnits() {
        MultiLayerNetwork teacher = net(21, 6, 5, 0.0);
        MultiLayerNetwork student = net(1, 4, 5, 0.0);
        int[] kept = {1, 2, 4, 5};
        HiddenStates hidden = HiddenStates.of(teacher, student, BETA, List.of("fc1"), Map.of(0, kept));
        INDArray[] xy = batch(6);
        double withHidden = loss(student, hidden, xy);
        double kdOnly = loss(student, null, xy);

        double[][] hs = student.feedForward(xy[0], false).get(1).toDoubleMatrix();
        double[][] ht = teacher.feedForward(xy[0], false).get(1).toDoubleMatrix();
        double expected = 0;
        for (int r = 0; r < 6; r++) {
            for (int u = 0; u < 4; u++) {
                double diff = hs[r][u] - ht[r][kept[u]];
                expected += BETA * diff * diff / 4;
            }
        }
        expected /= 6;
        assertTrue(expected > 1e-3, "the hidden term is not vacuous: " + expected);
        assertEquals(expected, withHidden - kdOnly, 1e-12);
    }

    @Test
    void pairsThatCannotMatchAreRefusedByName() {
        MultiLayerNetwork teacher = net(21, 6, 5, 0.0);
        MultiLayerNetwork student = net(1, 4, 5, 0.0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HiddenStates.of(teacher, student, BETA, List.of("fc1"), Map.of()));
        assertTrue(e.getMessage().contains("layer 0 (fc1) has 4 units in the student but 6"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HiddenStates.of(teacher, student, BETA, List.of("out"), Map.of()));
        assertTrue(e.getMessage().contains("output layer"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HiddenStates.of(teacher, student, BETA, List.of("fc9"), Map.of()));
        assertTrue(e.getMessage().contains("no layer 'fc9'") && e.getMessage().contains("1 (fc2)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HiddenStates.of(teacher, TinyNets.dense(1, 5, 3), BETA, List.of(), Map.of()));
        assertTrue(e.getMessage().contains("pairs layers by index"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> HiddenStates.of(teacher, student, 0.0, List.of("fc2"), Map.of()));
    }

    @Test
    void theDl4jEngineRefusesHiddenStates() {
        MultiLayerNetwork student = TinyNets.dense(1, 6, 8, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Distiller.engineFor(DistillEngine.DL4J, student, true));
        assertTrue(e.getMessage().contains("fused engine only"), e.getMessage());
        assertEquals(DistillEngine.FUSED, Distiller.engineFor(DistillEngine.AUTO, student, true));
        e = assertThrows(IllegalArgumentException.class,
                () -> Distiller.engineFor(DistillEngine.AUTO, TinyNets.cnn(1, DataType.DOUBLE), true));
        assertTrue(e.getMessage().contains("hidden-state KD needs the fused engine"), e.getMessage());
    }
}
