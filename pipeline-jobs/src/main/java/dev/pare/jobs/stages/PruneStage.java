package dev.pare.jobs.stages;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.config.PareConfig;
import dev.pare.common.importance.ImportanceCriterion;
import dev.pare.common.model.Networks;
import dev.pare.common.surgery.LayerReport;
import dev.pare.common.surgery.OneShotPruner;
import dev.pare.common.surgery.PrunedModel;
import dev.pare.jobs.io.Json;
import dev.pare.jobs.stage.RunContext;
import dev.pare.jobs.stage.Stage;
import dev.pare.jobs.stage.StageDir;
import dev.pare.jobs.stage.StageRunner;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;

/**
 * {@code prune} (driver): one-shot unstructured pruning of the teacher with the configured
 * criterion and uniform per-layer sparsity. Writes {@code model.zip} (ModelSerializer),
 * {@code masks.bin} ({@link dev.pare.common.sparsity.MaskSet}) and {@code layers.json}.
 */
public final class PruneStage implements Stage {
    public static final String FOLDER = "pruned";
    public static final String MODEL = "model.zip";
    public static final String MASKS = "masks.bin";
    public static final String LAYERS = "layers.json";

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
        if (ctx.config().prune().criterion().criterion().needsCalibration()) {
            id.add(StageRunner.upstream(ctx, CalibrateStage.FOLDER, "calibrate"));
        }
        return id;
    }

    @Override
    public void validate(RunContext ctx) throws Exception {
        ctx.teacher();
    }

    @Override
    public void execute(RunContext ctx, StageDir dir, ObjectNode details) throws Exception {
        PareConfig.Prune p = ctx.config().prune();
        ImportanceCriterion criterion = p.criterion().criterion();
        CalibrationStatistics stats = null;
        if (criterion.needsCalibration()) {
            Path file = new Path(StageDir.finished(ctx.runDir(), CalibrateStage.FOLDER), CalibrateStage.FILE);
            try (InputStream in = ctx.files().open(file)) {
                stats = CalibrationStatistics.read(in, file.toString());
            }
        }
        PrunedModel pruned = OneShotPruner.prune(ctx.teacher(), stats, criterion, p.sparsity(), p.pruneOutputLayer());
        ctx.files().writeBytes(new Path(dir.tmp(), MODEL), Networks.toBytes(pruned.network(), false));
        try (OutputStream out = ctx.files().create(new Path(dir.tmp(), MASKS))) {
            pruned.masks().write(out);
        }
        ObjectNode table = layerTable(pruned, p);
        ctx.files().writeString(new Path(dir.tmp(), LAYERS), Json.MAPPER.writeValueAsString(table));
        details.put("criterion", p.criterion().configName());
        details.put("targetSparsity", p.sparsity());
        details.put("achievedSparsity", pruned.masks().sparsity());
        details.set("layers", table.get("layers"));
        ctx.out().printf("%-12s %s at %.0f%%: %d of %d prunable weights kept (%.2f%% sparse)%n", name(),
                p.criterion().configName(), 100 * p.sparsity(), pruned.masks().keptCount(), pruned.masks().size(),
                100 * pruned.masks().sparsity());
        for (String s : pruned.skipped()) {
            ctx.out().printf("%-12s not pruned: %s%n", name(), s);
        }
    }

    private static ObjectNode layerTable(PrunedModel pruned, PareConfig.Prune p) {
        ObjectNode t = Json.object();
        t.put("criterion", p.criterion().configName());
        t.put("targetSparsity", p.sparsity());
        t.put("achievedSparsity", pruned.masks().sparsity());
        t.put("prunableWeights", pruned.masks().size());
        t.put("keptWeights", pruned.masks().keptCount());
        ArrayNode layers = t.putArray("layers");
        for (LayerReport l : pruned.layers()) {
            ObjectNode n = layers.addObject();
            n.put("index", l.index());
            n.put("name", l.name());
            n.putArray("shape").add(l.nIn()).add(l.nOut());
            n.put("weights", l.weights());
            n.put("kept", l.kept());
            n.put("sparsity", l.sparsity());
        }
        ArrayNode skipped = t.putArray("skipped");
        pruned.skipped().forEach(skipped::add);
        return t;
    }
}
