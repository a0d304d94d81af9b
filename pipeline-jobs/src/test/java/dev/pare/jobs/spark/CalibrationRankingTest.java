package dev.pare.jobs.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.xxhash64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.jobs.io.BadInputException;
import dev.pare.jobs.io.ColumnarScan;
import dev.pare.jobs.io.DriverIds;
import dev.pare.jobs.io.ExampleChecks;
import dev.pare.jobs.io.ExampleTable;
import dev.pare.jobs.io.ParquetExampleScan;
import dev.pare.jobs.support.JobCount;
import dev.pare.jobs.support.LocalSpark;
import dev.pare.jobs.support.SharedLocalSpark;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Calibrate's ranking of the sample's keys ({@link CalibrationJob#rank}) read on the driver gives the keys
 * of the Spark job and of Spark SQL's {@code orderBy(xxhash64(id, seed), id)}, with no job, and counts the
 * ids as {@code count(DISTINCT id)} does.
 */
class CalibrationRankingTest extends SharedLocalSpark {
    private static final int WIDTH = 3;
    private static final int CLASSES = 4;
    private static final long SEED = 21L;
    @TempDir
    static Path dir;

    @AfterEach
    void clearSettings() {
        spark.conf().unset(ParquetExampleScan.SETTING);
    }

    private static Row row(long id) {
        return RowFactory.create(id, new Float[] {id / 4f, 1f, -2f}, (int) (id % CLASSES));
    }

    /** {@code ids} in a shuffled order, written as {@code files} files and read back as a file scan. */
    private static Dataset<Row> table(String name, List<Long> ids, int files) {
        List<Row> rows = new ArrayList<>();
        ids.forEach(id -> rows.add(row(id)));
        Collections.shuffle(rows, new Random(name.hashCode()));
        String path = dir.resolve(name).toString();
        spark.createDataFrame(rows, LocalSpark.EXAMPLES).repartition(files).write().mode("overwrite").parquet(path);
        return spark.read().parquet(path);
    }

    private static List<Long> range(long from, long to) {
        List<Long> ids = new ArrayList<>();
        for (long id = from; id < to; id++) {
            ids.add(id);
        }
        return ids;
    }

    /** The {@code samples} ids of smallest (xxhash64(id, seed), id), by Spark SQL. */
    private static List<Long> bySql(Dataset<Row> table, int samples, long seed) {
        return table.withColumn("k", xxhash64(col("id"), lit(seed))).orderBy("k", "id").limit(samples)
                .select("id").as(Encoders.LONG()).collectAsList();
    }

    private static List<Long> ids(CalibrationJob.RankKey[] keys) {
        List<Long> ids = new ArrayList<>();
        for (CalibrationJob.RankKey k : keys) {
            ids.add(k.id());
        }
        return ids;
    }

    @Test
    void theDriverRanksAsTheJobAndSparkSqlDoWithNoJob() {
        Dataset<Row> table = table("unique", range(1000, 1500), 3);
        try (ColumnarScan.DriverRows rows = ColumnarScan.onDriver(table.select("id"), 1).orElseThrow()) {
            assertEquals(3, rows.files());
        }
        for (int samples : new int[] {1, 37, 499, 500, 640}) {
            JobCount<CalibrationJob.Ranking> driver = JobCount.of(spark, () -> CalibrationJob.rank(table, samples, SEED, true,
                    DriverIds.MAX_IDS, DriverIds.MAX_FILES));
            assertEquals(0, driver.jobs(), "no Spark job for " + samples + " samples");
            JobCount<CalibrationJob.Ranking> job = JobCount.of(spark, () -> CalibrationJob.rank(table, samples, SEED, true,
                    0, DriverIds.MAX_FILES));
            assertEquals(1, job.jobs(), "past the bound on rows, the ranking is a job");
            assertArrayEquals(job.value().smallest(), driver.value().smallest(), samples + " samples");
            assertEquals(Math.min(samples, 500), driver.value().smallest().length);
            assertEquals(bySql(table, samples, SEED), ids(driver.value().smallest()), samples + " samples");
            assertEquals(new ExampleChecks.CountedIds(500, 500, 0, 0), driver.value().ids());
            assertNull(job.value().ids(), "the job does not count the ids");
        }
        assertNull(CalibrationJob.rank(table, 10, SEED, false, 500, 3).ids(), "ids counted only when asked");
    }

    @Test
    void theDriverReadsUpToItsBoundsOfRowsAndFiles() {
        Dataset<Row> table = table("bounds", range(0, 200), 3);
        CalibrationJob.RankKey[] expected = CalibrationJob.rank(table, 50, SEED, false, 0, 64).smallest();
        JobCount<CalibrationJob.Ranking> all = JobCount.of(spark, () -> CalibrationJob.rank(table, 50, SEED, true, 200, 3));
        assertEquals(0, all.jobs(), "200 rows and 3 files are within bounds of 200 rows and 3 files");
        assertArrayEquals(expected, all.value().smallest());
        JobCount<CalibrationJob.Ranking> rows = JobCount.of(spark, () -> CalibrationJob.rank(table, 50, SEED, true, 199, 3));
        assertEquals(1, rows.jobs(), "one row too many");
        assertArrayEquals(expected, rows.value().smallest());
        JobCount<CalibrationJob.Ranking> files = JobCount.of(spark, () -> CalibrationJob.rank(table, 50, SEED, true, 200, 2));
        assertEquals(1, files.jobs(), "one file too many");
        assertArrayEquals(expected, files.value().smallest());
        // Scans Pare's reader does not read are ranked by the job.
        spark.conf().set(ParquetExampleScan.SETTING, "spark");
        JobCount<CalibrationJob.Ranking> sparks = JobCount.of(spark, () -> CalibrationJob.rank(table, 50, SEED, true,
                DriverIds.MAX_IDS, DriverIds.MAX_FILES));
        assertEquals(1, sparks.jobs(), "Spark's reader");
        assertArrayEquals(expected, sparks.value().smallest());
    }

    @Test
    void rowsPastTheBoundAreCountedFromTheFootersBeforeAnyIdIsRead() throws Exception {
        // One file of several row groups (Parquet checks their size every 100 rows at the least), split in
        // several partitions: each split counts its row groups.
        String path = dir.resolve("groups").toString();
        List<Row> rows = new ArrayList<>();
        range(0, 1000).forEach(id -> rows.add(row(id)));
        spark.createDataFrame(rows, LocalSpark.EXAMPLES).coalesce(1).write().mode("overwrite")
                .option("parquet.block.size", 512).option("parquet.page.size", 256).parquet(path);
        Path file;
        try (var listing = Files.list(dir.resolve("groups"))) {
            file = listing.filter(f -> f.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
        }
        try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(
                new org.apache.hadoop.fs.Path(file.toUri()), new Configuration()))) {
            assertTrue(r.getRowGroups().size() > 2, "several row groups: " + r.getRowGroups().size());
        }
        spark.conf().set("spark.sql.files.maxPartitionBytes", "600");
        spark.conf().set("spark.sql.files.openCostInBytes", "0");
        try {
            Dataset<Row> table = spark.read().parquet(path);
            try (ColumnarScan.DriverRows scan = ColumnarScan.onDriver(table.select("id"), 1).orElseThrow()) {
                assertTrue(table.select("id").rdd().getNumPartitions() > 1, "the file is split");
                assertEquals(1, scan.files());
                assertEquals(1000, scan.rows());
            }
            assertEquals(1000, DriverIds.read(table.select("id"), 1000, 1).orElseThrow().length);

            // The pages zeroed, the footer kept: past the bound the ids are never read, within it reading fails.
            byte[] bytes = Files.readAllBytes(file);
            int footer = ByteBuffer.wrap(bytes, bytes.length - 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            Arrays.fill(bytes, 4, bytes.length - 8 - footer, (byte) 0);
            Files.write(file, bytes);
            // Hadoop's checksum of the old bytes, where its checksummed local file system wrote one.
            Files.deleteIfExists(file.resolveSibling("." + file.getFileName() + ".crc"));
            Dataset<Row> zeroed = spark.read().parquet(path);
            assertTrue(DriverIds.read(zeroed.select("id"), 999, 1).isEmpty(), "one row past the bound");
            UncheckedIOException e = assertThrows(UncheckedIOException.class,
                    () -> DriverIds.read(zeroed.select("id"), 1000, 1));
            assertTrue(e.getMessage().contains(file.getFileName().toString()), e.getMessage());
        } finally {
            spark.conf().unset("spark.sql.files.maxPartitionBytes");
            spark.conf().unset("spark.sql.files.openCostInBytes");
        }
    }

    @Test
    void anEmptyTableRanksNothing() {
        Dataset<Row> empty = table("empty", List.of(), 1);
        CalibrationJob.Ranking ranking = CalibrationJob.rank(empty, 5, SEED, true, DriverIds.MAX_IDS,
                DriverIds.MAX_FILES);
        assertEquals(0, ranking.smallest().length);
        assertEquals(new ExampleChecks.CountedIds(0, 0, 0, 0), ranking.ids());
    }

    @Test
    void repeatedIdsAreCountedAsSparkSqlCountsThemWithoutItsJobs() {
        // Ids 0..299 shuffled, with 41 twice and 7 three times: 303 rows, 300 distinct, the first repeated 7.
        List<Long> ids = range(0, 300);
        ids.addAll(List.of(41L, 7L, 7L));
        Dataset<Row> table = table("repeated", ids, 4);
        String uri = dir.resolve("repeated").toString();
        String expected = "data.train (" + uri + "): 3 duplicate id(s) (first: id 7 appears 3 times): ids must be"
                + " unique";
        spark.conf().set(ParquetExampleScan.SETTING, "spark");
        JobCount<String> bySql = JobCount.of(spark, () -> assertThrows(BadInputException.class,
                () -> ExampleTable.validate(table, "data.train", uri, WIDTH, CLASSES)).getMessage());
        assertEquals(expected, bySql.value());
        assertTrue(bySql.jobs() > 1, "Spark's reader: the checks' job, then count(DISTINCT id) in jobs");
        spark.conf().unset(ParquetExampleScan.SETTING);

        // Calibrate's sample pass: the ranking counted the ids it read.
        ExampleChecks checks = CalibrationJob.sample(table, WIDTH, 50, 2, SEED, CLASSES).checks();
        assertEquals(303, checks.rows());
        assertTrue(!checks.idsProvenUnique(), "shuffled ids are not proven unique by their runs");
        assertEquals(new ExampleChecks.CountedIds(303, 300, 7, 3), checks.countedIds());
        JobCount<String> judged = JobCount.of(spark, () -> assertThrows(BadInputException.class,
                () -> ExampleTable.judge(checks, table, "data.train", uri)).getMessage());
        assertEquals(0, judged.jobs(), "the judgement counts no ids in Spark jobs");
        assertEquals(expected, judged.value());
        // A check of its own: its pass, then the ids read on the driver.
        JobCount<String> validated = JobCount.of(spark, () -> assertThrows(BadInputException.class,
                () -> ExampleTable.validate(table, "data.train", uri, WIDTH, CLASSES)).getMessage());
        assertEquals(1, validated.jobs(), "the checks' pass only");
        assertEquals(expected, validated.value());
    }

    @Test
    void countsOfAnotherSizeAreNotUsed() {
        Dataset<Row> unique = table("shuffled", range(0, 300), 4);
        String uri = dir.resolve("shuffled").toString();
        ExampleChecks fine = CalibrationJob.sample(unique, WIDTH, 50, 2, SEED, CLASSES).checks();
        assertEquals(new ExampleChecks.CountedIds(300, 300, 0, 0), fine.countedIds());
        JobCount<ExampleTable.Summary> passed = JobCount.of(spark, () -> ExampleTable.judge(fine, unique, "data.train", uri));
        assertEquals(0, passed.jobs());
        assertEquals(300, passed.value().rows());
        // Counts of 299 ids say nothing of 300 rows: the ids are read again, on the driver or by Spark's jobs.
        fine.countedIds(new ExampleChecks.CountedIds(299, 299, 0, 0));
        JobCount<ExampleTable.Summary> reread = JobCount.of(spark, () -> ExampleTable.judge(fine, unique, "data.train", uri));
        assertEquals(0, reread.jobs());
        assertEquals(300, reread.value().rows());
        spark.conf().set(ParquetExampleScan.SETTING, "spark");
        JobCount<ExampleTable.Summary> recounted = JobCount.of(spark, () -> ExampleTable.judge(fine, unique, "data.train",
                uri));
        assertTrue(recounted.jobs() > 0, "Spark's reader: counted in jobs");
        assertEquals(300, recounted.value().rows());
    }
}
