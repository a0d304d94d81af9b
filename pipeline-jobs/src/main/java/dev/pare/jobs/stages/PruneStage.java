package dev.pare.jobs.stages;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.config.PareConfig;
import dev.pare.common.model.Networks;
import dev.pare.common.surgery.LayerReport;
import dev.pare.common.surgery.OneShotPruner;
import dev.pare.common.surgery.PruneSettings;
import dev.pare.common.surgery.PrunedModel;
import dev.pare.common.sparsity.LayerFilter;
import dev.pare.common.sparsity.SparsityAllocation;
import dev.pare.jobs.io.BadInputException;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import dev.pare.jobs.io.Json;
import dev.pare.jobs.stage.RunContext;
import dev.pare.jobs.stage.Stage;
import dev.pare.jobs.stage.StageDir;
import dev.pare.jobs.stage.StageRunner;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;

/**
 * {@code prune} (driver): one-shot pruning of the teacher by the configured criterion, pattern and
 * allocation ({@link OneShotPruner}). Writes {@code model.zip} (ModelSerializer),
 * {@code masks.bin} ({@link dev.pare.common.sparsity.MaskSet}) and {@code layers.json}.
 */
public final class PruneStage implements Stage {
    public static final String FOLDER = "pruned";
    public static final String MODEL = "model.zip";
    public static final String MASKS = "masks.bin";
    public static final String LAYERS = "layers.json";
    /** Structured pruning: {"layer index": [teacher units kept, sorted]}; {} otherwise. */
    public static final String KEPT_UNITS = "kept-units.json";

    @Override
    public String name() {
        return "prune";
    }

    @Override
    public String folder() {
        return FOLDER;
    }

    @Override
    public List<String> identity(RunContext ctx) throws Exception {
        List<String> id = new ArrayList<>(List.of("prune=" + ctx.config().renderSection("prune"), ctx.teacherIdentity()));
        if (ctx.config().distill().gradual().enabled()) {
            id.add("gradual-initial-sparsity=" + ctx.config().distill().gradual().initialSparsity());
        }
        if (settings(ctx.config()).needsCalibration()) {
            id.add(StageRunner.upstream(ctx, CalibrateStage.FOLDER, "calibrate"));
        }
        return id;
    }

    @Override
    public void validate(RunContext ctx) throws Exception {
        ctx.teacher();
    }

    /**
     * The one-shot pruning this stage does: the {@code prune} section, at
     * {@code distill.gradual.initial-sparsity} when gradual pruning is on (distillation then raises
     * the sparsity to {@code prune.sparsity}).
     */
    public static PruneSettings settings(PareConfig cfg) {
        PareConfig.Gradual g = cfg.distill().gradual();
        return settings(cfg.prune(), g.enabled() ? g.initialSparsity() : cfg.prune().sparsity());
    }

    /** The typed pruning settings of a {@code prune} section at {@code sparsity}. */
    public static PruneSettings settings(PareConfig.Prune p, double sparsity) {
        return new PruneSettings(p.criterion(), p.pattern(), sparsity, p.n(), p.m(), p.allocation(),
                new SparsityAllocation.OwlParameters(p.outlierThreshold(), p.outlierBand()),
                LayerFilter.of(p.include(), p.exclude()), p.pruneOutputLayer(), p.removeLayers(), p.sparseGptBlockSize(),
                p.sparseGptDamping());
    }

