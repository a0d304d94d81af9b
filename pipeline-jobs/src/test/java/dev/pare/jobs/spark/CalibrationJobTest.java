package dev.pare.jobs.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.xxhash64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.calibration.Precision;
import dev.pare.common.calibration.Statistic;
import dev.pare.common.config.ConfigLoader;
import dev.pare.common.config.PareConfig;
import dev.pare.common.importance.Criteria;
import dev.pare.common.model.Networks;
import dev.pare.common.sparsity.LayerMask;
import dev.pare.common.surgery.OneShotPruner;
import dev.pare.common.surgery.PruneSettings;
import dev.pare.common.surgery.PrunedModel;
import dev.pare.common.util.Seeds;
import dev.pare.jobs.io.ExampleTable;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.support.LocalSpark;
import dev.pare.jobs.support.SharedLocalSpark;
import java.nio.file.Paths;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The distributed calibration pass against a plain driver-side computation on the same rows. */
class CalibrationJobTest extends SharedLocalSpark {
    private static Dataset<Row> train;
    private static byte[] teacherBytes;
    private static MultiLayerNetwork teacher;

    @BeforeAll
    static void setUp() throws Exception {
        PareConfig cfg = ConfigLoader.load(null, List.of());
        Files files = new Files(new Configuration());
        train = ExampleTable.read(spark, files, LocalSpark.sample("train.parquet"), "data.train", cfg.data());
        teacherBytes = java.nio.file.Files.readAllBytes(Paths.get(LocalSpark.sample("teacher-lenet300100.zip")));
        teacher = Networks.read(teacherBytes, "teacher", false);
    }

    private static CalibrationJob.Settings norms(int batchSize) {
        return new CalibrationJob.Settings(784, batchSize, Set.of(Statistic.INPUT_NORMS), 1, Long.MAX_VALUE);
    }

    private static INDArray features(List<CalibrationJob.Example> rows) {
        float[] flat = new float[rows.size() * 784];
        for (int r = 0; r < rows.size(); r++) {
            System.arraycopy(rows.get(r).features(), 0, flat, r * 784, 784);
        }
        return Nd4j.create(flat, new long[] {rows.size(), 784}, 'c').castTo(DataType.DOUBLE);
    }

    private static void assertRelClose(double expected, double actual, double rel, String what) {
        assertEquals(expected, actual, rel * Math.max(Math.abs(expected), 1e-12), what);
    }

    @Test
    void takeCopiesBatchesIntoTheGivenArrayWhenItHoldsThem() {
        // Rows id r with features {r, 10 r} and label r % 3, width 2, taken three at a time.
        List<CalibrationJob.Example> rows = new java.util.ArrayList<>();
        for (int r = 0; r < 7; r++) {
            rows.add(new CalibrationJob.Example(r, new float[] {r, 10 * r}, r % 3));
        }
        java.util.Iterator<CalibrationJob.Example> it = rows.iterator();
        dev.pare.common.data.ExampleArrays first = CalibrationJob.take(it, 3, 2, null);
        assertArrayEquals(new long[] {0, 1, 2}, first.ids());
        assertArrayEquals(new int[] {0, 1, 2}, first.labels());
        assertArrayEquals(new float[] {0, 0, 1, 10, 2, 20}, first.features());
        float[] shared = first.features();
        dev.pare.common.data.ExampleArrays second = CalibrationJob.take(it, 3, 2, shared);
        assertTrue(second.features() == shared, "a batch that fits is read into the given array");
        assertArrayEquals(new long[] {3, 4, 5}, second.ids());
        assertArrayEquals(new float[] {3, 30, 4, 40, 5, 50}, second.features());
        dev.pare.common.data.ExampleArrays last = CalibrationJob.take(it, 3, 2, shared);
        assertEquals(1, last.size());
        assertTrue(last.features() == shared);
        assertArrayEquals(new float[] {6, 60}, java.util.Arrays.copyOf(last.features(), 2));
        assertArrayEquals(new long[] {6}, last.ids());
        assertArrayEquals(new int[] {0}, last.labels());
        // A batch that does not fit gets an array of its own; the given one is left as it was.
        float[] small = {-1};
        dev.pare.common.data.ExampleArrays own = CalibrationJob.take(rows.iterator(), 2, 2, small);
        assertFalse(own.features() == small);
        assertArrayEquals(new float[] {0, 0, 1, 10}, own.features());
        assertArrayEquals(new float[] {-1}, small);
    }

