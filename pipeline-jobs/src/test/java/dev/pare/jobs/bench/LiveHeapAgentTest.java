package dev.pare.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class LiveHeapAgentTest {
    @Test
    void intervalIsTheArgumentInMillisecondsOrTheDefault() {
        assertEquals(LiveHeapAgent.DEFAULT_MILLIS, LiveHeapAgent.interval(null));
        assertEquals(LiveHeapAgent.DEFAULT_MILLIS, LiveHeapAgent.interval(""));
        assertEquals(100, LiveHeapAgent.interval("100"));
        assertEquals(100, LiveHeapAgent.interval(" 100 "));
    }

    @Test
    void aBadIntervalIsRefusedWithTheValue() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LiveHeapAgent.interval("0.5"))
                .getMessage().contains("'0.5'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LiveHeapAgent.interval("0"))
                .getMessage().contains("> 0 ms, got 0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LiveHeapAgent.interval("-5"))
                .getMessage().contains("got -5"));
    }

    @Test
    void theSamplerCollectsRepeatedlyOnADaemonThreadUntilInterrupted() throws Exception {
        long before = collections();
        Thread sampler = LiveHeapAgent.start(20);
        try {
            assertTrue(sampler.isDaemon(), "the sampler must never keep the JVM alive");
            assertEquals("pare-live-heap-sampler", sampler.getName());
            // Each System.gc() is counted by the JVM's collector beans (whatever the collector):
            // at least 3 collections within 10 s of 20 ms intervals.
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (collections() < before + 3 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(collections() >= before + 3, "collections: " + before + " -> " + collections());
        } finally {
            sampler.interrupt();
            sampler.join(10_000);
        }
        assertTrue(!sampler.isAlive(), "the sampler stops when interrupted");
    }

    private static long collections() {
        long n = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, gc.getCollectionCount());
        }
        return n;
    }
}
