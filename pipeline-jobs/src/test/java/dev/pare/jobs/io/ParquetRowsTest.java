package dev.pare.jobs.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.jobs.support.SharedLocalSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ParquetRows}: internal rows written through Hadoop's output format read back as the rows
 * and schema Spark SQL's own writer gives for the same rows, one file per partition, with the
 * session's codec and the dictionary setting.
 */
class ParquetRowsTest extends SharedLocalSpark {
    @TempDir
    static Path dir;

    private static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.LongType, false)
            .add("label", DataTypes.IntegerType, false)
            .add("loss", DataTypes.DoubleType, false)
            .add("note", DataTypes.StringType, true)
            .add("logits", DataTypes.createArrayType(DataTypes.FloatType, false), false);

    private static JavaRDD<InternalRow> rows() {
        return JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(List.of(0, 1, 2), 3).flatMap(p -> {
            List<InternalRow> out = new ArrayList<>();
            for (int r = 0; r < 40; r++) {
                long id = 100L * p + r;
                out.add(new GenericInternalRow(new Object[] {id, r % 10, id / 7.0,
                    r % 3 == 0 ? null : org.apache.spark.unsafe.types.UTF8String.fromString("n" + r),
                    UnsafeArrayData.fromPrimitiveArray(new float[] {r, -r / 3f, Float.MIN_VALUE})}));
            }
            return out.iterator();
        });
    }

    private static List<String> read(String path) {
        return spark.read().parquet(path).orderBy("id").collectAsList().stream().map(Row::toString).toList();
    }

    @Test
    void rowsReadBackAsSparkSqlsWriterWritesThem() throws Exception {
        String ours = dir.resolve("ours.parquet").toString();
        String sparks = dir.resolve("sparks.parquet").toString();
        ParquetRows.write(spark, rows(), SCHEMA, ours, false);
        spark.internalCreateDataFrame(rows().rdd(), SCHEMA, false).write().option("parquet.enable.dictionary", false)
                .parquet(sparks);
        assertEquals(spark.read().parquet(sparks).schema(), spark.read().parquet(ours).schema());
        assertEquals(SCHEMA.asNullable(), spark.read().parquet(ours).schema().asNullable());
        List<String> expected = read(sparks);
        assertEquals(120, expected.size());
        assertEquals(expected, read(ours));
        assertTrue(expected.get(1).startsWith("[1,1,0.14285714285714285,n1,"), expected.get(1));

        List<Path> parts;
        try (Stream<Path> files = Files.list(Path.of(ours))) {
            parts = files.filter(f -> f.getFileName().toString().startsWith("part-")).sorted().toList();
        }
        assertEquals(3, parts.size(), parts.toString());
        assertTrue(Files.exists(Path.of(ours, "_SUCCESS")));
        assertTrue(parts.get(0).getFileName().toString().endsWith(".snappy.parquet"), parts.toString());
        // Snappy, and no dictionary pages, as asked; the first file holds the first partition's rows.
        try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(
                new org.apache.hadoop.fs.Path(parts.get(0).toString()), new Configuration()))) {
            for (ColumnChunkMetaData c : r.getFooter().getBlocks().get(0).getColumns()) {
                assertEquals("SNAPPY", c.getCodec().name(), c.toString());
                assertEquals(0, c.getDictionaryPageOffset(), c.toString());
            }
            assertEquals(40, r.getRecordCount());
        }
        assertEquals(List.of(0L, 39L), spark.read().parquet(parts.get(0).toString()).selectExpr("min(id)", "max(id)")
                .collectAsList().stream().flatMap(row -> Stream.of(row.getLong(0), row.getLong(1))).toList());
    }

    @Test
    void theSessionsCodecIsUsedAndAnExistingFolderIsRefused() throws Exception {
        String path = dir.resolve("gzip.parquet").toString();
        spark.conf().set("spark.sql.parquet.compression.codec", "gzip");
        try {
            ParquetRows.write(spark, rows(), SCHEMA, path, true);
        } finally {
            spark.conf().unset("spark.sql.parquet.compression.codec");
        }
        try (Stream<Path> files = Files.list(Path.of(path))) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().endsWith(".gz.parquet")));
        }
        assertEquals(120, spark.read().parquet(path).count());
        assertThrows(Exception.class, () -> ParquetRows.write(spark, rows(), SCHEMA, path, true));
        assertEquals(120, spark.read().parquet(path).count());
    }
}
