package dev.pare.jobs.spark;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.jobs.io.Scans;
import java.io.Serializable;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;

/**
 * The time a job's tasks spent inside the model (forward and backward passes and the statistics or
 * scores computed from their outputs), summed over tasks: the rest of a task is reading, converting
 * and writing rows. Stages record it as {@code modelSeconds} next to {@code taskSlots}
 * ({@link Scans#taskSlots}), so
 * {@code modelSeconds / (seconds × taskSlots)} is the share of the stage's slot time spent in the model.
 *
 * <p>A Spark accumulator updated inside a transformation: a task that is retried or run
 * speculatively counts once per attempt, so the figure is an upper bound then.
 */
public final class ModelTime implements Serializable {
    private final LongAccumulator nanos;

    private ModelTime(LongAccumulator nanos) {
        this.nanos = nanos;
    }

    /** A counter registered with the session's context, named after {@code job} in Spark's UI. */
    public static ModelTime register(SparkSession spark, String job) {
        return new ModelTime(spark.sparkContext().longAccumulator(job + ": model nanoseconds"));
    }

    /**
     * Puts {@code modelSeconds} and {@code taskSlots} ({@link Scans#taskSlots}) into a stage's
     * provenance details, after its jobs ran.
     */
    public void putInto(ObjectNode details, SparkSession spark) {
        details.put("modelSeconds", seconds());
        details.put("taskSlots", Scans.taskSlots(spark));
    }

    /** Adds the time since {@code startNanos} ({@link System#nanoTime()}); called on executors. */
    void addSince(long startNanos) {
        nanos.add(System.nanoTime() - startNanos);
    }

    /** The summed time, in seconds (read on the driver once the job has run). */
    public double seconds() {
        return nanos.value() / 1e9;
    }
}
