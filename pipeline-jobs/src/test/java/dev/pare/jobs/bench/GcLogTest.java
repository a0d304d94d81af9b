package dev.pare.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class GcLogTest {
    private static final long M = 1L << 20;

    @Test
    void highWaterMarksComeFromEveryPauseLine() {
        // G1 lines as JDK 17 writes them with -Xlog:gc; concurrent-cycle lines carry no sizes.
        GcLog log = GcLog.parse(List.of(
                "[0.003s][info][gc] Using G1",
                "[0.035s][info][gc] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 6M->3M(64M) 2.339ms",
                "[0.055s][info][gc] GC(1) Pause Young (Concurrent Start) (G1 Evacuation Pause) 44M->40M(64M) 4.524ms",
                "[0.055s][info][gc] GC(2) Concurrent Mark Cycle",
                "[0.091s][info][gc] GC(2) Pause Remark 54M->39M(96M) 0.375ms",
                "[0.092s][info][gc] GC(2) Pause Cleanup 49M->49M(96M) 0.022ms",
                "[0.092s][info][gc] GC(2) Concurrent Mark Cycle 3.481ms",
                "[0.097s][info][gc] GC(3) Pause Full (System.gc()) 42M->30M(64M) 1.159ms",
                "[0.131s][info][gc] GC(4) Pause Full (Diagnostic Command) 36M->31M(64M) 2.001ms"));
        assertEquals(5, log.collections());
        assertEquals(6, log.pauses());
        assertEquals(2, log.fullPauses());
        assertEquals(54 * M, log.maxBeforeBytes());
        assertEquals(49 * M, log.maxAfterBytes());
        assertEquals(31 * M, log.maxAfterFullBytes(), "the live set: after full collections only");
        assertEquals(96 * M, log.maxCommittedBytes());
    }

    @Test
    void unitsFromBytesToGigabytes() {
        GcLog log = GcLog.parse(List.of(
                "[1.0s][info][gc] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 900K->512B(2G) 1.0ms",
                "[2.0s][info][gc] GC(1) Pause Young (Normal) (G1 Evacuation Pause) 3G->1500M(4G) 1.0ms"));
        assertEquals(3L << 30, log.maxBeforeBytes());
        assertEquals(1500 * M, log.maxAfterBytes());
        assertEquals(4L << 30, log.maxCommittedBytes());
    }

    @Test
    void aJvmThatNeverCollectedHasNoPeak() {
        GcLog log = GcLog.parse(List.of("[0.003s][info][gc] Using G1"));
        assertEquals(new GcLog(0, 0, 0, 0, 0, 0, 0), log);
    }

    @Test
    void severalJvmsTakeTheLargestOfEach() {
        GcLog a = new GcLog(2, 3, 1, 100, 40, 30, 200);
        GcLog b = new GcLog(1, 1, 0, 80, 60, 0, 150);
        assertEquals(new GcLog(3, 4, 1, 100, 60, 30, 200), GcLog.max(List.of(a, b)));
        assertEquals(new GcLog(0, 0, 0, 0, 0, 0, 0), GcLog.max(List.of()));
    }
}
