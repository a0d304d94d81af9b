package dev.pare.jobs.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.util.BlasKernels;
import dev.pare.jobs.spark.DriverNative;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * What the benchmark mains share: running a picocli command as {@code main} (usage errors exit
 * with 2, as the {@code pare} CLI), the {@code machine} block of their JSON documents, medians.
 */
final class Bench {
    /** The environment variables that decide DL4J's (and PyTorch's) CPU speed (PERF-NOTES.md). */
    static final String[] SPEED_ENVIRONMENT = {"OMP_NUM_THREADS", "OMP_WAIT_POLICY", "OPENBLAS_CORETYPE"};

    private Bench() {}

    /** Runs {@code command} with {@code args} and exits with its code. */
    static void main(Callable<Integer> command, String[] args) {
        DriverNative.prepare(); // as PareCli does: before anything loads ND4J's native libraries
        System.exit(new CommandLine(command).execute(args));
    }

    /**
     * Adds {@code machine} to {@code doc}: cores, CPU model, load average, the speed environment, how
     * OpenBLAS's kernels were chosen and the Spark master (null when none); {@link #finish} adds the
     * load average and the kernels OpenBLAS loaded at the end.
     */
    static ObjectNode machine(ObjectNode doc, String master) {
        ObjectNode machine = doc.putObject("machine");
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("cpu", cpuModel());
        machine.put("java", System.getProperty("java.version"));
        machine.put("loadavgStart", loadavg());
        for (String name : SPEED_ENVIRONMENT) {
            machine.put(name, System.getenv(name));
        }
        // OPENBLAS_CORETYPE above is what the JVM was started with, which Pare sets when unset; finish adds
        // the kernels OpenBLAS loaded (by then the benchmark has loaded it; a summary's JVM has not).
        machine.put("openblasChoice", BlasKernels.choose().how());
        machine.put("master", master);
        return machine;
    }

    static void finish(ObjectNode machine) {
        machine.put("openblasKernels", BlasKernels.loadedCore().orElse(null));
        machine.put("loadavgEnd", loadavg());
    }

    /** {@code /proc/loadavg}, or "unknown" where there is none. */
    static String loadavg() {
        try {
            return Files.readString(Paths.get("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String cpuModel() {
        try (var lines = Files.lines(Paths.get("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The median (mean of the middle two for an even count); NaN for none. */
    static double median(double... values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] v = values.clone();
        Arrays.sort(v);
        int m = v.length / 2;
        return v.length % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
    }

    static double secondsSince(long nanoTime) {
        return (System.nanoTime() - nanoTime) / 1e9;
    }
}
