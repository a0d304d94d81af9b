package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pare.common.data.ExampleArrays;
import dev.pare.jobs.io.ExampleTable;
import dev.pare.jobs.support.LocalSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Rows#collectInIdOrder} on a table whose files hold their ids in descending, interleaved order. */
class RowsTest {
    private static final int ROWS = 500;
    private static SparkSession spark;
    @TempDir
    static Path dir;

    @BeforeAll
    static void setUp() {
        spark = LocalSpark.start();
    }

    @AfterAll
    static void tearDown() {
        LocalSpark.stop(spark);
    }

    @Test
    void rowsComeInIdOrderWithTheirOwnFeaturesAndLabels() {
        StructType schema = new StructType()
                .add(ExampleTable.ID, DataTypes.LongType, false)
                .add(ExampleTable.FEATURES, DataTypes.createArrayType(DataTypes.FloatType, false), false)
                .add(ExampleTable.LABEL, DataTypes.IntegerType, false);
        List<Row> rows = new ArrayList<>();
        // Row i of the list has id 3·(ROWS - i) mod 1009 (distinct: 3 and 1009 are coprime), descending-ish.
        for (int i = 0; i < ROWS; i++) {
            long id = 3L * (ROWS - i) % 1009;
            rows.add(RowFactory.create(id, new Float[] {id + 0.5f, (float) -id}, (int) (id % 7)));
        }
        Path table = dir.resolve("t.parquet");
        spark.createDataFrame(rows, schema).repartition(3).write().mode(SaveMode.Overwrite).parquet(table.toString());
        Dataset<Row> df = spark.read().parquet(table.toString());

        ExampleArrays a = Rows.collectInIdOrder(df, 2);
        long[] expected = rows.stream().mapToLong(r -> r.getLong(0)).sorted().toArray();
        assertArrayEquals(expected, a.ids());
        for (int r = 0; r < ROWS; r++) {
            long id = a.ids()[r];
            assertEquals(id + 0.5f, a.features()[2 * r], "row " + r);
            assertEquals(-id, a.features()[2 * r + 1], "row " + r);
            assertEquals((int) (id % 7), a.labels()[r], "row " + r);
        }
        assertEquals(ROWS, LongStream.of(a.ids()).distinct().count());
    }
}
