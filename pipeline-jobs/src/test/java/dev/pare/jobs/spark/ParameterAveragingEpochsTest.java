package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.data.ExampleArrays;
import dev.pare.common.distill.Checkpoint;
import dev.pare.common.distill.DistillEngine;
import dev.pare.common.distill.DistillSettings;
import dev.pare.common.distill.Distiller;
import dev.pare.common.distill.EpochMetrics;
import dev.pare.common.distill.LrSchedule;
import dev.pare.common.distill.MemoryCheckpointStore;
import dev.pare.common.importance.MagnitudeCriterion;
import dev.pare.common.model.ForwardPass;
import dev.pare.common.sparsity.LayerMask;
import dev.pare.common.surgery.OneShotPruner;
import dev.pare.common.surgery.PrunedModel;
import dev.pare.common.train.TeacherTrainer;
import dev.pare.jobs.support.LocalSpark;
import dev.pare.jobs.support.SharedLocalSpark;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Data-parallel distillation on local[2]: pruned weights stay exactly zero, runs are bit-identical
 * for a seed (also with more workers than cores) and resumable, and the student learns about as
 * well as with the driver loop. The problem: 4 classes in 16 dimensions, each class two Gaussian
 * blobs (not linearly separable), a 16-48-4 teacher, pruned by magnitude to 90% so that one-shot
 * accuracy collapses and distillation has something to recover.
 */
class ParameterAveragingEpochsTest extends SharedLocalSpark {
    private static final int WIDTH = 16;
    private static final int CLASSES = 4;
    private static PrunedModel pruned;
    private static ExampleArrays train;
    private static ExampleArrays test;
    private static float[] logits;
    private static Dataset<Row> rows;
    private static double oneShotAccuracy;
    private static double teacherAccuracy;

    @BeforeAll
    static void setUp() {
        double[][] centers = new double[2 * CLASSES][WIDTH];
        SplittableRandom rnd = new SplittableRandom(11);
        for (double[] c : centers) {
            for (int j = 0; j < WIDTH; j++) {
                c[j] = rnd.nextDouble(-1.5, 1.5);
            }
        }
        train = blobs(centers, 2048, 1, 0);
        test = blobs(centers, 1024, 2, 100_000);
        MultiLayerNetwork teacher = TeacherTrainer.train(new NeuralNetConfiguration.Builder().seed(3)
                .dataType(DataType.FLOAT).updater(new Adam(1e-2)).weightInit(WeightInit.XAVIER).list()
                .layer(new DenseLayer.Builder().nIn(WIDTH).nOut(48).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(48).nOut(CLASSES)
                        .activation(Activation.SOFTMAX).build())
                .build(), train, CLASSES, 10, 64, 3, e -> { });
        teacherAccuracy = Distiller.evaluate(teacher, test, CLASSES, 1000).accuracy();
        pruned = OneShotPruner.prune(teacher, null, new MagnitudeCriterion(), 0.9, true);
        oneShotAccuracy = Distiller.evaluate(pruned.network(), test, CLASSES, 1000).accuracy();
        logits = ForwardPass.logitsRowMajor(teacher, train.featureRange(0, train.size()));
        List<Row> list = new ArrayList<>();
        for (int r = 0; r < train.size(); r++) {
            Float[] f = new Float[WIDTH];
            for (int j = 0; j < WIDTH; j++) {
                f[j] = train.features()[r * WIDTH + j];
            }
            Float[] z = new Float[CLASSES];
            for (int k = 0; k < CLASSES; k++) {
                z[k] = logits[r * CLASSES + k];
            }
            list.add(RowFactory.create(train.ids()[r], f, train.labels()[r], z));
        }
        rows = spark.createDataFrame(list, LocalSpark.EXAMPLES
                .add("teacher_logits", DataTypes.createArrayType(DataTypes.FloatType, false), false));
    }

    /** n examples; class k is blob 2k or 2k + 1 (seeded), unit-variance noise around the blob centre. */
    private static ExampleArrays blobs(double[][] centers, int n, long seed, long firstId) {
        SplittableRandom rnd = new SplittableRandom(seed);
        long[] ids = new long[n];
        int[] labels = new int[n];
        float[] x = new float[n * WIDTH];
        for (int r = 0; r < n; r++) {
            ids[r] = firstId + r;
            labels[r] = rnd.nextInt(CLASSES);
            double[] c = centers[2 * labels[r] + rnd.nextInt(2)];
            for (int j = 0; j < WIDTH; j++) {
                x[r * WIDTH + j] = (float) (c[j] + 0.8 * gaussian(rnd));
            }
        }
        return new ExampleArrays(ids, x, WIDTH, labels);
    }

    private static double gaussian(SplittableRandom rnd) {
        return Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }

    private static DistillSettings settings(int epochs, long seed) {
        return new DistillSettings(epochs, 32, 0.02, 4.0, 0.5, seed, LrSchedule.CONSTANT, 1, 1.0, 0, false,
                DistillEngine.AUTO);
    }

    private static Distiller.Result distributed(int epochs, long seed, int workers, MemoryCheckpointStore store,
                                                boolean resume, boolean driverMasks) throws Exception {
        DistillSettings s = settings(epochs, seed);
        try (ParameterAveragingEpochs epochsOnSpark = ParameterAveragingEpochs.prepare(spark, rows, workers, 4, WIDTH,
                CLASSES, s, Distiller.Progress.NONE)) {
            assertEquals(train.size(), epochsOnSpark.examples());
            assertEquals(workers, epochsOnSpark.workers());
            return new Distiller(s).run(pruned.network(), pruned.masks(),
                    driverMasks ? epochsOnSpark : epochsOnSpark.withoutDriverMasks(), null, test, store, resume, h -> { });
        }
    }

