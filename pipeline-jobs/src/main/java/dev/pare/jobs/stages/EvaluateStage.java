package dev.pare.jobs.stages;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.evaluation.ClassificationMetrics;
import dev.pare.common.config.PareConfig;
import dev.pare.common.model.InferenceLatency;
import dev.pare.common.model.ModelSize;
import dev.pare.common.model.Networks;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import dev.pare.jobs.io.Json;
import dev.pare.jobs.spark.EvaluateJob;
import dev.pare.jobs.stage.RunContext;
import dev.pare.jobs.stage.Stage;
import dev.pare.jobs.stage.StageDir;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;

/**
 * {@code evaluate} (executors): accuracy, mean loss, teacher agreement and per-class accuracy on
 * the test split of the teacher, the one-shot pruned model and the distilled student (those that
 * exist in the run directory), plus any other models named on the command line; and, measured on
 * the driver, each model's size (saved zip, compressed sparse form) and inference latency per
 * batch. Writes {@code eval/<model>.json}.
 */
public final class EvaluateStage implements Stage {
    public static final String FOLDER = "eval";
    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_.-]+");
    private final Map<String, String> extraModels;

    public EvaluateStage() {
        this(Map.of());
    }

    /** @param extraModels name → model file (any Hadoop URI) to evaluate as well */
    public EvaluateStage(Map<String, String> extraModels) {
        for (String name : extraModels.keySet()) {
            if (!NAME.matcher(name).matches() || List.of("teacher", "pruned", "student").contains(name)) {
                throw new dev.pare.jobs.io.BadInputException("--model " + name + "=...: the name must be letters, digits,"
                        + " '.', '_' or '-' and not teacher, pruned or student");
            }
        }
        this.extraModels = new java.util.TreeMap<>(extraModels);
    }

    @Override
    public String name() {
        return "evaluate";
    }

    @Override
    public String folder() {
        return FOLDER;
    }

    /** The models to evaluate: name → model file (teacher first). */
    private Map<String, Path> models(RunContext ctx) throws IOException {
        Map<String, Path> m = new LinkedHashMap<>();
        m.put("teacher", ctx.files().path(ctx.config().teacher().model()));
        if (StageDir.finishedHash(ctx.files(), ctx.runDir(), PruneStage.FOLDER) != null) {
            m.put("pruned", new Path(StageDir.finished(ctx.runDir(), PruneStage.FOLDER), PruneStage.MODEL));
        }
        if (StageDir.finishedHash(ctx.files(), ctx.runDir(), DistillStage.FOLDER) != null) {
            m.put("student", new Path(StageDir.finished(ctx.runDir(), DistillStage.FOLDER), DistillStage.STUDENT));
        }
        for (Map.Entry<String, String> e : extraModels.entrySet()) {
            Path p = ctx.files().path(e.getValue());
            ctx.files().checkInputFile("--model " + e.getKey(), p);
            m.put(e.getKey(), p);
        }
        return m;
    }

    @Override
    public List<String> identity(RunContext ctx) throws Exception {
        List<String> id = new ArrayList<>();
        id.add("evaluate=" + ctx.config().renderSection("evaluate"));
        id.add("test=" + ctx.describe("data.test", ctx.config().data().test()));
        id.add(ctx.teacherIdentity());
        for (String folder : List.of(PruneStage.FOLDER, DistillStage.FOLDER)) {
            String h = StageDir.finishedHash(ctx.files(), ctx.runDir(), folder);
            if (h != null) {
                id.add(folder + "=" + h);
            }
        }
        for (Map.Entry<String, Path> e : models(ctx).entrySet()) {
            if (extraModels.containsKey(e.getKey())) {
                id.add("model " + e.getKey() + "=" + dev.pare.jobs.stage.Hashes.ofBytes(ctx.files().readBytes(e.getValue())));
            }
        }
        return id;
    }

    @Override
    public void validate(RunContext ctx) throws Exception {
        ctx.teacher();
        ctx.test();
        for (Map.Entry<String, Path> e : models(ctx).entrySet()) {
            var net = Networks.read(ctx.files().readBytes(e.getValue()), "--model " + e.getKey() + " (" + e.getValue() + ")",
                    false);
            Networks.checkTeacher(net, e.getValue().toString(), ctx.featureLength(), ctx.config().data().numClasses());
        }
    }

    @Override
    public void execute(RunContext ctx, StageDir dir, ObjectNode details) throws Exception {
        PareConfig.Evaluate ev = ctx.config().evaluate();
        // Every model in one pass over the test split (the teacher's predictions computed once per batch).
        List<Map.Entry<String, Path>> models = new ArrayList<>(models(ctx).entrySet());
        List<byte[]> modelBytes = new ArrayList<>();
        for (Map.Entry<String, Path> e : models) {
            modelBytes.add(ctx.files().readBytes(e.getValue()));
        }
        // The same pass keeps the latency batch: the first latency-batch-size test rows by id.
        EvaluateJob.Evaluation evaluation = EvaluateJob.run(ctx.spark(), ctx.test(), modelBytes, ctx.teacherBytes(),
                ctx.featureLength(), ctx.config().data().numClasses(), ev.batchSize(), ev.latencyBatchSize());
        List<ClassificationMetrics> metrics = evaluation.metrics();
        INDArray latencyBatch = Nd4j.create(evaluation.firstFeatures(),
                new long[] {evaluation.firstIds().length, ctx.featureLength()}, 'c');
        for (int i = 0; i < models.size(); i++) {
            Map.Entry<String, Path> e = models.get(i);
            byte[] bytes = modelBytes.get(i);
            MultiLayerNetwork net = Networks.read(bytes, e.getValue().toString(), false);
            ObjectNode result = metricsJson(metrics.get(i), e.getValue().toString(), net.numParams());
            ObjectNode size = result.putObject("size");
            size.put("fileBytes", bytes.length);
            size.put("serializedBytes", ModelSize.serializedBytes(net));
            size.put("sparseBytes", ModelSize.sparseBytes(net));
            ObjectNode latency = result.putObject("latency");
            latency.put("batchSize", latencyBatch.rows());
            latency.put("runs", ev.latencyRuns());
            latency.put("msPerBatch", InferenceLatency.medianMillis(net, latencyBatch, 3, ev.latencyRuns()));
            ctx.files().writeString(new Path(dir.tmp(), e.getKey() + ".json"), Json.MAPPER.writeValueAsString(result));
            details.set(e.getKey(), result);
            ctx.out().printf("%-12s %-8s accuracy %.4f, loss %.4f, teacher agreement %.4f, %d parameters, %.1f ms per"
                            + " batch of %d%n", name(), e.getKey(), result.get("accuracy").asDouble(),
                    result.get("meanLoss").asDouble(), result.get("teacherAgreement").asDouble(), net.numParams(),
                    latency.get("msPerBatch").asDouble(), latencyBatch.rows());
        }
    }

    /** The metrics of a model read from {@code source}, as {@code eval/<model>.json} holds them. */
    static ObjectNode metricsJson(ClassificationMetrics m, String source, long parameters) {
        ObjectNode n = Json.object();
        n.put("model", source);
        n.put("examples", m.count());
        n.put("accuracy", m.accuracy());
        n.put("meanLoss", m.meanLoss());
        n.put("teacherAgreement", m.agreement());
        n.put("parameters", parameters);
        ArrayNode perClass = n.putArray("perClassAccuracy");
        for (double a : m.perClassAccuracy()) {
            perClass.add(a);
        }
        return n;
    }
}
