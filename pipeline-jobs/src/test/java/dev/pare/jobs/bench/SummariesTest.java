package dev.pare.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.jobs.io.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The scale-out and memory documents: speed-ups and growth ratios computed from hand-made measurements. */
class SummariesTest {
    private static JsonNode provenance(double seconds, String detail, long examples) {
        ObjectNode p = Json.object();
        p.put("seconds", seconds);
        p.putObject("details").put(detail, examples);
        return p;
    }

    @Test
    void speedUpsAreRelativeToTheFirstConfiguration() {
        ObjectNode doc = ScaleOutSummary.document(List.of(
                new ScaleOutSummary.Measurement(1, 1, "calibrate", 0, 30.0, provenance(12.0, "samples", 60000)),
                new ScaleOutSummary.Measurement(1, 1, "score-data", 0, 20.0, provenance(8.0, "examples", 60000)),
                new ScaleOutSummary.Measurement(2, 1, "calibrate", 0, 24.0, provenance(7.5, "samples", 60000)),
                new ScaleOutSummary.Measurement(2, 1, "score-data", 1, 5.0, null)));
        assertEquals(2, doc.path("configurations").size());
        JsonNode one = doc.path("configurations").get(0);
        assertTrue(one.at("/stages/calibrate/modelShareOfSlotTime").isMissingNode(), "older provenance: no share");
        assertEquals("1x1", one.path("configuration").asText());
        assertEquals(60000, one.at("/stages/calibrate/examples").asLong());
        assertEquals(8.0, one.at("/stages/score-data/stageSeconds").asDouble());
        JsonNode two = doc.at("/speedUp/2x1");
        assertEquals("1x1", doc.at("/speedUp/relativeTo").asText());
        assertEquals(30.0 / 24.0, two.at("/calibrate/wall").asDouble(), 1e-12);
        assertEquals(12.0 / 7.5, two.at("/calibrate/stage").asDouble(), 1e-12);
        // A failed run has no speed-up, not a flattering one from its short wall time.
        assertTrue(two.at("/score-data/wall").isNull());
        assertTrue(two.at("/score-data/stage").isNull());
        assertTrue(doc.at("/configurations/1/stages/score-data/stageSeconds").isNull());
    }

    @Test
    void theModelsShareIsItsSecondsOverTheStagesSlotTime() {
        JsonNode p = provenance(12.0, "examples", 60000);
        ((ObjectNode) p.path("details")).put("modelSeconds", 18.0).put("taskSlots", 2);
        JsonNode stage = ScaleOutSummary.document(List.of(
                new ScaleOutSummary.Measurement(2, 1, "score-data", 0, 20.0, p))).at("/configurations/0/stages/score-data");
        assertEquals(18.0, stage.path("modelSeconds").asDouble());
        assertEquals(2, stage.path("taskSlots").asInt());
        assertEquals(18.0 / (12.0 * 2), stage.path("modelShareOfSlotTime").asDouble(), 1e-12);
        assertTrue(stage.path("driverClassDataArchive").isNull(), "no archive recorded: null");

        ((ObjectNode) p).put("classDataArchive", "/w/cds/pare-0123.jsa");
        assertEquals("/w/cds/pare-0123.jsa", ScaleOutSummary.document(List.of(
                new ScaleOutSummary.Measurement(2, 1, "score-data", 0, 20.0, p)))
                .at("/configurations/0/stages/score-data/driverClassDataArchive").asText());
    }

    @Test
    void speedUpNeedsBothTimes() {
        assertEquals(2.0, ScaleOutSummary.speedUp(10.0, 5.0));
        assertNull(ScaleOutSummary.speedUp(null, 5.0));
        assertNull(ScaleOutSummary.speedUp(10.0, 0.0));
    }

    /** A driver log: {@code full} full collections, the largest of them leaving {@code live} MiB. */
    private static GcLog log(long beforeMiB, long afterMiB, long liveMiB) {
        long m = 1L << 20;
        return new GcLog(3, 3, liveMiB > 0 ? 1 : 0, beforeMiB * m, afterMiB * m, liveMiB * m, 1024 * m);
    }

