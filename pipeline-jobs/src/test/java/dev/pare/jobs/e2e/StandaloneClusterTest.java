package dev.pare.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pare.common.model.Networks;
import dev.pare.jobs.cli.PareCli;
import dev.pare.jobs.support.LocalSpark;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pare-cluster.jar} submitted with spark-submit semantics (client mode, {@code SparkSubmit} in a
 * child JVM) to a Spark standalone cluster on this machine ({@code deploy/standalone-cluster.sh}: one
 * master, two one-core workers) gives the same calibration statistics, masks and student as the same
 * command in local[2], and so does data-parallel distillation on the executors
 * ({@code distill.distributed.enabled}). The driver and executors see only Spark's classpath
 * ({@code target/spark-classpath.txt}), so DL4J and Pare come from the jar, as on a real cluster.
 * Tagged {@code cluster}: never part of the test phase; {@code mvn verify -Pcluster-it} runs it after
 * package.
 */
@Tag("cluster")
class StandaloneClusterTest {
    private static final Path ROOT = LocalSpark.repoRoot();
    private static final Path TARGET = ROOT.resolve("pipeline-jobs/target");
    private static final Path JAR = TARGET.resolve("pare-cluster.jar");
    private static final Path SPARK_CLASSPATH = TARGET.resolve("spark-classpath.txt");
    /** The cluster's work folder (logs, PID files, executors' folders), kept after the test for reading. */
    private static final Path WORK = TARGET.resolve("cluster-it");
    private static final String BUILD = "build it with `mvn -B -Pdist -DskipTests package` (or run "
            + "`mvn -B verify -Pcluster-it`, which builds it and then runs this test)";
    private static final String[] SMALL = {"--set", "selection.fraction=0.1", "--set", "distill.epochs=1",
        "--set", "calibration.samples=512"};

    private static String masterUrl;

    @BeforeAll
    static void startCluster() throws Exception {
        for (Path p : List.of(JAR, SPARK_CLASSPATH)) {
            if (!Files.isRegularFile(p)) {
                fail(p + " is missing: " + BUILD);
            }
        }
        try (Stream<Path> classes = Files.walk(TARGET.resolve("classes"))) {
            FileTime built = Files.getLastModifiedTime(JAR);
            Path newer = classes.filter(Files::isRegularFile)
                    .filter(p -> lastModified(p).compareTo(built) > 0).findFirst().orElse(null);
            if (newer != null) {
                fail(JAR + " is older than " + newer + ": " + BUILD);
            }
        }
        // A cluster left behind by a killed run of this test is stopped first (only its recorded PIDs).
        script("stop", Map.of());
        Script start = script("start", Map.of(
                "PARE_MASTER_PORT", String.valueOf(freePort()),
                "PARE_MASTER_WEBUI_PORT", String.valueOf(freePort())));
        assertEquals(0, start.exitCode, "deploy/standalone-cluster.sh start failed:\n" + start.output);
        Matcher m = Pattern.compile("spark://127\\.0\\.0\\.1:\\d+").matcher(start.output);
        assertTrue(m.find(), "no master URL in:\n" + start.output);
        masterUrl = m.group();
    }

    @AfterAll
    static void stopCluster() throws Exception {
        Script stop = script("stop", Map.of());
        assertEquals(0, stop.exitCode, "deploy/standalone-cluster.sh stop failed:\n" + stop.output);
        Script status = script("status", Map.of());
        assertTrue(!status.output.contains(" alive"), "a cluster process survived stop:\n" + status.output);
    }

    @Test
    void runOnTheClusterEqualsRunInLocalMode(@TempDir Path tmp) throws Exception {
        Path clusterRun = tmp.resolve("cluster");
        Path localRun = tmp.resolve("local");

        Path log = WORK.resolve("submit.log");
        long t0 = System.nanoTime();
        int rc = submit(LocalSpark.demoArgs("run", clusterRun, SMALL), log);
        double clusterSeconds = (System.nanoTime() - t0) / 1e9;
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, rc, "spark-submit of pare run failed; " + log + " ends with:\n" + tail(out, 60));

        // The work really ran on the cluster: both workers started an executor of this application,
        // and each executor fetched the submitted jar (it is not on the executors' classpath otherwise).
        Matcher app = Pattern.compile("Connected to Spark cluster with app ID (app-[\\w-]+)").matcher(out);
        assertTrue(app.find(), "no application id in " + log);
        for (String worker : List.of("worker-1", "worker-2")) {
            Path appDir = WORK.resolve(worker).resolve(app.group(1));
            try (Stream<Path> executors = Files.list(appDir)) {
                assertTrue(executors.anyMatch(e -> Files.isRegularFile(e.resolve("pare-cluster.jar"))),
                        worker + " ran no executor with pare-cluster.jar in " + appDir);
            } catch (java.nio.file.NoSuchFileException e) {
                fail(worker + " ran no executor of " + app.group(1) + " (" + appDir + " missing)");
            }
        }

        t0 = System.nanoTime();
        assertEquals(0, PareCli.commandLine().execute(
                LocalSpark.demoArgs("run", localRun, concat(SMALL, "--master", "local[2]"))));
        double localSeconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("pare run: standalone cluster %.1f s (submit to exit), local[2] in process %.1f s%n",
                clusterSeconds, localSeconds);

