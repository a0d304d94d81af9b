package dev.pare.jobs.spark;

import dev.pare.common.util.BlasKernels;
import dev.pare.common.util.OpenMp;

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
}
