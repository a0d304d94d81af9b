package dev.pare.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The Airflow DAG of {@code deploy/airflow/pare_dag.py}, loaded by {@code dag_check.py} against the
 * fake {@code airflow} package (no Airflow needed): its tasks, their dependencies and settings, and
 * that every task's {@code application_args} are accepted by the real {@code pare} command line.
 * Skipped only when {@code python3} cannot be started.
 */
class AirflowDagTest {
    private static final String DATE = "2026-11-25";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * What each stage reads from the run directory, from the Stage classes: select-data the scores;
     * prune the calibration statistics; distill the pruned model, the subset and the teacher logits
     * (calibration only through prune); evaluate the pruned and distilled models; report the evaluation.
     */
    private static final Map<String, Set<String>> UPSTREAM = new LinkedHashMap<>();

    static {
        UPSTREAM.put("calibrate", Set.of());
        UPSTREAM.put("score-data", Set.of());
        UPSTREAM.put("select-data", Set.of("score-data"));
        UPSTREAM.put("prune", Set.of("calibrate"));
        UPSTREAM.put("distill", Set.of("prune", "select-data", "score-data"));
        UPSTREAM.put("evaluate", Set.of("distill"));
        UPSTREAM.put("report", Set.of("evaluate"));
    }

    @TempDir
    static Path tmp;

    private static Path repo;
    private static JsonNode dag;

    private record Result(int exit, String out, String err) {}

