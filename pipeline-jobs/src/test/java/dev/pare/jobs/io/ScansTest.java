package dev.pare.jobs.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.config.ConfigLoader;
import dev.pare.common.config.PareConfig;
import dev.pare.common.evaluation.ClassificationMetrics;
import dev.pare.common.model.ForwardPass;
import dev.pare.common.model.Networks;
import dev.pare.jobs.cli.PareCli;
import dev.pare.jobs.spark.EvaluateJob;
import dev.pare.jobs.spark.ScoreJob;
import dev.pare.jobs.support.LocalSpark;
import dev.pare.jobs.support.ParquetFooters;
import dev.pare.jobs.support.SharedLocalSpark;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.execution.FileSourceScanExec;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import scala.collection.JavaConverters;

/**
 * {@link Scans}: a table of three files of 6,000 rows, each in row groups of about 250 rows, read
 * in {@code local[2]} (2 slots). Spark's own splits read each file whole (2 or 3 tasks on 2 slots);
 * planned for compute, the scan has at least 2 tasks per slot, none much over a quarter of the rows.
 */
class ScansTest extends SharedLocalSpark {
    private static final int FILES = 3;
    private static final int ROWS_PER_FILE = 6_000;
    private static final int WIDTH = 64;
    private static final String MIN_PARTITIONS = "spark.sql.files.minPartitionNum";
    private static final String OPEN_COST = "spark.sql.files.openCostInBytes";
    private static final String BATCH_ROWS = "spark.sql.parquet.columnarReaderBatchSize";

    @TempDir
    static Path dir;
    private static Path table;

    @BeforeAll
    static void setUp() {
        StructType schema = LocalSpark.EXAMPLES;
        List<Integer> files = List.of(0, 1, 2);
        JavaRDD<Row> rows = JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(files, FILES)
                .flatMap(f -> {
                    Random random = new Random(f);
                    List<Row> out = new ArrayList<>();
                    for (int r = 0; r < ROWS_PER_FILE; r++) {
                        Float[] x = new Float[WIDTH];
                        for (int k = 0; k < WIDTH; k++) {
                            x[k] = random.nextFloat();
                        }
                        out.add(RowFactory.create((long) f * ROWS_PER_FILE + r, x, r % 10));
                    }
                    return out.iterator();
                });
        table = dir.resolve("table.parquet");
        spark.createDataFrame(rows, schema).write().mode(SaveMode.Overwrite)
                .option("parquet.block.size", 64 * 1024).parquet(table.toString());
    }

    @AfterEach
    void clearSettings() {
        spark.conf().unset(Scans.SETTING);
        spark.conf().unset(OPEN_COST);
        spark.conf().unset(BATCH_ROWS);
    }

    /** The file scan at the leaf of {@code plan}. */
    private static FileSourceScanExec scan(SparkPlan plan) {
        List<SparkPlan> leaves = JavaConverters.seqAsJavaList(plan.collectLeaves());
        assertEquals(1, leaves.size(), plan.toString());
        return (FileSourceScanExec) leaves.get(0);
    }

    /** Rows per partition of the scan as {@link Scans#planned} plans it. */
    private static List<Long> rowsPerPartition() {
        Dataset<Row> df = spark.read().parquet(table.toString());
        JavaRDD<InternalRow> rdd = Scans.planned(spark, WIDTH, () -> df.queryExecution().toRdd().toJavaRDD());
        return rdd.mapPartitions(it -> {
            long n = 0;
            while (it.hasNext()) {
                it.next();
                n++;
            }
            return List.of(n).iterator();
        }).collect();
    }

    @Test
    void theTableHasSeveralRowGroupsPerFile() throws IOException {
        for (Path f : parquetFiles(table)) {
            assertTrue(ParquetFooters.rowGroups(f).size() >= 8, f + ": " + ParquetFooters.rowGroups(f).size() + " row groups");
        }
    }