    @Test
    void everyStatisticEqualsAnIndependentDriverSideComputation() {
        JavaRDD<CalibrationJob.Example> sample = CalibrationJob.sample(train, 784, 40, 3, 5L);
        CalibrationStatistics stats = CalibrationJob.run(spark, sample, teacherBytes, new CalibrationJob.Settings(784, 16,
                EnumSet.allOf(Statistic.class), 1, Long.MAX_VALUE));
        assertEquals(EnumSet.allOf(Statistic.class), stats.computed());
        List<CalibrationJob.Example> rows = sample.collect();
        INDArray x = features(rows);
        MultiLayerNetwork net = teacher.convertDataType(DataType.DOUBLE);
        List<INDArray> acts = net.feedForward(x, false);
        // Gradients: one DL4J backward pass per example, summed here in plain loops.
        double[][][] taylor = new double[3][][];
        double[][][] square = new double[3][][];
        for (int r = 0; r < rows.size(); r++) {
            double[] y = new double[10];
            y[rows.get(r).label()] = 1;
            net.setInput(x.getRow(r, true).dup());
            net.setLabels(Nd4j.create(y, new long[] {1, 10}, 'c'));
            net.computeGradientAndScore();
            for (int l = 0; l < 3; l++) {
                double[][] w = net.getLayer(l).getParam("W").toDoubleMatrix();
                double[][] g = net.gradient().getGradientFor(l + "_W").toDoubleMatrix();
                if (taylor[l] == null) {
                    taylor[l] = new double[w.length][w[0].length];
                    square[l] = new double[w.length][w[0].length];
                }
                for (int i = 0; i < w.length; i++) {
                    for (int j = 0; j < w[0].length; j++) {
                        taylor[l][i][j] += Math.abs(w[i][j] * g[i][j]);
                        square[l][i][j] += g[i][j] * g[i][j];
                    }
                }
            }
        }
        for (CalibrationStatistics.LayerStatistics l : stats.layers()) {
            double[][] in = acts.get(l.index()).toDoubleMatrix();
            double[][] out = acts.get(l.index() + 1).toDoubleMatrix();
            int d = in[0].length;
            double[][] gram = l.gram().sums();
            for (int a = 0; a < d; a += 97) {
                for (int b = 0; b < d; b += 89) {
                    double e = 0;
                    for (double[] row : in) {
                        e += row[a] * row[b];
                    }
                    assertRelClose(e, gram[a][b], 1e-9, l.name() + " XᵀX " + a + "," + b);
                }
            }
            double[] meanSquare = l.outputActivations().meanSquare();
            for (int j = 0; j < out[0].length; j++) {
                double e = 0;
                for (double[] row : out) {
                    e += row[j] * row[j];
                }
                assertRelClose(e / rows.size(), meanSquare[j], 1e-9, l.name() + " E[a²] unit " + j);
            }
            double[] t = l.gradients().taylor();
            double[] f = l.gradients().fisherDiagonal();
            int nOut = out[0].length;
            for (int i = 0; i < d; i += 7) {
                for (int j = 0; j < nOut; j++) {
                    assertRelClose(taylor[l.index()][i][j], t[i * nOut + j], 1e-9, l.name() + " Σ|wg| " + i + "," + j);
                    assertRelClose(square[l.index()][i][j] / rows.size(), f[i * nOut + j], 1e-9,
                            l.name() + " E[g²] " + i + "," + j);
                }
            }
            assertEquals(rows.size(), l.gradients().count());
            // 784 -> 300 -> 100 -> 10: no layer keeps its shape, so there is no cosine statistic.
            assertEquals(null, l.cosine());
        }
    }

