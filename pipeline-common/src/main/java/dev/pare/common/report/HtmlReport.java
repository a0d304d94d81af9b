package dev.pare.common.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;

/**
 * Renders {@code report.json} as one self-contained HTML page (inline CSS, no scripts, no
 * external resources): headline accuracies, sparsity per layer, distillation epochs, data subset
 * and stage timings.
 */
public final class HtmlReport {
    private HtmlReport() {}

    public static String render(JsonNode r) {
        StringBuilder h = new StringBuilder(8192);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Pare report</title>\n<style>")
                .append("body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}")
                .append("table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:4px 10px;")
                .append("text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}")
                .append("h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.5em}.muted{color:#777}")
                .append("</style></head><body>\n<h1>Pare report</h1>\n");
        h.append("<p class=\"muted\">run directory ").append(esc(r.path("runDir").asText())).append(", generated ")
                .append(esc(r.path("generatedAt").asText())).append("</p>\n");

        h.append("<h2>Accuracy on the test split</h2>\n<table><tr><th>model</th><th>accuracy</th><th>mean loss</th>")
                .append("<th>teacher agreement</th><th>parameters</th><th>non-zero parameters</th></tr>\n");
        for (String m : new String[] {"teacher", "pruned", "student"}) {
            JsonNode n = r.path(m);
            if (n.isMissingNode()) {
                continue;
            }
            h.append("<tr><td>").append(m).append("</td><td>").append(pct(n.path("accuracy")))
                    .append("</td><td>").append(num(n.path("meanLoss"), 4)).append("</td><td>")
                    .append(pct(n.path("teacherAgreement"))).append("</td><td>").append(n.path("parameters").asText("-"))
                    .append("</td><td>").append(n.path("nonZeroParameters").asText("-")).append("</td></tr>\n");
        }
        h.append("</table>\n");

        JsonNode size = r.path("size");
        JsonNode latency = r.path("latency");
        if (size.has("teacherBytes")) {
            h.append("<h2>Size and speed</h2>\n<p>").append(esc(size.path("note").asText(""))).append(". Latency: median")
                    .append(" time of one inference call on a batch of ").append(latency.path("batchSize").asText("-"))
                    .append(" test examples on the driver.</p>\n<table><tr><th>model</th><th>saved (bytes)</th>")
                    .append("<th>compressed sparse (bytes)</th><th>ms per batch</th></tr>\n");
            for (String m : new String[] {"teacher", "pruned", "student"}) {
                if (size.has(m + "Bytes")) {
                    h.append("<tr><td>").append(m).append("</td><td>").append(size.path(m + "Bytes").asText())
                            .append("</td><td>").append(size.path(m + "SparseBytes").asText()).append("</td><td>")
                            .append(num(latency.path(m + "MsPerBatch"), 2)).append("</td></tr>\n");
                }
            }
            h.append("</table>\n");
        }

        JsonNode s = r.path("sparsity");
        if (!s.isMissingNode()) {
            h.append("<h2>Pruning (").append(esc(s.path("criterion").asText())).append(", ")
                    .append(esc(s.path("pattern").asText())).append(", ").append(esc(s.path("allocation").asText()))
                    .append(")</h2>\n<p>target ").append(pct(s.path("target"))).append(", achieved ")
                    .append(pct(s.path("achieved"))).append(" of the weights of pruned layers.</p>\n")
                    .append("<table><tr><th>layer</th><th>shape after</th><th>units before</th><th>weights before</th>")
                    .append("<th>weights after</th><th>sparsity</th><th>layer target</th></tr>\n");
            for (JsonNode l : s.path("layers")) {
                h.append("<tr><td>").append(esc(l.path("name").asText())).append("</td><td>")
                        .append(l.path("shape").get(0).asText()).append("&times;").append(l.path("shape").get(1).asText())
                        .append("</td><td>").append(l.path("unitsBefore").asText("-")).append("</td><td>")
                        .append(l.path("weights").asText()).append("</td><td>")
                        .append(l.path("kept").asText()).append("</td><td>").append(pct(l.path("sparsity")))
                        .append("</td><td>").append(pct(l.path("target"))).append("</td></tr>\n");
            }
            h.append("</table>\n");
            if (s.path("skipped").size() > 0) {
                h.append("<p>Not pruned:</p>\n<ul>");
                s.path("skipped").forEach(x -> h.append("<li>").append(esc(x.asText())).append("</li>"));
                h.append("</ul>\n");
            }
        }

        JsonNode epochs = r.path("student").path("epochMetrics");
        if (epochs.isArray() && epochs.size() > 0) {
            h.append("<h2>Distillation</h2>\n<table><tr><th>epoch</th><th>train loss</th><th>test accuracy</th>")
                    .append("<th>seconds</th><th>examples/s</th></tr>\n");
            for (JsonNode e : epochs) {
                h.append("<tr><td>").append(e.path("epoch").asInt()).append("</td><td>")
                        .append(num(e.path("trainLoss"), 4)).append("</td><td>").append(pct(e.path("testAccuracy")))
                        .append("</td><td>").append(num(e.path("seconds"), 1)).append("</td><td>")
                        .append(num(e.path("examplesPerSecond"), 0)).append("</td></tr>\n");
            }
            h.append("</table>\n");
        }

        JsonNode d = r.path("data");
        if (!d.isMissingNode()) {
            h.append("<h2>Training data subset</h2>\n<p>").append(esc(d.path("method").asText())).append(": kept ")
                    .append(d.path("keptCount").asText()).append(" of ").append(d.path("totalCount").asText())
                    .append(" examples (").append(pct(d.path("keptFraction"))).append(")</p>\n")
                    .append("<table><tr><th>class</th><th>all</th><th>kept</th></tr>\n");
            for (JsonNode c : d.path("perClass")) {
                h.append("<tr><td>").append(c.path("label").asText()).append("</td><td>").append(c.path("total").asText())
                        .append("</td><td>").append(c.path("kept").asText()).append("</td></tr>\n");
            }
            h.append("</table>\n");
            JsonNode hist = d.path("histogram");
            if (hist.path("all").isArray() && hist.path("all").size() > 0) {
                int bins = hist.path("all").size();
                double lo = hist.path("min").asDouble();
                double width = (hist.path("max").asDouble() - lo) / bins;
                long most = 1;
                for (JsonNode n : hist.path("all")) {
                    most = Math.max(most, n.asLong());
                }
                h.append("<p>").append(esc(hist.path("score").asText())).append(" of all and of kept examples:</p>\n")
                        .append("<table><tr><th>score from</th><th>all</th><th>kept</th><th></th></tr>\n");
                for (int i = 0; i < bins; i++) {
                    long all = hist.path("all").get(i).asLong();
                    long kept = hist.path("kept").get(i).asLong();
                    h.append("<tr><td>").append(String.format("%.4f", lo + i * width)).append("</td><td>").append(all)
                            .append("</td><td>").append(kept).append("</td><td style=\"text-align:left\">")
                            .append(bar(all, most, "#ccc")).append("<br>").append(bar(kept, most, "#47a"))
                            .append("</td></tr>\n");
                }
                h.append("</table>\n");
            }
        }

        h.append("<h2>Stages</h2>\n<table><tr><th>stage</th><th>seconds</th></tr>\n");
        for (Iterator<Map.Entry<String, JsonNode>> it = r.path("stages").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            h.append("<tr><td>").append(esc(e.getKey())).append("</td><td>").append(num(e.getValue().path("seconds"), 1))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n</body></html>\n");
        return h.toString();
    }

    /** An inline bar of width proportional to {@code value / max} (pure HTML, no script). */
    private static String bar(long value, long max, String color) {
        int px = (int) Math.round(200.0 * value / Math.max(1, max));
        return "<span style=\"display:inline-block;height:8px;width:" + px + "px;background:" + color + "\"></span>";
    }

    private static String pct(JsonNode n) {
        return n.isNumber() ? String.format("%.2f%%", 100 * n.asDouble()) : "-";
    }

    private static String num(JsonNode n, int digits) {
        return n.isNumber() ? String.format("%." + digits + "f", n.asDouble()) : "-";
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
