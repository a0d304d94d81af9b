package dev.pare.jobs.spark;

import dev.pare.common.model.Networks;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkEnv;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Networks on executors. A model travels as broadcast ModelSerializer bytes and is deserialized
 * once per executor JVM; each task thread gets its own clone, because a DL4J network keeps
 * per-call state and is not safe to share between concurrently running tasks.
 */
public final class ExecutorModels {
    private static final ConcurrentHashMap<String, MultiLayerNetwork> PROTOTYPES = new ConcurrentHashMap<>();
    private static final ThreadLocal<java.util.Map<String, MultiLayerNetwork>> PER_THREAD =
            ThreadLocal.withInitial(java.util.HashMap::new);

    private ExecutorModels() {}

    /** The network in {@code model}, private to the calling thread, in its saved data type. */
    public static MultiLayerNetwork get(Broadcast<byte[]> model) {
        return get(model, null);
    }

    /** The network in {@code model}, private to the calling thread, converted to {@code dataType} (null: as saved). */
    public static MultiLayerNetwork get(Broadcast<byte[]> model, DataType dataType) {
        // Broadcast ids restart with every SparkContext; a JVM that outlives one (local mode, tests)
        // must not serve an earlier application's model for the same id.
        // One copy per GPU when tasks are bound to GPUs (GpuBinding): CUDA arrays live on the device
        // of the thread that created them.
        int device = GpuBinding.bindTask();
        String id = SparkEnv.get().conf().getAppId() + "/" + model.id() + (device == GpuBinding.NO_DEVICE ? ""
                : "/gpu" + device);
        return PER_THREAD.get().computeIfAbsent(id + "/" + dataType, k -> {
            MultiLayerNetwork proto = PROTOTYPES.computeIfAbsent(id,
                    i -> Networks.read(model.value(), "broadcast model " + i, false));
            synchronized (proto) {
                // convertDataType to the saved type returns the network itself: every thread would share it.
                return dataType == null || dataType == proto.params().dataType() ? proto.clone()
                        : proto.convertDataType(dataType);
            }
        });
    }
}