    @Test
    void cosineAndConvolutionStatisticsEqualTheDriverSideComputation() throws Exception {
        // A dense teacher with a square hidden layer (cosine is defined there) and the committed CNN.
        MultiLayerNetwork square = new MultiLayerNetwork(new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder()
                .seed(12).dataType(DataType.FLOAT).list()
                .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(784).nOut(32)
                        .activation(org.nd4j.linalg.activations.Activation.RELU).build())
                .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(32).nOut(32)
                        .activation(org.nd4j.linalg.activations.Activation.RELU).build())
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder(
                        org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction.MCXENT).nIn(32).nOut(10)
                        .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build())
                .build());
        square.init();
        byte[] cnn = java.nio.file.Files.readAllBytes(Paths.get(LocalSpark.sample("teacher-lenet5.zip")));
        JavaRDD<CalibrationJob.Example> sample = CalibrationJob.sample(train, 784, 48, 3, 21L);
        INDArray x = features(sample.collect());
        for (byte[] model : List.of(Networks.toBytes(square, false), cnn)) {
            Set<Statistic> kinds = EnumSet.of(Statistic.INPUT_NORMS, Statistic.OUTPUT_ACTIVATIONS, Statistic.COSINE);
            CalibrationStatistics spark3 = CalibrationJob.run(spark, sample, model,
                    new CalibrationJob.Settings(784, 7, kinds, 1, Long.MAX_VALUE));
            // Driver route: one pass over all rows in a single batch, one partition.
            MultiLayerNetwork net = Networks.read(model, "model", false).convertDataType(DataType.DOUBLE);
            CalibrationStatistics driver = CalibrationStatistics.emptyFor(net, kinds, Long.MAX_VALUE);
            driver.add(net, x);
            assertEquals(driver.samples(), spark3.samples());
            for (CalibrationStatistics.LayerStatistics l : driver.layers()) {
                CalibrationStatistics.LayerStatistics s = spark3.layer(l.index());
                double[] a = l.inputSquareSums().sums();
                double[] b = s.inputSquareSums().sums();
                for (int j = 0; j < a.length; j++) {
                    assertRelClose(a[j], b[j], 1e-9, l.name() + " input column " + j);
                }
                double[] ma = l.outputActivations().meanSquare();
                double[] mb = s.outputActivations().meanSquare();
                for (int j = 0; j < ma.length; j++) {
                    assertRelClose(ma[j], mb[j], 1e-9, l.name() + " unit " + j);
                }
                assertEquals(l.cosine() == null, s.cosine() == null, l.name());
                if (l.cosine() != null) {
                    assertRelClose(l.cosine().meanCosine(), s.cosine().meanCosine(), 1e-9, l.name() + " cosine");
                }
            }
        }
        // Only the square hidden layer keeps its shape; its cosine is an actual mean over the 48 rows.
        CalibrationStatistics sq = CalibrationJob.run(spark, sample, Networks.toBytes(square, false),
                new CalibrationJob.Settings(784, 16, EnumSet.of(Statistic.COSINE), 1, Long.MAX_VALUE));
        assertEquals(null, sq.layer(0).cosine());
        assertEquals(48, sq.layer(1).cosine().count());
        assertEquals(null, sq.layer(2).cosine());
    }

    @Test
    void oneOrFourShardsGiveTheSameMasks() {
        Set<Statistic> all = EnumSet.of(Statistic.INPUT_NORMS, Statistic.GRAM);
        CalibrationStatistics one = CalibrationJob.run(spark, CalibrationJob.sample(train, 784, 512, 1, 9L), teacherBytes,
                new CalibrationJob.Settings(784, 128, all, 1, Long.MAX_VALUE));
        CalibrationStatistics four = CalibrationJob.run(spark, CalibrationJob.sample(train, 784, 512, 4, 9L), teacherBytes,
                new CalibrationJob.Settings(784, 128, all, 1, Long.MAX_VALUE));
        for (Criteria c : List.of(Criteria.WANDA, Criteria.SPARSEGPT)) {
            PruneSettings s = PruneSettings.unstructured(c, 0.6, false);
            PrunedModel a = OneShotPruner.prune(teacher, one, s);
            PrunedModel b = OneShotPruner.prune(teacher, four, s);
            for (int i = 0; i < a.masks().layers().size(); i++) {
                assertEquals(a.masks().layers().get(i).keep(), b.masks().layers().get(i).keep(),
                        c.configName() + " mask of " + a.masks().layers().get(i).name());
            }
        }
    }

    @Test
    void statisticsEqualDriverSideComputationOverTheSameRows() {
        JavaRDD<CalibrationJob.Example> sample = CalibrationJob.sample(train, 784, 300, 3, 7L);
        assertEquals(3, sample.getNumPartitions());
        CalibrationStatistics stats = CalibrationJob.run(spark, sample, teacherBytes, norms(64));

        // Driver route: the same rows (any order), one double-precision forward pass over all of them (the
        // calibration pass runs the teacher in double), sums of squares in plain Java loops.
        List<CalibrationJob.Example> rows = sample.collect();
        assertEquals(300, rows.size());
        INDArray x = features(rows);
        List<INDArray> acts = teacher.convertDataType(DataType.DOUBLE).feedForward(x, false);
        for (CalibrationStatistics.LayerStatistics l : stats.layers()) {
            double[][] in = acts.get(l.index()).toDoubleMatrix();
            double[] expected = new double[in[0].length];
            for (double[] row : in) {
                for (int j = 0; j < row.length; j++) {
                    expected[j] += row[j] * row[j];
                }
            }
            double[] actual = l.inputSquareSums().sums();
            assertEquals(300, l.inputSquareSums().count());
            for (int j = 0; j < expected.length; j++) {
                double tol = 1e-9 * Math.max(Math.abs(expected[j]), 1e-12);
                assertEquals(expected[j], actual[j], tol, "layer " + l.name() + " column " + j);
            }
        }
    }

    @Test
    void floatPrecisionIsWithinFloatRoundingOfDoubleAndBitIdenticalWhateverTheInputPartitioning() {
        Set<Statistic> kinds = EnumSet.of(Statistic.INPUT_NORMS, Statistic.GRADIENTS);
        for (int gradientBatch : new int[] {1, 8}) {
            CalibrationJob.Settings inFloat = new CalibrationJob.Settings(784, 32, kinds, gradientBatch, Long.MAX_VALUE,
                    Precision.FLOAT);
            CalibrationStatistics f = CalibrationJob.run(spark, CalibrationJob.sample(train, 784, 200, 3, 17L), teacherBytes,
                    inFloat);
            CalibrationStatistics again = CalibrationJob.run(spark, CalibrationJob.sample(train.repartition(7), 784, 200, 3,
                    17L), teacherBytes, inFloat);
            assertEquals(f, again, "float statistics of the same sample and shards, other input partitioning");
            CalibrationStatistics d = CalibrationJob.run(spark, CalibrationJob.sample(train, 784, 200, 3, 17L), teacherBytes,
                    new CalibrationJob.Settings(784, 32, kinds, gradientBatch, Long.MAX_VALUE, Precision.DOUBLE));
            assertTrue(!f.equals(d), "float and double passes differ in their last bits");
            for (CalibrationStatistics.LayerStatistics l : d.layers()) {
                CalibrationStatistics.LayerStatistics fl = f.layer(l.index());
                String what = l.name() + " (gradient batch " + gradientBatch + ")";
                assertCloseInL1(l.inputSquareSums().sums(), fl.inputSquareSums().sums(), 1e-6, what + " Σx²");
                assertCloseInL1(l.gradients().taylor(), fl.gradients().taylor(), 1e-5, what + " Σ|w·g|");
                assertCloseInL1(l.gradients().squareGradientSums(), fl.gradients().squareGradientSums(), 1e-5,
                        what + " Σg²");
            }
        }
    }

    /** ‖actual − expected‖₁ ≤ rel · ‖expected‖₁: float rounding, whatever the size of single entries. */
    private static void assertCloseInL1(double[] expected, double[] actual, double rel, String what) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            diff += Math.abs(actual[i] - expected[i]);
            norm += Math.abs(expected[i]);
        }
        assertTrue(norm > 0 && diff <= rel * norm, what + ": relative L1 difference " + diff / norm);
    }

    @Test
    void sameSeedGivesIdenticalStatisticsAndMasks() {
        CalibrationStatistics a = CalibrationJob.run(spark, CalibrationJob.sample(train, 784, 256, 3, 11L), teacherBytes, norms(50));
        CalibrationStatistics b = CalibrationJob.run(spark, CalibrationJob.sample(train.repartition(5), 784, 256, 3, 11L),
                teacherBytes, norms(50));
        assertEquals(a, b, "same seed and shard count, different input partitioning: bit-identical statistics");
        PrunedModel pa = OneShotPruner.prune(teacher, a, Criteria.WANDA.criterion(), 0.5, false);
        PrunedModel pb = OneShotPruner.prune(teacher, b, Criteria.WANDA.criterion(), 0.5, false);
        assertEquals(pa.masks().layers().size(), pb.masks().layers().size());
        for (int i = 0; i < pa.masks().layers().size(); i++) {
            LayerMask ma = pa.masks().layers().get(i);
            LayerMask mb = pb.masks().layers().get(i);
            assertEquals(ma.keep(), mb.keep(), "mask of " + ma.name());
        }
        assertArrayEquals(pa.network().params().toFloatVector(), pb.network().params().toFloatVector());
    }

    @Test
    void shardsAreEqualRankRangesWhateverTheSessionRanBefore() {
        // 2000 rows in 4 shards is more than repartitionByRange reads whole (3 x 100 rows per shard): its
        // bounds would come from a sample seeded by the RDD's id, which grows with every RDD of the session.
        List<List<Long>> first = shardIds(CalibrationJob.sample(train, 784, 2000, 4, 13L));
        for (int i = 0; i < 3; i++) {
            spark.range(10).count();
        }
        assertEquals(outline(first), outline(shardIds(CalibrationJob.sample(train, 784, 2000, 4, 13L))));
        assertEquals(List.of(500, 500, 500, 500), first.stream().map(List::size).toList());
        // In shard order, the rows are the sample in (xxhash64(id, derived seed), id) order.
        long key = Seeds.derive(13L, "calibration-sample", 0);
        List<Long> expected = train.withColumn("k", xxhash64(col("id"), lit(key)))
                .orderBy("k", "id").limit(2000).select("id").as(org.apache.spark.sql.Encoders.LONG()).collectAsList();
        assertTrue(expected.equals(first.stream().flatMap(List::stream).toList()), "shards out of sample order");
        // floor(rank * shards / n): 10 rows in 4 shards are 3 + 2 + 3 + 2.
        assertEquals(List.of(3, 2, 3, 2),
                shardIds(CalibrationJob.sample(train, 784, 10, 4, 13L)).stream().map(List::size).toList());
    }

    @Test
    void shardsSortedByTheirTasksOrBySparkHoldTheSameRowsInTheSameOrder() {
        // 2000 rows in 4 shards: 500 rows of 784 floats and 112 bytes of records each, 1,624,000 bytes.
        assertEquals(500L * (4 * 784 + 112), CalibrationJob.shardBytes(2000, 4, 784));
        assertEquals(3L * (4 * 784 + 112), CalibrationJob.shardBytes(10, 4, 784), "the largest of 3 + 2 + 3 + 2 rows");
        CalibrationJob.Sample byTasks = CalibrationJob.draw(train, 784, 2000, 4, 13L, null, 1_624_000);
        CalibrationJob.Sample bySpark = CalibrationJob.draw(train, 784, 2000, 4, 13L, null, 1_623_999);
        assertFalse(byTasks.sortedBySpark());
        assertTrue(bySpark.sortedBySpark());
        List<List<Long>> ids = shardIds(byTasks.rows());
        assertEquals(outline(shardIds(bySpark.rows())), outline(ids));
        assertEquals(shardIds(bySpark.rows()), ids);
        assertEquals(List.of(500, 500, 500, 500), ids.stream().map(List::size).toList());
        CalibrationJob.Settings settings = new CalibrationJob.Settings(784, 64, EnumSet.of(Statistic.INPUT_NORMS,
                Statistic.GRADIENTS), 1, Long.MAX_VALUE, Precision.FLOAT);
        assertEquals(CalibrationJob.run(spark, bySpark.rows(), teacherBytes, settings),
                CalibrationJob.run(spark, byTasks.rows(), teacherBytes, settings), "float statistics, bit for bit");
        assertFalse(CalibrationJob.sample(train, 784, 2000, 4, 13L, 10).sortedBySpark(), "the default bound");
    }

    @Test
    void theSamplePassChecksEveryRowOnceAndTheStatisticsJobReusesIt() {
        long rows = train.count();
        java.util.concurrent.atomic.AtomicInteger stages = new java.util.concurrent.atomic.AtomicInteger();
        org.apache.spark.scheduler.SparkListener counter = new org.apache.spark.scheduler.SparkListener() {
            @Override
            public void onStageSubmitted(org.apache.spark.scheduler.SparkListenerStageSubmitted submitted) {
                stages.incrementAndGet();
            }
        };
        CalibrationJob.Sample sample = CalibrationJob.sample(train, 784, 300, 3, 5L, 10);
        spark.sparkContext().addSparkListener(counter);
        try {
            var checks = sample.checks();
            assertEquals(rows, checks.rows(), "every row of the table is checked, not only the sample's");
            assertEquals(0, checks.nulls().count() + checks.badLength().count() + checks.badLabel().count()
                    + checks.nonFinite().count());
            assertTrue(sample.checks() == checks, "the pass runs once");
            awaitListeners();
            assertEquals(1, stages.get(), "the pass is one stage");
            List<List<Long>> shards = shardIds(sample.rows());
            awaitListeners();
            assertEquals(2, stages.get(), "the job over the sample's rows skips the pass it already ran");
            assertEquals(outline(shardIds(CalibrationJob.sample(train, 784, 300, 3, 5L))), outline(shards),
                    "the same shards as a sample drawn without checks");
        } finally {
            spark.sparkContext().removeSparkListener(counter);
        }
        // More samples than rows: all rows, in shards of equal rank ranges.
        List<List<Long>> all = shardIds(CalibrationJob.sample(train, 784, (int) rows + 1000, 2, 5L, 10).rows());
        assertEquals(List.of((int) (rows / 2), (int) (rows - rows / 2)), all.stream().map(List::size).toList());
    }

    /** Waits until the listener bus has delivered the events posted so far. */
    private static void awaitListeners() {
        try {
            spark.sparkContext().listenerBus().waitUntilEmpty(10_000);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    private static List<List<Long>> shardIds(JavaRDD<CalibrationJob.Example> sample) {
        return sample.map(CalibrationJob.Example::id).glom().collect();
    }

    /** "first..last (size)" of each shard: a short failure message. */
    private static List<String> outline(List<List<Long>> shards) {
        return shards.stream().map(s -> s.isEmpty() ? "empty"
                : s.get(0) + ".." + s.get(s.size() - 1) + " (" + s.size() + ")").toList();
    }

    @Test
    void differentSeedDrawsADifferentSample() {
        List<Long> a = CalibrationJob.sample(train, 784, 100, 2, 1L).map(CalibrationJob.Example::id).collect();
        List<Long> b = CalibrationJob.sample(train, 784, 100, 2, 2L).map(CalibrationJob.Example::id).collect();
        assertEquals(100, a.size());
        assertEquals(100, new java.util.HashSet<>(a).size(), "no duplicates");
        assertNotEquals(new java.util.HashSet<>(a), new java.util.HashSet<>(b));
    }

    @Test
    void emptyShardsMergeToTheSameStatistics() {
        // 5 rows in 8 shards: at least 3 partitions are empty and contribute zero-count accumulators.
        JavaRDD<CalibrationJob.Example> tiny = CalibrationJob.sample(train, 784, 5, 8, 3L);
        CalibrationStatistics stats = CalibrationJob.run(spark, tiny, teacherBytes, norms(2));
        assertEquals(5, stats.samples());
        CalibrationStatistics oneShard = CalibrationJob.run(spark, CalibrationJob.sample(train, 784, 5, 1, 3L), teacherBytes,
                norms(2));
        for (CalibrationStatistics.LayerStatistics l : stats.layers()) {
            double[] s1 = l.inputSquareSums().sums();
            double[] s2 = oneShard.layer(l.index()).inputSquareSums().sums();
            for (int j = 0; j < s1.length; j++) {
                assertEquals(s2[j], s1[j], 1e-9 * Math.max(1e-12, Math.abs(s2[j])));
            }
        }
        assertTrue(stats.layers().size() == 3);
    }
}