    @Override
    public void execute(RunContext ctx, StageDir dir, ObjectNode details) throws Exception {
        PareConfig.Prune p = ctx.config().prune();
        PruneSettings settings = settings(ctx.config());
        CalibrationStatistics stats = settings.needsCalibration() ? CalibrateStage.read(ctx) : null;
        MultiLayerNetwork teacher = ctx.teacher();
        PrunedModel pruned;
        try {
            pruned = OneShotPruner.prune(teacher, stats, settings);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("prune: " + e.getMessage(), e);
        }
        ctx.files().writeBytes(new Path(dir.tmp(), MODEL), Networks.toBytes(pruned.network(), false));
        try (OutputStream out = ctx.files().create(new Path(dir.tmp(), MASKS))) {
            pruned.masks().write(out);
        }
        ObjectNode kept = Json.object();
        pruned.keptUnits().forEach((layer, units) -> kept.set(String.valueOf(layer), Json.MAPPER.valueToTree(units)));
        ctx.files().writeString(new Path(dir.tmp(), KEPT_UNITS), Json.MAPPER.writeValueAsString(kept));
        ObjectNode table = layerTable(pruned, p, teacher);
        ctx.files().writeString(new Path(dir.tmp(), LAYERS), Json.MAPPER.writeValueAsString(table));
        details.put("criterion", p.criterion().configName());
        details.put("pattern", p.pattern().configName());
        details.put("targetSparsity", p.sparsity());
        details.put("achievedSparsity", table.get("achievedSparsity").asDouble());
        details.set("params", table.get("params"));
        details.set("layers", table.get("layers"));
        ctx.out().printf("%-12s %s, %s: %d of %d weights of pruned layers remain (%.2f%% sparse); parameters %d -> %d%n",
                name(), p.criterion().configName(), ctx.config().distill().gradual().enabled()
                        ? String.format("unstructured %.0f%% now, rising to %.0f%% during distillation (gradual)",
                                100 * settings.sparsity(), 100 * p.sparsity())
                        : describe(p), table.get("keptWeights").asLong(),
                table.get("prunableWeights").asLong(), 100 * table.get("achievedSparsity").asDouble(),
                teacher.numParams(), pruned.network().numParams());
        for (String s : pruned.skipped()) {
            ctx.out().printf("%-12s not pruned: %s%n", name(), s);
        }
    }

    private static String describe(PareConfig.Prune p) {
        return switch (p.pattern()) {
            case UNSTRUCTURED -> String.format("unstructured %.0f%% (%s)", 100 * p.sparsity(), p.allocation().configName());
            case N_OF_M -> p.n() + ":" + p.m();
            case STRUCTURED -> String.format("structured, %.0f%% of units removed", 100 * p.sparsity());
            case LAYERS -> p.removeLayers() + " layer(s) removed";
        };
    }

    private static ObjectNode layerTable(PrunedModel pruned, PareConfig.Prune p, MultiLayerNetwork teacher) {
        ObjectNode t = Json.object();
        t.put("criterion", p.criterion().configName());
        t.put("pattern", p.pattern().configName());
        t.put("allocation", p.allocation().configName());
        t.put("targetSparsity", p.sparsity());
        long weights = pruned.layers().stream().mapToLong(LayerReport::weights).sum();
        long kept = pruned.layers().stream().mapToLong(LayerReport::kept).sum();
        t.put("achievedSparsity", weights == 0 ? 0 : 1.0 - (double) kept / weights);
        t.put("prunableWeights", weights);
        t.put("keptWeights", kept);
        ObjectNode params = t.putObject("params");
        params.put("teacherTotal", teacher.numParams());
        params.put("studentTotal", pruned.network().numParams());
        params.put("studentNonZero", pruned.network().params().neq(0).castTo(org.nd4j.linalg.api.buffer.DataType.INT64)
                .sumNumber().longValue());
        ArrayNode layers = t.putArray("layers");
        for (LayerReport l : pruned.layers()) {
            ObjectNode n = layers.addObject();
            n.put("index", l.index());
            n.put("name", l.name());
            n.putArray("shape").add(l.nIn()).add(l.nOut());
            n.put("weights", l.weights());
            n.put("kept", l.kept());
            n.put("sparsity", l.sparsity());
            n.put("target", l.target());
            if (!Double.isNaN(l.outlierRatio())) {
                n.put("outlierRatio", l.outlierRatio());
            }
            n.put("unitsBefore", l.unitsBefore());
            n.put("unitsAfter", l.nOut());
        }
        ArrayNode skipped = t.putArray("skipped");
        pruned.skipped().forEach(skipped::add);
        return t;
    }
}
