package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.config.PareConfig;
import dev.pare.jobs.io.BadInputException;
import dev.pare.jobs.io.Scans;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

class SessionsTest {
    @Test
    void pareFileAccessSeesTheSparkHadoopSettingsOfTheConfigAndOfSparkSubmit() {
        // spark-submit passes --conf settings to a client-mode driver as system properties.
        System.setProperty("spark.hadoop.pare.test.from-submit", "submit");
        System.setProperty("spark.hadoop.pare.test.both", "submit");
        try {
            Configuration c = Sessions.hadoopConfiguration(new PareConfig.Spark("local[2]", "t", Map.of(
                    "spark.hadoop.fs.defaultFS", "hdfs://namenode:8020",
                    "spark.hadoop.pare.test.both", "config",
                    "spark.executor.memory", "2g")));
            assertEquals("hdfs://namenode:8020", c.get("fs.defaultFS"));
            assertEquals("submit", c.get("pare.test.from-submit"));
            assertEquals("config", c.get("pare.test.both"), "the config's spark.conf wins, as in the session builder");
            assertNull(c.get("executor.memory"), "only spark.hadoop.* reaches Hadoop");
        } finally {
            System.clearProperty("spark.hadoop.pare.test.from-submit");
            System.clearProperty("spark.hadoop.pare.test.both");
        }
    }

