package dev.pare.jobs.bench;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;

/**
 * A Java agent for the memory benchmark: a daemon thread that forces a full collection
 * ({@code System.gc()}) every N milliseconds, so the JVM's GC log ({@code -Xlog:gc}) samples its
 * live heap densely: each {@code Pause Full (System.gc())} line ends in the live set of that moment
 * ({@link GcLog#maxAfterFullBytes}). {@code deploy/bench/memory.sh} packs this class alone into a jar
 * and starts each command's driver with {@code -javaagent:live-heap-agent.jar=MILLIS} (default
 * {@value #DEFAULT_MILLIS} ms).
 *
 * <p>Why inside the JVM: {@code jcmd PID GC.run} from outside starts a JVM per sample (about half a
 * second of CPU), which keeps the interval at seconds. A peak shorter than that is caught by some
 * runs and missed by others: {@code distill} holds its subset, validation split and test arrays
 * together for about one second, and 2 s samples once reported 77 MiB at 60k rows and 116 MiB at
 * 600k for the same 111-112 MiB peak (class histograms: 69.5 MB of {@code float[]} in both).
 *
 * <p>Each sample costs a full collection (tens of milliseconds for a heap of 100 MiB), so a
 * sampled run is slower than a plain one: its wall time is not a speed figure.
 */
public final class LiveHeapAgent {
    /** The interval when the agent is given no argument. */
    public static final long DEFAULT_MILLIS = 250;

    private LiveHeapAgent() {}

    /** {@code -javaagent:JAR[=MILLIS]}. */
    public static void premain(String args) {
        requireFullExplicitCollections();
        start(interval(args));
    }

    /**
     * The sampling interval in milliseconds from the agent argument: a positive whole number, or
     * {@value #DEFAULT_MILLIS} when empty.
     */
    static long interval(String args) {
        if (args == null || args.isBlank()) {
            return DEFAULT_MILLIS;
        }
        long millis;
        try {
            millis = Long.parseLong(args.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("live-heap agent: the argument must be an interval in milliseconds,"
                    + " got '" + args + "'");
        }
        if (millis <= 0) {
            throw new IllegalArgumentException("live-heap agent: the interval must be > 0 ms, got " + millis);
        }
        return millis;
    }

    /** Starts the sampling thread (a daemon: it never keeps the JVM alive); interrupt it to stop. */
    static Thread start(long millis) {
        Thread t = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(millis);
                    System.gc();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "pare-live-heap-sampler");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Refuses JVM options under which {@code System.gc()} would not be a full collection, so that no
     * run reports a live heap it never sampled.
     */
    private static void requireFullExplicitCollections() {
        HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        for (String flag : new String[] {"DisableExplicitGC", "ExplicitGCInvokesConcurrent"}) {
            if (Boolean.parseBoolean(hotspot.getVMOption(flag).getValue())) {
                throw new IllegalStateException("live-heap agent: -XX:+" + flag
                        + " makes System.gc() no full collection; remove it to sample the live heap");
            }
        }
    }
}
