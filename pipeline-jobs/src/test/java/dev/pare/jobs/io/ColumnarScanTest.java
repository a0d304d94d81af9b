package dev.pare.jobs.io;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.config.PareConfig;
import dev.pare.jobs.support.SharedLocalSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ColumnarScan}: two files of 700 rows in row groups of about 100, read in column batches of
 * 7 rows (batches end inside row groups, as they do for wide rows), give the rows Spark's own
 * row-by-row reading gives, value for value; plans that compute go through Spark's rows.
 */
class ColumnarScanTest extends SharedLocalSpark {
    private static final int WIDTH = 24;
    private static final int ROWS_PER_FILE = 700;
    private static final String BATCH_ROWS = "spark.sql.parquet.columnarReaderBatchSize";

    @TempDir
    static Path dir;
    private static String canonical;
    private static String renamed;
    private static String doubles;

    @BeforeAll
    static void setUp() {
        canonical = write("canonical.parquet", "id", "features", "label", DataTypes.FloatType);
        renamed = write("renamed.parquet", "example_id", "pixels", "class", DataTypes.FloatType);
        doubles = write("doubles.parquet", "id", "features", "label", DataTypes.DoubleType);
    }

    @AfterEach
    void clearSettings() {
        spark.conf().unset(BATCH_ROWS);
        spark.conf().unset("spark.sql.parquet.enableVectorizedReader");
        spark.conf().set("spark.sql.adaptive.enabled", "false");
    }

    /** Two files of random rows (id, features, label) plus a column Pare does not read, under these names. */
    private static String write(String name, String id, String features, String label, DataType element) {
        StructType schema = new StructType()
                .add(id, DataTypes.LongType, false)
                .add("note", DataTypes.StringType, true)
                .add(features, DataTypes.createArrayType(element, false), false)
                .add(label, DataTypes.IntegerType, false);
        boolean asDouble = element.equals(DataTypes.DoubleType);
        JavaRDD<Row> rows = JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(List.of(0, 1), 2)
                .flatMap(f -> {
                    Random random = new Random(31 + f);
                    List<Row> out = new ArrayList<>();
                    for (int r = 0; r < ROWS_PER_FILE; r++) {
                        Object[] x = asDouble ? new Double[WIDTH] : new Float[WIDTH];
                        for (int k = 0; k < WIDTH; k++) {
                            float v = random.nextInt(4) == 0 ? 0f : random.nextFloat();
                            x[k] = asDouble ? (Object) (double) v : (Object) v;
                        }
                        out.add(RowFactory.create(1000L * f + r, "n" + r, x, r % 10));
                    }
                    return out.iterator();
                });
        String path = dir.resolve(name).toString();
        spark.createDataFrame(rows, schema).write().mode(SaveMode.Overwrite)
                .option("parquet.block.size", 8 * 1024).parquet(path);
        return path;
    }

    private static Dataset<Row> read(String path, String id, String features, String label) {
        return ExampleTable.read(spark, new Files(new Configuration()), path, "data.train",
                new PareConfig.Data(path, path, id, features, label, 10));
    }

    /** The rows of {@code df} as Pare's tasks read them: each row's values taken before the next row. */
    private static List<String> viaColumnarScan(Dataset<Row> df) {
        return sorted(ColumnarScan.rows(df, WIDTH).mapPartitions(ColumnarScanTest::describe).collect());
    }

    /** The same rows from Spark's own conversion of the plan to rows. */
    private static List<String> viaSparkRows(Dataset<Row> df) {
        return sorted(df.queryExecution().toRdd().toJavaRDD().mapPartitions(ColumnarScanTest::describe).collect());
    }

    /**
     * {@code rows} in id order (the text starts with the id): planned scans pack their splits by size,
     * so the two routes may list the partitions in other orders.
     */
    private static List<String> sorted(List<String> rows) {
        return rows.stream().sorted(java.util.Comparator.comparingLong(r -> Long.parseLong(r.substring(0,
                r.indexOf(' '))))).toList();
    }

