package dev.pare.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.xxhash64;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.config.PareConfig;
import dev.pare.common.util.Seeds;
import dev.pare.jobs.io.Json;
import dev.pare.jobs.spark.ScoreJob;
import dev.pare.jobs.stage.RunContext;
import dev.pare.jobs.stage.Stage;
import dev.pare.jobs.stage.StageDir;
import dev.pare.jobs.stage.StageRunner;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * {@code select-data}: keeps {@code floor(f·N)} examples (at least 1) by a seeded random order or
 * by descending EL2N (ties by id). The ranking is a Spark sort + limit; only per-class counts come
 * back to the driver.
 */
public final class SelectDataStage implements Stage {
    public static final String FOLDER = "subset";
    public static final String TABLE = "ids.parquet";
    public static final String REPORT = "selection.json";

    @Override
    public String name() {
        return "select-data";
    }

    @Override
    public String folder() {
        return FOLDER;
    }

    @Override
    public List<String> identity(RunContext ctx) throws Exception {
        return List.of("seed=" + ctx.config().seed(), "selection=" + ctx.config().renderSection("selection"),
                StageRunner.upstream(ctx, ScoreDataStage.FOLDER, "score-data"));
    }

    @Override
    public void validate(RunContext ctx) {
        // Inputs are the finished example-scores folder, checked by identity().
    }

    /** Kept count for {@code n} examples at fraction {@code f}: {@code max(1, floor(f·n))}. */
    public static long keptCount(long n, double f) {
        return Math.max(1, (long) Math.floor(f * n + 1e-9));
    }

    /** The kept rows of {@code scores} (columns id, label, ...). */
    public static Dataset<Row> select(Dataset<Row> scores, PareConfig.Selection sel, long seed, long keep) {
        Dataset<Row> ranked = switch (sel.method()) {
            case RANDOM -> scores.orderBy(xxhash64(col("id"), lit(Seeds.derive(seed, "select-random", 0))), col("id"));
            case EL2N_HARDEST -> scores.orderBy(col(ScoreJob.EL2N).desc(), col("id").asc());
        };
        return ranked.limit((int) keep).select(col("id"), col("label"));
    }

    @Override
    public void execute(RunContext ctx, StageDir dir, ObjectNode details) throws Exception {
        PareConfig.Selection sel = ctx.config().selection();
        Path scoresPath = new Path(StageDir.finished(ctx.runDir(), ScoreDataStage.FOLDER), ScoreDataStage.TABLE);
        Dataset<Row> scores = ctx.spark().read().parquet(scoresPath.toString());
        long total = scores.count();
        long keep = keptCount(total, sel.fraction());
        Path out = new Path(dir.tmp(), TABLE);
        select(scores, sel, ctx.config().seed(), keep).write().parquet(out.toString());
        Dataset<Row> kept = ctx.spark().read().parquet(out.toString());
        Map<Integer, Long> keptPerClass = perClass(kept);
        Map<Integer, Long> allPerClass = perClass(scores);
        ObjectNode report = Json.object();
        report.put("method", sel.method().configName());
        report.put("fraction", sel.fraction());
        report.put("total", total);
        report.put("kept", keptPerClass.values().stream().mapToLong(Long::longValue).sum());
        ArrayNode classes = report.putArray("perClass");
        allPerClass.forEach((label, n) -> {
            ObjectNode c = classes.addObject();
            c.put("label", label);
            c.put("total", n);
            c.put("kept", keptPerClass.getOrDefault(label, 0L));
        });
        ctx.files().writeString(new Path(dir.tmp(), REPORT), Json.MAPPER.writeValueAsString(report));
        details.setAll(report);
        ctx.out().printf("%-12s kept %d of %d examples (%s, f = %s)%n", name(), report.get("kept").asLong(), total,
                sel.method().configName(), sel.fraction());
    }

    private static Map<Integer, Long> perClass(Dataset<Row> df) {
        Map<Integer, Long> m = new TreeMap<>();
        for (Row r : df.groupBy("label").count().collectAsList()) {
            m.put(r.getInt(0), r.getLong(1));
        }
        return m;
    }
}
