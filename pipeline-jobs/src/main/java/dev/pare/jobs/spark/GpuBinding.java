package dev.pare.jobs.spark;

import java.util.Map;
import java.util.OptionalInt;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Binds executor task threads to the GPU Spark scheduled for them.
 *
 * <p>With Spark's GPU scheduling ({@code spark.executor.resource.gpu.amount},
 * {@code spark.task.resource.gpu.amount} = 1 and a discovery script such as
 * {@code deploy/gpu/discover-gpus.sh}), every task carries the address of its GPU in
 * {@link TaskContext#resourcesJMap()}. When ND4J runs on its CUDA backend (a {@code -Pcuda} build on a
 * node where CUDA loads), {@link #bindTask()} makes that GPU the current ND4J device of the task's
 * thread, so networks the thread creates and runs live there; {@link ExecutorModels} keeps one copy
 * of each network per device. On the CPU backend, or without GPU scheduling, nothing changes.
 */
public final class GpuBinding {
    /** Spark's resource name for GPUs. */
    public static final String RESOURCE = "gpu";
    /** The device of CPU-backend work, and of CUDA work without an assigned GPU. */
    public static final int NO_DEVICE = -1;

    private GpuBinding() {}

    /**
     * The device number of the first {@code gpu} address in a task's resources.
     *
     * @throws IllegalStateException when an address is not a device number (a discovery script
     *     printing UUIDs, say), naming it
     */
    static OptionalInt assignedDevice(Map<String, ResourceInformation> resources) {
        ResourceInformation gpu = resources == null ? null : resources.get(RESOURCE);
        if (gpu == null || gpu.addresses().length == 0) {
            return OptionalInt.empty();
        }
        String address = gpu.addresses()[0].trim();
        try {
            return OptionalInt.of(Integer.parseInt(address));
        } catch (NumberFormatException e) {
            throw new IllegalStateException("Spark assigned GPU address '" + address + "', which is not a CUDA device"
                    + " number; the GPU discovery script must print device indices such as \"0\" (see"
                    + " deploy/gpu/discover-gpus.sh)");
        }
    }

    /** Whether ND4J runs on its CUDA backend in this JVM. */
    public static boolean cudaBackend() {
        return backendName().startsWith("JCublas");
    }

    /** ND4J's backend in this JVM, e.g. {@code CpuBackend} or {@code JCublasBackend}. */
    public static String backendName() {
        return Nd4j.getBackend().getClass().getSimpleName();
    }

    /**
     * In a Spark task on the CUDA backend with a GPU assigned: makes it the calling thread's ND4J
     * device and returns its number; else {@link #NO_DEVICE}.
     */
    public static int bindTask() {
        TaskContext task = TaskContext.get();
        if (task == null || !cudaBackend()) {
            return NO_DEVICE;
        }
        OptionalInt device = assignedDevice(task.resourcesJMap());
        if (device.isEmpty()) {
            return NO_DEVICE;
        }
        Nd4j.getAffinityManager().unsafeSetDevice(device.getAsInt());
        return device.getAsInt();
    }
}
