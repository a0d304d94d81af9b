package dev.pare.jobs.stages;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.calibration.Statistic;
import dev.pare.common.config.PareConfig;
import dev.pare.jobs.io.BadInputException;
import dev.pare.jobs.spark.CalibrationJob;
import dev.pare.jobs.spark.ModelTime;
import dev.pare.jobs.stage.RunContext;
import dev.pare.jobs.stage.Stage;
import dev.pare.jobs.stage.StageDir;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;

/**
 * {@code calibrate}: per-layer statistics of the teacher on a seeded sample, on the executors:
 * input norms always, and what the configured criterion needs ({@code PareConfig.Prune#statistics}).
 */
public final class CalibrateStage implements Stage {
    public static final String FOLDER = "calibration";
    public static final String FILE = CalibrationStatistics.FILE;

    @Override
    public String name() {
        return "calibrate";
    }

    @Override
    public String folder() {
        return FOLDER;
    }

    @Override
    public List<String> identity(RunContext ctx) throws Exception {
        List<String> id = new java.util.ArrayList<>(ctx.teacherOnTrainIdentity());
        id.add("seed=" + ctx.config().seed());
        id.add("calibration=" + ctx.config().renderSection("calibration"));
        id.add("statistics=" + new java.util.TreeSet<>(ctx.config().prune().statistics()));
        return id;
    }

    /**
     * The teacher, and the training table's files and columns. Its rows are checked by the pass that draws
     * the sample ({@link CalibrationJob#sample(org.apache.spark.sql.Dataset, int, int, int, long, int)}),
     * before any model work and before anything is written: one pass over the table instead of two.
     */
    @Override
    public void validate(RunContext ctx) throws Exception {
        ctx.teacher();
        ctx.trainForChecksInPass();
    }

    @Override
    public void execute(RunContext ctx, StageDir dir, ObjectNode details) throws Exception {
        PareConfig.Calibration cal = ctx.config().calibration();
        var train = ctx.trainForChecksInPass();
        int width = ctx.featureLength();
        JavaRDD<CalibrationJob.Example> sample;
        if (ctx.trainChecksPending()) {
            var checked = ctx.readingTrain(() -> CalibrationJob.sample(train, width, cal.samples(), cal.partitions(),
                    ctx.config().seed(), ctx.config().data().numClasses()));
            ctx.acceptTrainChecks(ctx.readingTrain(checked::checks));
            sample = checked.rows();
        } else {
            sample = ctx.readingTrain(() -> CalibrationJob.sample(train, width, cal.samples(), cal.partitions(),
                    ctx.config().seed()));
        }
        Set<Statistic> wanted = ctx.config().prune().statistics();
        CalibrationStatistics stats;
        ModelTime modelTime = ModelTime.register(ctx.spark(), "pare calibrate");
        try {
            stats = CalibrationJob.run(ctx.spark(), sample, ctx.teacherBytes(), ctx.teacher(), new CalibrationJob.Settings(
                    ctx.featureLength(), cal.batchSize(), wanted, cal.gradientBatchSize(), cal.maxGramBytes(),
                    cal.precision()), modelTime);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("calibrate: " + e.getMessage());
        }
        stats.write(name -> ctx.files().create(new Path(dir.tmp(), name)));
        ArrayNode computed = details.putArray("statistics");
        stats.computed().forEach(st -> computed.add(st.name()));
        details.put("samples", stats.samples());
        details.put("requestedSamples", cal.samples());
        details.put("partitions", cal.partitions());
        details.put("layers", stats.layers().size());
        modelTime.putInto(details, ctx.spark());
        ctx.out().printf("%-12s %d examples in %d shards, %d layers%n", name(), stats.samples(), cal.partitions(),
                stats.layers().size());
    }

    /** The statistics of the run directory's finished {@code calibrate} stage. */
    public static CalibrationStatistics read(RunContext ctx) throws java.io.IOException {
        Path folder = StageDir.finished(ctx.runDir(), FOLDER);
        return CalibrationStatistics.read(name -> ctx.files().open(new Path(folder, name)), folder.toString());
    }
}
