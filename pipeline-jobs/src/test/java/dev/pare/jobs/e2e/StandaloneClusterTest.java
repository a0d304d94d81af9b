package dev.pare.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pare.common.model.Networks;
import dev.pare.common.util.BlasKernels;
import dev.pare.jobs.cli.PareCli;
import dev.pare.jobs.support.LocalSpark;
import dev.pare.jobs.support.StandaloneCluster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code pare-cluster.jar} submitted with spark-submit semantics (client mode, {@code SparkSubmit} in a
 * child JVM) to a Spark standalone cluster on this machine ({@link StandaloneCluster}: one master, two
 * one-core workers) gives the same calibration statistics, masks and student as the same command in
 * local[2], and so does data-parallel distillation on the executors ({@code distill.distributed.enabled}).
 * Tagged {@code cluster}: never part of the test phase; {@code mvn verify -Pcluster-it} runs it after
 * package.
 */
@Tag("cluster")
class StandaloneClusterTest {
    private static final String[] SMALL = {"--set", "selection.fraction=0.1", "--set", "distill.epochs=1",
        "--set", "calibration.samples=512"};

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

    @Test
    void runOnTheClusterEqualsRunInLocalMode(@TempDir Path tmp) throws Exception {
        Path clusterRun = tmp.resolve("cluster");
        Path localRun = tmp.resolve("local");

        Path log = StandaloneCluster.WORK.resolve("submit.log");
        long t0 = System.nanoTime();
        int rc = StandaloneCluster.waitFor(cluster.submit(Map.of(), LocalSpark.demoArgs("run", clusterRun, SMALL), log),
                log);
        double clusterSeconds = (System.nanoTime() - t0) / 1e9;
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, rc, "spark-submit of pare run failed; " + log + " ends with:\n"
                + StandaloneCluster.tail(out, 60));

        // The work really ran on the cluster: both workers started an executor of this application,
        // and each executor fetched the submitted jar (it is not on the executors' classpath otherwise).
        // Each executor chose OpenBLAS's kernels for its CPU as this JVM did (ChooseBlasKernels; the workers
        // inherit this JVM's environment), so the comparisons below compare the same kernels' products.
        String app = StandaloneCluster.appId(out);
        assertNotNull(app, "no application id in " + log);
        Nd4j.create(1);
        String kernels = BlasKernels.summary();
        String openMp = "OMP_NUM_THREADS=1, OMP_WAIT_POLICY=PASSIVE";
        for (int worker = 1; worker <= 2; worker++) {
            Path appDir = cluster.workerDir(worker).resolve(app);
            try (Stream<Path> listed = Files.list(appDir)) {
                List<Path> executors = listed.toList();
                assertTrue(executors.stream().anyMatch(e -> Files.isRegularFile(e.resolve("pare-cluster.jar"))),
                        "worker " + worker + " ran no executor with pare-cluster.jar in " + appDir);
                for (Path e : executors) {
                    String stderr = Files.readString(e.resolve("stderr"), StandardCharsets.UTF_8);
                    assertTrue(stderr.contains(kernels), e + "/stderr does not log '" + kernels + "'");
                    assertTrue(stderr.contains(openMp), e + "/stderr does not log '" + openMp + "'");
                }
            } catch (java.nio.file.NoSuchFileException e) {
                fail("worker " + worker + " ran no executor of " + app + " (" + appDir + " missing)");
            }
        }

        // The driver, started without OpenMP settings, set them before ND4J loaded: one thread, as this JVM's.
        JsonNode openMpChoice = new ObjectMapper().readTree(clusterRun.resolve("distill/provenance.json").toFile())
                .path("openmp");
        assertEquals("1", openMpChoice.path("threads").asText(), openMpChoice.toString());
        assertEquals("OMP_NUM_THREADS=1 set by Pare (spark.driver.cores is unset: Spark's default, 1),"
                + " OMP_WAIT_POLICY=PASSIVE set by Pare", openMpChoice.path("choice").asText());

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
        float[] remote = student(clusterRun);
        assertEquals(266_610, local.length, "LeNet-300-100 parameters");
        assertArrayEquals(local, remote, "student parameters differ");

        // Data-parallel distillation (2 workers): executors in separate JVMs train the same student,
        // bit for bit, as local[2] (the workers' results are averaged in partition order).
        String[] distributed = concat(SMALL, "--force", "--set", "distill.distributed.enabled=true",
                "--set", "distill.distributed.workers=2", "--set", "distill.distributed.averaging-frequency=3");
        Path distributedLog = StandaloneCluster.WORK.resolve("submit-distributed.log");
        rc = StandaloneCluster.waitFor(cluster.submit(Map.of(), LocalSpark.demoArgs("distill", clusterRun, distributed),
                distributedLog), distributedLog);
        assertEquals(0, rc, "spark-submit of pare distill failed; " + distributedLog + " ends with:\n"
                + StandaloneCluster.tail(Files.readString(distributedLog, StandardCharsets.UTF_8), 60));
        assertEquals(0, PareCli.commandLine().execute(
                LocalSpark.demoArgs("distill", localRun, concat(distributed, "--master", "local[2]"))));
        assertTrue(new ObjectMapper().readTree(clusterRun.resolve(
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

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