    /** Each row as text: id, features (float bits, via {@code toFloatArray}), label, then path and row index if any. */
    private static java.util.Iterator<String> describe(java.util.Iterator<InternalRow> rows) {
        List<String> out = new ArrayList<>();
        while (rows.hasNext()) {
            InternalRow r = rows.next();
            StringBuilder s = new StringBuilder().append(r.getLong(0)).append(' ')
                    .append(Arrays.toString(r.getArray(1).toFloatArray())).append(' ').append(r.getInt(2));
            if (r.numFields() > 3) {
                s.append(' ').append(r.getUTF8String(3)).append(' ').append(r.getLong(4));
            }
            out.add(s.toString());
        }
        return out.iterator();
    }

    private static boolean columnar(Dataset<Row> df) {
        return ColumnarScan.of(df.queryExecution().executedPlan()).isPresent();
    }

    @Test
    void theExampleColumnsComeFromTheColumnBatchesAsSparksRowsGiveThem() {
        spark.conf().set(BATCH_ROWS, "7");
        Dataset<Row> examples = read(canonical, "id", "features", "label");
        Dataset<Row> renamedExamples = read(renamed, "example_id", "pixels", "class");
        Dataset<Row> placed = examples.select(col(ExampleTable.ID), col(ExampleTable.FEATURES), col(ExampleTable.LABEL),
                col("_metadata.file_path"), col("_metadata.row_index"));
        for (Dataset<Row> df : List.of(examples, renamedExamples, placed)) {
            assertTrue(columnar(df), df.queryExecution().executedPlan().toString());
            // Spark's default (the tests' sessions turn it off): adaptive execution leaves plans without exchanges alone.
            spark.conf().set("spark.sql.adaptive.enabled", "true");
            assertTrue(columnar(df.select("*")), df.select("*").queryExecution().executedPlan().toString());
            spark.conf().set("spark.sql.adaptive.enabled", "false");
            List<String> expected = viaSparkRows(df);
            assertEquals(2 * ROWS_PER_FILE, expected.size());
            assertEquals(expected, viaColumnarScan(df));
        }
        // The placed rows number each file's rows from 0, in order.
        List<String> rows = viaColumnarScan(placed);
        for (String r : rows) {
            long id = Long.parseLong(r.substring(0, r.indexOf(' ')));
            assertTrue(r.endsWith(" " + (id % 1000)), r);
        }
    }

