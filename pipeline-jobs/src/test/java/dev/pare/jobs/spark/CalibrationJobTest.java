package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.config.ConfigLoader;
import dev.pare.common.config.PareConfig;
import dev.pare.common.importance.Criteria;
import dev.pare.common.model.Networks;
import dev.pare.common.sparsity.LayerMask;
import dev.pare.common.surgery.OneShotPruner;
import dev.pare.common.surgery.PrunedModel;
import dev.pare.jobs.io.ExampleTable;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.support.LocalSpark;
import java.nio.file.Paths;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The distributed calibration pass against a plain driver-side computation on the same rows. */
class CalibrationJobTest {
    private static SparkSession spark;
    private static Dataset<Row> train;
    private static byte[] teacherBytes;
    private static MultiLayerNetwork teacher;

    @BeforeAll
    static void setUp() throws Exception {
        spark = LocalSpark.start();
        PareConfig cfg = ConfigLoader.load(null, List.of());
        Files files = new Files(new Configuration());
        train = ExampleTable.read(spark, files, LocalSpark.sample("train.parquet"), "data.train", cfg.data());
        teacherBytes = java.nio.file.Files.readAllBytes(Paths.get(LocalSpark.sample("teacher-lenet300100.zip")));
        teacher = Networks.read(teacherBytes, "teacher", false);
    }

    @AfterAll
    static void tearDown() {
        LocalSpark.stop(spark);
    }

    @Test
    void statisticsEqualDriverSideComputationOverTheSameRows() {
        Dataset<Row> sample = CalibrationJob.sample(train, 300, 3, 7L);
        assertEquals(3, sample.rdd().getNumPartitions());
        CalibrationStatistics stats = CalibrationJob.run(spark, sample, teacherBytes, 784, 64);

        // Driver route: the same rows (any order), one double-precision forward pass over all of them (the
        // calibration pass runs the teacher in double), sums of squares in plain Java loops.
        List<Row> rows = sample.collectAsList();
        assertEquals(300, rows.size());
        float[] flat = new float[rows.size() * 784];
        for (int r = 0; r < rows.size(); r++) {
            List<Float> f = rows.get(r).getList(1);
            for (int j = 0; j < 784; j++) {
                flat[r * 784 + j] = f.get(j);
            }
        }
        INDArray x = Nd4j.create(flat, new long[] {rows.size(), 784}, 'c').castTo(DataType.DOUBLE);
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
    void sameSeedGivesIdenticalStatisticsAndMasks() {
        CalibrationStatistics a = CalibrationJob.run(spark, CalibrationJob.sample(train, 256, 3, 11L), teacherBytes, 784, 50);
        CalibrationStatistics b = CalibrationJob.run(spark, CalibrationJob.sample(train.repartition(5), 256, 3, 11L),
                teacherBytes, 784, 50);
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
    void differentSeedDrawsADifferentSample() {
        List<Long> a = CalibrationJob.sample(train, 100, 2, 1L).select("id").as(org.apache.spark.sql.Encoders.LONG())
                .collectAsList();
        List<Long> b = CalibrationJob.sample(train, 100, 2, 2L).select("id").as(org.apache.spark.sql.Encoders.LONG())
                .collectAsList();
        assertEquals(100, a.size());
        assertEquals(100, new java.util.HashSet<>(a).size(), "no duplicates");
        assertNotEquals(new java.util.HashSet<>(a), new java.util.HashSet<>(b));
    }

    @Test
    void emptyShardsMergeToTheSameStatistics() {
        // 5 rows in 8 shards: at least 3 partitions are empty and contribute zero-count accumulators.
        Dataset<Row> tiny = CalibrationJob.sample(train, 5, 8, 3L);
        CalibrationStatistics stats = CalibrationJob.run(spark, tiny, teacherBytes, 784, 2);
        assertEquals(5, stats.samples());
        CalibrationStatistics oneShard = CalibrationJob.run(spark, CalibrationJob.sample(train, 5, 1, 3L), teacherBytes,
                784, 2);
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
