package dev.pare.jobs.spark;

import dev.pare.common.model.Networks;
import dev.pare.common.util.BlasKernels;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkEnv;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Networks on executors. A model travels as broadcast ModelSerializer bytes and is deserialized
 * once per executor JVM; each task thread gets its own clone, because a DL4J network keeps
 * per-call state and is not safe to share between concurrently running tasks.
 *
 * <p>The JVM keeps the {@value #KEPT} models used last, each with its threads' clones: every stage
 * broadcasts its models anew (a {@code pare run} broadcasts the teacher for calibrate and for
 * score-data, then the teacher, the pruned model and the student for evaluate), and an executor
 * with c task slots holds c + 1 copies of each model it keeps (native memory: hundreds of MB each
 * for large networks). A stage uses at most {@value #KEPT} at once (evaluate: the teacher and up to
 * three models per pass, {@code EvaluateJob}), so what a running stage needs is never dropped; a model
 * dropped and asked for again is read again.
 */
public final class ExecutorModels {
    /** The models an executor JVM keeps. */
    static final int KEPT = 4;
    /** Models by application, broadcast and GPU, in the order of their last use (guarded by itself). */
    private static final LinkedHashMap<String, Cached> CACHE = new LinkedHashMap<>(16, 0.75f, true);

    private ExecutorModels() {}

    /** The network in {@code model}, private to the calling thread, in its saved data type. */
    public static MultiLayerNetwork get(Broadcast<byte[]> model) {
        return get(model, null);
    }

    /** The network in {@code model}, private to the calling thread, converted to {@code dataType} (null: as saved). */
    public static MultiLayerNetwork get(Broadcast<byte[]> model, DataType dataType) {
        // Where ExecutorWarmup is off, the executor's first network would load OpenBLAS: its kernels first.
        BlasKernels.choose();
        // Broadcast ids restart with every SparkContext; a JVM that outlives one (local mode, tests)
        // must not serve an earlier application's model for the same id.
        // One copy per GPU when tasks are bound to GPUs (GpuBinding): CUDA arrays live on the device
        // of the thread that created them.
        int device = GpuBinding.bindTask();
        String id = SparkEnv.get().conf().getAppId() + "/" + model.id() + (device == GpuBinding.NO_DEVICE ? ""
                : "/gpu" + device);
        Cached cached;
        synchronized (CACHE) {
            cached = CACHE.computeIfAbsent(id, k -> new Cached());
            Iterator<String> eldest = CACHE.keySet().iterator();
            while (CACHE.size() > KEPT) {
                eldest.next();
                eldest.remove();
            }
        }
        return cached.forThread(model, id, dataType);
    }

    /** How many models the JVM keeps now (for tests). */
    static int cachedModels() {
        synchronized (CACHE) {
            return CACHE.size();
        }
    }

    /** One model: read once (by the first thread that needs it), then cloned per thread and data type. */
    private static final class Cached {
        private MultiLayerNetwork prototype;
        private final ConcurrentHashMap<String, MultiLayerNetwork> perThread = new ConcurrentHashMap<>();

        MultiLayerNetwork forThread(Broadcast<byte[]> model, String id, DataType dataType) {
            // Spark's task threads are pooled: a thread's clone serves its later tasks too.
            return perThread.computeIfAbsent(Thread.currentThread().getId() + "/" + dataType, k -> {
                MultiLayerNetwork proto = prototype(model, id);
                synchronized (proto) {
                    // convertDataType to the saved type returns the network itself: every thread would share it.
                    return dataType == null || dataType == proto.params().dataType() ? proto.clone()
                            : proto.convertDataType(dataType);
                }
            });
        }

        private synchronized MultiLayerNetwork prototype(Broadcast<byte[]> model, String id) {
            if (prototype == null) {
                prototype = Networks.read(model.value(), "broadcast model " + id, false);
            }
            return prototype;
        }
    }
}
