package dev.pare.jobs.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pare.jobs.cli.PareCli;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The Spark standalone cluster of {@code deploy/standalone-cluster.sh} (one master, two one-core
 * workers on 127.0.0.1) for the tests tagged {@code cluster}, and {@code pare-cluster.jar} submitted
 * to it with spark-submit semantics: {@code SparkSubmit} in a child JVM, client mode, with only
 * Spark's classpath ({@code target/spark-classpath.txt}), so DL4J and Pare come from the jar as on a
 * real cluster. Start it in {@code @BeforeAll}, {@link #close} it in {@code @AfterAll}; only the
 * processes the script recorded are stopped.
 */
public final class StandaloneCluster implements AutoCloseable {
    private static final Path ROOT = LocalSpark.repoRoot();
    private static final Path TARGET = ROOT.resolve("pipeline-jobs/target");
    public static final Path JAR = TARGET.resolve("pare-cluster.jar");
    /** The jar with Spark inside, for {@code java -jar} in local mode. */
    public static final Path LOCAL_JAR = TARGET.resolve("pare-local.jar");
    private static final Path SPARK_CLASSPATH = TARGET.resolve("spark-classpath.txt");
    /** The cluster's work folder (logs, PID files, workers' folders, submit logs), kept after the test. */
    public static final Path WORK = TARGET.resolve("cluster-it");
    private static final String BUILD = "build it with `mvn -B -Pdist -DskipTests package` (or run "
            + "`mvn -B verify -Pcluster-it`, which builds it and then runs this test)";
    private static final Pattern APP_ID = Pattern.compile("Connected to Spark cluster with app ID (app-[\\w-]+)");

    private final String masterUrl;

    private StandaloneCluster(String masterUrl) {
        this.masterUrl = masterUrl;
    }

    /** Checks that the jar is built and fresh, stops a cluster left behind, starts one on free ports. */
    public static StandaloneCluster start() throws Exception {
        requireBuilt(JAR);
        if (!Files.isRegularFile(SPARK_CLASSPATH)) {
            fail(SPARK_CLASSPATH + " is missing: " + BUILD);
        }
        // A cluster left behind by a killed test run is stopped first (only its recorded PIDs).
        script("stop", Map.of());
        Script start = script("start", Map.of(
                "PARE_MASTER_PORT", String.valueOf(freePort()),
                "PARE_MASTER_WEBUI_PORT", String.valueOf(freePort())));
        assertEquals(0, start.exitCode, "deploy/standalone-cluster.sh start failed:\n" + start.output);
        Matcher m = Pattern.compile("spark://127\\.0\\.0\\.1:\\d+").matcher(start.output);
        assertTrue(m.find(), "no master URL in:\n" + start.output);
        return new StandaloneCluster(m.group());
    }

    /** Fails unless {@code jar} (one of the module's shaded jars) exists and is newer than every compiled class. */
    public static void requireBuilt(Path jar) throws IOException {
        if (!Files.isRegularFile(jar)) {
            fail(jar + " is missing: " + BUILD);
        }
        try (Stream<Path> classes = Files.walk(TARGET.resolve("classes"))) {
            FileTime built = Files.getLastModifiedTime(jar);
            Path newer = classes.filter(Files::isRegularFile)
                    .filter(p -> lastModified(p).compareTo(built) > 0).findFirst().orElse(null);
            if (newer != null) {
                fail(jar + " is older than " + newer + ": " + BUILD);
            }
        }
    }

    public String masterUrl() {
        return masterUrl;
    }

    /** Worker {@code i}'s folder (1-based): one sub-folder per application, one per executor in that. */
    public Path workerDir(int i) {
        return WORK.resolve("worker-" + i);
    }

    /** Stops the recorded processes and checks that none survived. */
    @Override
    public void close() throws Exception {
        Script stop = script("stop", Map.of());
        assertEquals(0, stop.exitCode, "deploy/standalone-cluster.sh stop failed:\n" + stop.output);
        Script status = script("status", Map.of());
        assertTrue(!status.output.contains(" alive"), "a cluster process survived stop:\n" + status.output);
    }

    /**
     * Starts {@code java -cp <Spark's classpath> org.apache.spark.deploy.SparkSubmit ... pare-cluster.jar
     * pareArgs} (client mode, two one-core executors of 2 GB), its output going to {@code log}.
     *
     * @param conf {@code --conf}s added to, or replacing, the defaults (UI off, 4 shuffle partitions)
     */
    public Process submit(Map<String, String> conf, String[] pareArgs, Path log) throws IOException {
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
        Map<String, String> all = new LinkedHashMap<>();
        all.put("spark.driver.host", "127.0.0.1");
        all.put("spark.driver.bindAddress", "127.0.0.1");
        // As Pare's local sessions; Spark's default of 200 only costs time on 2 cores.
        all.put("spark.sql.shuffle.partitions", "4");
        all.put("spark.ui.enabled", "false");
        if (cacheDir != null) {
            all.put("spark.executor.extraJavaOptions", cacheDir);
        }
        all.putAll(conf);
        List<String> cmd = new ArrayList<>(List.of(javaBin(), "-Xmx2g"));
        cmd.addAll(jvmFlags);
        cmd.addAll(List.of("-cp", Files.readString(SPARK_CLASSPATH).trim(), "org.apache.spark.deploy.SparkSubmit",
                "--master", masterUrl, "--deploy-mode", "client", "--name", "pare-cluster-it",
                "--class", PareCli.class.getName(),
                "--executor-memory", "2g", "--executor-cores", "1", "--total-executor-cores", "2"));
        all.forEach((k, v) -> cmd.addAll(List.of("--conf", k + "=" + v)));
        cmd.add(JAR.toString());
        cmd.addAll(List.of(pareArgs));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        // As a driver that spark-submit starts from a plain shell: Pare sets OpenMP's threads and wait policy itself
        // (DriverNative), where this JVM's environment (surefire's) has them.
        pb.environment().remove("OMP_NUM_THREADS");
        pb.environment().remove("OMP_WAIT_POLICY");
        return pb.start();
    }

    /** Waits up to 8 minutes for a {@link #submit}ted command; returns its exit code. */
    public static int waitFor(Process p, Path log) throws InterruptedException {
        if (!p.waitFor(8, TimeUnit.MINUTES)) {
            p.destroyForcibly().waitFor();
            fail("spark-submit did not finish in 8 minutes; see " + log);
        }
        return p.exitValue();
    }

    /** The application id a submitted driver logged, or null before it connected. */
    public static String appId(String submitLog) {
        Matcher m = APP_ID.matcher(submitLog);
        return m.find() ? m.group(1) : null;
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

    /** The {@code java} of this test JVM's runtime. */
    public static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static FileTime lastModified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The last {@code lines} lines of {@code s}, for failure messages. */
    public static String tail(String s, int lines) {
        String[] all = s.split("\n");
        return String.join("\n", Arrays.asList(all).subList(Math.max(0, all.length - lines), all.length));
    }
}
