package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.jobs.support.SharedLocalSpark;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

/**
 * {@link RunningTasks} and {@link Sessions#awaitNoRunningTasks}: the wait returns once the session's running task
 * has ended, or at its timeout.
 */
class RunningTasksTest extends SharedLocalSpark {
    /** Set by the task below when it ends (local mode: the task runs in this JVM). */
    private static final AtomicBoolean ENDED = new AtomicBoolean();

    @Test
    void itReturnsOnceTheRunningTaskHasEndedOrAtItsTimeout() throws Exception {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        RunningTasks counter = RunningTasks.of(spark.sparkContext());
        assertTrue(Sessions.awaitNoRunningTasks(spark, 0), "nothing runs");

        ENDED.set(false);
        JavaFutureAction<Void> job = jsc.parallelize(List.of(1), 1).foreachAsync(x -> {
            Thread.sleep(1500);
            ENDED.set(true);
        });
        awaitRunning(counter);
        assertFalse(Sessions.awaitNoRunningTasks(spark, 100), "the task sleeps 1.5 s: 100 ms is too short");
        assertFalse(ENDED.get());
        assertTrue(Sessions.awaitNoRunningTasks(spark, 60_000));
        assertTrue(ENDED.get(), "it returned before the task ended");
        assertEquals(0, counter.running());
        job.get();
    }

    private static void awaitRunning(RunningTasks counter) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (counter.running() == 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the task did not start within 30 s");
            }
            Thread.sleep(10);
        }
    }
}
