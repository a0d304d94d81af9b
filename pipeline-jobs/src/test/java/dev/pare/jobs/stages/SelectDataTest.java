package dev.pare.jobs.stages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.config.ConfigLoader;
import dev.pare.common.config.PareConfig;
import dev.pare.common.datapruning.SelectionBudgets;
import dev.pare.jobs.spark.ScoreJob;
import dev.pare.jobs.support.SharedLocalSpark;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every selector on a synthetic score table, against the same choice computed here in plain Java. */
class SelectDataTest extends SharedLocalSpark {
    private static final int N = 240;
    private static Dataset<Row> scores;
    /** Rows as {id, label, el2n, loss, entropy, margin, grand}. */
    private static final List<double[]> ROWS = new ArrayList<>();

    @BeforeAll
    static void setUp() {
        Random random = new Random(5);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            int label = i % 10 < 5 ? 0 : i % 10 < 8 ? 1 : 2; // classes of 120, 72 and 48 rows
            // Scores with ties (rounded to 1/20) so that tie-breaking by id matters.
            double el2n = Math.round(random.nextDouble() * 20) / 20.0;
            double margin = Math.round(random.nextDouble() * 20) / 20.0;
            ROWS.add(new double[] {1000 + i, label, el2n, el2n * 2, el2n / 2, margin, el2n * 3});
            rows.add(RowFactory.create(1000L + i, label, el2n * 2, el2n, el2n / 2, margin, el2n * 3,
                    new Float[] {0f, 0f, 0f}));
        }
        scores = spark.createDataFrame(rows, ScoreJob.SCHEMA).repartition(3);
    }

    private static PareConfig.Selection selection(String... sets) {
        List<String> s = new ArrayList<>();
        for (String x : sets) {
            s.add("selection." + x);
        }
        return ConfigLoader.load(null, s).selection();
    }

    /** The ids the Spark route keeps, checked to be those the driver route keeps ({@link DriverScores}). */
    private static List<Long> run(PareConfig.Selection sel, long seed) {
        return run(scores, sel, seed);
    }

    private static List<Long> run(Dataset<Row> table, PareConfig.Selection sel, long seed) {
        long keep = SelectDataStage.keptCount(table.count(), sel.fraction());
        List<Long> spark = SelectDataStage.select(table, sel, seed, keep).collectAsList().stream()
                .map(r -> r.getLong(0)).sorted().collect(Collectors.toList());
        DriverScores driver = onDriver(table, sel.score().configName());
        boolean[] kept = driver.select(sel, seed, keep);
        List<Long> driverIds = new ArrayList<>();
        for (int i = 0; i < kept.length; i++) {
            if (kept[i]) {
                driverIds.add(driver.ids()[i]);
            }
        }
        driverIds.sort(null);
        assertEquals(spark, driverIds, "the driver route against the Spark route");
        return spark;
    }

    /** The table's ids, labels and {@code column}, collected by Spark. */
    private static DriverScores onDriver(Dataset<Row> table, String column) {
        List<Row> rows = table.select("id", "label", column).collectAsList();
        long[] ids = new long[rows.size()];
        int[] labels = new int[rows.size()];
        double[] values = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            ids[i] = rows.get(i).getLong(0);
            labels[i] = rows.get(i).getInt(1);
            values[i] = rows.get(i).getDouble(2);
        }
        return new DriverScores(column, ids, labels, values);
    }

    /** Hardness of a row for a score column index (5 = margin: smaller is harder). */
    private static double hardness(double[] row, int column) {
        return column == 5 ? -row[column] : row[column];
    }

    private static List<Long> expectedByHardness(List<double[]> rows, int column, long keep, boolean hardest) {
        Comparator<double[]> byHardness = Comparator.comparingDouble(r -> hardness(r, column));
        Comparator<double[]> order = (hardest ? byHardness.reversed() : byHardness)
                .thenComparingDouble(r -> r[0]);
        return rows.stream().sorted(order).limit(keep).map(r -> (long) r[0]).sorted().collect(Collectors.toList());
    }

    @Test
    void hardestAndEasiestKeepExactlyTheTopOfTheScoreTiesById() {
        assertEquals(expectedByHardness(ROWS, 2, 24, true), run(selection("method=hardest", "fraction=0.1"), 0));
        assertEquals(expectedByHardness(ROWS, 2, 24, false), run(selection("method=easiest", "fraction=0.1"), 0));
        // margin: the hardest examples have the smallest margin
        assertEquals(expectedByHardness(ROWS, 5, 72, true),
                run(selection("method=hardest", "score=margin", "fraction=0.3"), 0));
    }

    @Test
    void theReportCountsEachClassAndEachBinOfAllRowsAndOfTheKeptOnes() {
        PareConfig.Selection sel = selection("method=hardest", "fraction=0.25");
        Dataset<Row> kept = SelectDataStage.select(scores, sel, 0, SelectDataStage.keptCount(N, sel.fraction()));
        Set<Long> keptIds = kept.collectAsList().stream().map(r -> r.getLong(0)).collect(Collectors.toSet());
        int bins = 7;
        SelectDataStage.Summary summary = SelectDataStage.summary(scores, kept, ScoreJob.EL2N, bins);

        // The same counts here, from the rows (el2n is column 2 of ROWS).
        double lo = ROWS.stream().mapToDouble(r -> r[2]).min().orElseThrow();
        double hi = ROWS.stream().mapToDouble(r -> r[2]).max().orElseThrow();
        long[][] perClass = new long[3][2];
        long[] all = new long[bins];
        long[] keptPerBin = new long[bins];
        for (double[] r : ROWS) {
            boolean in = keptIds.contains((long) r[0]);
            int bin = SelectionBudgets.stratum(r[2], lo, hi, bins);
            perClass[(int) r[1]][0]++;
            all[bin]++;
            if (in) {
                perClass[(int) r[1]][1]++;
                keptPerBin[bin]++;
            }
        }
        assertEquals(Set.of(0, 1, 2), summary.perClass().keySet());
        for (int c = 0; c < 3; c++) {
            assertArrayEquals(perClass[c], summary.perClass().get(c), "class " + c);
        }
        assertArrayEquals(new long[] {120, 72, 48}, new long[] {perClass[0][0], perClass[1][0], perClass[2][0]});
        assertEquals(60, perClass[0][1] + perClass[1][1] + perClass[2][1]);
        assertEquals(ScoreJob.EL2N, summary.histogram().path("score").asText());
        assertEquals(lo, summary.histogram().path("min").asDouble());
        assertEquals(hi, summary.histogram().path("max").asDouble());
        long[] reportedAll = new long[bins];
        long[] reportedKept = new long[bins];
        for (int i = 0; i < bins; i++) {
            reportedAll[i] = summary.histogram().path("all").get(i).asLong();
            reportedKept[i] = summary.histogram().path("kept").get(i).asLong();
        }
        assertArrayEquals(all, reportedAll);
        assertArrayEquals(keptPerBin, reportedKept);
        assertTrue(keptPerBin[bins - 1] > 0 && keptPerBin[0] == 0, "the hardest quarter sits in the top bins");

        // The driver route's report of the same rows.
        DriverScores driver = onDriver(scores, ScoreJob.EL2N);
        boolean[] keptRows = new boolean[driver.ids().length];
        for (int i = 0; i < keptRows.length; i++) {
            keptRows[i] = keptIds.contains(driver.ids()[i]);
        }
        SelectDataStage.Summary same = driver.summary(keptRows, bins);
        assertEquals(summary.histogram(), same.histogram());
        assertEquals(summary.perClass().keySet(), same.perClass().keySet());
        summary.perClass().forEach((c, n) -> assertArrayEquals(n, same.perClass().get(c), "class " + c));
    }

    @Test
    void bothRoutesKeepTheSameRowsWithManyTiesAndSignedZeros() {
        // Scores from {-1, -0.0, 0.0, 0.5, 1}: ties everywhere, and zeros of both signs (which Spark orders as equal).
        double[] values = {-1, -0.0, 0.0, 0.5, 1};
        Random random = new Random(11);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            int label = random.nextInt(4);
            double[] v = new double[5];
            for (int j = 0; j < 5; j++) {
                v[j] = values[random.nextInt(values.length)];
            }
            rows.add(RowFactory.create(5000L + 7 * i, label, v[0], v[1], v[2], v[3], v[4], new Float[] {0f}));
        }
        Dataset<Row> table = spark.createDataFrame(rows, ScoreJob.SCHEMA).repartition(4);
        for (String method : List.of("random", "hardest", "easiest", "ccs")) {
            for (String balanced : List.of("false", "true")) {
                for (String score : List.of("el2n", "margin")) {
                    run(table, selection("method=" + method, "class-balanced=" + balanced, "score=" + score,
                            "fraction=0.37", "ccs.strata=3", "ccs.drop-hardest=0.2"), 19);
                }
            }
        }
        // ccs without a drop, and a drop of a whole class's share.
        run(table, selection("method=ccs", "fraction=0.5", "ccs.strata=5", "ccs.drop-hardest=0"), 2);
        run(table, selection("method=ccs", "class-balanced=true", "fraction=0.1", "ccs.strata=2",
                "ccs.drop-hardest=0.9"), 2);
    }

    @Test
    void aScoreTableIsReadOnTheDriverAndTheKeptRowsWrittenAsSparkWritesThem(@TempDir java.nio.file.Path tmp)
            throws Exception {
        String table = tmp.resolve("scores.parquet").toString();
        scores.write().parquet(table);
        dev.pare.jobs.io.Files files = new dev.pare.jobs.io.Files(spark.sessionState().newHadoopConf());
        org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(table);
        assertEquals(null, DriverScores.read(files, path, ScoreJob.MARGIN, N - 1), "more rows than allowed");
        DriverScores read = DriverScores.read(files, path, ScoreJob.MARGIN, N);
        DriverScores collected = onDriver(spark.read().parquet(table), ScoreJob.MARGIN);
        assertEquals(rowsOf(collected, 1), rowsOf(read, 1));
        assertEquals(rowsOf(collected, 2), rowsOf(read, 2));
        assertEquals("data/x.parquet has no column 'nope' (selection.score); it was written by an older score-data:"
                        + " rerun score-data with --force",
                org.junit.jupiter.api.Assertions.assertThrows(dev.pare.jobs.io.BadInputException.class,
                        () -> DriverScores.read(files, path, "nope", N)).getMessage()
                        .replace(path.toString(), "data/x.parquet"));

        PareConfig.Selection sel = selection("method=hardest", "score=margin", "class-balanced=true", "fraction=0.2");
        boolean[] kept = read.select(sel, 0, SelectDataStage.keptCount(N, sel.fraction()));
        org.apache.hadoop.fs.Path out = new org.apache.hadoop.fs.Path(tmp.resolve("ids.parquet").toString());
        read.writeKept(files, kept, out, java.util.Map.of("spark.sql.parquet.compression.codec", "zstd"));
        Dataset<Row> back = spark.read().parquet(out.toString());
        Dataset<Row> bySpark = SelectDataStage.select(scores, sel, 0, SelectDataStage.keptCount(N, sel.fraction()));
        String sparkOut = tmp.resolve("spark-ids.parquet").toString();
        bySpark.write().parquet(sparkOut);
        assertEquals(footerSchema(sparkOut), footerSchema(out.toString()), "the Parquet schema Spark writes");
        assertEquals(bySpark.orderBy("id").collectAsList(), back.collectAsList(), "the same rows, in id order");
        assertTrue(java.nio.file.Files.exists(tmp.resolve("ids.parquet/_SUCCESS")));
        assertTrue(java.nio.file.Files.exists(tmp.resolve("ids.parquet/part-00000.zstd.parquet")));
    }

    /** The Parquet schema in the footer of the first data file of folder {@code table}. */
    private static org.apache.parquet.schema.MessageType footerSchema(String table) throws java.io.IOException {
        java.nio.file.Path file;
        try (var files = java.nio.file.Files.list(java.nio.file.Paths.get(table))) {
            file = files.filter(f -> f.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
        }
        try (var reader = org.apache.parquet.hadoop.ParquetFileReader.open(org.apache.parquet.hadoop.util.HadoopInputFile
                .fromPath(new org.apache.hadoop.fs.Path(file.toString()), new org.apache.hadoop.conf.Configuration()))) {
            return reader.getFooter().getFileMetaData().getSchema();
        }
    }

    /** "id:value" of each row, value 1 the label and 2 the score, sorted by id. */
    private static List<String> rowsOf(DriverScores s, int value) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < s.ids().length; i++) {
            out.add(s.ids()[i] + ":" + (value == 1 ? s.labels()[i] : s.scores()[i]));
        }
        out.sort(null);
        return out;
    }

    @Test
    void classBalancedSelectionGivesProportionalBudgetsAndTheHardestWithinEachClass() {
        PareConfig.Selection sel = selection("method=hardest", "class-balanced=true", "fraction=0.25");
        List<Long> kept = run(sel, 0);
        long[] budgets = SelectionBudgets.proportional(new long[] {120, 72, 48}, 60);
        assertArrayEquals(new long[] {30, 18, 12}, budgets);
        List<Long> expected = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            final int label = c;
            expected.addAll(expectedByHardness(ROWS.stream().filter(r -> r[1] == label).toList(), 2, budgets[c], true));
        }
        assertEquals(expected.stream().sorted().toList(), kept);
    }

    @Test
    void randomIsExactSeededAndDifferentForAnotherSeed() {
        PareConfig.Selection sel = selection("method=random", "fraction=0.3");
        List<Long> a = run(sel, 7);
        assertEquals(72, a.size());
        assertEquals(a, run(sel, 7));
        assertNotEquals(a, run(sel, 8));
        PareConfig.Selection balanced = selection("method=random", "fraction=0.3", "class-balanced=true");
        List<Long> b = run(balanced, 7);
        assertEquals(72, b.size());
        long[] perClass = new long[3];
        for (long id : b) {
            perClass[(int) ROWS.get((int) (id - 1000))[1]]++;
        }
        assertArrayEquals(SelectionBudgets.proportional(new long[] {120, 72, 48}, 72), perClass);
    }

    @Test
    void ccsKeepsTheStratumBudgetsAndDropsTheHardestFirst() {
        PareConfig.Selection sel = selection("method=ccs", "fraction=0.2", "ccs.strata=4", "ccs.drop-hardest=0.1");
        List<Long> kept = run(sel, 3);
        assertEquals(48, kept.size());
        assertEquals(kept, run(sel, 3), "seeded");
        // The hardest 10% (24 rows, ties by id) are never kept.
        Set<Long> dropped = new TreeSet<>(expectedByHardness(ROWS, 2, 24, true));
        assertTrue(kept.stream().noneMatch(dropped::contains));
        // Strata over the remaining rows' range; kept counts per stratum equal the CCS budgets.
        List<double[]> pool = ROWS.stream().filter(r -> !dropped.contains((long) r[0])).toList();
        double lo = pool.stream().mapToDouble(r -> r[2]).min().orElseThrow();
        double hi = pool.stream().mapToDouble(r -> r[2]).max().orElseThrow();
        long[] sizes = new long[4];
        for (double[] r : pool) {
            sizes[SelectionBudgets.stratum(r[2], lo, hi, 4)]++;
        }
        long[] keptPerStratum = new long[4];
        for (long id : kept) {
            keptPerStratum[SelectionBudgets.stratum(ROWS.get((int) (id - 1000))[2], lo, hi, 4)]++;
        }
        assertArrayEquals(SelectionBudgets.ccsBudgets(sizes, 48), keptPerStratum);
    }

    @Test
    void classBalancedCcsDropsTheHardestOfEachClassAndKeepsTheClassBudgets() {
        PareConfig.Selection sel = selection("method=ccs", "fraction=0.25", "ccs.strata=3", "ccs.drop-hardest=0.25",
                "class-balanced=true");
        List<Long> kept = run(sel, 4);
        assertEquals(60, kept.size());
        long[] perClass = new long[3];
        long[] sizes = {120, 72, 48};
        Set<Long> dropped = new TreeSet<>();
        for (int c = 0; c < 3; c++) {
            final int label = c;
            dropped.addAll(expectedByHardness(ROWS.stream().filter(r -> r[1] == label).toList(), 2, sizes[c] / 4, true));
        }
        for (long id : kept) {
            perClass[(int) ROWS.get((int) (id - 1000))[1]]++;
            assertTrue(!dropped.contains(id), "kept a dropped example " + id);
        }
        // Budgets proportional to the class sizes after dropping 25% of each: 90, 54, 36 of 180.
        assertArrayEquals(SelectionBudgets.proportional(new long[] {90, 54, 36}, 60), perClass);
    }
}
