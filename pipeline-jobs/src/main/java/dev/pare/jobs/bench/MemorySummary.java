package dev.pare.jobs.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.jobs.io.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The memory benchmark's document: per training-set size and stage the driver's heap high-water
 * marks from its GC log ({@link GcLog}), the executors' where they ran in JVMs of their own, and
 * the ratios of the largest size's peaks (over all stages) to the smallest's, against {@link #GOAL}.
 */
final class MemorySummary {
    /** The goal of issue 6: the driver's peak heap grows at most 1.2x when the data grows 10x. */
    static final double GOAL = 1.2;

    /**
     * One stage run on one size.
     *
     * @param executors null where executors shared the driver's JVM (local mode)
     */
    record Measurement(long rows, String stage, int exitCode, double wallSeconds, GcLog driver, GcLog executors) {}

    private MemorySummary() {}

    /** {@code large / small}, or null when either is missing or the smaller is zero. */
    static Double ratio(Long small, Long large) {
        return small == null || large == null || small <= 0 ? null : (double) large / small;
    }

    static ObjectNode document(List<Measurement> measurements) {
        ObjectNode doc = Json.object();
        doc.put("benchmark", "memory");
        doc.put("peakDefinition", "liveHeapMiB: the largest heap after a full collection (forced every few hundred"
                + " milliseconds): the live set at the moments sampled. maxAfterGcMiB: the largest heap after any collection, the live"
                + " set plus old-generation garbage a young collection leaves (an upper bound of the heap needed)."
                + " maxBeforeGcMiB: the largest occupancy with garbage, which follows the collector's sizing.");
        Map<Long, Map<String, Measurement>> bySize = new TreeMap<>();
        for (Measurement m : measurements) {
            bySize.computeIfAbsent(m.rows(), k -> new LinkedHashMap<>()).put(m.stage(), m);
        }
        ArrayNode sizes = doc.putArray("sizes");
        Map<Long, GcLog> peakBySize = new LinkedHashMap<>();
        for (Map.Entry<Long, Map<String, Measurement>> e : bySize.entrySet()) {
            ObjectNode s = sizes.addObject();
            s.put("rows", e.getKey());
            ObjectNode stages = s.putObject("stages");
            List<GcLog> drivers = new java.util.ArrayList<>();
            boolean allOk = true;
            for (Measurement m : e.getValue().values()) {
                ObjectNode o = stages.putObject(m.stage());
                o.put("exitCode", m.exitCode());
                o.put("wallSeconds", m.wallSeconds());
                o.set("driver", heap(m.driver()));
                o.set("executors", m.executors() == null ? null : heap(m.executors()));
                allOk &= m.exitCode() == 0;
                if (m.driver() != null) {
                    drivers.add(m.driver());
                }
            }
            GcLog peak = GcLog.max(drivers);
            s.put("allStagesSucceeded", allOk);
            s.put("peakDriverLiveHeapMiB", live(peak));
            s.put("peakDriverHeapMiB", mib(peak.maxAfterBytes()));
            s.put("peakDriverHeapBeforeGcMiB", mib(peak.maxBeforeBytes()));
            peakBySize.put(e.getKey(), peak);
        }
        if (bySize.size() >= 2) {
            long small = bySize.keySet().stream().findFirst().orElseThrow();
            long large = ((TreeMap<Long, ?>) bySize).lastKey();
            ObjectNode r = doc.putObject("ratio");
            r.put("rows", large + " / " + small);
            r.put("dataRatio", (double) large / small);
            r.put("goal", GOAL);
            GcLog a = peakBySize.get(small);
            GcLog b = peakBySize.get(large);
            Double live = ratio(a.maxAfterFullBytes(), b.maxAfterFullBytes());
            Double after = ratio(a.maxAfterBytes(), b.maxAfterBytes());
            r.put("peakDriverLiveHeap", live);
            r.put("peakDriverHeap", after);
            ObjectNode meets = r.putObject("meetsGoal");
            meets.put("liveHeap", live != null && live <= GOAL);
            meets.put("heapAfterGc", after != null && after <= GOAL);
            ObjectNode per = r.putObject("perStage");
            for (Measurement m : bySize.get(large).values()) {
                Measurement sm = bySize.get(small).get(m.stage());
                ObjectNode o = per.putObject(m.stage());
                boolean both = sm != null && sm.driver() != null && m.driver() != null;
                o.put("driverLive", both ? ratio(sm.driver().maxAfterFullBytes(), m.driver().maxAfterFullBytes()) : null);
                o.put("driverAfterGc", both ? ratio(sm.driver().maxAfterBytes(), m.driver().maxAfterBytes()) : null);
                o.put("driverBeforeGc", both ? ratio(sm.driver().maxBeforeBytes(), m.driver().maxBeforeBytes()) : null);
                if (m.executors() != null && sm != null && sm.executors() != null) {
                    boolean sampled = m.executors().fullPauses() > 0 && sm.executors().fullPauses() > 0;
                    o.put("executorsLive", sampled
                            ? ratio(sm.executors().maxAfterFullBytes(), m.executors().maxAfterFullBytes()) : null);
                    o.put("executorsAfterGc", ratio(sm.executors().maxAfterBytes(), m.executors().maxAfterBytes()));
                }
            }
        }
        return doc;
    }

    private static ObjectNode heap(GcLog log) {
        if (log == null) {
            return null;
        }
        ObjectNode o = Json.object();
        o.put("collections", log.collections());
        o.put("pauses", log.pauses());
        o.put("fullCollections", log.fullPauses());
        o.put("liveHeapMiB", live(log));
        o.put("maxAfterGcMiB", mib(log.maxAfterBytes()));
        o.put("maxBeforeGcMiB", mib(log.maxBeforeBytes()));
        o.put("maxCommittedMiB", mib(log.maxCommittedBytes()));
        return o;
    }

    /** The live-set peak in MiB; null when no full collection ran (no sample, not zero). */
    private static Double live(GcLog log) {
        return log.fullPauses() > 0 ? mib(log.maxAfterFullBytes()) : null;
    }

    static double mib(long bytes) {
        return Math.round(bytes / 1048576.0 * 10) / 10.0;
    }
}
