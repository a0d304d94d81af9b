package dev.pare.jobs.spark;

import java.util.regex.Pattern;

/**
 * JIT settings for the JVMs of Pare's short commands: every stage is an application of its own, with a fresh
 * driver and fresh executors. HotSpot's optimizing compiler (C2) then spends much of a command's CPU compiling
 * code that runs for the first seconds only (class loading, Spark's planning and scheduling), and on a small
 * machine its threads take that CPU from the tasks. With C2 taking a method after 10x the invocations and loop
 * iterations of the JVM's defaults ({@link #FLAGS}), such code stays with the first compiler (C1). Measured on
 * 2 cores (docs/performance-log.md, session 24): commands of calibrate and score-data 7-18% faster with 10-25%
 * less CPU, a standalone executor's calibration stage 10% faster. But a training loop's per-batch methods,
 * called a few hundred times an epoch, then stay in C1's profiling code: LeNet-5's KD epochs ran 10-13%
 * slower. So they are for the stages that do not train ({@code Stage#trains}): {@code deploy/pare} gives them
 * to those commands' JVMs ({@code PARE_JIT_OPTS}), and a command of such a stage to its executors.
 */
public final class JitThresholds {
    /** C2 after 10x HotSpot's default thresholds (5000, 600, 15000 and 40000). */
    public static final String FLAGS = "-XX:Tier4InvocationThreshold=50000 -XX:Tier4MinInvocationThreshold=6000"
            + " -XX:Tier4CompileThreshold=150000 -XX:Tier4BackEdgeThreshold=400000";

    /** An option of HotSpot's tiered compilation: {@code -XX:Tier...}, {@code -XX:[+-]Tiered...}. */
    private static final Pattern TIERED = Pattern.compile("-XX:[+-]?Tier");

    private JitThresholds() {}

    /**
     * Executor JVM options: {@link #FLAGS} in front of {@code current} (may be null or empty), unless
     * {@code current} sets any option of tiered compilation itself, e.g. {@code -XX:TieredStopAtLevel=1}, or
     * {@code -XX:+TieredCompilation} (the JVM's default) to keep the JVM's own thresholds.
     */
    static String executorJavaOptions(String current) {
        String options = current == null ? "" : current.trim();
        if (TIERED.matcher(options).find()) {
            return options;
        }
        return options.isEmpty() ? FLAGS : FLAGS + " " + options;
    }
}
