package dev.pare.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
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
        spark = SparkSession.builder()
                .master("local[2]")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
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
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "data.train=" + short783)),
                "data.train", short783, "1 row(s) whose feature length is not 784", "id " + victim + " has 783");
        assertNothingWritten(runDir);
    }

    // ---------------------------------------------------------------- 5. labels out of range

    @Test
    void labelTenIsOutsideTheClasses(@TempDir Path tmp) throws IOException {
        long victim = ids.get(3);
        String label10 = table("label-10", "SELECT id, features, IF(id = " + victim + ", 10, label) AS label FROM good");
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "data.train=" + label10)),
                "data.train", label10, "label outside [0, 10)", "id " + victim + " has label 10");
        assertNothingWritten(runDir);
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
        Path runDir = tmp.resolve("run");
        assertBadInput(pare(stage("calibrate", runDir, "--set", "data.train=" + nan)),
                "data.train", nan, "1 row(s) with NaN or infinite features", "first id: " + victim);
        assertNothingWritten(runDir);
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
}