        // Calibration shards are merged in partition order and masks break ties by index, so the
        // executors' placement must not change a single byte.
        for (String file : List.of("calibration/statistics.json", "pruned/masks.bin")) {
            byte[] local = Files.readAllBytes(localRun.resolve(file));
            assertTrue(local.length > 0, file + " is empty");
            assertArrayEquals(local, Files.readAllBytes(clusterRun.resolve(file)), file + " differs");
        }
        // The student (selection in Spark, distillation on the driver): same parameters, bit for bit.
        // The zips themselves differ only in their entries' time stamps.
        float[] local = student(localRun);
        float[] cluster = student(clusterRun);
        assertEquals(266_610, local.length, "LeNet-300-100 parameters");
        assertArrayEquals(local, cluster, "student parameters differ");

        // Data-parallel distillation (2 workers): executors in separate JVMs train the same student,
        // bit for bit, as local[2] (the workers' results are averaged in partition order).
        String[] distributed = concat(SMALL, "--force", "--set", "distill.distributed.enabled=true",
                "--set", "distill.distributed.workers=2", "--set", "distill.distributed.averaging-frequency=3");
        Path distributedLog = WORK.resolve("submit-distributed.log");
        rc = submit(LocalSpark.demoArgs("distill", clusterRun, distributed), distributedLog);
        assertEquals(0, rc, "spark-submit of pare distill failed; " + distributedLog + " ends with:\n"
                + tail(Files.readString(distributedLog, StandardCharsets.UTF_8), 60));
        assertEquals(0, PareCli.commandLine().execute(
                LocalSpark.demoArgs("distill", localRun, concat(distributed, "--master", "local[2]"))));
        assertTrue(new com.fasterxml.jackson.databind.ObjectMapper().readTree(clusterRun.resolve(
                "distill/provenance.json").toFile()).path("details").path("distributed").asBoolean(),
                "the cluster's distill did not run data-parallel");
        float[] localDistributed = student(localRun);
        assertArrayEquals(localDistributed, student(clusterRun), "data-parallel students differ");
        assertTrue(!java.util.Arrays.equals(local, localDistributed), "the data-parallel student is another model");
    }

    private static float[] student(Path runDir) throws IOException {
        Path zip = runDir.resolve("distill/student/model.zip");
        assertTrue(Files.isRegularFile(zip), zip + " missing");
        MultiLayerNetwork net = Networks.read(Files.readAllBytes(zip), zip.toString(), false);
        return net.params().toFloatVector();
    }

    /** {@code java -cp <Spark's classpath> org.apache.spark.deploy.SparkSubmit ... pare-cluster.jar args}. */
    private static int submit(String[] pareArgs, Path log) throws Exception {
        // The JVM flags this test JVM got from Maven: Spark's --add-opens list and JavaCPP's cache folder
        // (its natives are already unpacked there, by this JVM or an earlier run).
        List<String> jvmFlags = new ArrayList<>();
        String cacheDir = null;
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens") || a.startsWith("-XX:+IgnoreUnrecognizedVMOptions")
                    || a.startsWith("-Djdk.reflect.") || a.startsWith("-Dhadoop.tmp.dir=")) {
                jvmFlags.add(a);
            } else if (a.startsWith("-Dorg.bytedeco.javacpp.cachedir=")) {
                jvmFlags.add(a);
                cacheDir = a;
            }
        }
        List<String> cmd = new ArrayList<>(List.of(javaBin(), "-Xmx2g"));
        cmd.addAll(jvmFlags);
        cmd.addAll(List.of("-cp", Files.readString(SPARK_CLASSPATH).trim(), "org.apache.spark.deploy.SparkSubmit",
                "--master", masterUrl, "--deploy-mode", "client", "--name", "pare-cluster-it",
                "--class", PareCli.class.getName(),
                "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
                "--executor-memory", "2g", "--executor-cores", "1", "--total-executor-cores", "2",
                // As Pare's local sessions; Spark's default of 200 only costs time on 2 cores.
                "--conf", "spark.sql.shuffle.partitions=4",
                "--conf", "spark.ui.enabled=false"));
        if (cacheDir != null) {
            cmd.addAll(List.of("--conf", "spark.executor.extraJavaOptions=" + cacheDir));
        }
        cmd.add(JAR.toString());
        cmd.addAll(List.of(pareArgs));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        Process p = pb.start();
        if (!p.waitFor(8, TimeUnit.MINUTES)) {
            p.destroyForcibly().waitFor();
            fail("spark-submit did not finish in 8 minutes; see " + log);
        }
        return p.exitValue();
    }

    private record Script(int exitCode, String output) {}

    private static Script script(String command, Map<String, String> env) throws Exception {
        Files.createDirectories(WORK);
        ProcessBuilder pb = new ProcessBuilder("bash", ROOT.resolve("deploy/standalone-cluster.sh").toString(),
                command, WORK.toString()).directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        // The daemons write to their own log files, so the output ends when the script does.
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("deploy/standalone-cluster.sh " + command + " did not finish:\n" + output);
        }
        return new Script(p.exitValue(), output);
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static FileTime lastModified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static String tail(String s, int lines) {
        String[] all = s.split("\n");
        return String.join("\n", java.util.Arrays.asList(all).subList(Math.max(0, all.length - lines), all.length));
    }
}
