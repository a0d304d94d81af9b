package dev.pare.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pare.jobs.cli.PareCli;
import dev.pare.jobs.spark.CalibrationJob;
import dev.pare.jobs.support.LocalSpark;
import dev.pare.jobs.support.StandaloneCluster;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An executor lost in the middle of {@code calibrate} on the standalone cluster changes nothing: the
 * test watches the driver's REST API and, once half of the calibration shards are done, kills with
 * SIGKILL an executor JVM ({@code CoarseGrainedExecutorBackend}, a child of one Worker) that is
 * running one of the others. Spark reruns the lost task and recomputes the shards cached on the lost
 * executor, the Worker starts a replacement, {@code pare calibrate} finishes, and its statistics are
 * byte-identical to local[2]: a shard's statistics depend only on its rows, never on the executor or
 * on what that executor computed before. The driver's event log shows that the kill happened
 * mid-stage (a calibration task failed with {@code ExecutorLostFailure} on the killed executor), the
 * workers' folders that a replacement executor was launched. Tagged {@code cluster};
 * {@code mvn verify -Pcluster-it} runs it.
 */
@Tag("cluster")
class ExecutorLossTest {
    private static final int SHARDS = 16;
    /**
     * Taylor needs gradients, so each shard also runs backward passes through the executor's cached
     * network; 16 shards of 512 rows take about half a second each on a one-core executor, long enough
     * to see the stage half done and kill an executor while it is busy.
     */
    private static final String[] SETTINGS = {"--set", "prune.criterion=taylor", "--set", "calibration.samples=8192",
        "--set", "calibration.partitions=" + SHARDS, "--set", "calibration.gradient-batch-size=64"};
    private static final ObjectMapper JSON = new ObjectMapper();

    private static StandaloneCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = StandaloneCluster.start();
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Executor {@code executorId} (process {@code pid}), killed with {@code complete} of {@code tasks} done. */
    private record Kill(String app, int stageId, String executorId, long pid, int complete, int tasks) {}

    @Test
    void anExecutorKilledHalfwayThroughCalibrationChangesNoByteOfTheStatistics(@TempDir Path tmp) throws Exception {
        Path clusterRun = tmp.resolve("cluster");
        Path events = StandaloneCluster.WORK.resolve("events");
        Files.createDirectories(events);
        int uiPort = StandaloneCluster.freePort();
        Map<String, String> conf = Map.of(
                // The driver's REST API on a known port; a taken port fails the submit instead of moving on.
                "spark.ui.enabled", "true", "spark.ui.port", String.valueOf(uiPort), "spark.port.maxRetries", "0",
                "spark.eventLog.enabled", "true", "spark.eventLog.dir", events.toUri().toString());
        Path log = StandaloneCluster.WORK.resolve("executor-loss.log");

        long t0 = System.nanoTime();
        Process driver = cluster.submit(conf, LocalSpark.demoArgs("calibrate", clusterRun, SETTINGS), log);
        Kill kill;
        try {
            kill = killAnExecutorHalfwayThroughCalibration(driver, uiPort, log);
        } catch (Throwable t) {
            driver.destroyForcibly().waitFor();
            throw t;
        }
        int rc = StandaloneCluster.waitFor(driver, log);
        double clusterSeconds = (System.nanoTime() - t0) / 1e9;
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, rc, "pare calibrate did not survive the loss of executor " + kill.executorId + "; " + log
                + " ends with:\n" + StandaloneCluster.tail(out, 60));

        // The driver's event log: a calibration task lost with the executor, which was then removed.
        List<JsonNode> recorded = eventLog(events, kill.app);
        assertTrue(recorded.stream().anyMatch(e -> e.path("Event").asText().equals("SparkListenerTaskEnd")
                && e.path("Stage ID").asInt() == kill.stageId
                && e.at("/Task End Reason/Reason").asText().equals("ExecutorLostFailure")
                && e.at("/Task Info/Executor ID").asText().equals(kill.executorId)),
                "no calibration task of stage " + kill.stageId + " failed with executor " + kill.executorId
                        + ": the kill did not hit a running shard");
        assertTrue(recorded.stream().anyMatch(e -> e.path("Event").asText().equals("SparkListenerExecutorRemoved")
                && e.path("Executor ID").asText().equals(kill.executorId)), "executor " + kill.executorId
                + " was not removed");
        // The workers' side: one folder per executor launched for the application, the replacement's too.
        Set<String> launched = new TreeSet<>();
        for (int worker = 1; worker <= 2; worker++) {
            Path appDir = cluster.workerDir(worker).resolve(kill.app);
            if (Files.isDirectory(appDir)) {
                try (Stream<Path> executors = Files.list(appDir)) {
                    executors.forEach(e -> launched.add(e.getFileName().toString()));
                }
            }
        }
        assertTrue(launched.contains(kill.executorId) && launched.size() >= 3,
                "executors the workers launched: " + launched + "; expected a replacement for " + kill.executorId);
        Set<String> registered = new TreeSet<>();
        recorded.stream().filter(e -> e.path("Event").asText().equals("SparkListenerExecutorAdded"))
                .forEach(e -> registered.add(e.path("Executor ID").asText()));

