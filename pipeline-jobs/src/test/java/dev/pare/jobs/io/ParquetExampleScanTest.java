package dev.pare.jobs.io;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.jobs.support.SharedLocalSpark;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.bytes.HeapByteBufferAllocator;
import org.apache.parquet.column.ParquetProperties.WriterVersion;
import org.apache.parquet.column.values.rle.RunLengthBitPackingHybridEncoder;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.execution.FileSourceScanExec;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ParquetExampleScan} and {@link ParquetColumn}: tables written by parquet-mr in the layouts
 * and encodings users' files come in (three- and two-level lists, nullable lists and elements, data
 * pages v1 and v2, dictionaries and their fallback to plain, delta and byte-stream-split values,
 * four codecs, several row groups split over several tasks) read to the same rows, bit for bit and
 * null for null, as Spark's vectorized reader reads them ({@value ParquetExampleScan#SETTING}
 * = spark), with the {@code _metadata} file path and row index.
 */
class ParquetExampleScanTest extends SharedLocalSpark {
    @TempDir
    static Path dir;

    @AfterEach
    void clearSettings() {
        spark.conf().unset(ParquetExampleScan.SETTING);
        spark.conf().unset("spark.sql.parquet.columnarReaderBatchSize");
        spark.conf().unset("spark.sql.files.maxPartitionBytes");
        spark.conf().unset("spark.sql.files.openCostInBytes");
    }

    private static final String THREE_LEVEL = "message m { required int64 id; optional group features (LIST) {"
            + " repeated group list { optional float element; } } required int32 label; }";
    private static final String REQUIRED_ELEMENTS = "message m { required int64 id; required group features (LIST) {"
            + " repeated group list { required float element; } } optional int32 label; }";
    private static final String TWO_LEVEL = "message m { required int64 id; repeated float features;"
            + " required int32 label; }";

    /**
     * A file of {@code rows} rows of {@code schema}: ids from {@code firstId}, lists of 0 to 40 floats
     * (some of 300, to span pages), few distinct values unless {@code distinct}; where the schema
     * allows, every 7th list null and every 5th element null, every 9th label null.
     */
    private static String write(String name, String schema, int rows, long firstId, boolean distinct,
                                WriterVersion version, CompressionCodecName codec, boolean dictionary,
                                boolean byteStreamSplit) throws IOException {
        return write(name, schema, rows, firstId, distinct, version, codec, dictionary, byteStreamSplit,
                dir.resolve(name).toString());
    }

