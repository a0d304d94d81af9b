package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.codahale.metrics.MetricRegistry;
import dev.pare.jobs.io.BadInputException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkConf;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

class ExecutorWarmupTest {
    private static final String NAME = ExecutorWarmup.class.getName();

    @Test
    void theExecutorSideLoadsNd4jOnItsOwnThreadAndSkipsExecutorsWithGpus() throws Exception {
        ExecutorWarmup.Executor cpu = new ExecutorWarmup.Executor();
        cpu.init(context(Map.of()), Map.of());
        assertEquals(GpuBinding.backendName(), cpu.backend().get(60, TimeUnit.SECONDS));
        assertEquals("CpuBackend", cpu.backend().get());

        ExecutorWarmup.Executor gpu = new ExecutorWarmup.Executor();
        gpu.init(context(Map.of(GpuBinding.RESOURCE, new ResourceInformation(GpuBinding.RESOURCE, new String[] {"0"}))),
                Map.of());
        assertTrue(gpu.backend().isDone(), "nothing is started on an executor with GPUs");
        assertEquals("", gpu.backend().get());
    }

    @Test
    void thePluginComesAfterTheUsersOwnOnceAndCanBeTurnedOff() {
        assertEquals(NAME, Sessions.withClasses("", NAME));
        assertEquals(NAME, Sessions.withClasses(null, NAME));
        assertEquals("a.B,c.D," + NAME, Sessions.withClasses(" a.B, c.D ,", NAME));
        assertEquals(NAME + ",a.B", Sessions.withClasses(NAME + ",a.B", NAME));

        SparkConf submitted = new SparkConf(false).set("spark.plugins", "s.P");
        assertEquals(Optional.of("s.P," + NAME), Sessions.warmupPlugins(Map.of(), submitted));
        assertEquals(Optional.of("c.P," + NAME), Sessions.warmupPlugins(Map.of("spark.plugins", "c.P"), submitted),
                "the config's spark.conf wins over spark-submit's, as in the session builder");
        assertEquals(Optional.of(NAME), Sessions.warmupPlugins(Map.of(), new SparkConf(false)));
        assertEquals(Optional.empty(), Sessions.warmupPlugins(Map.of(ExecutorWarmup.ENABLED, "false"), submitted));
        assertEquals(Optional.empty(), Sessions.warmupPlugins(Map.of(),
                new SparkConf(false).set(ExecutorWarmup.ENABLED, " FALSE")));
        assertEquals(Optional.of("s.P," + NAME), Sessions.warmupPlugins(Map.of(ExecutorWarmup.ENABLED, "true"),
                submitted.clone().set(ExecutorWarmup.ENABLED, "false")));
        BadInputException e = assertThrows(BadInputException.class,
                () -> Sessions.warmupPlugins(Map.of(ExecutorWarmup.ENABLED, "yes"), submitted));
        assertTrue(e.getMessage().contains(ExecutorWarmup.ENABLED) && e.getMessage().contains("'yes'"), e.getMessage());
    }

    private static PluginContext context(Map<String, ResourceInformation> resources) {
        return new PluginContext() {
            @Override
            public MetricRegistry metricRegistry() {
                return new MetricRegistry();
            }

            @Override
            public SparkConf conf() {
                return new SparkConf(false);
            }

            @Override
            public String executorID() {
                return "7";
            }

            @Override
            public String hostname() {
                return "127.0.0.1";
            }

            @Override
            public Map<String, ResourceInformation> resources() {
                return resources;
            }

            @Override
            public void send(Object message) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Object ask(Object message) {
                throw new UnsupportedOperationException();
            }
        };
    }
}
