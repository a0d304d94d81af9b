package dev.pare.jobs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.jobs.io.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The scale-out benchmark's document: per cluster configuration (workers × cores each) the wall
 * time of each submitted stage (spark-submit to exit: JVM, SparkContext, executor start-up and the
 * stage) and the stage's own seconds from its {@code provenance.json}; speed-ups relative to the
 * first configuration.
 */
final class ScaleOutSummary {
    /**
     * One submitted stage.
     *
     * @param provenance the stage folder's provenance.json; null when the stage failed
     */
    record Measurement(int workers, int coresPerWorker, String stage, int exitCode, double wallSeconds,
                       JsonNode provenance) {
        String configuration() {
            return workers + "x" + coresPerWorker;
        }

        Double stageSeconds() {
            return exitCode == 0 && provenance != null && provenance.path("seconds").isNumber()
                    ? provenance.path("seconds").asDouble() : null;
        }
    }

    private ScaleOutSummary() {}

    /** {@code base / other}: how many times faster {@code other} is; null when either is missing. */
    static Double speedUp(Double base, Double other) {
        return base == null || other == null || !(other > 0) ? null : base / other;
    }

    static ObjectNode document(List<Measurement> measurements) {
        ObjectNode doc = Json.object();
        doc.put("benchmark", "scale-out");
        Map<String, Map<String, Measurement>> byConfig = new LinkedHashMap<>();
        for (Measurement m : measurements) {
            byConfig.computeIfAbsent(m.configuration(), k -> new LinkedHashMap<>()).put(m.stage(), m);
        }
        ArrayNode configs = doc.putArray("configurations");
        for (Map<String, Measurement> stages : byConfig.values()) {
            Measurement first = stages.values().iterator().next();
            ObjectNode c = configs.addObject();
            c.put("configuration", first.configuration());
            c.put("workers", first.workers());
            c.put("coresPerWorker", first.coresPerWorker());
            c.put("executorCores", first.workers() * first.coresPerWorker());
            ObjectNode s = c.putObject("stages");
            for (Measurement m : stages.values()) {
                ObjectNode o = s.putObject(m.stage());
                o.put("exitCode", m.exitCode());
                o.put("wallSeconds", m.wallSeconds());
                o.put("stageSeconds", m.stageSeconds());
                JsonNode details = m.provenance() == null ? null : m.provenance().path("details");
                if (m.provenance() != null) {
                    // The driver's class-data archive (deploy/pare's PARE_CDS): its start-up and first uses differ.
                    JsonNode archive = m.provenance().path("classDataArchive");
                    o.put("driverClassDataArchive", archive.isTextual() ? archive.asText() : null);
                }
                if (details != null) {
                    o.put("examples", details.has("samples") ? details.path("samples").asLong()
                            : details.path("examples").asLong());
                    if (details.has("partitions")) {
                        o.put("partitions", details.path("partitions").asInt());
                    }
                    if (details.has("modelSeconds") && details.has("taskSlots")) {
                        double model = details.path("modelSeconds").asDouble();
                        int slots = details.path("taskSlots").asInt();
                        o.put("modelSeconds", model);
                        o.put("taskSlots", slots);
                        Double stage = m.stageSeconds();
                        o.put("modelShareOfSlotTime", stage == null || stage <= 0 || slots <= 0 ? null
                                : model / (stage * slots));
                    }
                }
            }
        }
        ObjectNode speed = doc.putObject("speedUp");
        if (!byConfig.isEmpty()) {
            String baseName = byConfig.keySet().iterator().next();
            Map<String, Measurement> base = byConfig.get(baseName);
            speed.put("relativeTo", baseName);
            speed.put("definition", "base seconds / configuration seconds (2.0 = twice as fast)");
            for (Map.Entry<String, Map<String, Measurement>> e : byConfig.entrySet()) {
                if (e.getKey().equals(baseName)) {
                    continue;
                }
                ObjectNode c = speed.putObject(e.getKey());
                for (Measurement m : e.getValue().values()) {
                    Measurement b = base.get(m.stage());
                    ObjectNode o = c.putObject(m.stage());
                    o.put("wall", b == null || b.exitCode() != 0 || m.exitCode() != 0 ? null
                            : speedUp(b.wallSeconds(), m.wallSeconds()));
                    o.put("stage", b == null ? null : speedUp(b.stageSeconds(), m.stageSeconds()));
                }
            }
        }
        return doc;
    }
}