    /** As above, to {@code path}: the same rows as a file {@code name} (they are drawn from the name). */
    private static String write(String name, String schema, int rows, long firstId, boolean distinct,
                                WriterVersion version, CompressionCodecName codec, boolean dictionary,
                                boolean byteStreamSplit, String path) throws IOException {
        MessageType type = MessageTypeParser.parseMessageType(schema);
        Random random = new Random(name.hashCode());
        SimpleGroupFactory groups = new SimpleGroupFactory(type);
        boolean optionalList = schema.contains("optional group features");
        boolean optionalElement = schema.contains("optional float element");
        boolean optionalLabel = schema.contains("optional int32 label");
        boolean twoLevel = schema.contains("repeated float features");
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new org.apache.hadoop.fs.Path(path)).withType(type)
                .withConf(new Configuration()).withWriterVersion(version).withCompressionCodec(codec)
                .withDictionaryEncoding(dictionary).withByteStreamSplitEncoding(byteStreamSplit)
                .withPageSize(2048).withDictionaryPageSize(512).withRowGroupSize(16 * 1024).build()) {
            for (int r = 0; r < rows; r++) {
                Group g = groups.newGroup().append("id", firstId + r);
                if (!(optionalList && r % 7 == 3)) {
                    int n = r % 11 == 0 ? 300 : random.nextInt(41);
                    Group list = twoLevel ? null : g.addGroup("features");
                    for (int k = 0; k < n; k++) {
                        float v = distinct ? random.nextFloat() : random.nextInt(6) / 4f;
                        if (twoLevel) {
                            g.append("features", v);
                        } else if (optionalElement && k % 5 == 2) {
                            list.addGroup("list");
                        } else {
                            list.addGroup("list").append("element", v);
                        }
                    }
                }
                if (!(optionalLabel && r % 9 == 4)) {
                    g.append("label", r % 10);
                }
                w.write(g);
            }
        }
        return path;
    }

    /** Rows as text, in id order: id, features (float bits; null lists and elements as null), label. */
    private static List<String> rows(Dataset<Row> df, String setting) {
        spark.conf().set(ParquetExampleScan.SETTING, setting);
        List<String> out = new ArrayList<>(ColumnarScan.rows(df, 1).mapPartitions(ParquetExampleScanTest::describe)
                .collect());
        out.sort(java.util.Comparator.comparingLong(r -> Long.parseLong(r.substring(0, r.indexOf(' ')))));
        return out;
    }

    private static Iterator<String> describe(Iterator<InternalRow> rows) {
        List<String> out = new ArrayList<>();
        while (rows.hasNext()) {
            InternalRow r = rows.next();
            StringBuilder s = new StringBuilder().append(r.getLong(0)).append(' ');
            if (r.isNullAt(1)) {
                s.append("null");
            } else {
                ArrayData a = r.getArray(1);
                s.append('[');
                for (int i = 0; i < a.numElements(); i++) {
                    s.append(a.isNullAt(i) ? "null" : Integer.toHexString(Float.floatToRawIntBits(a.getFloat(i))))
                            .append(',');
                }
                s.append(']');
            }
            s.append(' ').append(r.isNullAt(2) ? "null" : String.valueOf(r.getInt(2)));
            for (int i = 3; i < r.numFields(); i++) {
                s.append(' ').append(i == 3 ? r.getUTF8String(3).toString() : String.valueOf(r.getLong(i)));
            }
            out.add(s.toString());
        }
        return out.iterator();
    }

    /** True when Pare's reader reads {@code df}'s scan. */
    private static boolean readByPare(Dataset<Row> df) {
        spark.conf().unset(ParquetExampleScan.SETTING);
        var columns = ColumnarScan.of(df.queryExecution().executedPlan());
        return columns.isPresent() && ParquetExampleScan.columns(columns.get().scan()).isPresent();
    }

    private static Dataset<Row> placed(String path) {
        return spark.read().parquet(path).select(col("id"), col("features"), col("label"), col("_metadata.file_path"),
                col("_metadata.row_index"));
    }

    @Test
    void everyLayoutAndEncodingReadsAsSparkReadsIt() throws IOException {
        // Column batches of 5 rows: batches end inside row groups and lists span pages.
        spark.conf().set("spark.sql.parquet.columnarReaderBatchSize", "5");
        record Case(String schema, WriterVersion version, CompressionCodecName codec, boolean dictionary,
                    boolean byteStreamSplit, boolean distinct) {}
        List<Case> cases = List.of(
                new Case(THREE_LEVEL, WriterVersion.PARQUET_1_0, CompressionCodecName.UNCOMPRESSED, true, false, false),
                new Case(THREE_LEVEL, WriterVersion.PARQUET_2_0, CompressionCodecName.SNAPPY, true, false, true),
                new Case(REQUIRED_ELEMENTS, WriterVersion.PARQUET_1_0, CompressionCodecName.ZSTD, false, false, true),
                new Case(REQUIRED_ELEMENTS, WriterVersion.PARQUET_2_0, CompressionCodecName.GZIP, false, true, true),
                new Case(TWO_LEVEL, WriterVersion.PARQUET_1_0, CompressionCodecName.SNAPPY, true, false, false),
                new Case(TWO_LEVEL, WriterVersion.PARQUET_2_0, CompressionCodecName.UNCOMPRESSED, false, false, true));
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            String path = write("case" + i + ".parquet", c.schema(), 600, 0, c.distinct(), c.version(), c.codec(),
                    c.dictionary(), c.byteStreamSplit());
            if (c.byteStreamSplit()) {
                // Spark 3.5's vectorized reader refuses byte-stream-split pages: Pare's reads them as Spark reads the
                // same values written plainly.
                String twin = write("case" + i + ".parquet", c.schema(), 600, 0, c.distinct(), c.version(), c.codec(),
                        c.dictionary(), false, dir.resolve("twin" + i + ".parquet").toString());
                assertEquals(rows(spark.read().parquet(twin).select("id", "features", "label"), "spark"),
                        rows(spark.read().parquet(path).select("id", "features", "label"), "pare"), c.toString());
                continue;
            }
            for (Dataset<Row> df : List.of(spark.read().parquet(path).select("id", "features", "label"), placed(path))) {
                assertTrue(readByPare(df), c + ": " + df.queryExecution().executedPlan());
                List<String> expected = rows(df, "spark");
                assertEquals(600, expected.size(), c.toString());
                assertEquals(expected, rows(df, "pare"), c.toString());
            }
        }
        // The cases hold what they are meant to: null lists, empty lists, null elements, null labels, 300 floats.
        String all = String.join("\n", rows(placed(dir.resolve("case0.parquet").toString()), "pare"));
        assertTrue(all.contains(" null 3 ") && all.contains(" [] ") && all.contains(",null,"), all.substring(0, 300));
        assertEquals(300, rows(spark.read().parquet(dir.resolve("case2.parquet").toString())
                .select("id", "features", "label"), "pare").get(0).chars().filter(ch -> ch == ',').count());
        assertTrue(rows(spark.read().parquet(dir.resolve("case2.parquet").toString()).select("id", "features", "label"),
                "pare").get(4).endsWith(" null"));
    }

    @Test
    void rowGroupsSplitOverTasksAreReadOnceWithTheirFilesRowIndices() throws IOException {
        String table = dir.resolve("split.parquet").toString();
        java.nio.file.Files.createDirectories(Path.of(table));
        for (int f = 0; f < 3; f++) {
            String one = write("split-" + f + ".parquet", REQUIRED_ELEMENTS, 900 + 100 * f, 10_000L * f, true,
                    WriterVersion.PARQUET_1_0, CompressionCodecName.SNAPPY, true, false);
            java.nio.file.Files.move(Path.of(one), Path.of(table, "part-" + f + " with space.parquet"));
        }
        spark.conf().set("spark.sql.files.maxPartitionBytes", "20000");
        spark.conf().set("spark.sql.files.openCostInBytes", "0");
        Dataset<Row> df = placed(table);
        FileSourceScanExec scan = ColumnarScan.of(df.queryExecution().executedPlan()).orElseThrow().scan();
        assertTrue(scan.inputRDD().partitions().length > 3, "splits: " + scan.inputRDD().partitions().length);
        List<String> expected = rows(df, "spark");
        assertEquals(900 + 1000 + 1100, expected.size());
        List<String> actual = rows(df, "pare");
        assertEquals(expected, actual);
        // Row indices count each file's rows from 0: ids were written as 10000·file + index.
        for (String r : actual) {
            String[] parts = r.split(" ");
            long id = Long.parseLong(parts[0]);
            assertEquals(id % 10_000, Long.parseLong(parts[parts.length - 1]), r);
            assertTrue(r.contains("with%20space"), r);
        }
    }

    @Test
    void aTableSchemaWiderThanAFileWidensIntsAndReadsMissingColumnsAsNull() throws IOException {
        String table = dir.resolve("narrow.parquet").toString();
        java.nio.file.Files.createDirectories(Path.of(table));
        String schema = "message m { required int32 id (INTEGER(32,false)); required group features (LIST) {"
                + " repeated group list { required float element; } } }";
        MessageType type = MessageTypeParser.parseMessageType(schema);
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new org.apache.hadoop.fs.Path(table, "a.parquet"))
                .withType(type).withConf(new Configuration()).build()) {
            SimpleGroupFactory groups = new SimpleGroupFactory(type);
            for (int r = 0; r < 50; r++) {
                Group g = groups.newGroup().append("id", r == 7 ? -5 : r);
                g.addGroup("features").addGroup("list").append("element", r * 0.5f);
                w.write(g);
            }
        }
        StructType wide = new StructType().add("id", DataTypes.LongType).add("features",
                DataTypes.createArrayType(DataTypes.FloatType)).add("label", DataTypes.IntegerType);
        Dataset<Row> df = spark.read().schema(wide).parquet(table).select("id", "features", "label");
        assertTrue(readByPare(df));
        List<String> actual = rows(df, "pare");
        assertEquals(rows(df, "spark"), actual);
        // The unsigned 32-bit -5 is 2^32 - 5; the label column is absent, so null.
        assertTrue(actual.contains((1L << 32) - 5 + " [" + Integer.toHexString(Float.floatToRawIntBits(3.5f))
                + ",] null"), actual.toString());
    }

    @Test
    void aColumnStoredAsAnotherTypeFailsNamingTheFileAndColumn() throws IOException {
        String table = dir.resolve("doubles.parquet").toString();
        java.nio.file.Files.createDirectories(Path.of(table));
        MessageType type = MessageTypeParser.parseMessageType("message m { required int64 id; required group features"
                + " (LIST) { repeated group list { required double element; } } required int32 label; }");
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new org.apache.hadoop.fs.Path(table, "d.parquet"))
                .withType(type).withConf(new Configuration()).build()) {
            Group g = new SimpleGroupFactory(type).newGroup().append("id", 1L).append("label", 2);
            g.addGroup("features").addGroup("list").append("element", 0.5);
            w.write(g);
        }
        StructType floats = new StructType().add("id", DataTypes.LongType).add("features",
                DataTypes.createArrayType(DataTypes.FloatType)).add("label", DataTypes.IntegerType);
        Dataset<Row> df = spark.read().schema(floats).parquet(table).select("id", "features", "label");
        spark.conf().set(ParquetExampleScan.SETTING, "pare");
        SparkException e = assertThrows(SparkException.class, () -> ColumnarScan.rows(df, 1).count());
        String message = String.valueOf(e.getMessage());
        assertTrue(message.contains("d.parquet") && message.contains("'features'") && message.contains("double"),
                message);
    }

    @Test
    void theSettingChoosesTheReaderAndABadValueIsRefused() throws IOException {
        String path = write("setting.parquet", REQUIRED_ELEMENTS, 20, 0, true, WriterVersion.PARQUET_1_0,
                CompressionCodecName.SNAPPY, true, false);
        Dataset<Row> df = spark.read().parquet(path).select("id", "features", "label");
        FileSourceScanExec scan = ColumnarScan.of(df.queryExecution().executedPlan()).orElseThrow().scan();
        assertTrue(ParquetExampleScan.batches(scan).isPresent());
        spark.conf().set(ParquetExampleScan.SETTING, "spark");
        assertFalse(ParquetExampleScan.batches(scan).isPresent());
        spark.conf().set(ParquetExampleScan.SETTING, "arrow");
        BadInputException e = assertThrows(BadInputException.class, () -> ParquetExampleScan.batches(scan));
        assertTrue(e.getMessage().contains(ParquetExampleScan.SETTING) && e.getMessage().contains("'arrow'"),
                e.getMessage());
        // A string column is not for this reader: Spark reads it.
        Dataset<Row> withText = spark.read().parquet(path).selectExpr("id", "features", "cast(label as string) l");
        assertFalse(ColumnarScan.of(withText.queryExecution().executedPlan()).isPresent());
    }

    @Test
    void hybridRunsDecodeAsParquetMrEncodesThem() throws IOException {
        Random random = new Random(5);
        for (int width = 1; width <= 20; width++) {
            for (int n : new int[] {1, 7, 8, 9, 100, 1003}) {
                int[] values = new int[n];
                RunLengthBitPackingHybridEncoder encoder = new RunLengthBitPackingHybridEncoder(width, 64, 1 << 16,
                        new HeapByteBufferAllocator());
                for (int i = 0; i < n; i++) {
                    // Runs (RLE) and noise (bit-packed groups), within the width's range.
                    values[i] = (i / 13) % 2 == 0 ? (i / 26) % (1 << width) : random.nextInt(1 << width);
                    encoder.writeInt(values[i]);
                }
                byte[] bytes = encoder.toBytes().toByteArray();
                int[] decoded = new int[n];
                assertEquals(n, ParquetColumn.hybrid(ByteBuffer.wrap(bytes), width, decoded, n, false));
                assertArrayEquals(values, decoded, "width " + width + ", " + n + " values");
                // The same bytes read for the positions of their zeros (a list's row starts).
                int[] zeros = java.util.stream.IntStream.range(0, n).filter(i -> values[i] == 0).toArray();
                int[] positions = new int[n];
                int found = ParquetColumn.hybrid(ByteBuffer.wrap(bytes), width, positions, n, true);
                assertArrayEquals(zeros, Arrays.copyOf(positions, found), "zeros, width " + width + ", " + n);
                // One value for all (their first 13 here) may come back as it; mixed ones never do.
                int uniform = ParquetColumn.uniform(ByteBuffer.wrap(bytes), width, n);
                boolean same = Arrays.stream(values).allMatch(v -> v == values[0]);
                assertEquals(same ? uniform : -1, uniform, "width " + width + ", " + n);
                assertTrue(uniform == -1 || uniform == values[0]);
            }
            // One run of a single value: its value, and the buffer left where it was.
            RunLengthBitPackingHybridEncoder run = new RunLengthBitPackingHybridEncoder(width, 64, 1 << 16,
                    new HeapByteBufferAllocator());
            int value = (1 << width) - 1;
            for (int i = 0; i < 500; i++) {
                run.writeInt(value);
            }
            ByteBuffer bytes = ByteBuffer.wrap(run.toBytes().toByteArray());
            assertEquals(value, ParquetColumn.uniform(bytes, width, 500));
            assertEquals(-1, ParquetColumn.uniform(bytes, width, 501), "a run shorter than the values");
            assertEquals(0, bytes.position());
        }
        // Bytes that end before the values do are refused, not read past.
        assertThrows(IOException.class, () -> ParquetColumn.hybrid(ByteBuffer.wrap(new byte[] {8, 1}), 1,
                new int[10], 10, false));
        assertArrayEquals(new int[] {0, 0, 0}, decodedZeroWidth(false));
        assertArrayEquals(new int[] {0, 1, 2}, decodedZeroWidth(true));
        assertEquals(-1, ParquetColumn.uniform(ByteBuffer.wrap(new byte[0]), 1, 3));
    }

    private static int[] decodedZeroWidth(boolean zeros) throws IOException {
        int[] out = {9, 9, 9};
        assertEquals(3, ParquetColumn.hybrid(ByteBuffer.wrap(new byte[0]), 0, out, 3, zeros));
        return out;
    }

    @Test
    void dictionaryIdsAreLookedUpAsParquetMrEncodesThem() throws IOException {
        Random random = new Random(7);
        for (int width = 1; width <= 12; width++) {
            for (int size : new int[] {(1 << (width - 1)) + 1, 1 << width}) {
                float[] dictionary = new float[size];
                for (int i = 0; i < size; i++) {
                    dictionary[i] = random.nextFloat() - 0.5f;
                }
                for (int n : new int[] {1, 7, 8, 9, 100, 1003}) {
                    int[] ids = new int[n];
                    float[] expected = new float[n];
                    for (int i = 0; i < n; i++) {
                        // Runs (RLE) and noise (bit-packed groups), all inside the dictionary.
                        ids[i] = (i / 13) % 2 == 0 ? (i / 26) % size : random.nextInt(size);
                        expected[i] = dictionary[ids[i]];
                    }
                    byte[] page = dictionaryPage(width, ids);
                    for (ByteBuffer in : List.of(ByteBuffer.wrap(page), direct(page))) {
                        float[] out = new float[n + 1];
                        out[n] = 42f;
                        ParquetColumn.lookUp(in, dictionary, out, n);
                        assertArrayEquals(expected, Arrays.copyOf(out, n), "width " + width + ", " + size + " values, "
                                + n + " ids, " + (in.hasArray() ? "heap" : "direct"));
                        assertEquals(42f, out[n]);
                    }
                }
            }
        }
        // A dictionary of one value: no bits per id, nothing stored after the width.
        float[] out = new float[3];
        ParquetColumn.lookUp(ByteBuffer.wrap(new byte[] {0}), new float[] {2.5f}, out, 3);
        assertArrayEquals(new float[] {2.5f, 2.5f, 2.5f}, out);
        // An id past the dictionary's end is refused, in a bit-packed group and in a run, bytes or unpacked.
        int[] noise = new int[40];
        for (int i = 0; i < noise.length; i++) {
            noise[i] = i * 37 % 150;
        }
        noise[17] = 200;
        int[] run = new int[40];
        Arrays.fill(run, 200);
        for (int[] ids : List.of(noise, run)) {
            for (int width : new int[] {8, 9}) {
                for (ByteBuffer in : List.of(ByteBuffer.wrap(dictionaryPage(width, ids)), direct(dictionaryPage(width,
                        ids)))) {
                    IOException e = assertThrows(IOException.class,
                            () -> ParquetColumn.lookUp(in, new float[150], new float[40], 40));
                    assertEquals("dictionary id 200 outside the dictionary's 150", e.getMessage());
                }
            }
        }
        // Ids that end before the values do.
        byte[] cut = Arrays.copyOf(dictionaryPage(8, noise), 10);
        assertThrows(IOException.class, () -> ParquetColumn.lookUp(ByteBuffer.wrap(cut), new float[256],
                new float[40], 40));
    }

    /** A dictionary-encoded page's values: the ids' bit width, then the ids in the hybrid encoding. */
    private static byte[] dictionaryPage(int width, int[] ids) throws IOException {
        RunLengthBitPackingHybridEncoder encoder = new RunLengthBitPackingHybridEncoder(width, 64, 1 << 16,
                new HeapByteBufferAllocator());
        for (int id : ids) {
            encoder.writeInt(id);
        }
        byte[] encoded = encoder.toBytes().toByteArray();
        byte[] page = new byte[encoded.length + 1];
        page[0] = (byte) width;
        System.arraycopy(encoded, 0, page, 1, encoded.length);
        return page;
    }

    private static ByteBuffer direct(byte[] bytes) {
        ByteBuffer in = ByteBuffer.allocateDirect(bytes.length);
        in.put(bytes).flip();
        return in;
    }

    @Test
    void featuresOfOneAndOf256ValuesReadFromTheirDictionariesAsSparkReadsThem() throws IOException {
        // 8-bit pixels (k / 255), as Fashion-MNIST's: 256 dictionary values, ids of 8 bits read as bytes; and
        // features of a single value: ids of no bits.
        MessageType type = MessageTypeParser.parseMessageType(REQUIRED_ELEMENTS);
        for (int levels : new int[] {256, 1}) {
            String path = dir.resolve("pixels" + levels + ".parquet").toString();
            Random random = new Random(levels);
            SimpleGroupFactory groups = new SimpleGroupFactory(type);
            try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new org.apache.hadoop.fs.Path(path))
                    .withType(type).withConf(new Configuration()).withCompressionCodec(CompressionCodecName.ZSTD)
                    .withDictionaryEncoding(true).withPageSize(4096).withDictionaryPageSize(64 * 1024)
                    .withRowGroupSize(64 * 1024).build()) {
                for (int r = 0; r < 300; r++) {
                    Group g = groups.newGroup().append("id", (long) r);
                    Group list = g.addGroup("features");
                    for (int k = 0; k < 784; k++) {
                        // Background runs of zeros between bright noise, as an image's rows.
                        int level = levels == 1 || k % 28 < 6 ? 0 : random.nextInt(levels);
                        list.addGroup("list").append("element", level / 255f);
                    }
                    g.append("label", r % 10);
                    w.write(g);
                }
            }
            var footer = org.apache.parquet.hadoop.ParquetFileReader.readFooter(new Configuration(),
                    new org.apache.hadoop.fs.Path(path));
            for (var block : footer.getBlocks()) {
                var chunk = block.getColumns().get(1);
                assertTrue(chunk.hasDictionaryPage() && !chunk.getEncodings().contains(
                        org.apache.parquet.column.Encoding.PLAIN), "no fallback to plain: " + chunk.getEncodings());
            }
            Dataset<Row> df = spark.read().parquet(path).select("id", "features", "label");
            assertTrue(readByPare(df));
            List<String> expected = rows(df, "spark");
            assertEquals(300, expected.size());
            assertEquals(expected, rows(df, "pare"), levels + " values");
        }
    }

    @Test
    void decodingAloneCountsTheFloatsAndSeesTheLastOfEachBatch() throws IOException {
        String path = write("decode.parquet", REQUIRED_ELEMENTS, 30, 0, true, WriterVersion.PARQUET_2_0,
                CompressionCodecName.SNAPPY, true, false);
        try (org.apache.parquet.hadoop.ParquetFileReader reader = org.apache.parquet.hadoop.ParquetFileReader.open(
                org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(path),
                        new Configuration()))) {
            assertEquals(1, reader.getRowGroups().size(), "one row group: batches of 7 run through the file");
        }
        // Spark's rows in file order (one small file, one task), batched by 7 as the decoder batches them.
        List<Row> rows = spark.read().parquet(path).select("features").collectAsList();
        long floats = 0;
        long expected = 0;
        int inBatch = 0;
        long sinceBatch = 0;
        float last = 0;
        for (int r = 0; r < rows.size(); r++) {
            List<Float> f = rows.get(r).getList(0);
            floats += f.size();
            sinceBatch += f.size();
            if (!f.isEmpty()) {
                last = f.get(f.size() - 1);
            }
            if (++inBatch == 7 || r == rows.size() - 1) {
                inBatch = 0;
                expected += sinceBatch > 0 ? sinceBatch + Float.floatToRawIntBits(last) : 0;
                sinceBatch = 0;
            }
        }
        long[] checksum = new long[1];
        assertEquals(floats, ParquetExampleScan.decodeFloatLists(new Configuration(),
                new org.apache.hadoop.fs.Path(path), "features", 7, checksum));
        assertEquals(expected, checksum[0]);
        IOException e = assertThrows(IOException.class, () -> ParquetExampleScan.decodeFloatLists(new Configuration(),
                new org.apache.hadoop.fs.Path(path), "pixels", 7, checksum));
        assertTrue(e.getMessage().contains("'pixels'"), e.getMessage());
    }

    @Test
    void theSettingsValuesAreReadIgnoringCase() {
        assertTrue(ParquetExampleScan.enabled(null));
        assertTrue(ParquetExampleScan.enabled(" Pare "));
        assertFalse(ParquetExampleScan.enabled("SPARK"));
        assertThrows(BadInputException.class, () -> ParquetExampleScan.enabled(""));
    }
}
