package dev.pare.common.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.AdamUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.schedule.MapSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/**
 * {@link JavaAdam} against DL4J's Adam op and against the formula in double precision, on the
 * updater state of a real network (a block of views into DL4J's state array).
 */
class JavaAdamTest {
    private static final int STEPS = 30;

    /** A 7-5-3 network (58 parameters, one updater block) with {@code updater}, in {@code type}. */
    private static MultiLayerNetwork net(IUpdater updater, DataType type) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(3)
                .dataType(type)
                .updater(updater)
                .list()
                .layer(new DenseLayer.Builder().nIn(7).nOut(5).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder().nIn(5).nOut(3).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        net.getUpdater(true);
        return net;
    }

    /** Adam whose learning rate changes at iteration 10 (a schedule, as configs may set). */
    private static Adam adam() {
        return new Adam(new MapSchedule(ScheduleType.ITERATION, Map.of(0, 2e-3, 10, 5e-4)));
    }

    private static UpdaterBlock block(MultiLayerNetwork net) {
        var blocks = ((BaseMultiLayerUpdater<?>) net.getUpdater()).getUpdaterBlocks();
        assertEquals(1, blocks.size());
        return blocks.get(0);
    }

    /** Gradient k of the sequence: n values of mixed sign and scale, some exactly 0. */
    private static double[] gradient(int k, int n) {
        Random r = new Random(100 + k);
        double[] g = new double[n];
        for (int i = 0; i < n; i++) {
            g[i] = i % 11 == 0 ? 0 : r.nextGaussian() * Math.pow(10, -r.nextInt(4));
        }
        return g;
    }

    @Test
    void theUpdatesAndMomentsAreDl4jsAndTheFormulas() {
        MultiLayerNetwork ours = net(adam(), DataType.FLOAT);
        MultiLayerNetwork theirs = net(adam(), DataType.FLOAT);
        assertEquals(1, JavaAdam.install(ours.getUpdater()));
        UpdaterBlock a = block(ours);
        UpdaterBlock b = block(theirs);
        assertTrue(assertInstanceOf(JavaAdam.class, a.getGradientUpdater()).runsInJava(a.getGradientView()));
        assertEquals(AdamUpdater.class, b.getGradientUpdater().getClass());
        int n = (int) a.getGradientView().length();
        assertEquals(58, n);
        // The formula in double: m, v, and the update of each step, from the same gradients.
        double[] m = new double[n];
        double[] v = new double[n];
        double[] mTerms = new double[n];
        for (int k = 0; k < STEPS; k++) {
            double[] g = gradient(k, n);
            INDArray gk = Nd4j.create(g).castTo(DataType.FLOAT).reshape(a.getGradientView().shape());
            a.getGradientView().assign(gk);
            b.getGradientView().assign(gk);
            a.getGradientUpdater().applyUpdater(a.getGradientView(), k, 0);
            b.getGradientUpdater().applyUpdater(b.getGradientView(), k, 0);
            double lr = k < 10 ? 2e-3 : 5e-4;
            double alpha = lr * Math.sqrt(1 - Math.pow(0.999, k + 1)) / (1 - Math.pow(0.9, k + 1));
            // Both compute 1 - 0.999^t in float, as libnd4j's op does: 0.999^t is good to 2^-24, and the
            // difference then to 2^-24 / (1 - 0.999^t) relative (6e-5 at t = 1), half of that after the root;
            // Math.pow and libnd4j's powf may round 0.999^t apart by that ulp.
            double tolerance = 4e-6 + Math.ulp(1f) / (1 - Math.pow(0.999, k + 1));
            float[] update = a.getGradientView().dup().data().asFloat();
            float[] dl4j = b.getGradientView().dup().data().asFloat();
            for (int i = 0; i < n; i++) {
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                mTerms[i] = 0.9 * mTerms[i] + 0.1 * Math.abs(g[i]);
                double expected = m[i] * alpha / (Math.sqrt(v[i]) + 1e-8);
                // m is a sum of terms of both signs: in float it is good to a few ulps of their magnitude.
                double rounding = 8 * Math.ulp(1f) * mTerms[i] * alpha / (Math.sqrt(v[i]) + 1e-8) + 1e-12;
                String where = "step " + k + ", element " + i;
                assertEquals(expected, update[i], tolerance * Math.abs(expected) + rounding, where);
                assertEquals(dl4j[i], update[i], tolerance * Math.abs(dl4j[i]) + rounding, where);
            }
        }
        // The moments live in DL4J's state view (what a saved model holds): both halves agree.
        float[] ourState = block(ours).getUpdaterView().dup().data().asFloat();
        float[] theirState = block(theirs).getUpdaterView().dup().data().asFloat();
        assertEquals(2 * n, ourState.length);
        for (int i = 0; i < n; i++) {
            double mRounding = 8 * Math.ulp(1f) * mTerms[i];
            assertEquals(theirState[i], ourState[i], mRounding + 1e-12, "m " + i);
            assertEquals(theirState[n + i], ourState[n + i], 1e-6 * Math.abs(theirState[n + i]) + 1e-15, "v " + i);
            // And they are Adam's: the first half holds m, the second v (DL4J's layout).
            assertEquals(m[i], ourState[i], mRounding + 1e-12, "m " + i);
            // 1 - 0.999f is 1.3e-5 off 0.001 in float, in libnd4j's op as here.
            assertEquals(v[i], ourState[n + i], 3e-5 * v[i] + 1e-15, "v " + i);
        }
    }

    @Test
    void doublesGoToDl4jsOpUnchanged() {
        MultiLayerNetwork ours = net(adam(), DataType.DOUBLE);
        MultiLayerNetwork theirs = net(adam(), DataType.DOUBLE);
        JavaAdam.install(ours.getUpdater());
        UpdaterBlock a = block(ours);
        UpdaterBlock b = block(theirs);
        assertFalse(((JavaAdam) a.getGradientUpdater()).runsInJava(a.getGradientView()));
        int n = (int) a.getGradientView().length();
        for (int k = 0; k < 5; k++) {
            INDArray gk = Nd4j.create(gradient(k, n)).reshape(a.getGradientView().shape());
            a.getGradientView().assign(gk);
            b.getGradientView().assign(gk);
            a.getGradientUpdater().applyUpdater(a.getGradientView(), k, 0);
            b.getGradientUpdater().applyUpdater(b.getGradientView(), k, 0);
        }
        assertArrayEquals(b.getGradientView().dup().data().asDouble(), a.getGradientView().dup().data().asDouble());
        assertArrayEquals(b.getUpdaterView().dup().data().asDouble(), a.getUpdaterView().dup().data().asDouble());
    }

    @Test
    void onlyPlainAdamIsReplacedAndOnlyOnce() {
        MultiLayerNetwork nesterovs = net(new Nesterovs(0.01, 0.9), DataType.FLOAT);
        assertEquals(0, JavaAdam.install(nesterovs.getUpdater()));
        MultiLayerNetwork adam = net(new Adam(1e-3), DataType.FLOAT);
        assertEquals(1, JavaAdam.install(adam.getUpdater()));
        assertEquals(0, JavaAdam.install(adam.getUpdater()));
        assertTrue(block(adam).getGradientUpdater() instanceof JavaAdam);
    }
}
