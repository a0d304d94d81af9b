package dev.pare.jobs.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.jobs.support.ParquetFooters;
import dev.pare.jobs.support.SharedLocalSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ParquetBatchFormat} through {@link ParquetRows#writeBatches}: the files are byte for byte those Spark
 * SQL's own writer ({@code Dataset.write().parquet()}) writes for the same rows, with
 * default pages, many small pages, several row groups, Spark's legacy list format and another codec; and a
 * batch that puts a field twice, of the wrong type or not at all fails its task, naming the field.
 */
class ParquetBatchFormatTest extends SharedLocalSpark {
    @TempDir
    static Path dir;

    private static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.LongType, false)
            .add("label", DataTypes.IntegerType, false)
            .add("loss", DataTypes.DoubleType, false)
            .add("weight", DataTypes.FloatType, false)
            .add("logits", DataTypes.createArrayType(DataTypes.FloatType, false), false);

    /** Columns of {@link #SCHEMA}; row r's logits are {@code logits[starts[r], starts[r + 1])}. */
    record Columns(long[] id, int[] label, double[] loss, float[] weight, float[] logits, int[] starts)
            implements ParquetBatchFormat.Batch {
        @Override
        public int size() {
            return id.length;
        }

        @Override
        public void putRow(int r, ParquetBatchFormat.RowSink sink) {
            // Not in schema order: the sink takes fields in any order.
            sink.putFloats(4, logits, starts[r], starts[r + 1] - starts[r]);
            sink.putLong(0, id[r]);
            sink.putInt(1, label[r]);
            sink.putDouble(2, loss[r]);
            sink.putFloat(3, weight[r]);
        }

        InternalRow row(int r) {
            float[] l = java.util.Arrays.copyOfRange(logits, starts[r], starts[r + 1]);
            return new GenericInternalRow(new Object[] {id[r], label[r], loss[r], weight[r],
                UnsafeArrayData.fromPrimitiveArray(l)});
        }
    }

    /** Partition p's batches: 3 batches of 50 rows each, logits of 0 to 11 values, NaN, -0 and infinities among them. */
    private static List<Columns> batches(int p) {
        List<Columns> out = new ArrayList<>();
        for (int b = 0; b < 3; b++) {
            int n = 50;
            long[] id = new long[n];
            int[] label = new int[n];
            double[] loss = new double[n];
            float[] weight = new float[n];
            int[] starts = new int[n + 1];
            for (int r = 0; r < n; r++) {
                starts[r + 1] = starts[r] + (r * 7 + b) % 12;
            }
            float[] logits = new float[starts[n]];
            for (int r = 0; r < n; r++) {
                long i = 1000L * p + 100L * b + r;
                id[r] = i * 31 - 5000;
                label[r] = (int) (i % 10) - 3;
                loss[r] = r == 7 ? Double.NaN : r == 8 ? -0.0 : i / 7.0;
                weight[r] = r == 9 ? Float.NEGATIVE_INFINITY : (float) Math.sin(i);
            }
            for (int k = 0; k < logits.length; k++) {
                logits[k] = k % 13 == 5 ? Float.NaN : k % 17 == 3 ? -0f : (float) Math.cos(k + 31.0 * p + b);
            }
            out.add(new Columns(id, label, loss, weight, logits, starts));
        }
        return out;
    }

    private static JavaRDD<Columns> batches() {
        return JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(List.of(0, 1, 2), 3)
                .flatMap(p -> batches(p).iterator());
    }

    private static JavaRDD<InternalRow> rows() {
        return batches().flatMap(b -> {
            List<InternalRow> rows = new ArrayList<>();
            for (int r = 0; r < b.size(); r++) {
                rows.add(b.row(r));
            }
            return rows.iterator();
        });
    }

    private static List<Path> parts(String folder) throws Exception {
        try (Stream<Path> files = Files.list(Path.of(folder))) {
            return files.filter(f -> f.getFileName().toString().startsWith("part-")).sorted().toList();
        }
    }

    /** Writes both ways under {@code name} with the session settings {@code settings}; returns our files. */
    private static List<Path> writeBothAndCompare(String name, Map<String, String> settings) throws Exception {
        return writeBothAndCompare(name, settings, false);
    }

    private static List<Path> writeBothAndCompare(String name, Map<String, String> settings, boolean dictionary)
            throws Exception {
        String ours = dir.resolve(name + "-batches.parquet").toString();
        String sparks = dir.resolve(name + "-rows.parquet").toString();
        settings.forEach((k, v) -> spark.conf().set(k, v));
        try {
            ParquetRows.writeBatches(spark, batches(), SCHEMA, ours, dictionary, Map.of());
            spark.internalCreateDataFrame(rows().rdd(), SCHEMA, false).write()
                    .option("parquet.enable.dictionary", dictionary).parquet(sparks);
        } finally {
            settings.keySet().forEach(k -> spark.conf().unset(k));
        }
        List<Path> ourParts = parts(ours);
        List<Path> sparkParts = parts(sparks);
        assertEquals(3, ourParts.size(), ourParts.toString());
        assertTrue(Files.exists(Path.of(ours, "_SUCCESS")));
        for (int i = 0; i < 3; i++) {
            // Hadoop's names (part-r-0000i), Spark SQL's with a job id (part-0000i-UUID-c000): the same order.
            String extension = sparkParts.get(i).getFileName().toString().replaceAll("^[^.]*", "");
            assertEquals("part-r-0000" + i + extension, ourParts.get(i).getFileName().toString());
            assertArrayEquals(Files.readAllBytes(sparkParts.get(i)), Files.readAllBytes(ourParts.get(i)),
                    name + ": " + ourParts.get(i).getFileName());
        }
        assertEquals(450, spark.read().parquet(ours).count());
        return ourParts;
    }

    @Test
    void filesAreTheBytesOfSparksRowWriter() throws Exception {
        List<Path> files = writeBothAndCompare("default", Map.of());
        assertTrue(files.get(0).getFileName().toString().endsWith(".snappy.parquet"), files.toString());
        // Partition p's rows in file p; a folder that exists is refused, and left as it was.
        assertEquals(List.of(-5000L + 31 * 1000, -5000L + 31 * 1249), spark.read().parquet(files.get(1).toString())
                .selectExpr("min(id)", "max(id)").collectAsList().stream()
                .flatMap(row -> java.util.stream.Stream.of(row.getLong(0), row.getLong(1))).toList());
        String folder = files.get(0).getParent().toString();
        assertThrows(Exception.class, () -> ParquetRows.writeBatches(spark, batches(), SCHEMA, folder, false,
                Map.of()));
        assertEquals(450, spark.read().parquet(folder).count());
        assertEquals(1, ParquetFooters.rowGroups(files.get(0)).size());
        // Read back through Spark: the values of the batches, row by row.
        List<org.apache.spark.sql.Row> first = spark.read().parquet(files.get(1).toString()).collectAsList();
        Columns b = batches(1).get(0);
        assertEquals(150, first.size());
        org.apache.spark.sql.Row r7 = first.get(7);
        assertEquals(b.id()[7], r7.getLong(0));
        assertEquals(b.label()[7], r7.getInt(1));
        assertTrue(Double.isNaN(r7.getDouble(2)));
        assertEquals(b.weight()[7], r7.getFloat(3));
        assertEquals(b.starts()[8] - b.starts()[7], r7.getList(4).size());
        assertEquals(0, first.get(0).getList(4).size()); // an empty list
    }

    @Test
    void smallPagesRowGroupsAndLegacyListsAreTheSameBytesToo() throws Exception {
        writeBothAndCompare("pages", Map.of("parquet.page.size", "512", "parquet.page.size.row.check.min", "3"));
        List<Path> groups = writeBothAndCompare("groups", Map.of("parquet.block.size", "2048", "parquet.page.size.row.check.min", "3"));
        assertTrue(ParquetFooters.rowGroups(groups.get(0)).size() > 3, "row groups: " + ParquetFooters.rowGroups(groups.get(0)).size());
        writeBothAndCompare("legacy", Map.of("spark.sql.parquet.writeLegacyFormat", "true"));
        List<Path> gzip = writeBothAndCompare("gzip", Map.of("spark.sql.parquet.compression.codec", "gzip"));
        assertTrue(gzip.get(0).getFileName().toString().endsWith(".gz.parquet"), gzip.toString());
    }

    @Test
    void dictionariesAreTheSameBytesToo() throws Exception {
        // Labels repeat (10 values): their column keeps its dictionary; the ids, all distinct, fall back to plain
        // values when the dictionary outgrows 300 bytes.
        List<Path> files = writeBothAndCompare("dictionary", Map.of("parquet.dictionary.page.size", "300"), true);
        var columns = ParquetFooters.rowGroups(files.get(0)).get(0).getColumns();
        assertTrue(columns.get(1).getDictionaryPageOffset() > 0, "label: " + columns.get(1));
        assertEquals(0, columns.get(0).getDictionaryPageOffset(), "id: " + columns.get(0));
    }

    /** Two rows of {@link #SCHEMA} with one mistake: a field left out, put twice or put as another type. */
    record Bad(String mistake) implements ParquetBatchFormat.Batch, java.io.Serializable {
        @Override
        public int size() {
            return 2;
        }

        @Override
        public void putRow(int r, ParquetBatchFormat.RowSink sink) {
            sink.putLong(0, r);
            if (!mistake.equals("missing")) {
                sink.putInt(1, r);
            }
            if (mistake.equals("twice")) {
                sink.putInt(1, r);
            }
            if (mistake.equals("type")) {
                sink.putFloat(2, r);
            } else {
                sink.putDouble(2, r);
            }
            sink.putFloat(3, r);
            sink.putFloats(4, new float[] {r}, 0, 1);
        }
    }

    @Test
    void aBatchThatBreaksItsSchemaFailsItsTaskNamingTheField() throws Exception {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Map<String, String> expected = Map.of("missing", "field label was not put in a row",
                "twice", "field label put twice in a row", "type", "field loss is not of the type put");
        for (Map.Entry<String, String> m : expected.entrySet()) {
            String path = dir.resolve("bad-" + m.getKey() + ".parquet").toString();
            SparkException e = assertThrows(SparkException.class, () -> ParquetRows.writeBatches(spark,
                    jsc.parallelize(List.of(new Bad(m.getKey())), 1), SCHEMA, path, false, Map.of()));
            String all = messages(e);
            assertTrue(all.contains(m.getValue()), all);
            assertTrue(!Files.exists(Path.of(path)) || parts(path).isEmpty(), "nothing committed");
        }
    }

    @Test
    void aSchemaItCannotWriteIsRefusedBeforeTheJob() {
        StructType nullable = new StructType().add("id", DataTypes.LongType, true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ParquetRows.writeBatches(spark, JavaSparkContext.fromSparkContext(spark.sparkContext())
                        .<Columns>emptyRDD(), nullable, dir.resolve("n.parquet").toString(), false, Map.of()));
        assertTrue(e.getMessage().startsWith("field id (bigint, nullable) cannot be written"), e.getMessage());
        StructType text = new StructType().add("id", DataTypes.LongType, false).add("note", DataTypes.StringType, false);
        e = assertThrows(IllegalArgumentException.class, () -> ParquetBatchFormat.check(text));
        assertTrue(e.getMessage().startsWith("field note (string) cannot be written"), e.getMessage());
        StructType nullElements = new StructType().add("l", DataTypes.createArrayType(DataTypes.FloatType, true), false);
        assertThrows(IllegalArgumentException.class, () -> ParquetBatchFormat.check(nullElements));
    }

    private static String messages(Throwable e) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.append(t.getMessage()).append('\n');
        }
        return all.toString();
    }
}
