package dev.pare.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pare.common.config.Redaction;
import dev.pare.jobs.cli.PareCli;
import dev.pare.jobs.support.LocalSpark;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Credentials never leak: {@code pare run} on the sample, with fake S3A keys, a session token and a
 * metastore password given the three ways a user gives Spark or Hadoop settings (the config file's
 * {@code spark.conf}, {@code --set spark.conf."..."}, and {@code spark.*} system properties as
 * spark-submit's {@code --conf} sets them). Every file under the run directory, Spark's event log,
 * stdout, stderr and every log line (Spark at INFO with {@code spark.logConf}, so it prints its
 * whole configuration) must be free of the fake values, while the key names are still recorded
 * with a redacted value, so the test cannot pass by recording nothing.
 *
 * <p>Pare opens its own session here (as the CLI does), so the settings reach SparkConf, the
 * Hadoop configuration and Spark's logging.
 */
@Tag("e2e")
class CredentialRedactionTest {
    /** Fake setting → value; keys with "spark.hadoop." reach Hadoop without the prefix. */
    private static final Map<String, String> FILE_SECRETS = Map.of("spark.hadoop.fs.s3a.secret.key", "FAKE-SECRET-123");
    private static final Map<String, String> SET_SECRETS = Map.of("spark.hadoop.fs.s3a.session.token", "FAKE-TOKEN-789");
    /** The Azure account key's name escapes Spark's default spark.redaction.regex: Pare's setting must cover it. */
    private static final Map<String, String> PROPERTY_SECRETS = Map.of(
            "spark.hadoop.fs.s3a.access.key", "FAKEACCESSKEY",
            "spark.hadoop.javax.jdo.option.ConnectionPassword", "FAKE-PASSWORD-456",
            "spark.hadoop.fs.azure.account.key.pare.dfs.core.windows.net", "FAKE-AZURE-KEY-000");

    private static Map<String, String> allSecrets() {
        Map<String, String> all = new LinkedHashMap<>(FILE_SECRETS);
        all.putAll(SET_SECRETS);
        all.putAll(PROPERTY_SECRETS);
        return all;
    }

    @TempDir
    static Path shared;
    private static String train;
    private static String test;

    /** Small copies of the sample (2000 train, 500 test rows), written by a session stopped before the tests. */
    @BeforeAll
    static void smallTables() {
        SparkSession spark = LocalSpark.start();
        try {
            train = shared.resolve("train.parquet").toString();
            test = shared.resolve("test.parquet").toString();
            spark.read().parquet(LocalSpark.sample("train.parquet")).orderBy("id").limit(2000).coalesce(2).write()
                    .parquet(train);
            spark.read().parquet(LocalSpark.sample("test.parquet")).orderBy("id").limit(500).coalesce(1).write()
                    .parquet(test);
        } finally {
            LocalSpark.stop(spark);
        }
    }

    @Test
    void fakeCredentialsAppearNowhereButTheirKeysAreRecorded(@TempDir Path tmp) throws Exception {
        assertTrue(SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty(),
                "the test needs Pare to open its own session");
        Path runDir = tmp.resolve("run");
        Path events = Files.createDirectories(tmp.resolve("spark-events"));
        String secretKey = FILE_SECRETS.keySet().iterator().next();
        String config = String.join("\n",
                "seed = 0",
                "data { train = \"" + train + "\", test = \"" + test + "\", num-classes = 10 }",
                "teacher.model = \"" + LocalSpark.sample("teacher-lenet300100.zip") + "\"",
                "spark.conf {",
                "  \"" + secretKey + "\" = \"" + FILE_SECRETS.get(secretKey) + "\"",
                "  \"spark.logConf\" = \"true\"",
                "  \"spark.eventLog.enabled\" = \"true\"",
                "  \"spark.eventLog.dir\" = \"" + events.toUri() + "\"",
                "}",
                "calibration { samples = 256, partitions = 2 }",
                "selection { method = random, fraction = 0.5 }",
                "prune { criterion = magnitude, sparsity = 0.5 }",
                "distill.epochs = 1",
                "evaluate.latency-runs = 2",
                "");
        Path conf = Files.writeString(tmp.resolve("secret.conf"), config, StandardCharsets.UTF_8);
        List<String> args = new ArrayList<>(List.of("run", "--config", conf.toString(), "--run-dir", runDir.toString(),
                "--master", "local[2]"));
        SET_SECRETS.forEach((k, v) -> args.addAll(List.of("--set", "spark.conf.\"" + k + "\"=" + v)));

        Capture capture = Capture.start();
        PROPERTY_SECRETS.forEach(System::setProperty);
        int code;
        try {
            code = capture.run(args.toArray(String[]::new));
        } finally {
            PROPERTY_SECRETS.keySet().forEach(System::clearProperty);
            capture.stop();
        }
        assertEquals(0, code, capture.text());

        // Nothing anywhere holds a fake value.
        Map<String, String> texts = new LinkedHashMap<>();
        texts.put("captured stdout, stderr and log output", capture.text());
        List<Path> files = new ArrayList<>(filesUnder(runDir));
        files.addAll(filesUnder(events));
        for (Path f : files) {
            texts.put(f.toString(), new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
        }
        for (Map.Entry<String, String> secret : allSecrets().entrySet()) {
            for (Map.Entry<String, String> t : texts.entrySet()) {
                assertFalse(t.getValue().contains(secret.getValue()),
                        secret.getKey() + "'s value appears in " + t.getKey());
            }
        }

        // ... while the settings were really given: their keys are recorded with the redacted value.
        assertTrue(files.stream().anyMatch(f -> f.getFileName().toString().equals("report.html")), "a report");
        JsonNode provenance = new ObjectMapper().readTree(runDir.resolve("distill/provenance.json").toFile());
        JsonNode sparkConf = provenance.path("config").path("spark").path("conf");
        for (String key : List.of(secretKey, SET_SECRETS.keySet().iterator().next())) {
            assertEquals(Redaction.REDACTED, sparkConf.path(key).asText(), "provenance.json config.spark.conf." + key);
        }
        assertEquals("true", sparkConf.path("spark.logConf").asText(), "other settings are recorded as given");
        String logs = capture.text();
        assertTrue(logs.contains("Spark configuration:"), "spark.logConf printed Spark's configuration");
        for (String key : allSecrets().keySet()) {
            assertTrue(logs.contains(key + "=" + Redaction.REDACTED), "Spark's logged configuration shows " + key);
        }
        String eventLog = String.join("\n", filesUnder(events).stream().map(f -> texts.get(f.toString())).toList());
        for (String key : allSecrets().keySet()) {
            String hadoopKey = key.substring("spark.hadoop.".length());
            assertTrue(eventLog.contains("\"" + key + "\":\"" + Redaction.REDACTED + "\""), "event log: " + key);
            assertTrue(eventLog.contains("\"" + hadoopKey + "\":\"" + Redaction.REDACTED + "\""),
                    "event log, Hadoop properties: " + hadoopKey);
        }
    }

    @Test
    void configErrorsDoNotEchoASecretValue(@TempDir Path tmp) throws IOException {
        Path runDir = tmp.resolve("run");
        Path conf = Files.writeString(tmp.resolve("bad.conf"),
                "spark.conf { \"spark.hadoop.fs.s3a.secret.key\" = [\"FAKE-SECRET-123\"] }\n", StandardCharsets.UTF_8);
        String[][] cases = {
            {"run", "--run-dir", runDir.toString(), "--config", conf.toString()},
            {"run", "--run-dir", runDir.toString(), "--set", "spark.conf.\"fs.s3a.access.key\"=[FAKEACCESSKEY"},
            {"run", "--run-dir", runDir.toString(), "--set", "spark.conf.\"a.password\"=[FAKE-PASSWORD-456]"},
        };
        for (String[] c : cases) {
            CommandLine cl = PareCli.commandLine();
            StringWriter err = new StringWriter();
            cl.setErr(new PrintWriter(err));
            cl.setOut(new PrintWriter(new StringWriter()));
            assertEquals(PareCli.BAD_INPUT, cl.execute(c), err.toString());
            String message = err.toString();
            assertTrue(message.startsWith("pare: error: config key '"), message);
            assertTrue(message.contains(Redaction.REDACTED), message);
            for (String secret : List.of("FAKE-SECRET-123", "FAKEACCESSKEY", "FAKE-PASSWORD-456")) {
                assertFalse(message.contains(secret), message);
            }
        }
        assertFalse(Files.exists(runDir), "nothing written");
    }

    private static List<Path> filesUnder(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    /**
     * Everything the command prints: System.out and System.err (replaced while it runs; Pare's own
     * progress and picocli's streams follow them) and every log event, through an appender on the
     * root logger; SparkContext logs at INFO, where {@code spark.logConf} prints Spark's configuration.
     */
    private static final class Capture {
        private final ByteArrayOutputStream streams = new ByteArrayOutputStream();
        private final StringWriter logs = new StringWriter();
        private final PrintStream out = System.out;
        private final PrintStream err = System.err;
        private final Map<String, Level> levels = new LinkedHashMap<>();
        private WriterAppender appender;

        static Capture start() {
            Capture c = new Capture();
            PrintStream both = new PrintStream(c.streams, true, StandardCharsets.UTF_8);
            System.setOut(both);
            System.setErr(both);
            LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
            Configuration config = ctx.getConfiguration();
            c.appender = WriterAppender.newBuilder().setName("credential-capture").setTarget(c.logs)
                    .setLayout(PatternLayout.newBuilder().withPattern("%p %c: %m%n%ex").build()).build();
            c.appender.start();
            config.addAppender(c.appender);
            // Every logger is additive, so the root's appenders see every event that passes its logger's level.
            config.getRootLogger().addAppender(c.appender, Level.ALL, null);
            ctx.updateLoggers();
            for (String name : List.of("org.apache.spark.SparkContext")) {
                c.levels.put(name, LogManager.getLogger(name).getLevel());
                Configurator.setLevel(name, Level.INFO);
            }
            return c;
        }

        int run(String[] args) {
            return PareCli.commandLine().execute(args);
        }

        void stop() {
            System.out.flush();
            System.err.flush();
            System.setOut(out);
            System.setErr(err);
            levels.forEach(Configurator::setLevel);
            LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
            Configuration config = ctx.getConfiguration();
            config.getRootLogger().removeAppender(appender.getName());
            ctx.updateLoggers();
            appender.stop();
        }

        String text() {
            return streams.toString(StandardCharsets.UTF_8) + "\n" + logs;
        }
    }
}
