package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class DriverNativeTest {
    /**
     * In a fresh JVM: whether {@code Nd4j} still needs initializing before {@link DriverNative#preloadNd4j} and
     * after its thread ends, that thread's name and kind, whether a second call returns the same thread, then the
     * main thread's first use of ND4J: the backend's class, or the error and its causes.
     */
    public static final class Probe {
        @SuppressWarnings("removal")
        public static void main(String[] args) throws Exception {
            java.lang.reflect.Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            sun.misc.Unsafe unsafe = (sun.misc.Unsafe) f.get(null);
            Class<?> nd4j = Class.forName("org.nd4j.linalg.factory.Nd4j", false, Probe.class.getClassLoader());
            boolean before = unsafe.shouldBeInitialized(nd4j);
            DriverNative.prepare();
            Thread t = DriverNative.preloadNd4j();
            boolean same = t == DriverNative.preloadNd4j();
            t.join(300_000);
            boolean after = unsafe.shouldBeInitialized(nd4j);
            String use;
            try {
                use = org.nd4j.linalg.factory.Nd4j.getBackend().getClass().getSimpleName();
            } catch (Throwable e) {
                StringBuilder chain = new StringBuilder();
                for (Throwable c = e; c != null; c = c.getCause()) {
                    chain.append(c).append(" <- ");
                }
                use = chain.toString().replace('\n', ' ');
            }
            for (Throwable c = DriverNative.nd4jLoadFailure().orElse(null); c != null; c = c.getCause()) {
                use += " | " + c.toString().replace('\n', ' ');
            }
            System.out.println("PROBE " + before + " " + same + " " + t.getName() + " " + t.isDaemon() + " "
                    + t.isAlive() + " " + after + " " + use);
        }
    }

    private static String probe(String... jvmOptions) throws Exception {
        String out = ChildJvm.output(Probe.class, List.of(jvmOptions));
        return out.lines().filter(l -> l.startsWith("PROBE ")).findFirst()
                .orElseThrow(() -> new AssertionError("no PROBE line in:\n" + out)).substring("PROBE ".length());
    }

    @Test
    void theBackendLoadsOnItsOwnThreadAndAFailureReachesTheFirstUse() throws Exception {
        // Not initialized before; initialized by the daemon thread, which has ended; the main thread finds it loaded,
        // and no failure is kept.
        assertEquals("true true pare-nd4j-load true false false CpuBackend", probe());
        // Natives of another platform: the main thread's first use fails naming the loading thread, whose own
        // error, with the library that did not load, is kept (PareCli's error handler prints it).
        String failed = probe("-Dorg.bytedeco.javacpp.platform=windows-x86_64");
        assertTrue(failed.startsWith("true true pare-nd4j-load true false true java.lang.NoClassDefFoundError:"
                + " Could not initialize class org.nd4j.linalg.factory.Nd4j"), failed);
        assertTrue(failed.contains("[in thread \"pare-nd4j-load\"]"), failed);
        String kept = failed.substring(failed.indexOf(" | "));
        assertTrue(kept.contains("java.lang.UnsatisfiedLinkError: no jniopenblas_nolapack"), kept);
    }

    @Test
    void theDriversThreadsAreTheCoresSparkGivesIt() {
        assertEquals(new DriverNative.Threads(1, "spark.driver.cores is unset: Spark's default, 1"),
                DriverNative.threads(null));
        assertEquals(new DriverNative.Threads(1, "spark.driver.cores is unset: Spark's default, 1"),
                DriverNative.threads(" "));
        assertEquals(new DriverNative.Threads(4, "spark.driver.cores=4"), DriverNative.threads("4"));
        assertEquals(new DriverNative.Threads(8, "spark.driver.cores=8"), DriverNative.threads(" 8 "));
        // Spark refuses these itself when the session starts; the driver's threads stay at its default meanwhile.
        assertEquals(new DriverNative.Threads(1, "spark.driver.cores='0' is not a count of cores: 1"),
                DriverNative.threads("0"));
        assertEquals(new DriverNative.Threads(1, "spark.driver.cores='two' is not a count of cores: 1"),
                DriverNative.threads("two"));
    }
}
