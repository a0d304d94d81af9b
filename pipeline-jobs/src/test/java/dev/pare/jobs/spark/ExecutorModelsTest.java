package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pare.jobs.support.LocalSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** The executor-side model cache across Spark applications in one JVM (local mode, tests). */
class ExecutorModelsTest {

    private static long paramsSeenByTasks(String modelFile) throws Exception {
        SparkSession spark = LocalSpark.start();
        try {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            Broadcast<byte[]> model = jsc.broadcast(Files.readAllBytes(Path.of(LocalSpark.sample(modelFile))));
            List<Long> seen = jsc.parallelize(List.of(1, 2), 2)
                    .map(x -> ExecutorModels.get(model).numParams()).collect();
            assertEquals(seen.get(0), seen.get(1));
            return seen.get(0);
        } finally {
            LocalSpark.stop(spark);
        }
    }

    @Test
    void aNewApplicationNeverGetsAnEarlierApplicationsModel() throws Exception {
        // Both broadcasts are the first of their SparkContext, so they share a broadcast id.
        assertEquals(266_610L, paramsSeenByTasks("teacher-lenet300100.zip"));
        assertEquals(431_080L, paramsSeenByTasks("teacher-lenet5.zip"));
    }
}
