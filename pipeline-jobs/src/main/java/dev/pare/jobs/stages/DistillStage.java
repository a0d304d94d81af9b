package dev.pare.jobs.stages;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.config.ConfigError;
import dev.pare.common.config.PareConfig;
import dev.pare.common.data.ExampleArrays;
import dev.pare.common.distill.DistillEngine;
import dev.pare.common.distill.DistillSettings;
import dev.pare.common.distill.Distiller;
import dev.pare.common.distill.EpochMetrics;
import dev.pare.common.distill.HiddenStates;
import dev.pare.common.distill.MaskSchedule;
import dev.pare.common.distill.ValidationSplit;
import dev.pare.common.model.Networks;
import dev.pare.common.sparsity.CubicSchedule;
import dev.pare.common.sparsity.MaskSet;
import dev.pare.common.surgery.GradualMasks;
import dev.pare.jobs.io.ColumnarScan;
import dev.pare.jobs.io.ExampleTable;
import dev.pare.jobs.io.Json;
import dev.pare.jobs.io.ParquetTables;
import dev.pare.jobs.spark.ParameterAveragingEpochs;
import dev.pare.jobs.spark.Rows;
import dev.pare.jobs.spark.ScoreJob;
import dev.pare.jobs.stage.RunContext;
import dev.pare.jobs.stage.Stage;
import dev.pare.jobs.stage.StageDir;
import dev.pare.jobs.stage.StageRunner;
import java.io.InputStream;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ObjIntConsumer;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * {@code distill}: offline KD of the pruned student on the selected subset with the teacher logits
 * from {@code score-data}. On the driver by default, which reads the subset and the test split itself
 * when they are small ({@link #DRIVER_VALUES}); with {@code distill.distributed.enabled} data-parallel on
 * the executors ({@link ParameterAveragingEpochs}), the training rows never leaving them. Writes
 * {@code checkpoints/}, {@code metrics.jsonl} and {@code student/model.zip} + {@code student/masks.bin}.
 * Resumable: a killed run restarted with {@code --resume} continues from its last epoch checkpoint.
 */
public final class DistillStage implements Stage {
    public static final String FOLDER = "distill";
    public static final String METRICS = "metrics.jsonl";
    public static final String STUDENT = "student/model.zip";
    public static final String STUDENT_MASKS = "student/masks.bin";

    @Override
    public String name() {
        return "distill";
    }

    @Override
    public String folder() {
        return FOLDER;
    }

    @Override
    public boolean trains() {
        return true;
    }

    @Override
    public boolean resumable() {
        return true;
    }

    @Override
    public List<String> identity(RunContext ctx) throws Exception {
        List<String> id = new java.util.ArrayList<>(List.of("seed=" + ctx.config().seed(),
                "distill=" + ctx.config().renderSection("distill"),
                StageRunner.upstream(ctx, PruneStage.FOLDER, "prune"),
                StageRunner.upstream(ctx, SelectDataStage.FOLDER, "select-data"),
                StageRunner.upstream(ctx, ScoreDataStage.FOLDER, "score-data"),
                "train=" + ctx.describe("data.train", ctx.config().data().train()),
                "test=" + ctx.describe("data.test", ctx.config().data().test())));
        if (ctx.config().distill().gradual().enabled()) {
            // Gradual pruning re-scores weights with the prune criterion (and its calibration statistics).
            id.add("prune=" + ctx.config().renderSection("prune"));
            if (PruneStage.settings(ctx.config()).needsCalibration()) {
                id.add(StageRunner.upstream(ctx, CalibrateStage.FOLDER, "calibrate"));
            }
        }
        return id;
    }

    @Override
    public void validate(RunContext ctx) throws Exception {
        ctx.teacher();
        ctx.train();
        ctx.test();
    }

    /** Gradual pruning from the one-shot sparsity to {@code prune.sparsity}; null when off. */
    private static MaskSchedule gradual(RunContext ctx) throws Exception {
        PareConfig cfg = ctx.config();
        PareConfig.Gradual g = cfg.distill().gradual();
        if (!g.enabled()) {
            return null;
        }
        CalibrationStatistics stats = PruneStage.settings(cfg).needsCalibration() ? CalibrateStage.read(ctx) : null;
        return new GradualMasks(new CubicSchedule(g.initialSparsity(), cfg.prune().sparsity(), g.startStep(),
                g.steps(), g.interval()), stats, PruneStage.settings(cfg.prune(), cfg.prune().sparsity()));
    }

    /** {@code metrics.jsonl}: one JSON object per finished epoch, rewritten after every epoch. */
    /** Hidden-state targets from the teacher when {@code distill.hidden.weight} > 0, else null. */
    private static HiddenStates hiddenStates(RunContext ctx, MultiLayerNetwork student, Path pruned)
            throws java.io.IOException {
        PareConfig.Hidden h = ctx.config().distill().hidden();
        if (!h.enabled()) {
            return null;
        }
        Map<Integer, int[]> kept = new HashMap<>();
        Path keptFile = new Path(pruned, PruneStage.KEPT_UNITS);
        if (ctx.files().exists(keptFile)) {
            JsonNode json = Json.MAPPER.readTree(ctx.files().readString(keptFile));
            json.fields().forEachRemaining(e -> kept.put(Integer.parseInt(e.getKey()),
                    Json.MAPPER.convertValue(e.getValue(), int[].class)));
        }
        try {
            return HiddenStates.of(ctx.teacher(), student, h.weight(), h.layers(), kept);
        } catch (IllegalArgumentException e) {
            throw new ConfigError("distill.hidden.layers", h.layers().toString(), e.getMessage());
        }
    }

    private static void writeMetrics(RunContext ctx, Path file, List<EpochMetrics> history) {
        StringBuilder jsonl = new StringBuilder();
        try {
            for (EpochMetrics m : history) {
                jsonl.append(Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m))
                        .append('\n');
            }
            ctx.files().writeString(file, jsonl.toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("could not write " + file, e);
        }
    }

    @Override
    public void execute(RunContext ctx, StageDir dir, ObjectNode details) throws Exception {
        PareConfig cfg = ctx.config();
        int width = ctx.featureLength();
        int classes = cfg.data().numClasses();
        Path pruned = StageDir.finished(ctx.runDir(), PruneStage.FOLDER);
        MultiLayerNetwork student = Networks.read(ctx.files().readBytes(new Path(pruned, PruneStage.MODEL)),
                new Path(pruned, PruneStage.MODEL).toString(), false);
        MaskSet masks;
        try (InputStream in = ctx.files().open(new Path(pruned, PruneStage.MASKS))) {
            masks = MaskSet.read(in, new Path(pruned, PruneStage.MASKS).toString());
        }

        // subset ⋈ scores ⋈ train: (id, features, label, teacher logits)
        Dataset<Row> ids = ParquetTables.read(ctx.spark(), ctx.files(),
                new Path(StageDir.finished(ctx.runDir(), SelectDataStage.FOLDER), SelectDataStage.TABLE));
        Dataset<Row> scores = ParquetTables.read(ctx.spark(), ctx.files(),
                new Path(StageDir.finished(ctx.runDir(), ScoreDataStage.FOLDER), ScoreDataStage.TABLE));
        PareConfig.Distill d = cfg.distill();
        PareConfig.Distributed dist = d.distributed();
        Dataset<Row> narrow = ids.select("id").join(scores.select(col("id"), col(ScoreJob.LOGITS)), "id");
        // On the driver path the subset comes to the driver anyway: its (id, logits) are broadcast, so
        // the training table is read once and never shuffled for the join.
        Dataset<Row> joined = ctx.train().join(dist.enabled() ? narrow : broadcast(narrow), "id")
                .select(col(ExampleTable.ID), col(ExampleTable.FEATURES), col(ExampleTable.LABEL), col(ScoreJob.LOGITS));
        Dataset<Row> testTable = ctx.test();
        ExampleArrays test = (onDriver(ctx, "data.test") ? Rows.readInIdOrder(testTable, width)
                : Optional.<ExampleArrays>empty()).orElseGet(() -> Rows.collectInIdOrder(testTable, width));

        HiddenStates hidden = hiddenStates(ctx, student, pruned);
        DistillEngine engine;
        try {
            engine = dist.enabled() ? DistillEngine.DL4J : Distiller.engineFor(d.engine(), student, hidden != null);
        } catch (IllegalArgumentException e) {
            throw new ConfigError("distill.engine", d.engine().configName(), e.getMessage()
                    + (hidden == null ? "; use auto or dl4j" : "; set distill.hidden.weight = 0 for other students"));
        }
        DistillSettings settings = new DistillSettings(d.epochs(), d.batchSize(), d.learningRate(), d.temperature(),
                d.alpha(), cfg.seed(), d.lrSchedule(), d.stepEvery(), d.stepGamma(), d.patience(), d.keepBest(),
                d.engine());
        FsCheckpointStore store = new FsCheckpointStore(ctx.files(), new Path(dir.tmp(), "checkpoints"));
        Path metricsFile = new Path(dir.tmp(), METRICS);
        Distiller.Progress progress = new ConsoleProgress(ctx.out(), name(), d.epochs(), ConsoleProgress.isTerminal(),
                dist.enabled() ? "rounds" : "batches");
        Distiller distiller = new Distiller(settings, progress);
        if (hidden != null) {
            distiller = distiller.withHiddenStates(hidden);
            details.put("hiddenStateWeight", hidden.weight());
            details.set("hiddenStateLayers", Json.MAPPER.valueToTree(
                    hidden.pairs().stream().map(pair -> Networks.name(student, pair.layer())).toList()));
        }
        java.util.function.Consumer<List<EpochMetrics>> onEpoch = history -> {
            EpochMetrics m = history.get(history.size() - 1);
            ctx.out().printf("%-12s epoch %d/%d: loss %.4f, lr %.3g,%s test accuracy %.4f, %.1f s (%.0f examples/s)%n",
                    name(), m.epoch(), d.epochs(), m.trainLoss(), m.learningRate(),
                    m.validationAccuracy() == null ? "" : String.format(" validation accuracy %.4f,",
                            m.validationAccuracy()), m.testAccuracy(), m.seconds(), m.examplesPerSecond());
            writeMetrics(ctx, metricsFile, history);
        };

        Distiller.Result result;
        long subset;
        int validationCount;
        if (dist.enabled()) {
            // Training rows stay on the executors; only ids (for the validation split) and the
            // validation rows come to the driver.
            Split split = splitOnExecutors(ctx, joined, d.validationFraction(), cfg.seed(), width);
            subset = split.subset();
            validationCount = split.validation().size();
            ctx.out().printf("%-12s %d subset examples, %d test examples, %d epochs%n", name(), subset, test.size(),
                    d.epochs());
            try (ParameterAveragingEpochs epochs = ParameterAveragingEpochs.prepare(ctx.spark(), split.train(),
                    dist.workers(), dist.averagingFrequency(), width, classes, settings, progress)) {
                ctx.out().printf("%-12s distributed: %d workers, parameter averaging every %d minibatches, engine %s"
                        + " on the workers%n", name(), epochs.workers(), dist.averagingFrequency(), engine.configName());
                printValidation(ctx, validationCount);
                result = distiller.run(student, masks, epochs, split.validation(), test, store, true, onEpoch);
                details.put("distributed", true);
                details.put("workers", epochs.workers());
                details.put("averagingFrequency", dist.averagingFrequency());
            }
        } else {
            Dataset<Row> trainTable = ctx.train();
            Subset rows = (onDriver(ctx, "data.train") ? subsetOnDriver(ids, scores, trainTable, width, classes)
                    : Optional.<Subset>empty()).orElseGet(() -> subset(joined, width, classes));
            ExampleArrays train = rows.train();
            float[] logits = rows.logits();
            subset = train.size();
            ctx.out().printf("%-12s %d subset examples, %d test examples, %d epochs%n", name(), subset, test.size(),
                    d.epochs());
            ctx.out().printf("%-12s engine %s%n", name(), engine.configName());
            ValidationSplit split = ValidationSplit.of(train, logits, classes, d.validationFraction(), cfg.seed());
            validationCount = split.validation().size();
            printValidation(ctx, validationCount);
            result = distiller.run(student, masks, split.train(), split.trainLogits(), split.validation(), test, store,
                    true, gradual(ctx), onEpoch);
            details.put("distributed", false);
        }
        writeMetrics(ctx, metricsFile, result.epochs());
        ctx.files().writeBytes(new Path(dir.tmp(), STUDENT), Networks.toBytes(result.student(), false));
        try (var out = ctx.files().create(new Path(dir.tmp(), STUDENT_MASKS))) {
            result.masks().write(out);
        }
        if (cfg.distill().gradual().enabled()) {
            details.put("finalSparsity", result.masks().sparsity());
            ctx.out().printf("%-12s gradual pruning: %.2f%% of the prunable weights are zero%n", name(),
                    100 * result.masks().sparsity());
        }
        details.put("engine", result.engine().configName());
        details.put("subsetExamples", subset);
        details.put("validationExamples", validationCount);
        details.put("chosenEpoch", result.chosenEpoch());
        details.put("stoppedEarly", result.stoppedEarly());
        if (result.stoppedEarly()) {
            ctx.out().printf("%-12s stopped early after epoch %d; the student is epoch %d%n", name(),
                    result.epochs().get(result.epochs().size() - 1).epoch(), result.chosenEpoch());
        }
        details.put("testExamples", test.size());
        details.set("epochs", Json.MAPPER.valueToTree(result.epochs()));
    }

    /**
     * Tables of up to this many feature values (rows × feature length: 250k Fashion-MNIST rows, about a second of
     * decoding on one thread) are read on the driver ({@link #subsetOnDriver}, {@link Rows#readInIdOrder}) when
     * the driver gets their rows anyway; larger ones by Spark's tasks, in parallel.
     */
    static final long DRIVER_VALUES = 250_000L * 784;

    private static boolean onDriver(RunContext ctx, String role) throws java.io.IOException {
        return ctx.rows(role) * ctx.featureLength() <= DRIVER_VALUES;
    }

    /**
     * Hands each row of {@code rows} whose id (column 0) is in {@code selected} (sorted) to {@code take}, with
     * the id's index there; false, having read what it read, when a selected id repeats in it.
     */
    private static boolean eachSelected(ColumnarScan.DriverRows rows, long[] selected,
                                        ObjIntConsumer<InternalRow> take) {
        boolean[] seen = new boolean[selected.length];
        while (rows.hasNext()) {
            InternalRow r = rows.next();
            int at = Arrays.binarySearch(selected, r.getLong(0));
            if (at >= 0) {
                if (seen[at]) {
                    return false;
                }
                seen[at] = true;
                take.accept(r, at);
            }
        }
        return true;
    }

    /** The selected examples and their teacher logits, in id order. */
    record Subset(ExampleArrays train, float[] logits) {}

    /**
     * The subset as {@link #subset} collects it (the selected ids joined with their teacher logits and their
     * training rows, in id order), read on the driver with no Spark job: the three tables through Pare's
     * reader ({@link ColumnarScan#onDriver}), the training table once. Empty, for the Spark route, when the
     * reader does not read one of them or an id repeats in one (where a join would repeat rows).
     */
    static Optional<Subset> subsetOnDriver(Dataset<Row> ids, Dataset<Row> scores, Dataset<Row> train, int width,
                                           int classes) {
        // All three planned first: none is read when one is not Pare's to read.
        List<Optional<ColumnarScan.DriverRows>> scans = List.of(ColumnarScan.onDriver(ids.select(col("id")), 1),
                ColumnarScan.onDriver(scores.select(col("id"), col(ScoreJob.LOGITS)), classes),
                ColumnarScan.onDriver(train.select(col(ExampleTable.ID), col(ExampleTable.FEATURES),
                        col(ExampleTable.LABEL)), width));
        try {
            if (scans.stream().anyMatch(Optional::isEmpty)) {
                return Optional.empty();
            }
            return joinOnDriver(scans.get(0).get(), scans.get(1).get(), scans.get(2).get(), width, classes);
        } finally {
            scans.forEach(scan -> scan.ifPresent(ColumnarScan.DriverRows::close));
        }
    }

    private static Optional<Subset> joinOnDriver(ColumnarScan.DriverRows idRows, ColumnarScan.DriverRows logitRows,
                                                 ColumnarScan.DriverRows trainRows, int width, int classes) {
        long[] selected = new long[1024];
        int count = 0;
        while (idRows.hasNext()) {
            if (count == selected.length) {
                selected = Arrays.copyOf(selected, 2 * count);
            }
            selected[count++] = idRows.next().getLong(0);
        }
        long[] sorted = Arrays.copyOf(selected, count);
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i] == sorted[i - 1]) {
                return Optional.empty();
            }
        }
        float[][] logits = new float[sorted.length][];
        // Named as the Spark route names it: column 3 of the joined rows.
        if (!eachSelected(logitRows, sorted, (r, at) -> logits[at] = Rows.floats(r, 1, "3", classes, sorted[at]))) {
            return Optional.empty();
        }
        float[][] features = new float[sorted.length][];
        int[] labels = new int[sorted.length];
        if (!eachSelected(trainRows, sorted, (r, at) -> {
            features[at] = Rows.features(r, 1, width, sorted[at]);
            labels[at] = r.getInt(2);
        })) {
            return Optional.empty();
        }
        // An inner join: the selected ids with both their logits and their training row.
        int n = 0;
        for (int i = 0; i < sorted.length; i++) {
            n += logits[i] != null && features[i] != null ? 1 : 0;
        }
        long[] keptIds = new long[n];
        int[] keptLabels = new int[n];
        float[] keptFeatures = new float[n * width];
        float[] keptLogits = new float[n * classes];
        int k = 0;
        for (int i = 0; i < sorted.length; i++) {
            if (logits[i] != null && features[i] != null) {
                keptIds[k] = sorted[i];
                keptLabels[k] = labels[i];
                System.arraycopy(features[i], 0, keptFeatures, k * width, width);
                System.arraycopy(logits[i], 0, keptLogits, k * classes, classes);
                k++;
            }
        }
        return Optional.of(new Subset(new ExampleArrays(keptIds, keptFeatures, width, keptLabels), keptLogits));
    }

    /**
     * The joined rows (id, features, label, logits) in id order, so the driver arrays do not depend on
     * partitioning; collected as Spark's internal rows (a float[] per row, no boxing).
     */
    static Subset subset(Dataset<Row> joined, int width, int classes) {
        List<InternalRow> rows = Rows.collectInternalInIdOrder(joined, width);
        ExampleArrays train = Rows.takeInternal(rows.iterator(), rows.size(), width);
        float[] logits = new float[rows.size() * classes];
        for (int r = 0; r < rows.size(); r++) {
            System.arraycopy(Rows.features(rows.get(r), 3, classes, train.ids()[r]), 0, logits, r * classes, classes);
        }
        return new Subset(train, logits);
    }

    private void printValidation(RunContext ctx, int count) {
        if (count > 0) {
            ctx.out().printf("%-12s %d examples held out for validation (early stopping, best epoch)%n", name(), count);
        }
    }

    /**
     * @param train the training rows, on the executors
     * @param validation the held-out rows, in id order
     * @param subset the size of the whole subset (training + validation)
     */
    record Split(Dataset<Row> train, ExampleArrays validation, long subset) {}

    /**
     * The distributed counterpart of {@link ValidationSplit#of}: the same examples are held out (the
     * split is computed on the driver from the sorted ids; only ids and the validation rows come to
     * the driver), the training rows stay on the executors.
     */
    static Split splitOnExecutors(RunContext ctx, Dataset<Row> joined, double fraction, long seed, int width)
            throws Exception {
        if (fraction == 0) {
            return new Split(joined, new ExampleArrays(new long[0], new float[0], width, new int[0]), joined.count());
        }
        List<Long> ids = joined.select(col(ExampleTable.ID)).as(Encoders.LONG()).collectAsList();
        long[] sorted = ids.stream().mapToLong(Long::longValue).sorted().toArray();
        boolean[] held = ValidationSplit.heldOut(sorted.length, fraction, seed);
        List<Long> heldIds = new java.util.ArrayList<>();
        for (int i = 0; i < sorted.length; i++) {
            if (held[i]) {
                heldIds.add(sorted[i]);
            }
        }
        Dataset<Row> heldOut = broadcast(ctx.spark().createDataset(heldIds, Encoders.LONG()).toDF(ExampleTable.ID));
        ExampleArrays validation = Rows.collectInIdOrder(joined.join(heldOut, ExampleTable.ID), width);
        Dataset<Row> train = joined.join(heldOut, joined.col(ExampleTable.ID).equalTo(heldOut.col(ExampleTable.ID)),
                "left_anti");
        return new Split(train, validation, sorted.length);
    }
}
