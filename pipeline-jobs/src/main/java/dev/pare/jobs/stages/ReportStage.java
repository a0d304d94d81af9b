package dev.pare.jobs.stages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.model.Networks;
import dev.pare.common.report.HtmlReport;
import dev.pare.jobs.io.Json;
import dev.pare.jobs.stage.RunContext;
import dev.pare.jobs.stage.Stage;
import dev.pare.jobs.stage.StageDir;
import dev.pare.jobs.stage.StageRunner;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code report} (driver): {@code report/report.json} and a self-contained
 * {@code report/report.html} from every finished stage of the run directory. Field names of
 * report.json are a contract scripts read: {@code teacher.accuracy}, {@code pruned.accuracy},
 * {@code student.accuracy}, {@code student.epochs[]}, {@code sparsity.target},
 * {@code sparsity.achieved}, {@code sparsity.perLayer}, {@code data.keptFraction},
 * {@code data.keptCount}, {@code stages.<stage>.seconds}, {@code params.teacher},
 * {@code params.studentTotal}, {@code params.studentNonZero}, {@code size.teacherBytes},
 * {@code size.studentBytes}, {@code size.studentSparseBytes}, {@code latency.teacherMsPerBatch},
 * {@code latency.studentMsPerBatch}, {@code latency.batchSize}, {@code sparsity.pattern}.
 */
public final class ReportStage implements Stage {
    public static final String FOLDER = "report";
    /** Stage folders the report reads, with their command names, in pipeline order. */
    private static final String[][] STAGES = {
        {CalibrateStage.FOLDER, "calibrate"}, {ScoreDataStage.FOLDER, "score-data"},
        {SelectDataStage.FOLDER, "select-data"}, {PruneStage.FOLDER, "prune"}, {DistillStage.FOLDER, "distill"},
        {EvaluateStage.FOLDER, "evaluate"}};

    @Override
    public String name() {
        return "report";
    }

    @Override
    public String folder() {
        return FOLDER;
    }

    @Override
    public List<String> identity(RunContext ctx) throws Exception {
        List<String> id = new ArrayList<>();
        id.add(StageRunner.upstream(ctx, EvaluateStage.FOLDER, "evaluate"));
        for (String[] s : STAGES) {
            String h = StageDir.finishedHash(ctx.files(), ctx.runDir(), s[0]);
            if (h != null) {
                id.add(s[0] + "=" + h);
            }
        }
        return id;
    }

    @Override
    public void validate(RunContext ctx) {
        // Reads only finished stage folders (checked by identity()).
    }

    private JsonNode read(RunContext ctx, String folder, String file) throws IOException {
        Path p = new Path(StageDir.finished(ctx.runDir(), folder), file);
        if (StageDir.finishedHash(ctx.files(), ctx.runDir(), folder) == null || !ctx.files().exists(p)) {
            return null;
        }
        return Json.MAPPER.readTree(ctx.files().readString(p));
    }

    @Override
    public void execute(RunContext ctx, StageDir dir, ObjectNode details) throws Exception {
        ObjectNode r = build(ctx);
        ctx.files().writeString(new Path(dir.tmp(), "report.json"), Json.MAPPER.writeValueAsString(r));
        ctx.files().writeString(new Path(dir.tmp(), "report.html"), HtmlReport.render(r));
        details.put("html", new Path(StageDir.finished(ctx.runDir(), FOLDER), "report.html").toString());
    }

