package dev.pare.jobs.stages;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.jobs.io.ParquetRows;
import dev.pare.jobs.io.PartitionChecks;
import dev.pare.jobs.spark.ModelTime;
import dev.pare.jobs.spark.ScoreBatch;
import dev.pare.jobs.spark.ScoreJob;
import dev.pare.jobs.stage.RunContext;
import dev.pare.jobs.stage.Stage;
import dev.pare.jobs.stage.StageDir;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;

/** {@code score-data}: teacher logits, loss and EL2N of every training example, as Parquet keyed by id. */
public final class ScoreDataStage implements Stage {
    public static final String FOLDER = "example-scores";
    public static final String TABLE = "scores.parquet";

    @Override
    public String name() {
        return "score-data";
    }

    @Override
    public String folder() {
        return FOLDER;
    }

    @Override
    public List<String> identity(RunContext ctx) throws Exception {
        List<String> id = new java.util.ArrayList<>(ctx.teacherOnTrainIdentity());
        // The table's columns are part of what this stage promises: a folder written with fewer is not reused.
        id.add("columns=" + String.join(",", ScoreJob.SCHEMA.fieldNames()));
        return id;
    }

    /**
     * The teacher, and the training table's files and columns. Its rows are checked by the scoring pass
     * itself when no earlier check covers them ({@link RunContext#trainForChecksInPass}): the table is read once
     * instead of twice, and a table that fails its checks fails the stage after that pass, before its output is
     * committed.
     */
    @Override
    public void validate(RunContext ctx) throws Exception {
        ctx.teacher();
        ctx.trainForChecksInPass();
    }

    @Override
    public void execute(RunContext ctx, StageDir dir, ObjectNode details) throws Exception {
        var train = ctx.trainForChecksInPass();
        PartitionChecks checks = ctx.trainChecksPending() ? PartitionChecks.register(ctx.spark().sparkContext(),
                "pare score-data: the table's checks", ctx.featureLength(), ctx.config().data().numClasses()) : null;
        Broadcast<byte[]> teacher = ScoreJob.broadcast(ctx.spark(), ctx.teacherBytes());
        try {
            Path out = new Path(dir.tmp(), TABLE);
            ModelTime modelTime = ModelTime.register(ctx.spark(), "pare score-data");
            JavaRDD<ScoreBatch> scores = ScoreJob.scoreBatches(ctx.spark(), train, teacher, ctx.featureLength(),
                    ctx.config().data().numClasses(), ctx.config().score().batchSize(), modelTime, checks);
            // Written without dictionaries: scores and logits are distinct doubles and floats, and Parquet's
            // dictionary attempt (a hash map per column, then a fallback to plain) took ~45% of the executors'
            // time in a profile of this stage.
            ctx.readingTrain(() -> {
                ParquetRows.writeBatches(ctx.spark(), scores, ScoreJob.SCHEMA, out.toString(), false, Map.of());
                return null;
            });
            if (checks != null) {
                ctx.acceptTrainChecks(checks.merged(scores.getNumPartitions(), "the scoring pass"));
            }
            long rows = ctx.rows("data.train");
            details.put("examples", rows);
            modelTime.putInto(details, ctx.spark());
            details.put("teacher", ctx.files().path(ctx.config().teacher().model()).toString());
            ctx.out().printf("%-12s scored %d examples%n", name(), rows);
        } finally {
            teacher.destroy();
        }
    }
}
