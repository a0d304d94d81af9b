package dev.pare.jobs.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pare.common.data.ExampleArrays;
import dev.pare.jobs.spark.CalibrationJob;
import dev.pare.jobs.spark.Rows;
import dev.pare.jobs.support.SharedLocalSpark;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * {@link ExampleTable#validate} on small hand-built tables (ids 100..139, 4 features, 3 classes),
 * each laid out several ways: one partition, four in id order (the bad rows in different ones),
 * reversed, shuffled. The message must name the same counts and first ids in every layout.
 */
class ExampleTableTest extends SharedLocalSpark {
    private static final int WIDTH = 4;
    private static final int CLASSES = 3;
    private static final StructType SCHEMA = new StructType()
            .add(ExampleTable.ID, DataTypes.LongType, true)
            .add(ExampleTable.FEATURES, DataTypes.createArrayType(DataTypes.FloatType, true), true)
            .add(ExampleTable.LABEL, DataTypes.IntegerType, true);


    /** Ids 100..139, features (id, 0.5, -0.5, 0) as floats, label id % 3: all valid. */
    private static List<Row> valid() {
        List<Row> rows = new ArrayList<>();
        for (long id = 100; id < 140; id++) {
            rows.add(row(id, Arrays.asList((float) id, 0.5f, -0.5f, 0f), (int) (id % CLASSES)));
        }
        return rows;
    }

    /** A row (id, features, label); Spark's row encoder takes arrays as Scala sequences. */
    private static Row row(Object id, List<Float> features, Object label) {
        return RowFactory.create(id, features == null ? null
                : scala.collection.JavaConverters.asScalaBuffer(features).toList(), label);
    }

    /** {@code rows} with the row of id {@code id} replaced. */
    private static List<Row> with(List<Row> rows, long id, UnaryOperator<Row> change) {
        List<Row> out = new ArrayList<>();
        for (Row r : rows) {
            out.add(!r.isNullAt(0) && r.getLong(0) == id ? change.apply(r) : r);
        }
        return out;
    }

    /** The row's features with element {@code i} set to {@code value} (null allowed). */
    private static UnaryOperator<Row> feature(int i, Float value) {
        return r -> {
            List<Float> f = new ArrayList<>(r.getList(1));
            f.set(i, value);
            return row(r.get(0), f, r.get(2));
        };
    }

    /** The same rows as tables of several layouts. */
    private static List<Dataset<Row>> layouts(List<Row> rows) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<Row> reversed = new ArrayList<>(rows);
        Collections.reverse(reversed);
        List<Row> shuffled = new ArrayList<>(rows);
        Collections.shuffle(shuffled, new Random(3));
        return List.of(
                spark.createDataFrame(jsc.parallelize(rows, 1), SCHEMA),
                spark.createDataFrame(jsc.parallelize(rows, 4), SCHEMA),
                spark.createDataFrame(jsc.parallelize(reversed, 3), SCHEMA),
                spark.createDataFrame(jsc.parallelize(shuffled, 2), SCHEMA),
                spark.createDataFrame(jsc.parallelize(shuffled, 7), SCHEMA));
    }

    /**
     * The checks of calibrate's sample pass over {@code df} ({@link CalibrationJob#sample(Dataset, int, int, int,
     * long, int)}, which checks every row it reads, sampled or not), judged as {@link ExampleTable#validate} judges
     * its own.
     */
    private static ExampleTable.Summary judgedBySamplePass(Dataset<Row> df) {
        return ExampleTable.judge(CalibrationJob.sample(df, WIDTH, 7, 3, 11L, CLASSES).checks(), df, "data.train",
                "mem");
    }

    /**
     * The message of validating every layout of {@code rows}, checked to be the same for all, and the same
     * when the checks are those of calibrate's sample pass.
     */
    private static String message(List<Row> rows) {
        List<String> messages = new ArrayList<>();
        for (Dataset<Row> df : layouts(rows)) {
            messages.add(assertThrows(BadInputException.class,
                    () -> ExampleTable.validate(df, "data.train", "mem", WIDTH, CLASSES)).getMessage());
            assertEquals(messages.get(messages.size() - 1),
                    assertThrows(BadInputException.class, () -> judgedBySamplePass(df)).getMessage(),
                    "the sample pass's checks of layout " + (messages.size() - 1));
        }
        for (int i = 1; i < messages.size(); i++) {
            assertEquals(messages.get(0), messages.get(i), "layout " + i + " against layout 0");
        }
        return messages.get(0);
    }

    @Test
    void validTablesPassInEveryLayout() {
        for (Dataset<Row> df : layouts(valid())) {
            assertEquals(new ExampleTable.Summary(40, WIDTH), ExampleTable.validate(df, "data.train", "mem", WIDTH,
                    CLASSES));
            assertEquals(new ExampleTable.Summary(40, WIDTH), judgedBySamplePass(df));
        }
    }

    @Test
    void everyLayoutIsCollectedInIdOrderWithItsOwnFeaturesAndLabels() {
        for (Dataset<Row> df : layouts(valid())) {
            ExampleArrays a = Rows.collectInIdOrder(df, WIDTH);
            assertEquals(40, a.size());
            for (int r = 0; r < a.size(); r++) {
                long id = 100 + r;
                assertEquals(id, a.ids()[r], "row " + r);
                assertArrayEquals(new float[] {id, 0.5f, -0.5f, 0f},
                        Arrays.copyOfRange(a.features(), r * WIDTH, (r + 1) * WIDTH), "row " + r);
                assertEquals((int) (id % CLASSES), a.labels()[r], "row " + r);
            }
        }
    }

    @Test
    void nanInfinitiesAndANullElementInFourPartitions() {
        // In id order over 4 partitions of 10 rows: 108 in the first, 117 the second, 125 the third, 131 the last.
        List<Row> rows = valid();
        rows = with(rows, 131, feature(0, Float.NaN));
        rows = with(rows, 117, feature(3, Float.POSITIVE_INFINITY));
        rows = with(rows, 125, feature(2, Float.NEGATIVE_INFINITY));
        rows = with(rows, 108, feature(1, null));
        assertEquals("data.train (mem): 4 row(s) with NaN or infinite features (first id: 108)", message(rows));
        // Without the null element, the first is the +Inf row.
        assertEquals("data.train (mem): 3 row(s) with NaN or infinite features (first id: 117)",
                message(with(rows, 108, feature(1, 0f))));
    }

    @Test
    void theCountsAndFirstIdsAgreeWithTheFormerSqlChecks() {
        List<Row> rows = valid();
        rows = with(rows, 139, feature(0, Float.NaN));
        rows = with(rows, 102, feature(3, Float.NEGATIVE_INFINITY));
        rows = with(rows, 120, feature(2, null));
        Dataset<Row> df = layouts(rows).get(3);
        // The former check, an interpreted higher-order function, as an independent route.
        Row sql = df.selectExpr("exists(features, x -> x IS NULL OR isnan(x) OR x = float('Infinity')"
                + " OR x = float('-Infinity')) AS bad", "id")
                .agg(org.apache.spark.sql.functions.expr("count_if(bad)"),
                        org.apache.spark.sql.functions.expr("min(CASE WHEN bad THEN id END)"))
                .first();
        assertEquals(3L, sql.getLong(0));
        assertEquals(102L, sql.getLong(1));
        assertEquals("data.train (mem): 3 row(s) with NaN or infinite features (first id: 102)", message(rows));
    }

    @Test
    void everyKindOfProblemInOneMessage() {
        List<Row> rows = valid();
        rows = with(rows, 103, r -> row(r.get(0), r.<Float>getList(1).subList(0, 3), r.get(2)));
        rows = with(rows, 135, r -> row(r.get(0), Arrays.asList(1f, 2f, 3f, 4f, 5f), r.get(2)));
        rows = with(rows, 112, r -> row(r.get(0), null, r.get(2)));
        rows = with(rows, 110, r -> RowFactory.create(r.get(0), r.get(1), null));
        rows = with(rows, 120, r -> RowFactory.create(r.get(0), r.get(1), 7));
        rows = with(rows, 101, r -> RowFactory.create(r.get(0), r.get(1), -1));
        rows = with(rows, 127, feature(1, Float.NaN));
        assertEquals("data.train (mem): 2 row(s) with a null id, features or label (first id: 110);"
                + " 3 row(s) whose feature length is not 4 as the teacher expects (first: id 103 has 3);"
                + " 2 row(s) with a label outside [0, 3) (first: id 101 has label -1);"
                + " 1 row(s) with NaN or infinite features (first id: 127)", message(rows));
    }

    @Test
    void aNullIdIsANullAndNotAFirstId() {
        List<Row> rows = with(valid(), 104, r -> RowFactory.create(null, r.get(1), r.get(2)));
        rows = with(rows, 133, r -> RowFactory.create(r.get(0), r.get(1), null));
        assertEquals("data.train (mem): 2 row(s) with a null id, features or label (first id: 133)", message(rows));
    }

    @Test
    void duplicateIdsInSortedAndShuffledLayouts() {
        List<Row> rows = new ArrayList<>(valid());
        rows.add(rows.get(17));
        rows.add(rows.get(30));
        rows.add(rows.get(30));
        rows.sort((a, b) -> Long.compare(a.getLong(0), b.getLong(0)));
        assertEquals("data.train (mem): 3 duplicate id(s) (first: id 117 appears 2 times): ids must be unique",
                message(rows));
    }

    @Test
    void anEmptyTable() {
        assertEquals("data.train (mem) is empty: no examples", message(List.of()));
    }
}