    @Test
    void sparksOwnSplitsReadEachFileWhole() {
        spark.conf().set(Scans.SETTING, "0");
        List<Long> rows = rowsPerPartition();
        // Whole files, small ones packed together ([12000, 6000] here): never more tasks than files.
        assertEquals(FILES * ROWS_PER_FILE, rows.stream().mapToLong(Long::longValue).sum());
        assertTrue(rows.size() <= FILES && rows.stream().allMatch(n -> n % ROWS_PER_FILE == 0), "rows " + rows);
    }

    @Test
    void plannedScanHasTwoTasksPerSlotOfAboutEqualRows() {
        List<Long> rows = rowsPerPartition();
        assertEquals(FILES * ROWS_PER_FILE, rows.stream().mapToLong(Long::longValue).sum());
        long nonEmpty = rows.stream().filter(n -> n > 0).count();
        assertTrue(nonEmpty >= 2L * Scans.DEFAULT_TASKS_PER_SLOT, "rows per partition " + rows);
        // A quarter of 18,000 rows is 4,500; a split may take one row group (~250 rows) more.
        assertTrue(rows.stream().allMatch(n -> n <= 4_500 + 400), "rows per partition " + rows);
    }

    @Test
    void theSessionsOwnSettingsAreRestored() {
        spark.conf().set(OPEN_COST, "8388608");
        rowsPerPartition();
        assertEquals("8388608", spark.conf().get(OPEN_COST));
        assertFalse(spark.conf().contains(MIN_PARTITIONS));
    }

    @Test
    void plannedScansReadTheFeaturesInColumnBatchesOfBoundedBytes() {
        // Rows of 41,943 floats: 16 MiB hold 100 of them, fewer than a row group (~250 rows of this table).
        long wide = Scans.COLUMN_BATCH_BYTES / Float.BYTES / 100;
        Dataset<Row> df = spark.read().parquet(table.toString());
        List<Integer> batchRows = Scans.planned(spark, wide, () -> {
            FileSourceScanExec s = scan(df.queryExecution().executedPlan());
            assertTrue(s.supportsColumnar());
            return s.executeColumnar().toJavaRDD().map(ColumnarBatch::numRows).collect();
        });
        assertEquals(FILES * ROWS_PER_FILE, batchRows.stream().mapToInt(Integer::intValue).sum());
        assertEquals(100, batchRows.stream().mapToInt(Integer::intValue).max().orElseThrow(), "rows per batch");
        assertFalse(spark.conf().contains(BATCH_ROWS));
        // The same rows either way: the vectorized read of the table against Spark's row-by-row read.
        Dataset<Row> sums = spark.read().parquet(table.toString())
                .selectExpr(ExampleTable.ID, "aggregate(" + ExampleTable.FEATURES + ", 0D, (a, x) -> a + x) as s");
        List<InternalRow> planned = Scans.planned(spark, WIDTH, () -> df.queryExecution().toRdd().toJavaRDD())
                .map(r -> {
                    float[] x = r.getArray(1).toFloatArray();
                    double sum = 0;
                    for (float v : x) {
                        sum += v;
                    }
                    return (InternalRow) new GenericInternalRow(new Object[] {r.getLong(0), sum, x.length});
                }).collect();
        Map<Long, Double> expected = new HashMap<>();
        sums.collectAsList().forEach(r -> expected.put(r.getLong(0), r.getDouble(1)));
        assertEquals(FILES * ROWS_PER_FILE, planned.size());
        for (InternalRow r : planned) {
            assertEquals(WIDTH, r.getInt(2));
            assertEquals(expected.get(r.getLong(0)), r.getDouble(1), 0.0, "row " + r.getLong(0));
        }
    }

