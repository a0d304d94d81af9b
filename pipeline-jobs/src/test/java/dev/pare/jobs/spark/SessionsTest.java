package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.pare.common.config.PareConfig;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
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
}