    @Test
    void aScanSettingThatIsNoCountIsRefusedBeforeTheSessionStarts() {
        System.setProperty(Scans.SETTING, "-2");
        try {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> Sessions.open(new PareConfig.Spark("local[1]", "t", Map.of()), null));
            assertTrue(e.getMessage().contains(Scans.SETTING + " must be an integer >= 0"), e.getMessage());
            assertTrue(e.getMessage().contains("'-2'"), e.getMessage());
            // The config's spark.conf is read too (and wins over spark-submit's).
            e = assertThrows(BadInputException.class,
                    () -> Sessions.open(new PareConfig.Spark("local[1]", "t", Map.of(Scans.SETTING, "many")), null));
            assertTrue(e.getMessage().contains("'many'"), e.getMessage());
        } finally {
            System.clearProperty(Scans.SETTING);
        }
    }

    @Test
    void aStandaloneDriverWaitsForItsExecutorsUnlessTold() {
        SparkConf none = new SparkConf(false);
        assertEquals(java.util.Optional.of("0.8"), Sessions.minRegisteredRatio("spark://10.0.0.1:7077", Map.of(), none));
        for (String other : List.of("local[2]", "yarn", "k8s://https://10.0.0.1:6443")) {
            assertEquals(java.util.Optional.empty(), Sessions.minRegisteredRatio(other, Map.of(), none), other);
        }
        // The user's value, from the config or from spark-submit, is left as it is.
        assertEquals(java.util.Optional.empty(), Sessions.minRegisteredRatio("spark://h:7077",
                Map.of(Sessions.MIN_REGISTERED, "0"), none));
        SparkConf submitted = new SparkConf(false).set(Sessions.MIN_REGISTERED, "0.5");
        assertEquals(java.util.Optional.empty(), Sessions.minRegisteredRatio("spark://h:7077", Map.of(), submitted));
    }

    @Test
    void executorJvmsSkipJavaCppsPhysicalMemoryCheckUnlessTheUserSetsIt() {
        SparkConf none = new SparkConf(false);
        String flag = "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0";
        assertEquals(flag, Sessions.executorJavaOptions(Map.of(), none, false));
        // Other options of the config, or else of spark-submit, are kept in front of it.
        SparkConf submitted = new SparkConf(false).set("spark.executor.extraJavaOptions", "-Xss4m");
        assertEquals("-Xss4m " + flag, Sessions.executorJavaOptions(Map.of(), submitted, false));
        assertEquals("-XX:+UseG1GC " + flag, Sessions.executorJavaOptions(
                Map.of("spark.executor.extraJavaOptions", " -XX:+UseG1GC "), submitted, false));
        // A value of the user's, in either of the spellings JavaCPP reads, is left alone.
        for (String own : List.of("-Dorg.bytedeco.javacpp.maxphysicalbytes=10G -Xss4m",
                "-Xss4m -Dorg.bytedeco.javacpp.maxPhysicalBytes=12g")) {
            assertEquals(own, Sessions.executorJavaOptions(Map.of("spark.executor.extraJavaOptions", own), none, false));
            assertEquals(own, Sessions.executorJavaOptions(Map.of(),
                    new SparkConf(false).set("spark.executor.extraJavaOptions", own), false));
        }
    }

    @Test
    void executorsOfCommandsThatDoNotTrainTakeC2LaterUnlessTheUserTunesTieredCompilation() {
        SparkConf none = new SparkConf(false);
        String flag = "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0";
        String jit = "-XX:Tier4InvocationThreshold=50000 -XX:Tier4MinInvocationThreshold=6000"
                + " -XX:Tier4CompileThreshold=150000 -XX:Tier4BackEdgeThreshold=400000";
        assertEquals(jit, JitThresholds.FLAGS);
        assertEquals(jit + " " + flag, Sessions.executorJavaOptions(Map.of(), none, true));
        // The user's other options stay between them.
        assertEquals(jit + " -Xss4m " + flag, Sessions.executorJavaOptions(Map.of(),
                new SparkConf(false).set("spark.executor.extraJavaOptions", "-Xss4m"), true));
        // Any option of tiered compilation, from the config or from spark-submit, leaves the JIT to the user.
        for (String own : List.of("-XX:TieredStopAtLevel=1", "-Xss4m -XX:+TieredCompilation",
                "-XX:-TieredCompilation", "-XX:Tier4InvocationThreshold=7000 -Xss4m", "-XX:Tier3InvocationThreshold=100")) {
            assertEquals(own + " " + flag, Sessions.executorJavaOptions(Map.of("spark.executor.extraJavaOptions", own),
                    none, true), own);
            assertEquals(own + " " + flag, Sessions.executorJavaOptions(Map.of(),
                    new SparkConf(false).set("spark.executor.extraJavaOptions", own), true), own);
        }
        // Options that merely mention the word elsewhere do not count.
        assertEquals(jit + " -Dapp.Tier=gold " + flag, Sessions.executorJavaOptions(
                Map.of("spark.executor.extraJavaOptions", "-Dapp.Tier=gold"), none, true));
    }

    @Test
    void executorsRunTaskCpusOpenMpThreadsThatSleepBetweenRegionsUnlessTheUserSetsThem() {
        SparkConf none = new SparkConf(false);
        String threads = "spark.executorEnv.OMP_NUM_THREADS";
        String policy = "spark.executorEnv.OMP_WAIT_POLICY";
        assertEquals(Map.of(threads, "1", policy, "PASSIVE"), Sessions.executorOpenMp(Map.of(), none));
        // Two cores per task: two threads per task, from the config or from spark-submit.
        assertEquals(Map.of(threads, "2", policy, "PASSIVE"),
                Sessions.executorOpenMp(Map.of("spark.task.cpus", "2"), none));
        assertEquals(Map.of(threads, "3", policy, "PASSIVE"),
                Sessions.executorOpenMp(Map.of(), new SparkConf(false).set("spark.task.cpus", "3")));
        // The user's values, from either, are left as they are.
        assertEquals(Map.of(policy, "PASSIVE"), Sessions.executorOpenMp(Map.of(threads, "4"), none));
        assertEquals(Map.of(threads, "1"), Sessions.executorOpenMp(Map.of(), new SparkConf(false).set(policy, "ACTIVE")));
        assertEquals(Map.of(), Sessions.executorOpenMp(Map.of(policy, "ACTIVE"), new SparkConf(false).set(threads, "8")));
    }
}