    ObjectNode build(RunContext ctx) throws IOException {
        ObjectNode r = Json.object();
        r.put("runDir", ctx.runDir().toString());
        r.put("generatedAt", java.time.Instant.now().toString());
        r.put("seed", ctx.config().seed());
        ObjectNode params = r.putObject("params");
        for (String model : new String[] {"teacher", "pruned", "student"}) {
            JsonNode eval = read(ctx, EvaluateStage.FOLDER, model + ".json");
            if (eval != null) {
                ObjectNode m = r.putObject(model);
                m.put("accuracy", eval.path("accuracy").asDouble());
                m.put("meanLoss", eval.path("meanLoss").asDouble());
                m.put("teacherAgreement", eval.path("teacherAgreement").asDouble());
                m.put("parameters", eval.path("parameters").asLong());
                m.set("perClassAccuracy", eval.path("perClassAccuracy"));
            }
        }
        ObjectNode size = r.putObject("size");
        ObjectNode latency = r.putObject("latency");
        for (String model : new String[] {"teacher", "pruned", "student"}) {
            JsonNode eval = read(ctx, EvaluateStage.FOLDER, model + ".json");
            if (eval != null && eval.has("size")) {
                size.put(model + "Bytes", eval.path("size").path("serializedBytes").asLong());
                size.put(model + "SparseBytes", eval.path("size").path("sparseBytes").asLong());
                latency.put(model + "MsPerBatch", eval.path("latency").path("msPerBatch").asDouble());
                latency.put("batchSize", eval.path("latency").path("batchSize").asInt());
            }
        }
        params.put("teacher", ctx.teacher().numParams());
        params.put("teacherNonZero", nonZero(ctx.teacher()));
        putNonZero(r, "teacher", params.get("teacherNonZero").asLong());
        MultiLayerNetwork pruned = finishedModel(ctx, PruneStage.FOLDER, PruneStage.MODEL);
        if (pruned != null) {
            params.put("prunedNonZero", nonZero(pruned));
            putNonZero(r, "pruned", params.get("prunedNonZero").asLong());
        }
        MultiLayerNetwork student = finishedModel(ctx, DistillStage.FOLDER, DistillStage.STUDENT);
        if (student != null) {
            params.put("student", student.numParams());
            params.put("studentTotal", student.numParams());
            params.put("studentNonZero", nonZero(student));
            putNonZero(r, "student", params.get("studentNonZero").asLong());
            JsonNode prov = read(ctx, DistillStage.FOLDER, "provenance.json");
            if (r.has("student") && prov != null) {
                ObjectNode s = (ObjectNode) r.get("student");
                ArrayNode accs = s.putArray("epochs");
                prov.path("details").path("epochs").forEach(e -> accs.add(e.path("testAccuracy").asDouble()));
                s.set("epochMetrics", prov.path("details").path("epochs"));
                if (prov.path("details").has("chosenEpoch")) {
                    s.put("chosenEpoch", prov.path("details").path("chosenEpoch").asInt());
                    s.put("stoppedEarly", prov.path("details").path("stoppedEarly").asBoolean());
                }
            }
        }
        JsonNode layers = read(ctx, PruneStage.FOLDER, PruneStage.LAYERS);
        if (layers != null) {
            ObjectNode sp = r.putObject("sparsity");
            sp.put("criterion", layers.path("criterion").asText());
            sp.put("pattern", layers.path("pattern").asText("unstructured"));
            sp.put("allocation", layers.path("allocation").asText("uniform"));
            String pattern = sp.path("pattern").asText();
            size.put("note", pattern.equals("structured") || pattern.equals("layers")
                    ? "the student is physically smaller: fewer parameters, a smaller file and less compute"
                    : "masked weights are zeros that DL4J stores and multiplies dense, so the saved model is as large"
                            + " and as slow as the teacher; *SparseBytes is what a compressed sparse (CSR) form would"
                            + " weigh");
            sp.put("target", layers.path("targetSparsity").asDouble());
            sp.put("achieved", layers.path("achievedSparsity").asDouble());
            sp.put("prunableWeights", layers.path("prunableWeights").asLong());
            sp.put("keptWeights", layers.path("keptWeights").asLong());
            ObjectNode per = sp.putObject("perLayer");
            layers.path("layers").forEach(l -> per.put(l.path("name").asText(), l.path("sparsity").asDouble()));
            sp.set("layers", layers.path("layers"));
            sp.set("skipped", layers.path("skipped"));
        }
        JsonNode sel = read(ctx, SelectDataStage.FOLDER, SelectDataStage.REPORT);
        if (sel != null) {
            ObjectNode d = r.putObject("data");
            d.put("method", sel.path("method").asText());
            d.put("keptCount", sel.path("kept").asLong());
            d.put("totalCount", sel.path("total").asLong());
            d.put("keptFraction", sel.path("kept").asDouble() / Math.max(1, sel.path("total").asLong()));
            d.put("requestedFraction", sel.path("fraction").asDouble());
            d.set("perClass", sel.path("perClass"));
            d.put("score", sel.path("score").asText());
            d.put("classBalanced", sel.path("classBalanced").asBoolean());
            d.set("histogram", sel.path("histogram"));
        }
        ObjectNode stages = r.putObject("stages");
        for (String[] s : STAGES) {
            JsonNode prov = read(ctx, s[0], "provenance.json");
            if (prov != null) {
                stages.putObject(s[1]).put("seconds", prov.path("seconds").asDouble());
            }
        }
        return r;
    }

    private MultiLayerNetwork finishedModel(RunContext ctx, String folder, String file) throws IOException {
        if (StageDir.finishedHash(ctx.files(), ctx.runDir(), folder) == null) {
            return null;
        }
        Path p = new Path(StageDir.finished(ctx.runDir(), folder), file);
        return Networks.read(ctx.files().readBytes(p), p.toString(), false);
    }

    private static void putNonZero(ObjectNode report, String model, long nonZero) {
        if (report.get(model) instanceof ObjectNode m) {
            m.put("nonZeroParameters", nonZero);
        }
    }

    private static long nonZero(MultiLayerNetwork net) {
        INDArray p = net.params();
        return p.neq(0).castTo(org.nd4j.linalg.api.buffer.DataType.INT64).sumNumber().longValue();
    }
}