    @Test
    void aSessionsSmallerColumnBatchIsKeptAndRestored() {
        spark.conf().set(BATCH_ROWS, "60");
        Dataset<Row> df = spark.read().parquet(table.toString());
        List<Integer> batchRows = Scans.planned(spark, WIDTH,
                () -> scan(df.queryExecution().executedPlan()).executeColumnar().toJavaRDD().map(ColumnarBatch::numRows)
                        .collect());
        assertEquals(60, batchRows.stream().mapToInt(Integer::intValue).max().orElseThrow(), "rows per batch");
        assertEquals("60", spark.conf().get(BATCH_ROWS));
    }

    @Test
    void columnBatchesHoldSixteenMebibytesOfFeatures() {
        assertEquals(4096, Scans.columnBatchRows(784, 4096), "Fashion-MNIST: Spark's own 4096 rows (12.8 MB)");
        assertEquals(1000, Scans.columnBatchRows(784, 1000), "the session's smaller batch");
        assertEquals(27, Scans.columnBatchRows(3 * 224 * 224, 4096), "16 MiB / (4 B x 150,528)");
        assertEquals(1, Scans.columnBatchRows(1L << 30, 4096), "at least one row");
    }

    /** Logits by id of score-data over the table, read as the stages read it, with {@code tasksPerSlot}. */
    private static Map<Long, float[]> scoreLogits(String tasksPerSlot, byte[] teacher) {
        spark.conf().set(Scans.SETTING, tasksPerSlot);
        PareConfig cfg = ConfigLoader.load(null, List.of());
        Dataset<Row> examples = ExampleTable.read(spark, new dev.pare.jobs.io.Files(new Configuration()),
                table.toString(), "data.train", cfg.data());
        var broadcast = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(teacher);
        Dataset<Row> scores = ScoreJob.scores(spark, examples, broadcast, WIDTH, 10, 100);
        Map<Long, float[]> logits = new HashMap<>();
        for (Row r : scores.select("id", ScoreJob.LOGITS).collectAsList()) {
            List<Float> z = r.getList(1);
            float[] v = new float[z.size()];
            for (int k = 0; k < v.length; k++) {
                v[k] = z.get(k);
            }
            logits.put(r.getLong(0), v);
        }
        broadcast.destroy();
        return logits;
    }

    @Test
    void scoresAreBitIdenticalWhateverTheScanSplits() {
        byte[] teacher = Networks.toBytes(denseNet(5), false);
        // Spark's splits (whole files: 2-3 tasks), then 2 and 5 per slot: batches cut per task would differ.
        Map<Long, float[]> reference = scoreLogits("0", teacher);
        assertEquals(FILES * ROWS_PER_FILE, reference.size());
        for (String perSlot : List.of("1", "5")) {
            Map<Long, float[]> other = scoreLogits(perSlot, teacher);
            assertEquals(reference.size(), other.size());
            int differing = 0;
            for (Map.Entry<Long, float[]> e : reference.entrySet()) {
                if (!java.util.Arrays.equals(e.getValue(), other.get(e.getKey()))) {
                    differing++;
                }
            }
            assertEquals(0, differing, "rows whose logits differ with " + perSlot + " scan tasks per slot");
        }
    }

