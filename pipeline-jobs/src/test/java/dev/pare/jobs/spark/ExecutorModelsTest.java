package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.model.ForwardPass;
import dev.pare.jobs.support.LocalSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

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

    @Test
    void everyThreadGetsItsOwnNetworkInEveryDataType() throws Exception {
        // A float model asked for as FLOAT: DL4J's convertDataType(FLOAT) returns the network itself,
        // and sharing one network between task threads broke the CNN calibration (computeGradientAndScore
        // read another thread's cleared input).
        SparkSession spark = LocalSpark.start();
        try {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            Broadcast<byte[]> model = jsc.broadcast(Files.readAllBytes(Path.of(LocalSpark.sample("teacher-lenet5.zip"))));
            for (DataType type : new DataType[] {null, DataType.FLOAT, DataType.DOUBLE}) {
                List<Integer> identities = jsc.parallelize(List.of(1, 2), 2).map(x -> {
                    MultiLayerNetwork mine = ExecutorModels.get(model, type);
                    java.util.concurrent.CompletableFuture<MultiLayerNetwork> other =
                            java.util.concurrent.CompletableFuture.supplyAsync(() -> ExecutorModels.get(model, type));
                    MultiLayerNetwork theirs = other.get();
                    if (mine == theirs || mine != ExecutorModels.get(model, type)) {
                        throw new IllegalStateException("threads share a network, or a thread got two");
                    }
                    return System.identityHashCode(mine);
                }).collect();
                assertEquals(2, new java.util.HashSet<>(identities).size(), "type " + type);
            }
        } finally {
            LocalSpark.stop(spark);
        }
    }

    /** What a test does with a local session and its broadcasts. */
    private interface WithBroadcasts {
        void run(JavaSparkContext jsc, List<Broadcast<byte[]>> models) throws Exception;
    }

    /** Runs {@code body} on a fresh local session with {@code count} broadcasts of LeNet-300-100's bytes. */
    private static void withBroadcasts(int count, WithBroadcasts body) throws Exception {
        SparkSession spark = LocalSpark.start();
        try {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            byte[] bytes = Files.readAllBytes(Path.of(LocalSpark.sample("teacher-lenet300100.zip")));
            List<Broadcast<byte[]>> models = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                models.add(jsc.broadcast(bytes));
            }
            body.run(jsc, models);
        } finally {
            LocalSpark.stop(spark);
        }
    }

    @Test
    void theJvmKeepsTheModelsUsedLast() throws Exception {
        withBroadcasts(ExecutorModels.KEPT + 1, (jsc, models) -> {
            // One task: the first model, then KEPT more, then the first again and the last again.
            List<Boolean> same = jsc.parallelize(List.of(1), 1).map(x -> {
                MultiLayerNetwork first = ExecutorModels.get(models.get(0));
                MultiLayerNetwork last = null;
                for (int i = 1; i < models.size(); i++) {
                    last = ExecutorModels.get(models.get(i));
                }
                if (ExecutorModels.cachedModels() != ExecutorModels.KEPT) {
                    throw new IllegalStateException("keeps " + ExecutorModels.cachedModels() + " models");
                }
                boolean lastKept = last == ExecutorModels.get(models.get(models.size() - 1));
                boolean firstKept = first == ExecutorModels.get(models.get(0));
                return List.of(lastKept, firstKept, first.numParams() == 266_610L);
            }).collect().get(0);
            assertEquals(List.of(true, false, true), same, "the last model is kept, the first was dropped and read again");
        });
    }

    @Test
    void aThreadsLaterTasksReuseItsArraysUntilALaterStagesModelArrives() throws Exception {
        withBroadcasts(3, (jsc, models) -> {
            Broadcast<byte[]> a = models.get(0);
            Broadcast<byte[]> b = models.get(1);
            Broadcast<byte[]> c = models.get(2);
            // Four one-task jobs, on whichever of local[2]'s task threads: thread, a's arrays, a's arrays in double,
            // whether a task asking twice got the same.
            List<String> seen = new ArrayList<>();
            for (int job = 0; job < 4; job++) {
                seen.addAll(jsc.parallelize(List.of(1), 1).map(x -> Thread.currentThread().getId() + ":"
                        + System.identityHashCode(ExecutorModels.buffers(a)) + ":"
                        + System.identityHashCode(ExecutorModels.buffers(a, DataType.DOUBLE)) + ":"
                        + (ExecutorModels.buffers(a) == ExecutorModels.buffers(a))).collect());
            }
            Map<String, String> byThread = new HashMap<>();
            for (String task : seen) {
                String[] f = task.split(":");
                assertEquals("true", f[3], task);
                assertNotEquals(f[1], f[2], "another data type, other arrays: " + task);
                String before = byThread.putIfAbsent(f[0], f[1] + ":" + f[2]);
                assertTrue(before == null || before.equals(f[1] + ":" + f[2]), "a thread's later task got new arrays: "
                        + seen);
            }
            // A later stage's first task brings b and c: a's arrays are dropped (asked for again, they are new),
            // b's stay while c, of the same stage, arrives.
            List<Boolean> later = jsc.parallelize(List.of(1), 1).map(x -> {
                ForwardPass.Buffers aBefore = ExecutorModels.buffers(a);
                ForwardPass.Buffers bFirst = ExecutorModels.buffers(b);
                ForwardPass.Buffers cFirst = ExecutorModels.buffers(c);
                return List.of(aBefore != ExecutorModels.buffers(a), bFirst == ExecutorModels.buffers(b), bFirst != cFirst);
            }).collect().get(0);
            assertEquals(List.of(true, true, true), later);
        });
    }
}