    @BeforeAll
    static void loadDag() throws Exception {
        boolean python;
        try {
            Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true).start();
            python = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            python = false;
        }
        Assumptions.assumeTrue(python, "python3 cannot be started: the Airflow DAG check needs it on PATH");
        Path here = Paths.get("").toAbsolutePath();
        repo = here.getFileName().toString().startsWith("pipeline-") ? here.getParent() : here;
        Result r = dagCheck(DATE, null);
        assertEquals(0, r.exit(), "dag_check.py failed: " + r.err());
        dag = MAPPER.readTree(r.out());
    }

    /** Runs dag_check.py for {@code date}; {@code variable} is AIRFLOW_VAR_PARE_DAG, or unset when null. */
    private static Result dagCheck(String date, String variable) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("python3", "deploy/airflow/dag_check.py", date).directory(repo.toFile());
        pb.environment().remove("AIRFLOW_VAR_PARE_DAG");
        if (variable != null) {
            pb.environment().put("AIRFLOW_VAR_PARE_DAG", variable);
        }
        pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        Path err = Files.createTempFile(tmp, "dag-check", ".err");
        pb.redirectError(err.toFile());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("dag_check.py did not finish in 60 s");
        }
        return new Result(p.exitValue(), out, Files.readString(err));
    }

    private static Map<String, JsonNode> tasks(JsonNode doc) {
        Map<String, JsonNode> m = new LinkedHashMap<>();
        doc.path("tasks").forEach(t -> m.put(t.path("task_id").asText(), t));
        return m;
    }

    private static List<String> strings(JsonNode array) {
        List<String> l = new ArrayList<>();
        array.forEach(n -> l.add(n.asText()));
        return l;
    }

    @Test
    void dagSettings() {
        assertEquals("pare", dag.path("dag_id").asText());
        assertTrue(dag.path("schedule").isNull(), "triggered by hand by default: " + dag.path("schedule"));
        assertFalse(dag.path("catchup").asBoolean(true));
        assertEquals(1, dag.path("max_active_runs").asInt());
        // One command at a time per run directory (_LOCK): parallel stages would be refused.
        assertEquals(1, dag.path("max_active_tasks").asInt());
    }

    @Test
    void sevenStagesWithTheirRealDependencies() {
        Map<String, JsonNode> t = tasks(dag);
        assertEquals(UPSTREAM.keySet(), t.keySet());
        List<String> seen = new ArrayList<>();
        for (JsonNode task : dag.path("tasks")) {
            String id = task.path("task_id").asText();
            assertEquals(UPSTREAM.get(id), new HashSet<>(strings(task.path("upstream"))), "upstream of " + id);
            // dag_check lists tasks upstream first.
            assertTrue(seen.containsAll(UPSTREAM.get(id)), id + " listed before its upstream: " + seen);
            seen.add(id);
        }
    }

    @Test
    void calibrateRunsBeforeScoreDataWhenBothAreReady() {
        // Airflow queues ready tasks by their total priority weight (own + downstream by default): calibrate
        // first, so that its sample pass checks the training set and score-data takes the check's record.
        Map<String, JsonNode> t = tasks(dag);
        assertEquals(6, t.get("calibrate").path("priority_weight_total").asInt());
        assertEquals(5, t.get("score-data").path("priority_weight_total").asInt());
        // Every other task weighs 1: report alone, evaluate with report, and so on.
        assertEquals(1, t.get("report").path("priority_weight_total").asInt());
        assertEquals(3, t.get("distill").path("priority_weight_total").asInt());
    }

    @Test
    void everyTaskSubmitsThePareCliWithRetries() {
        for (JsonNode task : dag.path("tasks")) {
            String id = task.path("task_id").asText();
            assertEquals("SparkSubmitOperator", task.path("operator").asText(), id);
            assertEquals("spark_default", task.path("conn_id").asText(), id);
            assertEquals("/opt/pare/pare-cluster.jar", task.path("application").asText(), id);
            assertEquals("dev.pare.jobs.cli.PareCli", task.path("java_class").asText(), id);
            assertTrue(task.path("retries").asInt() >= 1, id + " retries " + task.path("retries"));
            assertTrue(task.path("retry_delay_seconds").asDouble() > 0, id);
            assertEquals("1", task.path("conf").path("spark.executorEnv.OMP_NUM_THREADS").asText(), id);
            assertEquals("PASSIVE", task.path("conf").path("spark.executorEnv.OMP_WAIT_POLICY").asText(), id);
            // The driver's JIT options are those Pare gives the executors of a stage that does not train.
            assertEquals(id.equals("distill") ? "" : dev.pare.jobs.spark.JitThresholds.FLAGS,
                    task.path("conf").path("spark.driver.extraJavaOptions").asText(), id);
            assertEquals("pare-" + id + "-" + DATE, task.path("name").asText(), id);
            List<String> args = strings(task.path("application_args"));
            assertEquals(id, args.get(0));
            assertEquals(List.of("--config", "/opt/pare/conf/cluster.conf", "--run-dir", "hdfs:///pare/runs/" + DATE),
                    args.subList(1, 5), id);
            assertEquals(id.equals("distill") ? List.of("--resume") : List.of(), args.subList(5, args.size()), id);
        }
    }

    @Test
    void everyTasksArgumentsParseWithThePareCommandLine() {
        for (JsonNode task : dag.path("tasks")) {
            String id = task.path("task_id").asText();
            String[] args = strings(task.path("application_args")).toArray(String[]::new);
            CommandLine.ParseResult parsed = PareCli.commandLine().parseArgs(args);
            assertTrue(parsed.hasSubcommand(), id);
            CommandLine.ParseResult sub = parsed.subcommand();
            assertEquals(id, sub.commandSpec().name());
            assertEquals("hdfs:///pare/runs/" + DATE, sub.matchedOptionValue("--run-dir", (String) null), id);
            assertEquals(new File("/opt/pare/conf/cluster.conf"), sub.matchedOptionValue("--config", (File) null), id);
            assertEquals(id.equals("distill"), sub.hasMatchedOption("--resume"), id);
            assertFalse(sub.hasMatchedOption("--force"), id + ": the DAG must never force a changed config");
        }
    }

    @Test
    void theCommandLineCheckRejectsBadArguments() {
        String runDir = "hdfs:///pare/runs/" + DATE;
        String[] bogus = {"prune", "--config", "/opt/pare/conf/cluster.conf", "--run-dir", runDir, "--bogus"};
        CommandLine.ParameterException e =
                assertThrows(CommandLine.ParameterException.class, () -> PareCli.commandLine().parseArgs(bogus));
        assertTrue(e.getMessage().contains("--bogus"), e.getMessage());
        // --resume exists only on distill and run.
        assertThrows(CommandLine.ParameterException.class, () -> PareCli.commandLine()
                .parseArgs("prune", "--config", "/opt/pare/conf/cluster.conf", "--run-dir", runDir, "--resume"));
        // --run-dir is required.
        assertThrows(CommandLine.ParameterException.class,
                () -> PareCli.commandLine().parseArgs("calibrate", "--config", "/opt/pare/conf/cluster.conf"));
        assertThrows(CommandLine.ParameterException.class,
                () -> PareCli.commandLine().parseArgs("distil", "--run-dir", runDir));
    }

    @Test
    void theVariableOverridesDefaultsAndTheDateRendersTheRunDir() throws Exception {
        Result r = dagCheck("2027-01-02",
                "{\"run_base\": \"s3a://bucket/pare/\", \"jar\": \"hdfs:///jars/pare.jar\", \"retries\": 5,"
                        + " \"schedule\": \"@daily\", \"spark_conf\": {\"spark.executor.memoryOverhead\": \"2g\"}}");
        assertEquals(0, r.exit(), r.err());
        JsonNode doc = MAPPER.readTree(r.out());
        assertEquals("@daily", doc.path("schedule").asText());
        Map<String, JsonNode> t = tasks(doc);
        assertEquals(UPSTREAM.keySet(), t.keySet());
        for (JsonNode task : t.values()) {
            String id = task.path("task_id").asText();
            List<String> args = strings(task.path("application_args"));
            assertEquals("s3a://bucket/pare/2027-01-02", args.get(args.indexOf("--run-dir") + 1), id);
            assertEquals("hdfs:///jars/pare.jar", task.path("application").asText(), id);
            assertEquals(5, task.path("retries").asInt(), id);
            assertEquals("2g", task.path("conf").path("spark.executor.memoryOverhead").asText(), id);
            assertEquals("1", task.path("conf").path("spark.executorEnv.OMP_NUM_THREADS").asText(), id);
        }
    }

    @Test
    void anUnknownVariableKeyIsRefused() throws Exception {
        Result r = dagCheck(DATE, "{\"run_bsae\": \"s3a://bucket/pare\"}");
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.err().contains("unknown key(s) ['run_bsae']"), r.err());
        assertTrue(r.err().contains("'run_base'"), "the message lists the valid keys: " + r.err());
    }
}
