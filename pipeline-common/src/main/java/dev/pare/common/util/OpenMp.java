package dev.pare.common.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Optional;

/**
 * Sets OpenMP's thread count and wait policy for this process before ND4J loads its native library.
 *
 * <p>libnd4j and the OpenMP runtime it links (libgomp) read {@value #THREADS} and
 * {@value #WAIT_POLICY} once, when they load. Unset, every calling thread's parallel regions get a
 * thread per core, whose workers spin between regions: on a 2-core machine a driver's KD epochs of
 * LeNet-300-100 ran 16.8k examples/s with neither set, 29.9k with {@code OMP_WAIT_POLICY=PASSIVE}
 * and 32.6-38.5k with one thread (LeNet-5: 2.0-2.5k with two threads, 3.2-3.4k with one; rounds of
 * single JVMs, docs/performance-log.md, session 30). Launch scripts can set both, but a driver that
 * {@code spark-submit}, Airflow or a cluster manager starts gets what its environment has; so
 * {@link #choose} sets them through the C library's {@code setenv}, as {@link BlasKernels} does for
 * OpenBLAS. ND4J's Java side reads {@value #THREADS} as well, through {@link System#getenv}, and
 * without it gives OpenBLAS and the OpenMP of the thread that loads ND4J one thread per core: the
 * thread count is set in that view too ({@link ProcessEnvironment#setEverywhere}), or not at all.
 * Values the user set are kept; once libnd4j, libgomp or OpenBLAS is loaded nothing is set (they
 * would not read it).
 */
public final class OpenMp {
    /** OpenMP's thread count per parallel region, which libnd4j also takes as its own. */
    public static final String THREADS = "OMP_NUM_THREADS";
    /** OpenMP's wait policy: {@code PASSIVE} workers sleep between parallel regions instead of spinning. */
    public static final String WAIT_POLICY = "OMP_WAIT_POLICY";
    private static Choice chosen;

    private OpenMp() {}

    /**
     * What {@link #choose} did.
     *
     * @param threads the value of {@value #THREADS} the native libraries see (null: unset)
     * @param waitPolicy the value of {@value #WAIT_POLICY} they see (null: unset)
     * @param how why, in words for logs and provenance
     */
    public record Choice(String threads, String waitPolicy, String how) {}

    /**
     * Sets {@value #THREADS} to {@code threads} and {@value #WAIT_POLICY} to {@code PASSIVE}, each
     * where it is unset or empty, when no library that reads them is loaded yet. The first call
     * decides; later calls return its choice. Never throws.
     *
     * @param threads OpenMP threads per calling thread, positive
     * @param because why that many, for {@link Choice#how} (e.g. {@code "spark.driver.cores is unset"})
     */
    public static synchronized Choice choose(int threads, String because) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        if (chosen == null) {
            chosen = decide(threads, because);
        }
        return chosen;
    }

    private static Choice decide(int threads, String because) {
        try {
            String n = ProcessEnvironment.get(THREADS);
            String policy = ProcessEnvironment.get(WAIT_POLICY);
            boolean setN = n == null || n.isBlank();
            boolean setPolicy = policy == null || policy.isBlank();
            if (!setN && !setPolicy) {
                return new Choice(n, policy, THREADS + "=" + n + ", " + WAIT_POLICY + "=" + policy + " as set");
            }
            if (ProcessEnvironment.loaded(OpenMp::readsTheSettings)) {
                return new Choice(setN ? null : n, setPolicy ? null : policy,
                        "left as they were: ND4J's native libraries were loaded before Pare could set them");
            }
            StringBuilder how = new StringBuilder();
            if (setN) {
                // For Java too: ND4J's Java side reads it when it loads and, finding none, gives OpenBLAS and the
                // loading thread's OpenMP a thread per core; half set would be worse than unset.
                if (ProcessEnvironment.setEverywhere(THREADS, Integer.toString(threads))) {
                    n = Integer.toString(threads);
                    how.append(THREADS).append('=').append(n).append(" set by Pare (").append(because).append(')');
                } else {
                    n = null;
                    how.append(THREADS).append(" left unset: the JVM does not open java.lang and java.util to Pare"
                            + " (--add-opens java.base/java.lang=ALL-UNNAMED, the same for java.util), so ND4J's Java"
                            + " side would not see it");
                }
            } else {
                how.append(THREADS).append('=').append(n).append(" as set");
            }
            if (setPolicy) {
                policy = "PASSIVE";
                // Read by native code alone: where Java's copy cannot be changed, the C library's is enough.
                if (!ProcessEnvironment.setEverywhere(WAIT_POLICY, policy)
                        && !ProcessEnvironment.set(WAIT_POLICY, policy)) {
                    return new Choice(n, null, how + "; " + WAIT_POLICY + " left unset: setenv failed");
                }
                how.append(", ").append(WAIT_POLICY).append("=PASSIVE set by Pare");
            } else {
                how.append(", ").append(WAIT_POLICY).append('=').append(policy).append(" as set");
            }
            return new Choice(n, policy, how.toString());
        } catch (IOException | UncheckedIOException | LinkageError e) {
            return new Choice(System.getenv(THREADS), System.getenv(WAIT_POLICY), "left as they were: " + e);
        }
    }

    /** What {@link #choose} decided in this JVM; empty when nothing called it. */
    public static synchronized Optional<Choice> chosen() {
        return Optional.ofNullable(chosen);
    }

    /** The variable's value in this process's environment now (null when unset). */
    public static String get(String variable) {
        try {
            return ProcessEnvironment.get(variable);
        } catch (LinkageError e) {
            return System.getenv(variable);
        }
    }

    /** libnd4j (and its JNI library), libgomp or OpenBLAS: libraries that read the settings when they load. */
    static boolean readsTheSettings(String fileName) {
        String f = fileName.toLowerCase(Locale.ROOT);
        return f.contains("nd4j") || f.startsWith("libgomp") || f.contains("openblas");
    }

    /**
     * The settings in this process's environment now, for logs: e.g. {@code OMP_NUM_THREADS=1,
     * OMP_WAIT_POLICY=PASSIVE} ({@code (unset)} for a variable that is not set).
     */
    public static String inEffect() {
        String n = get(THREADS);
        String policy = get(WAIT_POLICY);
        return THREADS + "=" + (n == null ? "(unset)" : n) + ", " + WAIT_POLICY + "="
                + (policy == null ? "(unset)" : policy);
    }
}
