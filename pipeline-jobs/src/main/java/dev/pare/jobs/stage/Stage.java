package dev.pare.jobs.stage;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * One step of the pipeline. {@link StageRunner} asks for its hash, skips or refuses it against
 * the run directory, calls {@link #validate} before anything is written, then {@link #execute}
 * into a temporary folder that is committed on success.
 */
public interface Stage {
    /** The CLI name, e.g. {@code score-data}. */
    String name();

    /** The folder it writes under the run directory, e.g. {@code example-scores}. */
    String folder();

    /** Inputs that identify the result: config sections, input descriptors, upstream hashes. */
    List<String> identity(RunContext ctx) throws Exception;

    /** Checks every input; throws before anything is written. */
    void validate(RunContext ctx) throws Exception;

    /**
     * Does the work, writing into {@code dir.tmp()}.
     *
     * @param details stage-specific facts for provenance.json (criterion, counts, ...)
     */
    void execute(RunContext ctx, StageDir dir, ObjectNode details) throws Exception;

    /** Whether a failed attempt keeps its temporary folder for {@code --resume}. */
    default boolean resumable() {
        return false;
    }

    /**
     * Whether the stage trains a network epoch after epoch, on the driver or on the executors: its JVMs then keep
     * the JIT's own thresholds, which a command of another stage raises ({@link
     * dev.pare.jobs.spark.JitThresholds}).
     */
    default boolean trains() {
        return false;
    }

    /**
     * Whether the driver reads or runs a network in this stage (ND4J): its command then loads ND4J's native
     * backend on a second thread while the rest starts ({@link dev.pare.jobs.spark.DriverNative#preloadNd4j}).
     */
    default boolean networksOnDriver() {
        return true;
    }
}
