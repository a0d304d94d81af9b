package dev.pare.jobs.support;

import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.SparkSession;

/** What a piece of driver code returned, and the number of Spark jobs it started. */
public record JobCount<T>(T value, int jobs) {
    /** Runs {@code body} with a listener counting the session's job starts (delivered before this returns). */
    public static <T> JobCount<T> of(SparkSession spark, Supplier<T> body) {
        AtomicInteger jobs = new AtomicInteger();
        SparkListener counter = new SparkListener() {
            @Override
            public void onJobStart(SparkListenerJobStart start) {
                jobs.incrementAndGet();
            }
        };
        spark.sparkContext().addSparkListener(counter);
        try {
            T value = body.get();
            spark.sparkContext().listenerBus().waitUntilEmpty(10_000);
            return new JobCount<>(value, jobs.get());
        } catch (TimeoutException e) {
            throw new AssertionError("the listener bus did not empty in 10 s", e);
        } finally {
            spark.sparkContext().removeSparkListener(counter);
        }
    }
}
