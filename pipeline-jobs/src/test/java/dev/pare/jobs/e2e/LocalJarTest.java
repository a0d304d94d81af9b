package dev.pare.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pare.jobs.cli.PareCli;
import dev.pare.jobs.support.LocalSpark;
import dev.pare.jobs.support.StandaloneCluster;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code java -jar pare-local.jar} as the README gives it, with no JVM flags: the jar's manifest opens
 * the JDK packages Spark needs on Java 17 (before, Spark's start failed with an {@code IllegalAccessError}
 * on {@code sun.nio.ch.DirectBuffer}). Tagged {@code cluster}: it needs the shaded jar, which
 * {@code mvn verify -Pcluster-it} builds before running it.
 */
@Tag("cluster")
class LocalJarTest {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start();
    }

    @AfterAll
    static void stop() {
        LocalSpark.stop(spark);
    }

    @Test
    void theManifestOpensWhatSparksLauncherOpens() throws Exception {
        StandaloneCluster.requireBuilt(StandaloneCluster.LOCAL_JAR);
        Set<String> launcher = new TreeSet<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens=")) {
                launcher.add(a.substring("--add-opens=".length()).replace("=ALL-UNNAMED", ""));
            }
        }
        if (launcher.isEmpty()) {
            fail("this JVM got no --add-opens from Maven (test.jvm.args): nothing to compare with");
        }
        try (JarFile jar = new JarFile(StandaloneCluster.LOCAL_JAR.toFile())) {
            String opens = jar.getManifest().getMainAttributes().getValue("Add-Opens");
            assertNotNull(opens, "no Add-Opens in the manifest of " + StandaloneCluster.LOCAL_JAR);
            assertEquals(launcher, new TreeSet<>(List.of(opens.trim().split("\\s+"))));
        }
    }

    @Test
    void javaDashJarScoresAsTheInProcessCommand(@TempDir Path tmp) throws Exception {
        StandaloneCluster.requireBuilt(StandaloneCluster.LOCAL_JAR);
        Path jarRun = tmp.resolve("jar");
        Path localRun = tmp.resolve("in-process");
        Path log = tmp.resolve("java-jar.log");
        List<String> cmd = new ArrayList<>(List.of(StandaloneCluster.javaBin(), "-Xmx2g"));
        // JavaCPP's natives are already unpacked in this JVM's cache folder: not again (~390 MB).
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-Dorg.bytedeco.javacpp.cachedir=") || a.startsWith("-Dhadoop.tmp.dir=")) {
                cmd.add(a);
            }
        }
        cmd.addAll(List.of("-jar", StandaloneCluster.LOCAL_JAR.toString()));
        cmd.addAll(List.of(LocalSpark.demoArgs("score-data", jarRun, "--master", "local[2]")));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        // As from a plain shell: Pare sets OpenMP's settings itself, the thread count in Java's view of the
        // environment too, which needs java.lang and java.util open (the manifest's doing here).
        pb.environment().remove("OMP_NUM_THREADS");
        pb.environment().remove("OMP_WAIT_POLICY");
        Process p = pb.start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly().waitFor();
            fail("java -jar did not finish in 5 minutes; see " + log);
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "java -jar pare-local.jar score-data failed:\n" + StandaloneCluster.tail(out, 40));
        JsonNode openMp = new ObjectMapper().readTree(jarRun.resolve("example-scores/provenance.json").toFile())
                .path("openmp");
        assertEquals("OMP_NUM_THREADS=1 set by Pare (spark.driver.cores is unset: Spark's default, 1),"
                + " OMP_WAIT_POLICY=PASSIVE set by Pare", openMp.path("choice").asText());

        assertEquals(0, PareCli.commandLine().execute(LocalSpark.demoArgs("score-data", localRun, "--master",
                "local[2]")));
        Dataset<Row> fromJar = spark.read().parquet(jarRun.resolve("example-scores/scores.parquet").toString());
        Dataset<Row> inProcess = spark.read().parquet(localRun.resolve("example-scores/scores.parquet").toString());
        long rows = spark.read().parquet(LocalSpark.sample("train.parquet")).count();
        assertEquals(rows, fromJar.count());
        assertEquals(rows, inProcess.count());
        // The same scores and logits to the bit, row for row.
        assertEquals(0, fromJar.exceptAll(inProcess).count());
        assertEquals(0, inProcess.exceptAll(fromJar).count());
    }
}
