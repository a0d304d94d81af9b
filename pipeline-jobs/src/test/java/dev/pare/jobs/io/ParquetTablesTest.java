package dev.pare.jobs.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.jobs.support.JobCount;
import dev.pare.jobs.support.LocalSpark;
import dev.pare.jobs.support.SharedLocalSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Parquet table's schema read on the driver ({@link ParquetTables}) is the one Spark's inference gives, with
 * no job.
 */
class ParquetTablesTest extends SharedLocalSpark {
    private static final StructType WIDE = new StructType()
            .add("id", DataTypes.LongType, false)
            .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), true)
            .add("label", DataTypes.IntegerType, false)
            .add("name", DataTypes.StringType, true)
            .add("weights", DataTypes.createArrayType(DataTypes.DoubleType, true), true)
            .add("flag", DataTypes.BooleanType, true)
            .add("point", new StructType().add("x", DataTypes.ShortType).add("y", DataTypes.ByteType), true);
    private static Files files;
    @TempDir
    static Path dir;

    @BeforeAll
    static void setUp() {
        files = new Files(new Configuration());
    }

    @AfterEach
    void clearSettings() {
        spark.conf().unset("spark.sql.parquet.mergeSchema");
    }

    private static String written(String name, int files, String... partitionBy) {
        List<Row> rows = new ArrayList<>();
        for (long id = 0; id < 40; id++) {
            rows.add(RowFactory.create(id, new Float[] {id / 2f, 1f}, (int) (id % 3), id % 5 == 0 ? null : "n" + id,
                    new Double[] {id * 0.25, null}, id % 2 == 0, RowFactory.create((short) id, (byte) -id)));
        }
        String path = dir.resolve(name).toString();
        spark.createDataFrame(rows, WIDE).repartition(files).write().mode("overwrite").partitionBy(partitionBy)
                .parquet(path);
        return path;
    }

    /** The number of Spark jobs started while the schema of {@link ParquetTables#read} is taken. */
    private static int jobs(String path, StructType[] schema) {
        return JobCount.of(spark, () -> {
            try {
                schema[0] = ParquetTables.read(spark, files, new org.apache.hadoop.fs.Path(path)).schema();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return schema[0];
        }).jobs();
    }

    private static Optional<StructType> onDriver(String path) throws Exception {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
        return ParquetTables.schemaOnDriver(spark, files.listing(p).orElseThrow());
    }

    @Test
    void theDriverReadsTheSchemaSparkInfersWithNoJob() throws Exception {
        String table = written("wide", 3);
        String part = java.nio.file.Files.list(Path.of(table)).filter(f -> f.getFileName().toString().endsWith(
                ".parquet")).sorted().findFirst().orElseThrow().toString();
        for (String path : List.of(table, part, LocalSpark.sample("train.parquet"),
                LocalSpark.sample("test.parquet"))) {
            StructType inferred = spark.read().parquet(path).schema();
            assertEquals(Optional.of(inferred), onDriver(path), path);
            StructType[] read = new StructType[1];
            assertEquals(0, jobs(path, read), path);
            assertEquals(inferred, read[0], path);
        }
        // Spark's own metadata in the footer gives the written types (short, byte), all nullable as Spark reads them.
        assertEquals(WIDE.asNullable(), onDriver(table).orElseThrow());
        // The rows read with the schema given are the rows Spark reads with its own.
        assertEquals(spark.read().parquet(table).orderBy("id").collectAsList(),
                ParquetTables.read(spark, files, new org.apache.hadoop.fs.Path(table)).orderBy("id").collectAsList());
    }

    @Test
    void sparksInferenceRunsWhereItWouldLookElsewhere() throws Exception {
        // Partition folders: the partition column comes from the paths.
        String partitioned = written("partitioned", 2, "label");
        assertEquals(Optional.empty(), onDriver(partitioned));
        StructType[] read = new StructType[1];
        assertTrue(jobs(partitioned, read) > 0, "partition folders: Spark's inference");
        assertEquals(spark.read().parquet(partitioned).schema(), read[0]);
        assertTrue(List.of(read[0].fieldNames()).contains("label"));

        // A summary file, which Spark reads first.
        String summarized = written("summarized", 2);
        Path first = java.nio.file.Files.list(Path.of(summarized))
                .filter(f -> f.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
        java.nio.file.Files.copy(first, Path.of(summarized, "_common_metadata"));
        assertEquals(Optional.empty(), onDriver(summarized));

        // Schema merging, which reads every file.
        String table = written("merged", 2);
        spark.conf().set("spark.sql.parquet.mergeSchema", "true");
        assertEquals(Optional.empty(), onDriver(table));
        assertTrue(jobs(table, read) > 0, "schema merging: Spark's inference");
        spark.conf().unset("spark.sql.parquet.mergeSchema");
        assertTrue(onDriver(table).isPresent());

        // Hidden and '_' files are skipped as Spark's listing skips them; a folder of only those has no schema here.
        Path empty = java.nio.file.Files.createDirectories(dir.resolve("only-hidden"));
        java.nio.file.Files.writeString(empty.resolve("_SUCCESS"), "");
        java.nio.file.Files.writeString(empty.resolve(".part.crc"), "x");
        assertEquals(Optional.empty(), onDriver(empty.toString()));
    }
}