    @Test
    void aPlannedQuerysColumnReadOnTheDriverIsThatColumnOfItsRows() {
        spark.conf().set(BATCH_ROWS, "7");
        // The renamed table's query picks its columns out of the file's order: label (class), id (example_id).
        Dataset<Row> examples = read(renamed, "example_id", "pixels", "class").select(col(ExampleTable.LABEL),
                col(ExampleTable.ID), col(ExampleTable.FEATURES));
        ColumnarScan.Planned planned = ColumnarScan.planned(examples, WIDTH);
        List<String> tasks = planned.rows().map(r -> r.getInt(0) + " " + r.getLong(1)).collect();
        assertEquals(2 * ROWS_PER_FILE, tasks.size());
        List<Long> ids = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        try (ColumnarScan.DriverRows rows = planned.columnOnDriver(1).orElseThrow();
             ColumnarScan.DriverRows labelRows = planned.columnOnDriver(0).orElseThrow()) {
            assertEquals(2 * ROWS_PER_FILE, rows.rows());
            while (rows.hasNext()) {
                InternalRow r = rows.next();
                assertEquals(1, r.numFields());
                ids.add(r.getLong(0));
            }
            while (labelRows.hasNext()) {
                labels.add(labelRows.next().getInt(0));
            }
        }
        // Rows in the order the tasks read them, partition after partition: the same ids and labels, row for row.
        List<String> driver = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            driver.add(labels.get(i) + " " + ids.get(i));
        }
        assertEquals(tasks, driver);
        // Each file's rows: ids 0-699 and 1000-1699, labels id % 10 (as written).
        assertEquals(ROWS_PER_FILE, ids.stream().filter(id -> id < 1000).count());
        assertTrue(driver.stream().allMatch(r -> {
            String[] f = r.split(" ");
            return Long.parseLong(f[1]) % 1000 % 10 == Integer.parseInt(f[0]);
        }), driver.toString());
        // A plan that computes has no column batches to read on the driver.
        assertTrue(ColumnarScan.planned(examples.filter(col(ExampleTable.LABEL).equalTo(3)), WIDTH).columnOnDriver(0)
                .isEmpty());
    }

    @Test
    void copiedRowsKeepTheirValuesAfterTheScanMovesOn() {
        spark.conf().set(BATCH_ROWS, "7");
        Dataset<Row> examples = read(canonical, "id", "features", "label");
        List<String> copied = sorted(ColumnarScan.rows(examples, WIDTH).map(InternalRow::copy).collect().stream()
                .map(r -> r.getLong(0) + " " + Arrays.toString(r.getArray(1).toFloatArray()) + " " + r.getInt(2))
                .toList());
        assertEquals(viaSparkRows(examples), copied);
    }

    @Test
    void plansThatComputeAreReadThroughSparksRows() {
        Dataset<Row> examples = read(canonical, "id", "features", "label");
        Dataset<Row> filtered = examples.filter(col(ExampleTable.LABEL).equalTo(3));
        Dataset<Row> fromDoubles = read(doubles, "id", "features", "label");
        Dataset<Row> scaled = examples.select(col(ExampleTable.ID).plus(1).as(ExampleTable.ID),
                col(ExampleTable.FEATURES), col(ExampleTable.LABEL));
        for (Dataset<Row> df : List.of(filtered, fromDoubles, scaled)) {
            assertFalse(columnar(df), df.queryExecution().executedPlan().toString());
            assertEquals(viaSparkRows(df), viaColumnarScan(df));
        }
        assertEquals(ROWS_PER_FILE * 2 / 10, viaColumnarScan(filtered).size());
        // The features of the doubles table, cast to float, are the floats the table was written from.
        assertEquals(viaSparkRows(examples), viaColumnarScan(fromDoubles));
        assertEquals(Long.parseLong(viaSparkRows(examples).get(5).split(" ")[0]) + 1,
                Long.parseLong(viaColumnarScan(scaled).get(5).split(" ")[0]));

        spark.conf().set("spark.sql.parquet.enableVectorizedReader", "false");
        Dataset<Row> rowReader = read(canonical, "id", "features", "label");
        assertFalse(columnar(rowReader));
        assertEquals(viaSparkRows(examples), viaColumnarScan(rowReader));
    }

    @Test
    void theVectorizedReadOfTheTableIsColumnarAndPicksItsColumnsOutOfOrder() {
        Dataset<Row> examples = read(renamed, "example_id", "pixels", "class");
        var columns = ColumnarScan.of(examples.queryExecution().executedPlan()).orElseThrow();
        // The scan reads example_id, pixels, class (not note) in the file's order; the query wants the same three.
        List<String> scanned = scala.collection.JavaConverters.seqAsJavaList(columns.scan().output()).stream()
                .map(a -> a.name()).toList();
        assertEquals(List.of("example_id", "pixels", "class"), scanned);
        assertArrayEquals(new int[] {0, 1, 2}, columns.ordinals());
        Dataset<Row> reordered = examples.select(col(ExampleTable.LABEL), col(ExampleTable.ID),
                col(ExampleTable.FEATURES));
        assertArrayEquals(new int[] {2, 0, 1}, ColumnarScan.of(reordered.queryExecution().executedPlan())
                .orElseThrow().ordinals());
    }
}