    @Test
    void memoryRatiosAreLargestSizeOverSmallestOfThePeaksOverStages() {
        ObjectNode doc = MemorySummary.document(List.of(
                new MemorySummary.Measurement(600000, "calibrate", 0, 9.0, log(900, 330, 110), null),
                new MemorySummary.Measurement(60000, "calibrate", 0, 4.0, log(500, 300, 100), null),
                new MemorySummary.Measurement(60000, "score-data", 0, 5.0, log(700, 200, 80), null),
                new MemorySummary.Measurement(600000, "score-data", 0, 30.0, log(800, 260, 120), null)));
        assertEquals(60000, doc.at("/sizes/0/rows").asLong());
        assertEquals(100.0, doc.at("/sizes/0/peakDriverLiveHeapMiB").asDouble());
        assertEquals(300.0, doc.at("/sizes/0/peakDriverHeapMiB").asDouble());
        assertEquals(700.0, doc.at("/sizes/0/peakDriverHeapBeforeGcMiB").asDouble());
        assertEquals(120.0, doc.at("/sizes/1/peakDriverLiveHeapMiB").asDouble());
        assertEquals(330.0, doc.at("/sizes/1/peakDriverHeapMiB").asDouble());
        assertEquals(10.0, doc.at("/ratio/dataRatio").asDouble());
        // The peaks over all stages: live 120 / 100, after any collection 330 / 300.
        assertEquals(1.2, doc.at("/ratio/peakDriverLiveHeap").asDouble(), 1e-12);
        assertEquals(1.1, doc.at("/ratio/peakDriverHeap").asDouble(), 1e-12);
        assertTrue(doc.at("/ratio/meetsGoal/liveHeap").asBoolean());
        assertTrue(doc.at("/ratio/meetsGoal/heapAfterGc").asBoolean());
        assertEquals(1.5, doc.at("/ratio/perStage/score-data/driverLive").asDouble(), 1e-12);
        assertEquals(1.3, doc.at("/ratio/perStage/score-data/driverAfterGc").asDouble(), 1e-12);
        assertEquals(800.0 / 700.0, doc.at("/ratio/perStage/score-data/driverBeforeGc").asDouble(), 1e-12);
        assertEquals(110.0, doc.at("/sizes/1/stages/calibrate/driver/liveHeapMiB").asDouble());
        assertTrue(doc.at("/sizes/0/stages/calibrate/executors").isNull());
    }

    @Test
    void executorsLiveHeapRatioOnlyWhereBothSizesWereSampled() {
        ObjectNode doc = MemorySummary.document(List.of(
                new MemorySummary.Measurement(10, "calibrate", 0, 1.0, log(9, 5, 4), log(300, 200, 80)),
                new MemorySummary.Measurement(100, "calibrate", 0, 1.0, log(9, 5, 4), log(400, 260, 88)),
                new MemorySummary.Measurement(10, "score-data", 0, 1.0, log(9, 5, 4), log(300, 200, 0)),
                new MemorySummary.Measurement(100, "score-data", 0, 1.0, log(9, 5, 4), log(400, 300, 90))));
        assertEquals(1.1, doc.at("/ratio/perStage/calibrate/executorsLive").asDouble(), 1e-12);
        assertEquals(1.3, doc.at("/ratio/perStage/calibrate/executorsAfterGc").asDouble(), 1e-12);
        assertTrue(doc.at("/ratio/perStage/score-data/executorsLive").isNull(), "60k-row executors not sampled");
        assertEquals(1.5, doc.at("/ratio/perStage/score-data/executorsAfterGc").asDouble(), 1e-12);
        assertEquals(88.0, doc.at("/sizes/1/stages/calibrate/executors/liveHeapMiB").asDouble());
    }

    @Test
    void aPeakAboveTheGoalIsReported() {
        ObjectNode doc = MemorySummary.document(List.of(
                new MemorySummary.Measurement(10, "distill", 0, 1.0, log(0, 100, 0), null),
                new MemorySummary.Measurement(100, "distill", 0, 1.0, log(0, 121, 0), null)));
        assertEquals(1.21, doc.at("/ratio/peakDriverHeap").asDouble(), 1e-12);
        assertFalse(doc.at("/ratio/meetsGoal/heapAfterGc").asBoolean());
        // Without full collections there is no live-set sample, hence no live ratio.
        assertTrue(doc.at("/ratio/peakDriverLiveHeap").isNull());
        assertTrue(doc.at("/sizes/0/peakDriverLiveHeapMiB").isNull());
        assertTrue(doc.at("/sizes/0/stages/distill/driver/liveHeapMiB").isNull());
        assertFalse(doc.at("/ratio/meetsGoal/liveHeap").asBoolean());
        assertNull(MemorySummary.ratio(0L, 5L));
    }

    @Test
    void oneSizeHasNoRatio() {
        ObjectNode doc = MemorySummary.document(List.of(
                new MemorySummary.Measurement(10, "distill", 2, 1.0, null, null)));
        assertTrue(doc.path("ratio").isMissingNode());
        assertFalse(doc.at("/sizes/0/allStagesSucceeded").asBoolean());
        assertEquals(0.0, doc.at("/sizes/0/peakDriverHeapMiB").asDouble());
    }
}
