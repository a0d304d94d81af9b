package dev.pare.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.pare.jobs.support.JobCount;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Bad inputs and bad configuration through the {@code pare} command line, in process: every case
 * exits {@link PareCli#BAD_INPUT} with one {@code pare: error: ...} line naming the file / key /
 * column / row at fault, and leaves the run directory untouched.
 *
 * <p>Inputs are derived with Spark SQL from 50 rows of the committed Fashion-MNIST sample.
 */
class BadInputTest {
    private static SparkSession spark;

    @TempDir
    static Path shared;

    private static Path repo;
    private static String teacher;
    /** 50 valid rows of the sample training set. */
    private static String good;
    /** The ids of {@link #good}, ascending. */
    private static List<Long> ids;

    @BeforeAll
    static void setUp() {
        startSpark();
        Path here = Paths.get("").toAbsolutePath();
        repo = here.getFileName().toString().startsWith("pipeline-") ? here.getParent() : here;
        Path samples = repo.resolve("data-samples/fashion-mnist");
        teacher = samples.resolve("teacher-lenet300100.zip").toString();
        good = shared.resolve("good.parquet").toString();
        spark.read().parquet(samples.resolve("train.parquet").toString()).orderBy("id").limit(50)
                .coalesce(1).write().parquet(good);
        spark.read().parquet(good).createOrReplaceTempView("good");
        ids = spark.sql("SELECT id FROM good ORDER BY id").as(Encoders.LONG()).collectAsList();
        assertEquals(50, ids.size());
    }

    private static void startSpark() {
        spark = SparkSession.builder()
                .master("local[2]")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
    }

    @AfterAll
    static void tearDown() {
        if (spark != null) {
            spark.stop();
        }
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
    }

    // ---------------------------------------------------------------- helpers

    private record Result(int code, String err, String out) {}

    private static Result pare(String... args) {
        CommandLine cl = PareCli.commandLine();
        StringWriter err = new StringWriter();
        StringWriter out = new StringWriter();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(out));
        int code = cl.execute(args);
        return new Result(code, err.toString(), out.toString());
    }

    /**
     * {@code <command> --run-dir <runDir>} pointed at the valid 50-row table and the sample teacher,
     * with tiny work settings; {@code extra} comes last, so its {@code --set}s win.
     */
    private static String[] stage(String command, Path runDir, String... extra) {
        List<String> a = new ArrayList<>(List.of(command, "--run-dir", runDir.toString(), "--master", "local[2]",
                "--set", "data.train=" + good,
                "--set", "data.test=" + good,
                "--set", "teacher.model=" + teacher,
                "--set", "calibration.samples=64",
                "--set", "distill.epochs=1"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    /** Writes {@code SELECT ...} over view {@code good} as a new Parquet table; returns its path. */
    private static String table(String name, String sql) {
        String path = shared.resolve(name + ".parquet").toString();
        spark.sql(sql).coalesce(1).write().parquet(path);
        return path;
    }

    /** Exit 2 and one {@code pare: error:} line containing every fragment; returns the message. */
    private static String assertBadInput(Result r, String... fragments) {
        assertEquals(PareCli.BAD_INPUT, r.code(), () -> "exit code; stderr was:\n" + r.err());
        String err = r.err().strip();
        assertTrue(err.startsWith("pare: error: "), () -> "stderr: " + r.err());
        assertEquals(1, err.lines().count(), () -> "one line expected, stderr: " + r.err());
        for (String f : fragments) {
            assertTrue(err.contains(f), () -> "message lacks '" + f + "': " + err);
        }
        return err;
    }

    private static void assertNothingWritten(Path runDir) throws IOException {
        if (Files.exists(runDir)) {
            try (Stream<Path> s = Files.list(runDir)) {
                List<Path> left = s.toList();
                assertTrue(left.isEmpty(), "run directory should be empty, holds " + left);
            }
        }
    }

    private static Path zip(Path file, String entry, byte[] content) throws IOException {
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream z = new ZipOutputStream(out)) {
            z.putNextEntry(new ZipEntry(entry));
            z.write(content);
            z.closeEntry();
        }
        return file;
    }

    /** A zip holding {@code entries} (name, content) in order. */
    private static Path zip(Path file, List<Map.Entry<String, byte[]>> entries) throws IOException {
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream z = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : entries) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return file;
    }

    /** The entries of the sample teacher zip, in order. */
    private static List<Map.Entry<String, byte[]>> teacherEntries() throws IOException {
        List<Map.Entry<String, byte[]>> entries = new ArrayList<>();
        try (ZipInputStream z = new ZipInputStream(Files.newInputStream(Paths.get(teacher)))) {
            ZipEntry e;
            while ((e = z.getNextEntry()) != null) {
                entries.add(Map.entry(e.getName(), z.readAllBytes()));
            }
        }
        return entries;
    }

    /** The one Parquet part file of {@link #good}. */
    private static Path goodPart() throws IOException {
        try (Stream<Path> s = Files.list(Paths.get(good))) {
            return s.filter(p -> p.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
        }
    }

    private static Path configFile(Path dir, String hocon) throws IOException {
        return Files.writeString(dir.resolve("pare.conf"), hocon, StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- help

    @Test
    void helpListsTheSubcommandsAndRunHelpListsTheOptions() {
        Result top = pare("--help");
        assertEquals(0, top.code(), top.err());
        for (String sub : List.of("calibrate", "score-data", "select-data", "prune", "distill", "evaluate", "report",
                "run", "import-idx", "train-teacher")) {
            assertTrue(top.out().contains(sub), () -> "pare --help lacks " + sub + ":\n" + top.out());
        }
        Result run = pare("run", "--help");
        assertEquals(0, run.code(), run.err());
        for (String opt : List.of("--config", "--run-dir", "--set", "--master", "--force", "--resume")) {
            assertTrue(run.out().contains(opt), () -> "pare run --help lacks " + opt + ":\n" + run.out());
        }
    }

    @Test
    void missingRunDirIsAUsageError() {
        Result r = pare("calibrate", "--set", "teacher.model=" + teacher);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--run-dir"), r.err());
    }

    // ---------------------------------------------------------------- 1. missing data

    @Test
    void missingTrainingDataIsNamedByCalibrate(@TempDir Path tmp) throws IOException {
        Path runDir = tmp.resolve("run");
        String missing = tmp.resolve("no-such-train.parquet").toString();
        assertBadInput(pare(stage("calibrate", runDir, "--set", "data.train=" + missing)),
                missing, "does not exist");
        assertNothingWritten(runDir);
    }

    @Test
    void missingTrainingDataIsNamedWithItsKeyByRun(@TempDir Path tmp) throws IOException {
        Path runDir = tmp.resolve("run");
        String missing = tmp.resolve("no-such-train.parquet").toString();
        assertBadInput(pare(stage("run", runDir, "--set", "data.train=" + missing)),
                "data.train", missing, "does not exist");
        assertNothingWritten(runDir);
    }

    // ---------------------------------------------------------------- 2. missing columns

    @Test
    void configuredFeaturesColumnAbsent(@TempDir Path tmp) throws IOException {
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "data.features-column=pixels")),
                "data.train", good, "has no column 'pixels'", "columns: id, features, label",
                "data.features-column");
        assertNothingWritten(runDir);
    }

    @Test
    void labelColumnDropped(@TempDir Path tmp) throws IOException {
        String noLabel = table("no-label", "SELECT id, features FROM good");
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "data.train=" + noLabel)),
                "data.train", noLabel, "has no column 'label'", "columns: id, features");
        assertNothingWritten(runDir);
    }

    // ---------------------------------------------------------------- 3. wrong column type

    @Test
    void labelOfTypeString(@TempDir Path tmp) throws IOException {
        String stringLabel = table("string-label", "SELECT id, features, CAST(label AS STRING) AS label FROM good");
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "data.train=" + stringLabel)),
                "data.train", stringLabel, "column 'label'", "type string", "expected an int label");
        assertNothingWritten(runDir);
    }

    // ---------------------------------------------------------------- 4. feature length

    @Test
    void featureLengthNotTheTeachersInput(@TempDir Path tmp) throws IOException {
        long victim = ids.get(17);
        String short783 = table("short-783", "SELECT id, IF(id = " + victim + ", slice(features, 1, 783), features)"
                + " AS features, label FROM good");
        // calibrate and score-data check the rows in their own passes, which leave such rows out of the work.
        for (String command : List.of("calibrate", "score-data")) {
            Path runDir = tmp.resolve(command);
            assertBadInput(pare(stage(command, runDir, "--set", "data.train=" + short783)),
                    "data.train", short783, "1 row(s) whose feature length is not 784", "id " + victim + " has 783");
            assertNothingWritten(runDir);
        }
    }

    // ---------------------------------------------------------------- 5. labels out of range

    @Test
    void labelTenIsOutsideTheClasses(@TempDir Path tmp) throws IOException {
        long victim = ids.get(3);
        String label10 = table("label-10", "SELECT id, features, IF(id = " + victim + ", 10, label) AS label FROM good");
        for (String command : List.of("calibrate", "score-data")) {
            Path runDir = tmp.resolve(command);
            assertBadInput(pare(stage(command, runDir, "--set", "data.train=" + label10)),
                    "data.train", label10, "label outside [0, 10)", "id " + victim + " has label 10");
            assertNothingWritten(runDir);
        }
    }

    @Test
    void negativeLabelInTheTestSetStopsRunBeforeAnyStage(@TempDir Path tmp) throws IOException {
        long victim = ids.get(41);
        String labelMinus1 = table("label-minus-1",
                "SELECT id, features, IF(id = " + victim + ", -1, label) AS label FROM good");
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("run", runDir, "--set", "data.test=" + labelMinus1)),
                "data.test", labelMinus1, "label outside [0, 10)", "id " + victim + " has label -1");
        assertNothingWritten(runDir);
    }

    // ---------------------------------------------------------------- 6. non-finite features

    @Test
    void nanFeature(@TempDir Path tmp) throws IOException {
        long victim = ids.get(9);
        String nan = table("nan", "SELECT id, IF(id = " + victim
                + ", transform(features, (x, i) -> IF(i = 100, float('NaN'), x)), features) AS features, label FROM good");
        // calibrate checks the rows in its sample pass; so does `pare run`, which leaves them to calibrate.
        for (String command : List.of("calibrate", "run")) {
            Path runDir = tmp.resolve(command);
            assertBadInput(pare(stage(command, runDir, "--set", "data.train=" + nan)),
                    "data.train", nan, "1 row(s) with NaN or infinite features", "first id: " + victim);
            assertNothingWritten(runDir);
        }
    }

    @Test
    void infiniteFeature(@TempDir Path tmp) throws IOException {
        long victim = ids.get(30);
        String inf = table("inf", "SELECT id, IF(id = " + victim
                + ", transform(features, (x, i) -> IF(i = 783, float('Infinity'), x)), features) AS features, label"
                + " FROM good");
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("score-data", runDir, "--set", "data.train=" + inf)),
                "data.train", inf, "NaN or infinite features", "first id: " + victim);
        assertNothingWritten(runDir);
    }

    // ---------------------------------------------------------------- 7. empty / duplicate

    @Test
    void emptyTable(@TempDir Path tmp) throws IOException {
        String empty = table("empty", "SELECT * FROM good WHERE false");
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "data.train=" + empty)),
                "data.train", empty, "is empty: no examples");
        assertNothingWritten(runDir);
    }

    @Test
    void duplicateIds(@TempDir Path tmp) throws IOException {
        String dup = table("dup", "SELECT * FROM good UNION ALL SELECT * FROM good WHERE id = " + ids.get(5));
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "data.train=" + dup)),
                "data.train", dup, "1 duplicate id(s)");
        assertNothingWritten(runDir);
    }

    // ---------------------------------------------------------------- 8. teacher

    @Test
    void teacherMissing(@TempDir Path tmp) throws IOException {
        Path runDir = tmp.resolve("run");
        String missing = tmp.resolve("no-teacher.zip").toString();
        assertBadInput(pare(stage("calibrate", runDir, "--set", "teacher.model=" + missing)),
                "teacher.model", missing, "does not exist");
        assertNothingWritten(runDir);
    }

    @Test
    void teacherIsATextFile(@TempDir Path tmp) throws IOException {
        Path text = Files.writeString(tmp.resolve("teacher.txt"), "this is not a model\n");
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "teacher.model=" + text)),
                "teacher.model", text.toString(), "is not a DL4J model");
        assertNothingWritten(runDir);
    }

    @Test
    void teacherZipWithoutConfiguration(@TempDir Path tmp) throws IOException {
        Path z = zip(tmp.resolve("weights-only.zip"), "coefficients.bin", new byte[] {1, 2, 3, 4});
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "teacher.model=" + z)),
                "teacher.model", z.toString(), "is not a DL4J model", "missing configuration.json");
        assertNothingWritten(runDir);
    }

    @Test
    void teacherOutputsDoNotMatchNumClasses(@TempDir Path tmp) throws IOException {
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "data.num-classes=5")),
                "teacher.model", teacher, "10 outputs", "data.num-classes = 5");
        assertNothingWritten(runDir);
    }

    // ---------------------------------------------------------------- 9. unknown keys

    @Test
    void misspelledKeyViaSetSuggestsTheRightOne(@TempDir Path tmp) throws IOException {
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("prune", runDir, "--set", "prune.sparsty=0.5")),
                "'prune.sparsty'", "unknown key", "--set", "did you mean 'prune.sparsity'");
        assertNothingWritten(runDir);
    }

    @Test
    void unknownKeyInConfigFileNamesTheFile(@TempDir Path tmp) throws IOException {
        Path conf = Files.writeString(tmp.resolve("bad.conf"),
                "seed = 1\nprune {\n  criterion = magnitude\n  sparsty = 0.5\n}\n", StandardCharsets.UTF_8);
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("prune", runDir, "--config", conf.toString())),
                "'prune.sparsty'", "unknown key", conf.toString(), "did you mean 'prune.sparsity'");
        assertNothingWritten(runDir);
    }

    @Test
    void unknownSectionInConfigFileListsValidKeys(@TempDir Path tmp) throws IOException {
        Path conf = Files.writeString(tmp.resolve("bad.conf"), "distil.epochs = 3\n", StandardCharsets.UTF_8);
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("distill", runDir, "--config", conf.toString())),
                "'distil.epochs'", "unknown key", conf.toString());
        assertNothingWritten(runDir);
    }

    @Test
    void configFileThatDoesNotExist(@TempDir Path tmp) throws IOException {
        Path runDir = tmp.resolve("run");
        String conf = tmp.resolve("nope.conf").toString();
        assertBadInput(pare(stage("calibrate", runDir, "--config", conf)), "config file", conf, "does not exist");
        assertNothingWritten(runDir);
    }

    // ---------------------------------------------------------------- 10. out-of-range values

    private static void assertOutOfRange(Path tmp, String command, String key, String value, String rule)
            throws IOException {
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage(command, runDir, "--set", key + "=" + value)), "config key '" + key + "'", rule);
        assertNothingWritten(runDir);
    }

    @Test
    void sparsityOneIsOutOfRange(@TempDir Path tmp) throws IOException {
        assertOutOfRange(tmp, "prune", "prune.sparsity", "1.0", "must be in [0.0, 1.0)");
    }

    @Test
    void selectionFractionZeroIsOutOfRange(@TempDir Path tmp) throws IOException {
        assertOutOfRange(tmp, "select-data", "selection.fraction", "0", "must be in (0.0, 1.0]");
    }

    @Test
    void temperatureZeroIsOutOfRange(@TempDir Path tmp) throws IOException {
        assertOutOfRange(tmp, "distill", "distill.temperature", "0", "> 0");
    }

    @Test
    void alphaAboveOneIsOutOfRange(@TempDir Path tmp) throws IOException {
        assertOutOfRange(tmp, "distill", "distill.alpha", "1.5", "must be in [0.0, 1.0]");
    }

    @Test
    void zeroCalibrationSamplesIsOutOfRange(@TempDir Path tmp) throws IOException {
        assertOutOfRange(tmp, "calibrate", "calibration.samples", "0", "must be > 0");
    }

    // ---------------------------------------------------------------- 11. wrong value type

    @Test
    void sparsityThatIsNotANumber(@TempDir Path tmp) throws IOException {
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("prune", runDir, "--set", "prune.sparsity=abc")),
                "config key 'prune.sparsity'", "\"abc\"", "must be a number");
        assertNothingWritten(runDir);
    }

    @Test
    void setWithoutEquals(@TempDir Path tmp) throws IOException {
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("prune", runDir, "--set", "prune.sparsity")), "--set", "key=value");
        assertNothingWritten(runDir);
    }

    // ---------------------------------------------------------------- 12. changed config in a finished run

    @Test
    void finishedStageWithAnotherConfigIsRefusedUnlessForced(@TempDir Path tmp) throws IOException {
        Path runDir = tmp.resolve("run");
        Result first = pare(stage("calibrate", runDir));
        assertEquals(0, first.code(), first.err());
        Path success = runDir.resolve("calibration/_SUCCESS");
        assertTrue(Files.isRegularFile(success));
        String before = Files.readString(success);
        List<String> listing;
        try (Stream<Path> s = Files.list(runDir)) {
            listing = s.map(p -> p.getFileName().toString()).sorted().toList();
        }

        Result refused = pare(stage("calibrate", runDir, "--set", "calibration.samples=32"));
        assertBadInput(refused, runDir.toString(), "'calibrate'", "different configuration", "--force");
        assertTrue(Files.isRegularFile(success), "the finished stage is kept");
        assertEquals(before, Files.readString(success), "the finished stage is untouched");
        try (Stream<Path> s = Files.list(runDir)) {
            assertEquals(listing, s.map(p -> p.getFileName().toString()).sorted().toList(),
                    "the refused attempt wrote nothing (no _tmp)");
        }

        Result forced = pare(stage("calibrate", runDir, "--set", "calibration.samples=32", "--force"));
        assertEquals(0, forced.code(), forced.err());
        assertTrue(Files.isRegularFile(success));
        assertFalse(before.equals(Files.readString(success)), "the forced run records its new hash");
        assertFalse(Files.exists(runDir.resolve("_tmp")));
    }

    // ---------------------------------------------------------------- 13. missing upstream stage

    @Test
    void wandaPruneBeforeCalibrate(@TempDir Path tmp) throws IOException {
        Path runDir = Files.createDirectories(tmp.resolve("run"));
        assertBadInput(pare(stage("prune", runDir, "--set", "prune.criterion=wanda")),
                "no finished 'calibration' stage", "pare calibrate");
        assertNothingWritten(runDir);
    }

    // ---------------------------------------------------------------- 14. import-idx

    @Test
    void importIdxRefusesAFileWithABadMagic(@TempDir Path tmp) throws IOException {
        Path images = Files.writeString(tmp.resolve("images.idx"), "hello, this is not an idx file\n");
        Path labels = Files.writeString(tmp.resolve("labels.idx"), "nor is this\n");
        Path out = tmp.resolve("out.parquet");
        assertBadInput(pare("import-idx", "--images", images.toString(), "--labels", labels.toString(),
                "-o", out.toString(), "--master", "local[2]"),
                images.toString(), "not an unsigned-byte idx file", "magic");
        assertFalse(Files.exists(out));
    }

    @Test
    void importIdxRefusesAMissingLabelFile(@TempDir Path tmp) throws IOException {
        Path images = tmp.resolve("images.idx");
        try (var o = new java.io.DataOutputStream(Files.newOutputStream(images))) {
            o.writeInt(0x00000803);
            o.writeInt(1);
            o.writeInt(2);
            o.writeInt(2);
            o.write(new byte[] {0, 1, 2, 3});
        }
        Path labels = tmp.resolve("labels.idx");
        Path out = tmp.resolve("out.parquet");
        assertBadInput(pare("import-idx", "--images", images.toString(), "--labels", labels.toString(),
                "-o", out.toString(), "--master", "local[2]"),
                labels.toString(), "does not exist");
        assertFalse(Files.exists(out));
    }

    // ---------------------------------------------------------------- 15. corrupt Parquet

    @Test
    void garbageBytesWithAParquetName(@TempDir Path tmp) throws IOException {
        byte[] junk = new byte[4096];
        new java.util.Random(7).nextBytes(junk);
        Path garbage = Files.write(tmp.resolve("garbage.parquet"), junk);
        Path runDir = tmp.resolve("run");
        String err = assertBadInput(pare(stage("calibrate", runDir, "--set", "data.train=" + garbage)),
                "data.train", garbage.toString(), "not a readable Parquet");
        assertFalse(err.contains("\tat "), err);
        assertNothingWritten(runDir);
    }

    @Test
    void truncatedParquetFile(@TempDir Path tmp) throws IOException {
        byte[] whole = Files.readAllBytes(goodPart());
        Path truncated = Files.write(tmp.resolve("truncated.parquet"),
                java.util.Arrays.copyOf(whole, whole.length / 2));
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("run", runDir, "--set", "data.train=" + truncated)),
                "data.train", truncated.toString(), "not a readable Parquet");
        assertNothingWritten(runDir);
    }

    @Test
    void oneCorruptPartFileInATableFolder(@TempDir Path tmp) throws IOException {
        // Spark infers the schema from one part file; the corrupt one fails only when the rows are read.
        Path table = Files.createDirectories(tmp.resolve("mixed.parquet"));
        Files.copy(goodPart(), table.resolve("part-00000.parquet"));
        byte[] whole = Files.readAllBytes(goodPart());
        Path corrupt = Files.write(table.resolve("part-00001.parquet"),
                java.util.Arrays.copyOf(whole, whole.length - 100));
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "data.train=" + table)),
                "data.train", table.toString(), "not a readable Parquet", corrupt.getFileName().toString());
        assertNothingWritten(runDir);
    }

    @Test
    void parquetPagesOverwrittenWithZeros(@TempDir Path tmp) throws IOException {
        // The footer is intact, so the schema reads; the column chunks do not decode.
        byte[] bytes = Files.readAllBytes(goodPart());
        java.util.Arrays.fill(bytes, 4, bytes.length / 2, (byte) 0);
        Path table = Files.createDirectories(tmp.resolve("zeroed.parquet"));
        Path part = Files.write(table.resolve("part-00000.parquet"), bytes);
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("score-data", runDir, "--set", "data.train=" + table)),
                "data.train", table.toString(), "not a readable Parquet", part.getFileName().toString());
        assertNothingWritten(runDir);
    }

    @Test
    void parquetFolderWithoutParquetFiles(@TempDir Path tmp) throws IOException {
        Path folder = Files.createDirectories(tmp.resolve("unfinished.parquet"));
        Files.writeString(folder.resolve("_SUCCESS"), "");
        Files.createDirectories(folder.resolve("_temporary/0"));
        Files.write(folder.resolve("_temporary/0/part-00000.parquet"), Files.readAllBytes(goodPart()));
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "data.train=" + folder)),
                "data.train", folder.toString(), "holds no Parquet files");
        assertNothingWritten(runDir);
    }

    @Test
    void parquetFolderHoldingATextFile(@TempDir Path tmp) throws IOException {
        Path folder = Files.createDirectories(tmp.resolve("text.parquet"));
        Files.writeString(folder.resolve("README.txt"), "the export failed\n");
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "data.train=" + folder)),
                "data.train", folder.toString(), "not a readable Parquet", "README.txt");
        assertNothingWritten(runDir);
    }

    // ---------------------------------------------------------------- 16. teacher zip: not a model, zip slip

    @Test
    void teacherZipWithGarbageEntries(@TempDir Path tmp) throws IOException {
        Path z = zip(tmp.resolve("fake-model.zip"), List.of(
                Map.entry("configuration.json", "{\"this\": is not json".getBytes(StandardCharsets.UTF_8)),
                Map.entry("coefficients.bin", new byte[] {1, 2, 3, 4})));
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "teacher.model=" + z)),
                "teacher.model", z.toString(), "configuration.json", "not valid JSON");
        assertNothingWritten(runDir);
    }

    @Test
    void teacherZipWithAnEntryEscapingItsFolder(@TempDir Path tmp) throws IOException {
        Path victim = tmp.resolve("evil");
        List<Map.Entry<String, byte[]>> entries = new ArrayList<>(teacherEntries());
        entries.add(Map.entry("../../evil", "pwned".getBytes(StandardCharsets.UTF_8)));
        Path dir = Files.createDirectories(tmp.resolve("a/b"));
        Path z = zip(dir.resolve("slip.zip"), entries);
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("run", runDir, "--set", "teacher.model=" + z)),
                "teacher.model", z.toString(), "zip entry escaping its folder", "'../../evil'");
        assertFalse(Files.exists(victim), "nothing was extracted");
        assertNothingWritten(runDir);
    }

    @Test
    void teacherZipWithAnAbsoluteEntry(@TempDir Path tmp) throws IOException {
        String absolute = tmp.resolve("evil-absolute").toAbsolutePath().toString();
        List<Map.Entry<String, byte[]>> entries = new ArrayList<>();
        entries.add(Map.entry(absolute, "pwned".getBytes(StandardCharsets.UTF_8)));
        entries.addAll(teacherEntries());
        Path z = zip(tmp.resolve("absolute.zip"), entries);
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("evaluate", runDir, "--set", "teacher.model=" + z)),
                "teacher.model", z.toString(), "zip entry escaping its folder", "'" + absolute + "'");
        assertFalse(Files.exists(Paths.get(absolute)), "nothing was extracted");
        assertNothingWritten(runDir);
    }

    @Test
    void evaluatedModelZipWithABackslashSlipEntry(@TempDir Path tmp) throws IOException {
        List<Map.Entry<String, byte[]>> entries = new ArrayList<>(teacherEntries());
        entries.add(Map.entry("..\\..\\evil.bat", new byte[] {0}));
        Path z = zip(tmp.resolve("windows-slip.zip"), entries);
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("evaluate", runDir, "--model", "other=" + z)),
                "--model other", z.toString(), "zip entry escaping its folder", "..\\..\\evil.bat");
        assertNothingWritten(runDir);
    }

    @Test
    void teacherPathIsAFolder(@TempDir Path tmp) throws IOException {
        Path folder = Files.createDirectories(tmp.resolve("teacher.zip"));
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "teacher.model=" + folder)),
                "teacher.model", folder.toString(), "is a directory");
        assertNothingWritten(runDir);
    }

    // ---------------------------------------------------------------- 17. wrong value types

    /** {@code pare distill} with only {@code --config} (stage()'s --set distill.epochs would win over the file). */
    private static String assertWrongTypeInFile(Path tmp, String hocon, String key, String rule) throws IOException {
        Path conf = configFile(tmp, hocon);
        Path runDir = tmp.resolve("run");
        String err = assertBadInput(pare("distill", "--run-dir", runDir.toString(), "--config", conf.toString()),
                "config key '" + key + "'", rule, "(in " + conf);
        assertNothingWritten(runDir);
        return err;
    }

    @Test
    void epochsAsAWordInAConfigFile(@TempDir Path tmp) throws IOException {
        assertWrongTypeInFile(tmp, "distill {\n  epochs = \"three\"\n}\n", "distill.epochs", "must be a whole number");
    }

    @Test
    void epochsAsAFractionInAConfigFile(@TempDir Path tmp) throws IOException {
        assertWrongTypeInFile(tmp, "distill.epochs = 2.5\n", "distill.epochs", "must be a whole number");
    }

    @Test
    void listWhereANumberIsExpectedInAConfigFile(@TempDir Path tmp) throws IOException {
        assertWrongTypeInFile(tmp, "distill.batch-size = [32, 64]\n", "distill.batch-size", "must be a whole number");
    }

    @Test
    void numberForABooleanInAConfigFile(@TempDir Path tmp) throws IOException {
        assertWrongTypeInFile(tmp, "selection.class-balanced = 1\n", "selection.class-balanced",
                "must be true or false");
    }

    @Test
    void outOfRangeValueInAConfigFileNamesTheFileAndLine(@TempDir Path tmp) throws IOException {
        String err = assertWrongTypeInFile(tmp, "seed = 1\ndistill.alpha = 1.5\n", "distill.alpha",
                "must be in [0.0, 1.0]");
        assertTrue(err.contains("pare.conf:2)"), "the line of the value: " + err);
    }

    @Test
    void wrongTypesViaSet(@TempDir Path tmp) throws IOException {
        Path runDir = tmp.resolve("run");
        String[][] cases = {
            {"distill.epochs=three", "distill.epochs", "\"three\"", "must be a whole number"},
            {"distill.epochs=2.5", "distill.epochs", "2.5", "must be a whole number"},
            {"distill.epochs=[1, 2]", "distill.epochs", "[1, 2]", "must be a whole number"},
            {"selection.class-balanced=1", "selection.class-balanced", "1", "must be true or false"},
            {"prune.include-layers=fc1", "prune.include-layers", "\"fc1\"", "must be a list of strings"},
        };
        for (String[] c : cases) {
            assertBadInput(pare(stage("distill", runDir, "--set", c[0])),
                    "config key '" + c[1] + "' = " + c[2], c[3], "--set");
            assertNothingWritten(runDir);
        }
    }

    @Test
    void configFileThatIsNotHocon(@TempDir Path tmp) throws IOException {
        Path conf = configFile(tmp, "prune {\n  sparsity = 0.5\n");
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("prune", runDir, "--config", conf.toString())), conf.toString(), "not valid HOCON");
        assertNothingWritten(runDir);
    }

    // ---------------------------------------------------------------- 18. unwritable run directory

    @Test
    void runDirThatIsARegularFile(@TempDir Path tmp) throws IOException {
        Path file = Files.writeString(tmp.resolve("run"), "not a folder\n");
        assertBadInput(pare(stage("calibrate", file)), "--run-dir", file.toString(), "not a directory");
        assertEquals("not a folder\n", Files.readString(file), "the file is untouched");
    }

    @Test
    void runDirUnderARegularFile(@TempDir Path tmp) throws IOException {
        Path file = Files.writeString(tmp.resolve("runs"), "not a folder\n");
        Path runDir = file.resolve("demo");
        assertBadInput(pare(stage("run", runDir)), "--run-dir", runDir.toString(), "cannot be created");
        assertEquals("not a folder\n", Files.readString(file), "the file is untouched");
    }

    @Test
    void runDirUnderAReadOnlyFolder(@TempDir Path tmp) throws IOException {
        Path parent = Files.createDirectories(tmp.resolve("read-only"));
        Path runDir = parent.resolve("run");
        java.nio.file.attribute.PosixFileAttributeView view =
                Files.getFileAttributeView(parent, java.nio.file.attribute.PosixFileAttributeView.class);
        org.junit.jupiter.api.Assumptions.assumeTrue(view != null, "POSIX permissions");
        view.setPermissions(java.nio.file.attribute.PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            // root ignores permission bits: runDirThatIsARegularFile covers that case.
            assumeFalse(Files.isWritable(parent), "permission bits are not enforced for this user");
            assertBadInput(pare(stage("calibrate", runDir)), "--run-dir", runDir.toString(), "cannot be created");
            assertFalse(Files.exists(runDir));
        } finally {
            view.setPermissions(java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void runDirWithAnUnknownScheme() {
        String[] args = stage("calibrate", Paths.get("placeholder"));
        args[2] = "nosuchfs://bucket/runs/1";
        assertBadInput(pare(args), "--run-dir", "nosuchfs://bucket/runs/1", "no Hadoop file system for scheme \"nosuchfs\"");
    }

    @Test
    void trainingDataWithAnUnknownScheme(@TempDir Path tmp) throws IOException {
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "data.train=s4://bucket/train.parquet")),
                "data.train", "s4://bucket/train.parquet", "no Hadoop file system for scheme \"s4\"");
        assertNothingWritten(runDir);
    }

    @Test
    void emptyRunDir() {
        assertBadInput(pare(stage("calibrate", Paths.get(""))), "--run-dir", "empty");
    }

    // ---------------------------------------------------------------- 19. Spark master

    @Test
    void unparsableSparkMaster(@TempDir Path tmp) throws IOException {
        Path runDir = tmp.resolve("run");
        List<String> args = new ArrayList<>(List.of(stage("calibrate", runDir)));
        args.set(args.indexOf("local[2]"), "lokal[2]");
        // Pare joins a running session and its master; the master is parsed only by a new one.
        spark.stop();
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
        try {
            assertBadInput(pare(args.toArray(String[]::new)), "--master", "'lokal[2]'", "not a Spark master URL");
            assertNothingWritten(runDir);
        } finally {
            startSpark();
            spark.read().parquet(good).createOrReplaceTempView("good");
        }
    }

    // ---------------------------------------------------------------- 20. train-teacher and import-idx outputs

    @Test
    void trainTeacherOutputThatIsAFolderIsRefusedEvenWithForce(@TempDir Path tmp) throws IOException {
        Path folder = Files.createDirectories(tmp.resolve("models"));
        Path kept = Files.writeString(folder.resolve("other-model.zip"), "keep me");
        assertBadInput(pare("train-teacher", "--set", "data.train=" + good, "--set", "data.test=" + good,
                "--set", "train-teacher.epochs=1", "-o", folder.toString(), "--force", "--master", "local[2]"),
                "--output", folder.toString(), "is a directory");
        assertEquals("keep me", Files.readString(kept), "--force did not delete the folder");
    }

    @Test
    void trainTeacherOnACorruptPartFile(@TempDir Path tmp) throws IOException {
        Path table = Files.createDirectories(tmp.resolve("mixed.parquet"));
        Files.copy(goodPart(), table.resolve("part-00000.parquet"));
        Files.write(table.resolve("part-00001.parquet"), "PAR1 but not really".getBytes(StandardCharsets.UTF_8));
        Path out = tmp.resolve("teacher.zip");
        assertBadInput(pare("train-teacher", "--set", "data.train=" + table, "--set", "data.test=" + good,
                "--set", "train-teacher.epochs=1", "-o", out.toString(), "--master", "local[2]"),
                "data.train", table.toString(), "not a readable Parquet", "part-00001.parquet");
        assertFalse(Files.exists(out));
    }

    @Test
    void importIdxWithAnEmptyOutput(@TempDir Path tmp) throws IOException {
        Path images = tmp.resolve("images.idx");
        try (var o = new java.io.DataOutputStream(Files.newOutputStream(images))) {
            o.writeInt(0x00000803);
            o.writeInt(1);
            o.writeInt(2);
            o.writeInt(2);
            o.write(new byte[] {0, 1, 2, 3});
        }
        Path labels = tmp.resolve("labels.idx");
        try (var o = new java.io.DataOutputStream(Files.newOutputStream(labels))) {
            o.writeInt(0x00000801);
            o.writeInt(1);
            o.write(new byte[] {7});
        }
        // An empty path would be the working directory, which --force would replace (not passed here, so a
        // regression fails this test without touching the working directory).
        assertBadInput(pare("import-idx", "--images", images.toString(), "--labels", labels.toString(), "-o", "",
                "--master", "local[2]"), "--output is empty");
    }

    // ---------------------------------------------------------------- 15. checks recorded per run directory

    @Test
    void scoreDataAloneChecksTheTableInItsScoringPass(@TempDir Path tmp) throws IOException {
        Path runDir = tmp.resolve("run");
        JobCount<Result> scored = JobCount.of(spark, () -> pareWithStdout(stage("score-data", runDir)));
        assertEquals(0, scored.value().code(), scored.value().err());
        assertEquals(1, scored.jobs(), "one pass over the table: the scores' write, which checks every row");
        String recorded = Files.readString(runDir.resolve("_CHECKS/data.train.json"));
        assertEquals(50, new com.fasterxml.jackson.databind.ObjectMapper().readTree(recorded).path("rows").asLong(),
                recorded);
        assertEquals(50, spark.read().parquet(runDir.resolve("example-scores/scores.parquet").toString()).count());
    }

    @Test
    void aTableCheckedBeforeAFinishedStageIsNotReadAgainUntilItsFilesChange(@TempDir Path tmp) throws IOException {
        Path train = tmp.resolve("train.parquet");
        Files.createDirectories(train);
        for (Path f : parquetFiles(Paths.get(good))) {
            Files.copy(f, train.resolve(f.getFileName()));
        }
        Path runDir = tmp.resolve("run");
        Result first = pareWithStdout(stage("calibrate", runDir, "--set", "data.train=" + train));
        assertEquals(0, first.code(), first.err());
        assertTrue(first.out().contains("calibrate    done"), first.out());
        assertFalse(first.out().contains("not read again"), first.out());
        Path record = runDir.resolve("_CHECKS/data.train.json");
        String recorded = Files.readString(record);
        assertEquals(50, new com.fasterxml.jackson.databind.ObjectMapper().readTree(recorded).path("rows").asLong(),
                recorded);

        Result second = pareWithStdout(stage("score-data", runDir, "--set", "data.train=" + train));
        assertEquals(0, second.code(), second.err());
        assertTrue(second.out().contains("data.train: 50 rows, the same files an earlier command checked"),
                second.out());

        // Another file in the table (a row with a NaN feature): checked again, and refused.
        String nanRow = table("nan-row", "SELECT id + 1000 AS id, transform(features, (x, i) -> IF(i = 7,"
                + " float('NaN'), x)) AS features, label FROM good WHERE id = " + ids.get(3));
        Files.copy(parquetFiles(Paths.get(nanRow)).get(0), train.resolve("part-extra.parquet"));
        // calibrate again from scratch (its finished folder would refuse the changed input without --force).
        try (Stream<Path> w = Files.walk(runDir.resolve("calibration"))) {
            for (Path p : w.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        Result third = pare(stage("calibrate", runDir, "--set", "data.train=" + train));
        assertBadInput(third, "data.train", "1 row(s) with NaN or infinite features", "first id: " + (ids.get(3) + 1000));
        assertEquals(recorded, Files.readString(record), "a failed command records nothing");
    }

    /** As {@link #pare}, with the stages' progress (printed to System.out) as the output. */
    private static Result pareWithStdout(String... args) {
        java.io.PrintStream original = System.out;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            Result r = pare(args);
            return new Result(r.code(), r.err(), r.out() + captured.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(original);
        }
    }

    private static List<Path> parquetFiles(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".parquet")).sorted().toList();
        }
    }
}
