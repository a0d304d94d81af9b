package dev.pare.jobs.spark;

import dev.pare.common.util.BlasKernels;
import dev.pare.common.util.OpenMp;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads ND4J's native backend on every executor as soon as the executor starts, on a thread of its
 * own, instead of in the first task that touches a network.
 *
 * <p>Loading the backend (libnd4jcpu, about 300 MB, and OpenBLAS) takes about 0.55 s per JVM here.
 * Every stage is its own application with fresh executors, and each executor's first model task
 * paid that time while the stage waited for it. Started with the executor, the load overlaps the
 * executor's registration and the input checks, which do not use ND4J. A task that needs ND4J
 * before the load ends waits for it (Java class initialization), so nothing is loaded twice.
 *
 * <p>Before anything loads OpenBLAS the plugin chooses its kernels ({@link BlasKernels#choose}): on
 * a cluster the executors' CPUs are theirs to detect, and the bundled OpenBLAS detects some too
 * young for it as a core without AVX. The log names the kernels OpenBLAS loaded.
 *
 * <p>Executors with GPUs are left alone: ND4J's CUDA backend would make a context on the loading
 * thread's current device, while {@link GpuBinding} binds each task to the GPU Spark gave it.
 * {@link Sessions} registers the plugin through {@code spark.plugins}, after any the user set;
 * {@value #ENABLED} = false leaves it out.
 */
public final class ExecutorWarmup implements SparkPlugin {
    /** The Spark setting that turns the warm-up off (true by default). */
    public static final String ENABLED = "spark.pare.executorWarmup";
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorWarmup.class);

    @Override
    public DriverPlugin driverPlugin() {
        return null;
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new Executor();
    }

    /** The executor side: starts the load in {@link #init} and returns at once. */
    static final class Executor implements ExecutorPlugin {
        private final CompletableFuture<String> backend = new CompletableFuture<>();

        @Override
        public void init(PluginContext ctx, Map<String, String> extraConf) {
            // On this thread, before any task can load ND4J: a task that loaded it first would keep its kernels.
            BlasKernels.choose();
            if (ctx.resources().containsKey(GpuBinding.RESOURCE)) {
                backend.complete("");
                return;
            }
            Thread t = new Thread(() -> {
                long start = System.nanoTime();
                try {
                    String name = Nd4j.getBackend().getClass().getSimpleName();
                    LOG.info("ND4J {} loaded in {} ms (executor {}); {}; {}", name,
                            (System.nanoTime() - start) / 1_000_000, ctx.executorID(), BlasKernels.summary(),
                            OpenMp.inEffect());
                    backend.complete(name);
                } catch (Throwable e) {
                    // The first task that needs ND4J reports the failure as the stage's error.
                    LOG.warn("ND4J did not load on executor {}: {}", ctx.executorID(), e.toString());
                    backend.completeExceptionally(e);
                }
            }, "pare-nd4j-warmup");
            t.setDaemon(true);
            t.start();
        }

        /** ND4J's backend class name once loaded; empty when the executor has GPUs and nothing was started. */
        CompletableFuture<String> backend() {
            return backend;
        }
    }
}
