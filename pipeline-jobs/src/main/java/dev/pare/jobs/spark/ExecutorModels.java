package dev.pare.jobs.spark;

import dev.pare.common.model.Networks;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Networks on executors. A model travels as broadcast ModelSerializer bytes and is deserialized
 * once per executor JVM; each task thread gets its own clone, because a DL4J network keeps
 * per-call state and is not safe to share between concurrently running tasks.
 */
public final class ExecutorModels {
    private static final ConcurrentHashMap<Long, MultiLayerNetwork> PROTOTYPES = new ConcurrentHashMap<>();
    private static final ThreadLocal<java.util.Map<Long, MultiLayerNetwork>> PER_THREAD =
            ThreadLocal.withInitial(java.util.HashMap::new);

    private ExecutorModels() {}

    /** The network in {@code model}, private to the calling thread. */
    public static MultiLayerNetwork get(Broadcast<byte[]> model) {
        long id = model.id();
        return PER_THREAD.get().computeIfAbsent(id, k -> {
            MultiLayerNetwork proto = PROTOTYPES.computeIfAbsent(id,
                    i -> Networks.read(model.value(), "broadcast model " + i, false));
            synchronized (proto) {
                return proto.clone();
            }
        });
    }
}