    private static float[] params(Distiller.Result r) {
        return r.student().params().toFloatVector();
    }

    @Test
    void prunedWeightsStayExactlyZeroEvenWithoutTheDriverReapplyingMasks() throws Exception {
        // Only the workers' listener zeroes pruned weights here; averaging zeros keeps them zero.
        Distiller.Result r = distributed(1, 7, 2, new MemoryCheckpointStore(), false, false);
        assertEquals(DistillEngine.DL4J, r.engine());
        int masked = 0;
        int keptChanged = 0;
        for (LayerMask m : pruned.masks().layers()) {
            float[][] before = pruned.network().getLayer(m.index()).getParam("W").toFloatMatrix();
            float[][] after = r.student().getLayer(m.index()).getParam("W").toFloatMatrix();
            for (int i = 0; i < m.nIn(); i++) {
                for (int j = 0; j < m.nOut(); j++) {
                    if (m.kept(i, j)) {
                        keptChanged += before[i][j] != after[i][j] ? 1 : 0;
                    } else {
                        masked++;
                        assertEquals(0f, after[i][j], 0f, "pruned weight [" + i + "][" + j + "] of layer " + m.name() + " is " + after[i][j]);
                    }
                }
            }
        }
        assertEquals(pruned.masks().size() - pruned.masks().keptCount(), masked);
        assertTrue(masked > 0.85 * pruned.masks().size(), "90% of the weights are pruned: " + masked);
        // Kept weights trained. Not all of them move: at 90% sparsity some ReLU units are dead, and the
        // weights into and out of a dead unit get no gradient.
        assertTrue(keptChanged > pruned.masks().keptCount() / 4, keptChanged + " of " + pruned.masks().keptCount());
    }

    @Test
    void sameSeedGivesBitIdenticalStudentsAlsoWithMoreWorkersThanCores() throws Exception {
        // 3 workers on 2 cores: tasks finish in varying order, which DL4J's own fold-merge would expose.
        Distiller.Result a = distributed(2, 7, 3, new MemoryCheckpointStore(), false, true);
        Distiller.Result b = distributed(2, 7, 3, new MemoryCheckpointStore(), false, true);
        assertArrayEquals(params(a), params(b));
        for (int e = 0; e < 2; e++) {
            assertEquals(a.epochs().get(e).trainLoss(), b.epochs().get(e).trainLoss(), 0.0);
            assertEquals(a.epochs().get(e).testAccuracy(), b.epochs().get(e).testAccuracy(), 0.0);
        }
        // ... and the seed matters, so the comparison above is not vacuous.
        Distiller.Result other = distributed(2, 8, 3, new MemoryCheckpointStore(), false, true);
        assertFalse(java.util.Arrays.equals(params(a), params(other)));
    }

    @Test
    void resumedRunEqualsAnUninterruptedOne() throws Exception {
        Distiller.Result straight = distributed(2, 7, 2, new MemoryCheckpointStore(), false, true);
        MemoryCheckpointStore store = new MemoryCheckpointStore();
        Distiller.Result first = distributed(1, 7, 2, store, false, true);
        Distiller.Result resumed = distributed(2, 7, 2, store, true, true);
        assertFalse(java.util.Arrays.equals(params(first), params(straight)));
        assertArrayEquals(params(straight), params(resumed));
        assertEquals(List.of(1, 2), store.saved().stream().map(Checkpoint::epoch).toList());
        assertEquals(straight.epochs().get(1).trainLoss(), resumed.epochs().get(1).trainLoss(), 0.0);
    }

    @Test
    void studentRecoversAboutAsWellAsWithTheDriverLoop() throws Exception {
        // Enough epochs for both to level off: parameter averaging of 2 workers makes about half as much
        // progress per epoch as the driver loop early on (a round of k steps on each worker moves the
        // average about as far as k steps of one), then catches up.
        int epochs = 5;
        Distiller.Result driver = new Distiller(settings(epochs, 7)).run(pruned.network(), pruned.masks(), train,
                logits, test, new MemoryCheckpointStore(), false, h -> { });
        Distiller.Result spark = distributed(epochs, 7, 2, new MemoryCheckpointStore(), false, true);
        double driverAccuracy = driver.epochs().get(epochs - 1).testAccuracy();
        double sparkAccuracy = spark.epochs().get(epochs - 1).testAccuracy();
        // Two standard errors of an accuracy measured on this test set.
        double se = Math.sqrt(driverAccuracy * (1 - driverAccuracy) / test.size());
        String report = String.format("teacher %.4f, one-shot %.4f, driver %.4f, distributed %.4f, 2 SE %.4f",
                teacherAccuracy, oneShotAccuracy, driverAccuracy, sparkAccuracy, 2 * se);
        System.out.println(report);
        // Distillation recovers most of what pruning lost ...
        assertTrue(sparkAccuracy - oneShotAccuracy > 0.5 * (teacherAccuracy - oneShotAccuracy), report);
        // ... and is within two standard errors of the driver loop or better.
        assertTrue(sparkAccuracy >= driverAccuracy - 2 * se, report);
        for (EpochMetrics m : spark.epochs()) {
            assertTrue(Double.isFinite(m.trainLoss()) && m.trainLoss() > 0, m.toString());
            assertEquals(train.size() / m.seconds(), m.examplesPerSecond(), 1e-6 * m.examplesPerSecond());
        }
        assertTrue(spark.epochs().get(epochs - 1).trainLoss() < spark.epochs().get(0).trainLoss(),
                "the training loss falls: " + spark.epochs());
    }

}