    @Test
    void evaluationMetricsAreBitIdenticalWhateverTheScanSplits() {
        MultiLayerNetwork model = denseNet(5);
        MultiLayerNetwork teacher = denseNet(6);
        ClassificationMetrics reference = evaluate("0", model, teacher);
        assertEquals(FILES * ROWS_PER_FILE, reference.count());
        for (String perSlot : List.of("1", "5")) {
            ClassificationMetrics other = evaluate(perSlot, model, teacher);
            assertEquals(Double.doubleToLongBits(reference.meanLoss()), Double.doubleToLongBits(other.meanLoss()),
                    "mean loss with " + perSlot + " scan tasks per slot");
            assertEquals(reference.accuracy(), other.accuracy());
            assertEquals(reference.agreement(), other.agreement());
            assertArrayEquals(reference.perClassCount(), other.perClassCount());
            assertArrayEquals(reference.perClassAccuracy(), other.perClassAccuracy());
        }
        // A second route: the same metrics from one pass over the whole table on the driver, in id order.
        List<Row> rows = spark.read().parquet(table.toString()).orderBy("id").collectAsList();
        float[] x = new float[rows.size() * WIDTH];
        int[] labels = new int[rows.size()];
        for (int r = 0; r < rows.size(); r++) {
            List<Float> f = rows.get(r).getList(1);
            for (int k = 0; k < WIDTH; k++) {
                x[r * WIDTH + k] = f.get(k);
            }
            labels[r] = rows.get(r).getInt(2);
        }
        INDArray features = org.nd4j.linalg.factory.Nd4j.create(x, new long[] {rows.size(), WIDTH}, 'c');
        float[] logits = ForwardPass.logitsRowMajor(model, features);
        float[] teacherLogits = ForwardPass.logitsRowMajor(teacher, features);
        int correct = 0;
        int agree = 0;
        double loss = 0;
        for (int r = 0; r < labels.length; r++) {
            int pred = ClassificationMetrics.argmax(logits, r * 10, 10);
            correct += pred == labels[r] ? 1 : 0;
            agree += pred == ClassificationMetrics.argmax(teacherLogits, r * 10, 10) ? 1 : 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < 10; c++) {
                max = Math.max(max, logits[r * 10 + c]);
            }
            double sum = 0;
            for (int c = 0; c < 10; c++) {
                sum += Math.exp(logits[r * 10 + c] - max);
            }
            loss += max + Math.log(sum) - logits[r * 10 + labels[r]];
        }
        assertEquals((double) correct / labels.length, reference.accuracy(), 1e-12);
        assertEquals((double) agree / labels.length, reference.agreement(), 1e-12);
        assertEquals(loss / labels.length, reference.meanLoss(), 1e-5 * reference.meanLoss());
        assertTrue(reference.agreement() < 1, "two different networks disagree somewhere");
        // The teacher against itself (one pass per batch, its predictions the reference): full agreement, and
        // its accuracy as the second route computes it.
        ClassificationMetrics self = evaluate("0", teacher, teacher);
        assertEquals(1.0, self.agreement(), 0.0);
        int teacherCorrect = 0;
        for (int r = 0; r < labels.length; r++) {
            teacherCorrect += ClassificationMetrics.argmax(teacherLogits, r * 10, 10) == labels[r] ? 1 : 0;
        }
        assertEquals((double) teacherCorrect / labels.length, self.accuracy(), 1e-12);