        // The reference: the same command in local[2], in this JVM.
        Path localRun = tmp.resolve("local");
        long t1 = System.nanoTime();
        assertEquals(0, PareCli.commandLine().execute(LocalSpark.demoArgs("calibrate", localRun,
                concat(SETTINGS, "--master", "local[2]"))), "calibrate in local[2]");
        System.out.printf("executor %s (pid %d) killed with %d of %d calibration shards done; pare calibrate on the"
                        + " cluster %.1f s (submit to exit), executors launched %s, registered %s; local[2] %.1f s%n",
                kill.executorId, kill.pid, kill.complete, kill.tasks, clusterSeconds, launched, registered,
                (System.nanoTime() - t1) / 1e9);
        String file = "calibration/statistics.json";
        byte[] local = Files.readAllBytes(localRun.resolve(file));
        assertTrue(local.length > 0, file + " is empty");
        assertArrayEquals(local, Files.readAllBytes(clusterRun.resolve(file)), file + " differs after the kill");
    }

    /**
     * Polls the driver's REST API until the per-shard calibration stage (the stage of
     * {@link CalibrationJob#JOB_DESCRIPTION} with one task per shard) has half of its tasks done,
     * then SIGKILLs an executor that is running one of the rest.
     */
    private static Kill killAnExecutorHalfwayThroughCalibration(Process driver, int uiPort, Path log)
            throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        String api = "http://127.0.0.1:" + uiPort + "/api/v1/applications";
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        String app = null;
        String lastSeen = "nothing";
        while (System.nanoTime() < deadline) {
            if (!driver.isAlive()) {
                fail("the driver exited (" + driver.exitValue() + ") before the calibration stage was seen half done"
                        + " (last seen: " + lastSeen + "); " + log + " ends with:\n"
                        + StandaloneCluster.tail(Files.readString(log, StandardCharsets.UTF_8), 40));
            }
            if (app == null) {
                app = get(http, api).map(a -> a.path(0).path("id").asText(null)).orElse(null);
            } else {
                JsonNode stages = get(http, api + "/" + app + "/stages?status=active").orElse(JSON.createArrayNode());
                for (JsonNode s : stages) {
                    if (!s.path("description").asText().equals(CalibrationJob.JOB_DESCRIPTION)
                            || s.path("numTasks").asInt() != SHARDS) {
                        continue;
                    }
                    int complete = s.path("numCompleteTasks").asInt();
                    lastSeen = "stage " + s.path("stageId").asInt() + " with " + complete + " of " + SHARDS + " done";
                    if (complete * 2 < SHARDS) {
                        continue;
                    }
                    if (complete >= SHARDS) {
                        fail("the calibration stage went from fewer than half to all of its tasks done between two"
                                + " polls; " + lastSeen);
                    }
                    Optional<String> busy = get(http, api + "/" + app + "/executors").stream()
                            .flatMap(a -> toList(a).stream())
                            .filter(e -> !e.path("id").asText().equals("driver") && e.path("activeTasks").asInt() > 0)
                            .map(e -> e.path("id").asText()).findFirst();
                    if (busy.isPresent()) {
                        ProcessHandle executor = executorProcess(app, busy.get());
                        executor.destroyForcibly();
                        executor.onExit().get(30, TimeUnit.SECONDS);
                        return new Kill(app, s.path("stageId").asInt(), busy.get(), executor.pid(), complete, SHARDS);
                    }
                }
            }
            Thread.sleep(100);
        }
        fail("the calibration stage was not seen half done within 5 minutes (last seen: " + lastSeen + ")");
        return null;
    }

    /** The JSON at {@code url}, or empty while the driver's UI does not answer yet. */
    private static Optional<JsonNode> get(HttpClient http, String url) throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5))
                    .build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? Optional.of(JSON.readTree(r.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static List<JsonNode> toList(JsonNode array) {
        List<JsonNode> l = new ArrayList<>();
        array.forEach(l::add);
        return l;
    }

    /**
     * The {@code CoarseGrainedExecutorBackend} JVM of executor {@code id} of {@code app}, started by a
     * Worker of this test's cluster (its work folder is on the Worker's command line), so that no other
     * process on the machine can be taken for it.
     */
    private static ProcessHandle executorProcess(String app, String id) throws IOException {
        Set<String> work = new java.util.HashSet<>(List.of("-Dpare.cluster.work=" + StandaloneCluster.WORK + " ",
                "-Dpare.cluster.work=" + StandaloneCluster.WORK.toRealPath() + " "));
        List<ProcessHandle> found = ProcessHandle.allProcesses().filter(p -> {
            String cmd = commandLine(p);
            return cmd.contains(" org.apache.spark.executor.CoarseGrainedExecutorBackend ")
                    && cmd.contains(" --app-id " + app + " ") && cmd.contains(" --executor-id " + id + " ")
                    && p.parent().map(w -> {
                        String worker = commandLine(w);
                        return worker.contains(" org.apache.spark.deploy.worker.Worker ")
                                && work.stream().anyMatch(worker::contains);
                    }).orElse(false);
        }).toList();
        assertEquals(1, found.size(), "executor " + id + " of " + app + ": processes " + found);
        return found.get(0);
    }

    /** {@code /proc/<pid>/cmdline} with spaces for separators and around it; empty when unreadable. */
    private static String commandLine(ProcessHandle p) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", String.valueOf(p.pid()), "cmdline"));
            return " " + new String(raw, StandardCharsets.UTF_8).replace('\0', ' ') + " ";
        } catch (IOException e) {
            return "";
        }
    }

    /** The driver's event log of {@code app}: one JSON event per line. */
    private static List<JsonNode> eventLog(Path dir, String app) throws IOException {
        Path file = dir.resolve(app);
        assertTrue(Files.isRegularFile(file), "no event log " + file + " (the driver did not stop cleanly?)");
        List<JsonNode> events = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                events.add(JSON.readTree(line));
            }
        }
        return events;
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
