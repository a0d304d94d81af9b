package dev.pare.jobs.spark;

import dev.pare.common.model.ForwardPass;
import dev.pare.common.model.Networks;
import dev.pare.common.util.BlasKernels;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
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
 *
 * <p>Each thread's clone comes with its forward passes' arrays ({@link #buffers}), kept for the
 * thread's later tasks of the same stage; they are as large as a batch's activations (some 100 MB
 * per thread for LeNet-5 at 1000 rows), so when a later stage's model arrives the arrays of the
 * models of earlier stages are dropped, while their networks stay.
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
        return cached(model).forThread(model, dataType);
    }

    /**
     * The calling thread's arrays for forward passes of {@link #get}'s network ({@link ForwardPass.Buffers}),
     * kept with the thread's clone: a task thread's later tasks reuse what its first ones allocated. Each task
     * making its own, a LeNet-5 {@code score-data} stage of 60k rows (4 tasks on 2 threads, batches of 629-822
     * rows) made 120 native allocations, 905 MB zero-filled, about 2.6 s of its 14.2 s of task CPU; on a large
     * table a thread runs many more tasks. Use them on this thread only, for one pass at a time (a task's
     * passes of one model run one after the other).
     */
    public static ForwardPass.Buffers buffers(Broadcast<byte[]> model, DataType dataType) {
        return cached(model).buffersForThread(dataType);
    }

    /** {@link #buffers(Broadcast, DataType)} for the network in its saved data type. */
    public static ForwardPass.Buffers buffers(Broadcast<byte[]> model) {
        return buffers(model, null);
    }

    /** The JVM's entry for {@code model} (made if absent), the {@value #KEPT} used last kept. */
    private static Cached cached(Broadcast<byte[]> model) {
        // Where ExecutorWarmup is off, the executor's first network would load OpenBLAS: its kernels first.
        BlasKernels.choose();
        // Broadcast ids restart with every SparkContext; a JVM that outlives one (local mode, tests)
        // must not serve an earlier application's model for the same id.
        // One copy per GPU when tasks are bound to GPUs (GpuBinding): CUDA arrays live on the device
        // of the thread that created them.
        int device = GpuBinding.bindTask();
        String id = SparkEnv.get().conf().getAppId() + "/" + model.id() + (device == GpuBinding.NO_DEVICE ? ""
                : "/gpu" + device);
        TaskContext task = TaskContext.get();
        int stage = task == null ? -1 : task.stageId();
        synchronized (CACHE) {
            Cached cached = CACHE.get(id);
            if (cached == null) {
                // A new broadcast: a new stage's model (every stage broadcasts its own). The arrays of earlier
                // stages' models are dropped (a task still using them keeps its reference); their networks stay.
                for (Cached other : CACHE.values()) {
                    if (other.stage != stage) {
                        other.buffers.clear();
                    }
                }
                cached = new Cached(id, stage);
                CACHE.put(id, cached);
            }
            Iterator<String> eldest = CACHE.keySet().iterator();
            while (CACHE.size() > KEPT) {
                eldest.next();
                eldest.remove();
            }
            return cached;
        }
    }

    /** How many models the JVM keeps now (for tests). */
    static int cachedModels() {
        synchronized (CACHE) {
            return CACHE.size();
        }
    }

    /**
     * One model: read once (by the first thread that needs it), then cloned per thread and data type,
     * with each clone's {@link ForwardPass.Buffers}.
     */
    private static final class Cached {
        private final String id;
        /** The stage whose task first asked for the model (-1: outside a task). */
        private final int stage;
        private MultiLayerNetwork prototype;
        private final ConcurrentHashMap<String, MultiLayerNetwork> perThread = new ConcurrentHashMap<>();
        private final ConcurrentHashMap<String, ForwardPass.Buffers> buffers = new ConcurrentHashMap<>();

        Cached(String id, int stage) {
            this.id = id;
            this.stage = stage;
        }

        ForwardPass.Buffers buffersForThread(DataType dataType) {
            return buffers.computeIfAbsent(Thread.currentThread().getId() + "/" + dataType, k -> new ForwardPass.Buffers());
        }

        MultiLayerNetwork forThread(Broadcast<byte[]> model, DataType dataType) {
            // Spark's task threads are pooled: a thread's clone serves its later tasks too.
            return perThread.computeIfAbsent(Thread.currentThread().getId() + "/" + dataType, k -> {
                MultiLayerNetwork proto = prototype(model);
                synchronized (proto) {
                    // convertDataType to the saved type returns the network itself: every thread would share it.
                    return dataType == null || dataType == proto.params().dataType() ? proto.clone()
                            : proto.convertDataType(dataType);
                }
            });
        }

        private synchronized MultiLayerNetwork prototype(Broadcast<byte[]> model) {
            if (prototype == null) {
                prototype = Networks.read(model.value(), "broadcast model " + id, false);
            }
            return prototype;
        }
    }
}
