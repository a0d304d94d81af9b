package dev.pare.common.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * libnd4j and libgomp read {@value OpenMp#THREADS} and {@value OpenMp#WAIT_POLICY} once, when they
 * load, and ND4J's Java side reads {@value OpenMp#THREADS} once too: the choices run in fresh JVMs
 * ({@link Probe}), which read back the thread counts ND4J runs with.
 */
class OpenMpTest {
    private static final List<String> BOTH = List.of(OpenMp.THREADS, OpenMp.WAIT_POLICY);
    /** What spark-submit and deploy/pare give a driver JVM (among others). */
    private static final List<String> OPENS = List.of("--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED");

    /** More threads than cores: a count ND4J never takes by itself. */
    private static final int N = Runtime.getRuntime().availableProcessors() + 1;
    private static final String NNN = N + " " + N + " " + N;

    /** Chooses {@link #N} threads (after loading ND4J with "late"), then prints the choice and the counts ND4J runs. */
    public static final class Probe {
        /** OpenBLAS's threads, then this thread's OpenMP threads (omp_get_max_threads), then libnd4j's own. */
        static String counts() {
            return Nd4j.factory().blas().getMaxThreads() + " "
                    + NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads() + " "
                    + Nd4j.getEnvironment().maxThreads();
        }

        public static void main(String[] args) throws InterruptedException {
            if (args.length > 0 && args[0].equals("late")) {
                Nd4j.create(2, 2);
            }
            OpenMp.Choice c = OpenMp.choose(N, "the probe's count");
            String loading = counts();
            String[] other = new String[1];
            Thread t = new Thread(() -> other[0] = counts());
            t.start();
            t.join();
            System.out.println(c.threads() + "|" + c.waitPolicy() + "|" + c.how() + "|" + loading + "|" + other[0]
                    + "|" + System.getenv(OpenMp.THREADS) + "|" + OpenMp.inEffect());
        }
    }

    @Test
    void unsetSettingsAreSetBeforeNd4jLoadsAndEveryPartOfNd4jRunsThatManyThreads() throws Exception {
        String[] p = ChildJvm.lastLine(Probe.class, OPENS, BOTH, Map.of());
        assertEquals(Integer.toString(N), p[0]);
        assertEquals("PASSIVE", p[1]);
        assertEquals("OMP_NUM_THREADS=" + N + " set by Pare (the probe's count), OMP_WAIT_POLICY=PASSIVE set by Pare",
                p[2]);
        // OpenBLAS, OpenMP on the thread that loaded ND4J and on another, libnd4j: ND4J's Java side, which sets the
        // first two from System.getenv, sees the value as the native libraries do.
        assertEquals(NNN, p[3], "the loading thread");
        assertEquals(NNN, p[4], "another thread");
        assertEquals(Integer.toString(N), p[5], "System.getenv");
        assertEquals("OMP_NUM_THREADS=" + N + ", OMP_WAIT_POLICY=PASSIVE", p[6]);
    }

    @Test
    void withoutJavaLangOpenTheThreadsAreLeftUnsetRatherThanHalfSet() throws Exception {
        String[] p = ChildJvm.lastLine(Probe.class, List.of(), BOTH, Map.of());
        assertEquals("null", p[0]);
        assertEquals("PASSIVE", p[1], "the wait policy is read by native code only");
        assertTrue(p[2].startsWith("OMP_NUM_THREADS left unset: the JVM does not open java.lang and java.util"), p[2]);
        assertTrue(p[2].endsWith(", OMP_WAIT_POLICY=PASSIVE set by Pare"), p[2]);
        // A thread per core everywhere, as without Pare; not N on some threads and the core count on others.
        String cores = p[3].split(" ")[0];
        assertTrue(Integer.parseInt(cores) < N, p[3]);
        assertEquals(cores + " " + cores + " " + cores, p[3]);
        assertEquals(p[3], p[4]);
        assertEquals("OMP_NUM_THREADS=(unset), OMP_WAIT_POLICY=PASSIVE", p[6]);
    }

    @Test
    void theUsersValuesAreKeptEachOnItsOwn() throws Exception {
        String[] threadsSet = ChildJvm.lastLine(Probe.class, OPENS, BOTH, Map.of(OpenMp.THREADS, "2"));
        assertEquals("2|PASSIVE|OMP_NUM_THREADS=2 as set, OMP_WAIT_POLICY=PASSIVE set by Pare|2 2 2|2 2 2",
                String.join("|", List.of(threadsSet).subList(0, 5)));

        String[] both = ChildJvm.lastLine(Probe.class, OPENS, BOTH,
                Map.of(OpenMp.THREADS, "5", OpenMp.WAIT_POLICY, "ACTIVE"));
        assertEquals("5|ACTIVE|OMP_NUM_THREADS=5, OMP_WAIT_POLICY=ACTIVE as set|5 5 5|5 5 5",
                String.join("|", List.of(both).subList(0, 5)));

        // An empty value is no choice: set as if unset.
        String[] empty = ChildJvm.lastLine(Probe.class, OPENS, BOTH,
                Map.of(OpenMp.THREADS, "", OpenMp.WAIT_POLICY, "ACTIVE"));
        assertEquals("OMP_NUM_THREADS=" + N + " set by Pare (the probe's count), OMP_WAIT_POLICY=ACTIVE as set",
                empty[2]);
        assertEquals(NNN, empty[3]);
    }

    @Test
    void afterNd4jLoadedNothingIsSetAndTheChoiceSaysSo() throws Exception {
        String[] late = ChildJvm.lastLine(Probe.class, OPENS, BOTH, Map.of(), "late");
        assertEquals("null|null", late[0] + "|" + late[1]);
        assertEquals("left as they were: ND4J's native libraries were loaded before Pare could set them", late[2]);
        assertEquals("OMP_NUM_THREADS=(unset), OMP_WAIT_POLICY=(unset)", late[6]);
    }

    @Test
    void theLibrariesThatReadTheSettingsAreKnownByName() {
        for (String lib : List.of("libnd4jcpu.so", "libjnind4jcpu.so", "libgomp.so.1", "libopenblas_nolapack.so.0",
                "libjniopenblas_nolapack.so")) {
            assertTrue(OpenMp.readsTheSettings(lib), lib);
        }
        for (String lib : List.of("libc.so.6", "libjnidnnl.so", "libjava.so", "libstdc++.so.6")) {
            assertFalse(OpenMp.readsTheSettings(lib), lib);
        }
        assertThrows(IllegalArgumentException.class, () -> OpenMp.choose(0, "none"));
    }
}
