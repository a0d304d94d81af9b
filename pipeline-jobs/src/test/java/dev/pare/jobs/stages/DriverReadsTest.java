package dev.pare.jobs.stages;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.data.ExampleArrays;
import dev.pare.jobs.io.ParquetExampleScan;
import dev.pare.jobs.spark.Rows;
import dev.pare.jobs.spark.ScoreJob;
import dev.pare.jobs.support.LocalSpark;
import dev.pare.jobs.support.SharedLocalSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distill stage's tables read on the driver with no Spark job ({@link DistillStage#subsetOnDriver},
 * {@link Rows#readInIdOrder}) give what the Spark route collects, and hand-computed values.
 */
class DriverReadsTest extends SharedLocalSpark {
    private static final int WIDTH = 4;
    private static final int CLASSES = 3;
    private static final StructType IDS = new StructType()
            .add("id", DataTypes.LongType, false)
            .add("label", DataTypes.IntegerType, false);
    @TempDir
    static Path dir;

    @AfterEach
    void clearSettings() {
        spark.conf().unset(ParquetExampleScan.SETTING);
    }

    private static float[] features(long id) {
        return new float[] {id, id / 2f, -1f, id % CLASSES};
    }

    private static float[] logits(long id, int n) {
        float[] l = new float[n];
        for (int c = 0; c < n; c++) {
            l[c] = id * 10 + c;
        }
        return l;
    }

    private static Float[] boxed(float[] a) {
        Float[] b = new Float[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
        return b;
    }

    /** Rows of ids 200..249 in a shuffled order, written as 3 files; read back as a file scan. */
    private static Dataset<Row> train() {
        List<Row> rows = new ArrayList<>();
        for (long id = 200; id < 250; id++) {
            rows.add(RowFactory.create(id, boxed(features(id)), (int) (id % CLASSES)));
        }
        Collections.shuffle(rows, new Random(4));
        return written("train", spark.createDataFrame(rows, LocalSpark.EXAMPLES).repartition(3));
    }

    private static Dataset<Row> written(String name, Dataset<Row> df) {
        String path = dir.resolve(name).toString();
        df.write().mode("overwrite").parquet(path);
        return spark.read().parquet(path);
    }

    /** A score table of {@code ids} with logits of {@code n} values (the other score columns zero). */
    private static Dataset<Row> scores(String name, List<Long> ids, int n) {
        List<Row> rows = new ArrayList<>();
        for (long id : ids) {
            rows.add(RowFactory.create(id, (int) (id % CLASSES), 0.0, 0.0, 0.0, 0.0, 0.0, boxed(logits(id, n))));
        }
        return written(name, spark.createDataFrame(rows, ScoreJob.SCHEMA).repartition(2));
    }

    private static Dataset<Row> ids(String name, List<Long> ids) {
        List<Row> rows = new ArrayList<>();
        for (long id : ids) {
            rows.add(RowFactory.create(id, (int) (id % CLASSES)));
        }
        return written(name, spark.createDataFrame(rows, IDS).repartition(2));
    }

    /** The Spark route: DistillStage's broadcast join, collected in id order. */
    private static DistillStage.Subset joined(Dataset<Row> ids, Dataset<Row> scores, Dataset<Row> train) {
        Dataset<Row> narrow = ids.select("id").join(scores.select(col("id"), col(ScoreJob.LOGITS)), "id");
        return DistillStage.subset(train.join(broadcast(narrow), "id").select(col("id"), col("features"),
                col("label"), col(ScoreJob.LOGITS)), WIDTH, CLASSES);
    }

    @Test
    void theSubsetReadOnTheDriverIsTheJoinedSubset() {
        Dataset<Row> train = train();
        // Selected: some ids without a training row (900, 901), one without logits (203).
        List<Long> selected = new ArrayList<>(List.of(249L, 900L, 203L, 210L, 200L, 901L, 231L, 222L, 244L, 215L));
        List<Long> scored = new ArrayList<>();
        for (long id = 200; id < 250; id++) {
            if (id != 203) {
                scored.add(id);
            }
        }
        scored.add(900L);
        Collections.shuffle(scored, new Random(8));
        Dataset<Row> ids = ids("ids", selected);
        Dataset<Row> scores = scores("scores", scored, CLASSES);
        DistillStage.Subset driver = DistillStage.subsetOnDriver(ids, scores, train, WIDTH, CLASSES).orElseThrow();
        DistillStage.Subset spark = joined(ids, scores, train);

        long[] expected = {200, 210, 215, 222, 231, 244, 249};
        assertArrayEquals(expected, driver.train().ids());
        for (int r = 0; r < expected.length; r++) {
            assertArrayEquals(features(expected[r]), java.util.Arrays.copyOfRange(driver.train().features(),
                    r * WIDTH, (r + 1) * WIDTH));
            assertEquals((int) (expected[r] % CLASSES), driver.train().labels()[r]);
            assertArrayEquals(logits(expected[r], CLASSES), java.util.Arrays.copyOfRange(driver.logits(),
                    r * CLASSES, (r + 1) * CLASSES));
        }
        assertArrayEquals(spark.train().ids(), driver.train().ids());
        assertArrayEquals(spark.train().features(), driver.train().features());
        assertArrayEquals(spark.train().labels(), driver.train().labels());
        assertArrayEquals(spark.logits(), driver.logits());
    }

    @Test
    void whatTheDriverRouteDoesNotReadIsLeftToSpark() {
        Dataset<Row> train = train();
        Dataset<Row> scores = scores("all-scores", new ArrayList<>(new TreeSet<>(List.of(200L, 201L, 202L))), CLASSES);
        // An id selected twice: a join repeats its row, so the Spark route keeps that.
        assertTrue(DistillStage.subsetOnDriver(ids("twice", List.of(200L, 201L, 200L)), scores, train, WIDTH, CLASSES)
                .isEmpty());
        Dataset<Row> once = ids("once", List.of(200L, 201L));
        // A table that is not a file scan, and Pare's reader turned off.
        assertTrue(DistillStage.subsetOnDriver(once, scores, train.filter("id > 0"), WIDTH, CLASSES).isEmpty());
        spark.conf().set(ParquetExampleScan.SETTING, "spark");
        assertTrue(DistillStage.subsetOnDriver(once, scores, train, WIDTH, CLASSES).isEmpty());
        assertTrue(Rows.readInIdOrder(train, WIDTH).isEmpty());
    }

    @Test
    void logitsOfAnotherLengthFailAsInTheSparkRoute() {
        Dataset<Row> train = train();
        Dataset<Row> ids = ids("ids2", List.of(205L, 206L));
        Dataset<Row> scores = scores("short", List.of(205L, 206L), CLASSES - 1);
        String expected = assertThrows(IllegalArgumentException.class, () -> joined(ids, scores, train)).getMessage();
        assertEquals("example id 205: column 3 holds 2 values, expected 3", expected);
        assertEquals(expected, assertThrows(IllegalArgumentException.class,
                () -> DistillStage.subsetOnDriver(ids, scores, train, WIDTH, CLASSES)).getMessage());
    }

    @Test
    void theTestSetReadOnTheDriverIsTheCollectedOne() {
        Dataset<Row> train = train();
        ExampleArrays read = Rows.readInIdOrder(train, WIDTH).orElseThrow();
        ExampleArrays collected = Rows.collectInIdOrder(train, WIDTH);
        assertEquals(50, read.size());
        for (int r = 0; r < 50; r++) {
            assertEquals(200 + r, read.ids()[r]);
            assertArrayEquals(features(200 + r), java.util.Arrays.copyOfRange(read.features(), r * WIDTH,
                    (r + 1) * WIDTH));
        }
        assertArrayEquals(collected.ids(), read.ids());
        assertArrayEquals(collected.features(), read.features());
        assertArrayEquals(collected.labels(), read.labels());
        assertTrue(Rows.readInIdOrder(train.filter("label >= 0"), WIDTH).isEmpty());
    }
}
