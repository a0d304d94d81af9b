package dev.pare.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.jobs.cli.PareCli;
import dev.pare.jobs.io.BadInputException;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.stage.RunLock;
import dev.pare.jobs.support.LocalSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inputs, teacher and run directory on a real HDFS: Hadoop's {@link MiniDFSCluster} (a NameNode and
 * one DataNode in this JVM, on 127.0.0.1) from {@code hadoop-client-minicluster}, which is shaded like
 * the {@code hadoop-client-runtime} Spark uses. {@code pare run} on local[2] reads the sample Parquet
 * and the teacher from {@code hdfs://} and writes every stage there; its calibration statistics and
 * masks equal those of the same stages on the local file system byte for byte. The run lock is
 * atomic on HDFS, and a default file system given only in the config's {@code spark.conf}
 * ({@code spark.hadoop.fs.defaultFS}) is the one Pare's own file access uses too. Tagged {@code cluster}
 * (about 40 s: a third of the other tests' time): {@code mvn verify -Pcluster-it} runs it after package.
 */
@Tag("cluster")
class HdfsPipelineTest {
    private static final String[] SMALL = {"--set", "selection.fraction=0.1", "--set", "distill.epochs=1",
        "--set", "calibration.samples=512", "--master", "local[2]"};
    private static final List<String> STAGE_FOLDERS =
            List.of("calibration", "example-scores", "subset", "pruned", "distill", "eval", "report");

    @TempDir
    static java.nio.file.Path base;
    private static MiniDFSCluster cluster;
    /** {@code hdfs://127.0.0.1:<port>}. */
    private static String namenode;
    private static FileSystem hdfs;

    @BeforeAll
    static void startHdfs() throws Exception {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.resolve("minidfs").toString());
        cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        cluster.waitActive();
        namenode = "hdfs://127.0.0.1:" + cluster.getNameNodePort();
        hdfs = cluster.getFileSystem();
        for (String table : List.of("train.parquet", "test.parquet")) {
            hdfs.copyFromLocalFile(new Path(LocalSpark.sample(table)), new Path("/data/" + table));
        }
        hdfs.copyFromLocalFile(new Path(LocalSpark.sample("teacher-lenet300100.zip")),
                new Path("/models/teacher-lenet300100.zip"));
    }

    @AfterAll
    static void stopHdfs() {
        if (cluster != null) {
            cluster.shutdown(true);
        }
    }

    /** {@code pare <command>} on demo.conf with the data and teacher on HDFS, as {@code prefix/data/...}. */
    private static String[] args(String command, String runDir, String prefix, String... extra) {
        List<String> a = new ArrayList<>(List.of(command,
                "--config", LocalSpark.repoRoot().resolve("conf/demo.conf").toString(),
                "--run-dir", runDir,
                "--set", "data.train=" + prefix + "/data/train.parquet",
                "--set", "data.test=" + prefix + "/data/test.parquet",
                "--set", "teacher.model=" + prefix + "/models/teacher-lenet300100.zip"));
        a.addAll(List.of(SMALL));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private record Result(int exitCode, String err) {}

    private static Result pare(String... args) {
        StringWriter err = new StringWriter();
        var cl = PareCli.commandLine();
        cl.setErr(new PrintWriter(err, true));
        int rc = cl.execute(args);
        return new Result(rc, err.toString());
    }

    private byte[] read(String path) throws Exception {
        try (var in = hdfs.open(new Path(path))) {
            return in.readAllBytes();
        }
    }

    @Test
    void pareRunOnHdfsFinishesEveryStageThereWithTheStatisticsOfALocalRun(@TempDir java.nio.file.Path tmp)
            throws Exception {
        String run = namenode + "/runs/demo";
        long t0 = System.nanoTime();
        Result r = pare(args("run", run, namenode));
        System.out.printf("pare run with data and run directory on HDFS: %.1f s%n", (System.nanoTime() - t0) / 1e9);
        assertEquals(0, r.exitCode, r.err);
        for (String folder : STAGE_FOLDERS) {
            assertTrue(hdfs.exists(new Path("/runs/demo/" + folder + "/_SUCCESS")), folder + "/_SUCCESS on HDFS");
            assertTrue(hdfs.exists(new Path("/runs/demo/" + folder + "/provenance.json")), folder + "/provenance.json");
        }
        assertTrue(hdfs.getFileStatus(new Path("/runs/demo/example-scores/scores.parquet")).isDirectory(),
                "Spark wrote the scores Parquet into HDFS");
        assertFalse(hdfs.exists(new Path("/runs/demo/_tmp")), "no temporary folder left on HDFS");
        assertFalse(hdfs.exists(new Path("/runs/demo/" + RunLock.FILE)), "the lock is released");

        // The same calibration and pruning on the local file system: the same bytes.
        java.nio.file.Path local = tmp.resolve("local");
        for (String command : List.of("calibrate", "prune")) {
            String[] a = LocalSpark.demoArgs(command, local, SMALL);
            assertEquals(0, PareCli.commandLine().execute(a), command + " on the local file system");
        }
        for (String file : List.of("calibration/statistics.json", "pruned/masks.bin")) {
            byte[] expected = java.nio.file.Files.readAllBytes(local.resolve(file));
            assertTrue(expected.length > 0, file + " is empty");
            assertArrayEquals(expected, read("/runs/demo/" + file), file + " differs between HDFS and file:");
        }

        // Stage hashes read HDFS sizes and times the same way twice: a rerun skips every stage.
        long finished = hdfs.getFileStatus(new Path("/runs/demo/distill/_SUCCESS")).getModificationTime();
        Result again = pare(args("run", run, namenode));
        assertEquals(0, again.exitCode, again.err);
        assertEquals(finished, hdfs.getFileStatus(new Path("/runs/demo/distill/_SUCCESS")).getModificationTime(),
                "a rerun with the same config rewrote distill/");
    }

    @Test
    void theRunLockOnHdfsAdmitsOneOwnerAndRefusesACommand() throws Exception {
        Files files = new Files(new Configuration());
        Path runDir = files.path(namenode + "/runs/locked");
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

        // HDFS creates with overwrite = false atomically: of 8 threads racing for the lock, one gets it.
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<RunLock>> attempts = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Callable<RunLock> attempt = () -> {
                go.await();
                try {
                    return RunLock.acquire(files, runDir, quiet);
                } catch (BadInputException e) {
                    return null;
                }
            };
            attempts.add(pool.submit(attempt));
        }
        go.countDown();
        List<RunLock> owners = new ArrayList<>();
        for (Future<RunLock> f : attempts) {
            if (f.get() != null) {
                owners.add(f.get());
            }
        }
        pool.shutdown();
        assertEquals(1, owners.size(), "threads that got the lock");

        // A command on the locked run directory is refused, naming the owner, and leaves the lock alone.
        Result refused = pare(args("calibrate", runDir.toString(), namenode));
        assertEquals(PareCli.BAD_INPUT, refused.exitCode, refused.err);
        assertTrue(refused.err.contains("is in use by process " + ProcessHandle.current().pid()), refused.err);
        assertTrue(hdfs.exists(new Path("/runs/locked/" + RunLock.FILE)));
        owners.get(0).close();
        assertFalse(hdfs.exists(new Path("/runs/locked/" + RunLock.FILE)), "close removes the lock");

        // A lock of a process that died on this host is taken over on HDFS as on a local disk.
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        String host = InetAddress.getLocalHost().getHostName();
        files.writeString(new Path(runDir, RunLock.FILE),
                "{\"pid\":" + p.pid() + ",\"host\":\"" + host + "\",\"started\":\"then\"}");
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        try (RunLock lock = RunLock.acquire(files, runDir, new PrintStream(warnings, true, StandardCharsets.UTF_8))) {
            assertTrue(warnings.toString(StandardCharsets.UTF_8).contains("stale lock"));
        }
    }

    @Test
    void aDefaultFileSystemSetInTheConfigsSparkConfIsUsedForEveryPath() throws Exception {
        // hdfs:/// (no authority) resolves against fs.defaultFS, given here only as a Spark setting.
        Result r = pare(args("calibrate", "hdfs:///runs/default-fs", "hdfs://", "--set",
                "spark.conf.\"spark.hadoop.fs.defaultFS\"=\"" + namenode + "\""));
        assertEquals(0, r.exitCode, r.err);
        assertTrue(hdfs.exists(new Path("/runs/default-fs/calibration/_SUCCESS")));
    }
}
