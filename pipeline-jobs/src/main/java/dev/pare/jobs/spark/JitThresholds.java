package dev.pare.jobs.spark;

import java.util.regex.Pattern;

/**
 * JIT settings for Pare's JVMs, which are short-lived: every stage is an application of its own, with a
 * fresh driver and fresh executors. HotSpot's optimizing compiler (C2) then spends much of a command's CPU
 * compiling code that runs for the first seconds only (class loading, Spark's planning and scheduling), and on a
 * small machine its threads take that CPU from the tasks. With C2 taking a method after 10x the invocations and
 * loop iterations of the JVM's defaults ({@link #FLAGS}), such code stays with the first compiler (C1), and the
 * loops that run long still reach C2. Measured on 2 cores (docs/performance-log.md, session 24): stage
 * commands of 8-20 s ran 7-18% faster and used 10-25% less CPU; a standalone executor's calibration stage 10%
 * faster; a JVM's first KD epoch a few percent slower, its later epochs alike. {@code deploy/pare} gives the
 * same options to its JVM ({@code PARE_JIT_OPTS}).
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