        // Models evaluated together (the evaluate stage's job: three per pass besides the teacher, so four
        // models take two passes): each one's metrics as its own pass gave them.
        spark.conf().set(Scans.SETTING, "1");
        MultiLayerNetwork third = denseNet(7);
        MultiLayerNetwork fourth = denseNet(8);
        EvaluateJob.Evaluation evaluation = EvaluateJob.run(spark, ExampleTable.read(spark,
                new dev.pare.jobs.io.Files(new Configuration()), table.toString(), "data.test",
                ConfigLoader.load(null, List.of()).data()), List.of(Networks.toBytes(teacher, false),
                Networks.toBytes(model, false), Networks.toBytes(third, false), Networks.toBytes(fourth, false)),
                Networks.toBytes(teacher, false), WIDTH, 10, 100, 37);
        List<ClassificationMetrics> together = evaluation.metrics();
        // The pass's latency batch: the 37 rows of smallest id, as Spark's orderBy(id).limit(37) gives them.
        float[] expected = new float[37 * WIDTH];
        long[] expectedIds = new long[37];
        for (int r = 0; r < 37; r++) {
            expectedIds[r] = rows.get(r).getLong(0);
            System.arraycopy(x, r * WIDTH, expected, r * WIDTH, WIDTH);
        }
        assertArrayEquals(expectedIds, evaluation.firstIds());
        assertArrayEquals(expected, evaluation.firstFeatures());
        List<ClassificationMetrics> apart = List.of(self, reference, evaluate("0", third, teacher),
                evaluate("0", fourth, teacher));
        assertEquals(4, together.size());
        for (int i = 0; i < 4; i++) {
            String which = "model " + i + " evaluated with the others";
            assertEquals(Double.doubleToLongBits(apart.get(i).meanLoss()),
                    Double.doubleToLongBits(together.get(i).meanLoss()), which);
            assertEquals(apart.get(i).accuracy(), together.get(i).accuracy(), which);
            assertEquals(apart.get(i).agreement(), together.get(i).agreement(), which);
            assertArrayEquals(apart.get(i).perClassCount(), together.get(i).perClassCount(), which);
            assertArrayEquals(apart.get(i).perClassAccuracy(), together.get(i).perClassAccuracy(), which);
        }
        assertTrue(together.get(1).agreement() != together.get(2).agreement()
                || together.get(1).meanLoss() != together.get(2).meanLoss(), "the models differ");
    }

    private static MultiLayerNetwork denseNet(long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(seed)
                .dataType(org.nd4j.linalg.api.buffer.DataType.FLOAT).list()
                .layer(new DenseLayer.Builder().nIn(WIDTH).nOut(96).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(96).nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return net;
    }

    /** The evaluate stage's metrics of {@code model} over the table as the stages read it, with {@code tasksPerSlot}. */
    private static ClassificationMetrics evaluate(String tasksPerSlot, MultiLayerNetwork model,
                                                  MultiLayerNetwork teacher) {
        spark.conf().set(Scans.SETTING, tasksPerSlot);
        PareConfig cfg = ConfigLoader.load(null, List.of());
        Dataset<Row> examples = ExampleTable.read(spark, new dev.pare.jobs.io.Files(new Configuration()),
                table.toString(), "data.test", cfg.data());
        return EvaluateJob.run(spark, examples, Networks.toBytes(model, false), Networks.toBytes(teacher, false),
                WIDTH, 10, 100);
    }

    @Test
    void filesLaidEndToEndAreCutIntoPiecesOfEqualBytes() {
        // 27 bytes in 4 pieces: bounds 0, 6, 13, 20, 27 (floor(j * 27 / 4)).
        assertEquals(List.of(
                List.of(new Scans.Range(0, 0, 6)),
                List.of(new Scans.Range(0, 6, 3), new Scans.Range(1, 0, 4)),
                List.of(new Scans.Range(1, 4, 5), new Scans.Range(2, 0, 2)),
                List.of(new Scans.Range(2, 2, 7))), Scans.cut(new long[] {9, 9, 9}, 4));
        // An empty file is in no piece; a piece may span several files.
        assertEquals(List.of(List.of(new Scans.Range(0, 0, 5)), List.of(new Scans.Range(2, 0, 5))),
                Scans.cut(new long[] {5, 0, 5}, 2));
        assertEquals(List.of(List.of(new Scans.Range(0, 0, 2), new Scans.Range(1, 0, 1), new Scans.Range(2, 0, 3))),
                Scans.cut(new long[] {2, 1, 3}, 1));
        assertEquals(List.of(), Scans.cut(new long[] {0, 0}, 3));
        assertEquals(List.of(), Scans.cut(new long[0], 3));
        // Every byte in exactly one piece, the pieces' sizes at most one byte apart.
        long[] lengths = {9_032_143, 9_035_203, 9_055_449};
        List<List<Scans.Range>> pieces = Scans.cut(lengths, 7);
        long[] covered = new long[lengths.length];
        long smallest = Long.MAX_VALUE;
        long largest = 0;
        for (List<Scans.Range> piece : pieces) {
            long bytes = 0;
            for (Scans.Range r : piece) {
                assertEquals(covered[r.file()], r.start(), "ranges of a file follow each other: " + r);
                covered[r.file()] += r.length();
                bytes += r.length();
            }
            smallest = Math.min(smallest, bytes);
            largest = Math.max(largest, bytes);
        }
        assertArrayEquals(lengths, covered);
        assertTrue(largest - smallest <= 1, smallest + " to " + largest);
    }

    @Test
    void piecesAreTheWantedCountUnlessTooLargeOrMoreThanTheBytes() {
        long mib = 1L << 20;
        assertEquals(4, Scans.pieces(27 * mib, 4, 128 * mib));
        assertEquals(8, Scans.pieces(1000 * mib, 4, 128 * mib), "ceil(1000 / 128) pieces of at most 128 MiB");
        assertEquals(1, Scans.pieces(27 * mib, 0, 128 * mib));
        assertEquals(3, Scans.pieces(3, 4, 128 * mib), "no more pieces than bytes");
        assertEquals(1, Scans.pieces(0, 4, 128 * mib));
    }

    /** Rows per partition of the table as the stages read it (Pare's reader), and its rows' ids in order. */
    private static List<long[]> idsPerPartition(String path) {
        Dataset<Row> df = spark.read().parquet(path);
        return dev.pare.jobs.spark.Rows.internal(df, WIDTH).mapPartitions(it -> {
            List<Long> ids = new ArrayList<>();
            while (it.hasNext()) {
                ids.add(it.next().getLong(0));
            }
            return List.of(ids.stream().mapToLong(Long::longValue).toArray()).iterator();
        }).collect();
    }

    @Test
    void pareReadsTheTableInTwoPiecesPerSlotOfAboutEqualRowsEachRowOnce() throws IOException {
        List<long[]> parts = idsPerPartition(table.toString());
        assertEquals(2 * Scans.DEFAULT_TASKS_PER_SLOT, parts.size(), "two slots");
        long largestGroup = 0;
        for (Path f : parquetFiles(table)) {
            for (BlockMetaData b : ParquetFooters.rowGroups(f)) {
                largestGroup = Math.max(largestGroup, b.getRowCount());
            }
        }
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (long[] ids : parts) {
            // A quarter of the 18,000 rows, give or take the row group a cut falls in.
            assertTrue(Math.abs(ids.length - 4_500) <= largestGroup, ids.length + " rows, groups of " + largestGroup);
            for (long id : ids) {
                assertTrue(seen.add(id), "id " + id + " read twice");
            }
        }
        assertEquals(FILES * ROWS_PER_FILE, seen.size());
    }

    @Test
    void filesOfUnequalSizesMakePiecesOfAboutEqualRows() throws IOException {
        // Files of 12,000, 3,000 and 3,000 rows: Spark's splits of a quarter of the bytes give the large file's
        // three pieces and the small files whole or in two; the cut gives 4 pieces of about 4,500 rows.
        Path uneven = dir.resolve("uneven.parquet");
        Dataset<Row> all = spark.read().parquet(table.toString());
        all.where("id < 12000").coalesce(1).write().option("parquet.block.size", 64 * 1024).parquet(
                uneven.resolve("a").toString());
        all.where("id >= 12000 and id < 15000").coalesce(1).write().option("parquet.block.size", 64 * 1024)
                .parquet(uneven.resolve("b").toString());
        all.where("id >= 15000").coalesce(1).write().option("parquet.block.size", 64 * 1024).parquet(
                uneven.resolve("c").toString());
        Path flat = dir.resolve("uneven-flat");
        Files.createDirectories(flat);
        for (String part : List.of("a", "b", "c")) {
            for (Path f : parquetFiles(uneven.resolve(part))) {
                Files.copy(f, flat.resolve(part + "-" + f.getFileName()));
            }
        }
        List<long[]> parts = idsPerPartition(flat.toString());
        assertEquals(4, parts.size());
        long[] sizes = parts.stream().mapToLong(ids -> ids.length).toArray();
        assertEquals(FILES * ROWS_PER_FILE, java.util.Arrays.stream(sizes).sum());
        for (long n : sizes) {
            assertTrue(Math.abs(n - 4_500) <= 400, "rows per piece " + java.util.Arrays.toString(sizes));
        }
    }

    @Test
    void theSettingIsACountOfAtLeastZero() {
        assertEquals(Scans.DEFAULT_TASKS_PER_SLOT, Scans.tasksPerSlot(null));
        assertEquals(0, Scans.tasksPerSlot("0"));
        assertEquals(5, Scans.tasksPerSlot(" 5 "));
        for (String bad : List.of("-1", "two", "1.5", "")) {
            BadInputException e = assertThrows(BadInputException.class, () -> Scans.tasksPerSlot(bad));
            assertTrue(e.getMessage().contains(Scans.SETTING) && e.getMessage().contains("'" + bad + "'"),
                    e.getMessage());
        }
    }

    @Test
    void importIdxWritesRowGroupsOfAMebibyte() throws IOException {
        int n = 3_000;
        Random random = new Random(3);
        Path images = dir.resolve("images.idx");
        byte[] pixels = new byte[n * 784];
        random.nextBytes(pixels);
        try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(images))) {
            o.writeInt(0x00000803);
            o.writeInt(n);
            o.writeInt(28);
            o.writeInt(28);
            o.write(pixels);
        }
        Path labels = dir.resolve("labels.idx");
        try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(labels))) {
            o.writeInt(0x00000801);
            o.writeInt(n);
            for (int i = 0; i < n; i++) {
                o.writeByte(i % 10);
            }
        }
        Path out = dir.resolve("imported.parquet");
        int code = PareCli.commandLine().execute("import-idx", "--images", images.toString(), "--labels",
                labels.toString(), "--output", out.toString(), "--master", "local[2]");
        assertEquals(0, code);
        List<Path> files = parquetFiles(out);
        assertEquals(1, files.size());
        List<BlockMetaData> groups = ParquetFooters.rowGroups(files.get(0));
        assertEquals(n, groups.stream().mapToLong(BlockMetaData::getRowCount).sum());
        // 3,000 rows of 784 floats are ~9.4 MB before compression: a row group per MiB makes several.
        assertTrue(groups.size() >= 4, groups.size() + " row groups");
        for (BlockMetaData g : groups) {
            assertTrue(g.getTotalByteSize() <= 2 * Scans.IMPORT_ROW_GROUP_BYTES, g.getTotalByteSize() + " bytes");
            // Zstandard, and a dictionary for the features (at most 256 pixel values).
            assertEquals("ZSTD", g.getColumns().get(1).getCodec().name());
            assertTrue(g.getColumns().get(1).getDictionaryPageOffset() > 0, g.getColumns().get(1).toString());
        }
        // Every row: id, label, and its pixels over 255, as floats.
        List<Row> rows = spark.read().parquet(out.toString()).orderBy("id").collectAsList();
        assertEquals(n, rows.size());
        for (int i = 0; i < n; i++) {
            Row row = rows.get(i);
            assertEquals(i, row.getLong(row.fieldIndex("id")));
            assertEquals(i % 10, row.getInt(row.fieldIndex("label")));
            List<Float> features = row.getList(row.fieldIndex("features"));
            assertEquals(784, features.size());
            for (int j = 0; j < 784; j += 97) {
                assertEquals((pixels[i * 784 + j] & 0xff) / 255f, features.get(j), "row " + i + ", pixel " + j);
            }
        }
        // Again over the existing folder (what fetch-full.sh does to an older layout).
        assertEquals(0, PareCli.commandLine().execute("import-idx", "--images", images.toString(), "--labels",
                labels.toString(), "--output", out.toString(), "--master", "local[2]", "--force"));
        assertEquals(n, ParquetFooters.rowGroups(parquetFiles(out).get(0)).stream().mapToLong(BlockMetaData::getRowCount).sum());
    }

    private static List<Path> parquetFiles(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".parquet")).sorted().toList();
        }
    }
}
