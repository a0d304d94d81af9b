package dev.pare.jobs.spark;

import dev.pare.common.util.BlasKernels;
import dev.pare.common.util.OpenMp;
import java.util.Optional;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What a driver JVM (the CLI, a benchmark) settles first thing in {@code main}, before anything
 * loads ND4J's native libraries, each of which reads its settings once: JavaCPP's physical memory
 * check ({@link PhysicalMemoryCheck}), OpenBLAS's kernels ({@link BlasKernels}) and OpenMP's
 * threads and wait policy ({@link OpenMp}).
 *
 * <p>The driver's OpenMP threads are the cores Spark gives it, {@code spark.driver.cores} (from
 * {@code spark-submit --driver-cores} or {@code --conf}; Spark's default is 1): its KD epochs run
 * as one calling thread. In local mode the tasks run in the driver JVM as well, each with that many
 * threads. {@code OMP_NUM_THREADS} in the environment overrides it.
 */
public final class DriverNative {
    /** The Spark setting read for the driver's threads. */
    static final String DRIVER_CORES = "spark.driver.cores";

    private DriverNative() {}

    /** OpenMP threads for the driver and why, from {@code spark.driver.cores}' value (null: unset). */
    record Threads(int count, String because) {}

    static Threads threads(String driverCores) {
        if (driverCores == null || driverCores.isBlank()) {
            return new Threads(1, DRIVER_CORES + " is unset: Spark's default, 1");
        }
        try {
            int n = Integer.parseInt(driverCores.trim());
            if (n >= 1) {
                return new Threads(n, DRIVER_CORES + "=" + n);
            }
        } catch (NumberFormatException e) {
            // below: Spark refuses such a value itself when the session starts
        }
        return new Threads(1, DRIVER_CORES + "='" + driverCores + "' is not a count of cores: 1");
    }

    /** Settles the three, in the order above; call it before the first ND4J class is used. */
    public static void prepare() {
        PhysicalMemoryCheck.disableUnlessSet();
        BlasKernels.choose();
        Threads t = threads(System.getProperty(DRIVER_CORES));
        OpenMp.choose(t.count(), t.because());
    }

    private static Thread nd4jLoad;
    private static volatile Throwable nd4jFailure;

    /**
     * Starts loading ND4J's backend (libnd4j, OpenBLAS and their Java classes: about 1.4 s of a command on the
     * 2-core development machine) on a daemon thread, once per JVM, so that it runs while the calling thread
     * starts Spark and reads the configuration; the first use of ND4J on another thread waits for it (the JVM's
     * lock on initializing {@code Nd4j}). A failure to load surfaces there as {@code NoClassDefFoundError}, whose
     * cause names only the original error's class: the original, with its causes (the native library that did not
     * load), is kept for {@link #nd4jLoadFailure}. For commands whose driver reads or runs a network; call it
     * after {@link #prepare}.
     *
     * @return the loading thread, for tests
     */
    public static synchronized Thread preloadNd4j() {
        if (nd4jLoad == null) {
            nd4jLoad = new Thread(DriverNative::loadNd4j, "pare-nd4j-load");
            nd4jLoad.setDaemon(true);
            nd4jLoad.start();
        }
        return nd4jLoad;
    }

    private static void loadNd4j() {
        try {
            Nd4j.getBackend();
        } catch (Throwable e) {
            // The command's own first use of ND4J fails next; its error handler reports this one with it.
            nd4jFailure = e;
        }
    }

    /** Why {@link #preloadNd4j}'s thread failed to load ND4J; empty when it did not fail (or did not run). */
    public static Optional<Throwable> nd4jLoadFailure() {
        return Optional.ofNullable(nd4jFailure);
    }
}
