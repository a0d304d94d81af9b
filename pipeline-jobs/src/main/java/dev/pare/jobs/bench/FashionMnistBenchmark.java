package dev.pare.jobs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.calibration.Precision;
import dev.pare.common.calibration.Statistic;
import dev.pare.common.config.ConfigLoader;
import dev.pare.common.config.PareConfig;
import dev.pare.common.data.ExampleArrays;
import dev.pare.common.distill.Distiller;
import dev.pare.common.evaluation.ClassificationMetrics;
import dev.pare.common.model.ForwardPass;
import dev.pare.common.model.Networks;
import dev.pare.common.train.Architecture;
import dev.pare.common.train.InputShape;
import dev.pare.common.train.TeacherTrainer;
import dev.pare.jobs.io.ExampleTable;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.io.Json;
import dev.pare.jobs.spark.CalibrationJob;
import dev.pare.jobs.spark.EvaluateJob;
import dev.pare.jobs.spark.Rows;
import dev.pare.jobs.spark.ScoreJob;
import dev.pare.jobs.spark.Sessions;
import dev.pare.jobs.stage.RunContext;
import dev.pare.jobs.stage.Stage;
import dev.pare.jobs.stage.StageRunner;
import dev.pare.jobs.stages.CalibrateStage;
import dev.pare.jobs.stages.EvaluateStage;
import dev.pare.jobs.stages.Pipeline;
import dev.pare.jobs.stages.PruneStage;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The Fashion-MNIST protocol of the end-to-end slice, as one command printing one JSON document:
 * a teacher (LeNet-300-100 by default) trained 5 epochs (Adam 1e-3, batch 128, seed 0); one-shot
 * magnitude and Wanda at 50/70/90% with calibration on 2048 examples; 2 KD epochs (T = 4, α = 0.5,
 * Adam 1e-3, batch 128) on the full training set for each. Every configuration runs the real stages
 * ({@link Pipeline}, through {@link StageRunner} as {@code pare run} does; configurations left out of
 * {@code --kd} run calibrate, prune and evaluate only).
 *
 * <p>Throughput is reported twice, so that Spark's share can be told apart from the model's:
 * {@code stages} holds examples/s of each stage's wall time (calibrate forward-only as the
 * configurations need it, calibrate with gradients (fwd+bwd, batch 128) in a run directory of its
 * own, score-data, distill, and the evaluate stage's Spark pass); {@code compute} holds examples/s
 * of the same per-batch work in a plain loop on the driver, one JVM thread: a teacher epoch, a KD
 * epoch (the distiller's own loop timer), {@link CalibrationJob#add} (in the config's
 * {@code calibration.precision}, as the executors), {@link ScoreJob#score} and a forward pass at batch 1000 and 128 on the test set.
 *
 * <p>Usage: {@code FashionMnistBenchmark TRAIN_URI TEST_URI WORK_DIR [--master URL] [options]}; the
 * options match {@code deploy/bench/compare-pytorch.sh}'s PyTorch peer. Progress goes to stderr,
 * the JSON document to stdout. Run by {@code deploy/bench/fashion-mnist.sh} and
 * {@code deploy/bench/compare-pytorch.sh}.
 */
@Command(name = "FashionMnistBenchmark", mixinStandardHelpOptions = true,
        description = "Teacher training, one-shot pruning and KD on Fashion-MNIST through Pare's stages; one JSON"
                + " document with accuracies, stage and compute examples/s.")
public final class FashionMnistBenchmark implements Callable<Integer> {
    private static final InputShape IMAGE = new InputShape(1, 28, 28);
    private static final int WIDTH = (int) IMAGE.length();
    private static final int CLASSES = 10;
    /** Runs of each Spark stage. */
    private static final int REPEATS = 3;
    /**
     * Timed passes of the driver loops (score, forward). This machine has slow phases lasting seconds (a teacher's
     * epochs in one JVM read 28k, 35k and 53k examples/s): a median of 5 passes rides out one of them.
     */
    private static final int COMPUTE_REPEATS = 5;
    /**
     * Untimed calibration passes, at least this many and for at least {@link #CALIBRATION_WARM_UP_SECONDS}, then
     * until steady ({@link #warmUp}): 2048 examples are 16 batches, and in the benchmark's JVM the passes still sped
     * up from 59 to 31 ms over 15 passes after 10 untimed ones, and from 45 to 29 ms after 2 s of them (the JIT).
     */
    private static final int CALIBRATION_WARM_UP = 10;
    private static final double CALIBRATION_WARM_UP_SECONDS = 2.0;
    private static final int CALIBRATION_REPEATS = 25;
    /** The longest warm-up before timing anyway (the document records whether the passes were steady). */
    private static final double MAX_WARM_UP_SECONDS = 20.0;
    /** Steady: the last {@value #STEADY_PASSES} untimed passes within {@value #STEADY_SPREAD} of each other. */
    private static final int STEADY_PASSES = 3;
    private static final double STEADY_SPREAD = 1.10;

    @Mixin
    BenchInputs inputs;

    @Parameters(index = "2", paramLabel = "WORK_DIR", description = "Folder for the teacher and the run directories.")
    Path work;

    @Option(names = "--architecture", defaultValue = "lenet-300-100",
            description = "Teacher architecture: lenet-300-100 or lenet-5 (default ${DEFAULT-VALUE}).")
    String architecture;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "N",
            description = "Use only the first N training rows by id (0: all), for smoke tests.")
    int limit;

    @Option(names = "--teacher-epochs", defaultValue = "5") int teacherEpochs;

    @Option(names = "--kd-epochs", defaultValue = "2") int kdEpochs;

    @Option(names = "--batch-size", defaultValue = "128",
            description = "Teacher training, KD and gradient-calibration batch (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--learning-rate", defaultValue = "0.001", description = "Adam, teacher and KD.")
    double learningRate;

    @Option(names = "--temperature", defaultValue = "4.0") double temperature;

    @Option(names = "--alpha", defaultValue = "0.5",
            description = "KD loss α·CE + (1−α)·T²·KL: the weight of the hard-label term (default ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--calibration-samples", defaultValue = "2048") int calibrationSamples;

    @Option(names = "--score-batch-size", defaultValue = "1000", description = "score-data rows per forward pass.")
    int scoreBatchSize;

    @Option(names = "--criteria", split = ",", defaultValue = "magnitude,wanda") List<String> criteria;

    @Option(names = "--sparsities", split = ",", defaultValue = "0.5,0.7,0.9") List<Double> sparsities;

    @Option(names = "--kd", defaultValue = "all", paramLabel = "LIST",
            description = "Configurations distilled: all, none or names like wanda@0.5,magnitude@0.7 (criterion@sparsity,"
                    + " as the PyTorch peer's --recover); the others are pruned and evaluated only.")
    String kd;

    public static void main(String[] args) {
        Bench.main(new FashionMnistBenchmark(), args);
    }

    /** {@code criterion@sparsity} with the sparsity as Python's {@code :g} writes it (0.5, not 0.50). */
    static String configName(String criterion, double sparsity) {
        return criterion + "@" + BigDecimal.valueOf(sparsity).stripTrailingZeros().toPlainString();
    }

    /** Whether {@code name} is distilled under {@code --kd} ({@code all}, {@code none} or a comma list). */
    static boolean distilled(String kd, String name) {
        return switch (kd.trim()) {
            case "all" -> true;
            case "none", "" -> false;
            default -> Arrays.stream(kd.split(",")).map(String::trim).anyMatch(name::equals);
        };
    }

    @Override
    public Integer call() throws Exception {
        PrintStream progress = System.err;
        work = work.toAbsolutePath();
        java.nio.file.Files.createDirectories(work);
        Architecture arch = Architecture.fromName("--architecture", architecture);
        ObjectNode doc = Json.object();
        doc.put("protocol", "fashion-mnist " + arch.configName() + ": teacher " + teacherEpochs + " epochs; calibration "
                + calibrationSamples + "; " + String.join(" and ", criteria) + " at " + sparsities + "; " + kdEpochs
                + " KD epochs (T=" + temperature + ", alpha=" + alpha + " on CE, Adam " + learningRate + ", batch "
                + batchSize + ") on the full training set for: " + kd);
        ObjectNode machine = Bench.machine(doc, inputs.master);
        ObjectNode settings = doc.putObject("settings");
        settings.put("architecture", arch.configName());
        settings.put("limit", limit);
        settings.put("teacherEpochs", teacherEpochs);
        settings.put("kdEpochs", kdEpochs);
        settings.put("batchSize", batchSize);
        settings.put("learningRate", learningRate);
        settings.put("temperature", temperature);
        settings.put("alpha", alpha);
        settings.put("alphaConvention", "alpha * CE(y, student) + (1 - alpha) * T^2 * KL(teacher_T || student_T)");
        settings.put("calibrationSamples", calibrationSamples);
        settings.put("scoreBatchSize", scoreBatchSize);
        settings.put("kd", kd);

        PareConfig cfg = ConfigLoader.load(null, List.of("data.train=" + inputs.train, "data.test=" + inputs.test));
        Files files = new Files(new Configuration());
        SparkSession spark = Sessions.open(cfg.spark(), inputs.master);
        try {
            String train = limit > 0 ? limited(spark, files, cfg, limit) : inputs.train;
            settings.put("train", train);
            List<String> base = List.of("data.train=" + train, "data.test=" + inputs.test, "seed=0");
            cfg = ConfigLoader.load(null, base);
            Dataset<Row> trainDf = ExampleTable.read(spark, files, train, "data.train", cfg.data());
            Dataset<Row> testDf = ExampleTable.read(spark, files, inputs.test, "data.test", cfg.data());
            ExampleTable.validate(trainDf, "data.train", train, WIDTH, CLASSES);
            ExampleArrays trainArrays = Rows.collectInIdOrder(trainDf, WIDTH);
            ExampleArrays testArrays = Rows.collectInIdOrder(testDf, WIDTH);

            // 1. Teacher: the loop `pare train-teacher` runs, timed per epoch.
            progress.printf("bench: training the %s teacher on %d examples%n", arch.configName(), trainArrays.size());
            double[] epochSeconds = new double[teacherEpochs];
            long t0 = System.nanoTime();
            long[] last = {t0};
            MultiLayerNetwork teacher = TeacherTrainer.train(arch.configuration(IMAGE, CLASSES, learningRate, 0),
                    trainArrays, CLASSES, teacherEpochs, batchSize, 0, e -> {
                        long now = System.nanoTime();
                        epochSeconds[e - 1] = (now - last[0]) / 1e9;
                        last[0] = now;
                        progress.printf("bench: teacher epoch %d %.1f s%n", e, epochSeconds[e - 1]);
                    });
            double teacherSeconds = Bench.secondsSince(t0);
            Path teacherFile = work.resolve("teacher.zip");
            byte[] teacherBytes = Networks.toBytes(teacher, false);
            files.writeBytes(files.path(teacherFile.toString()), teacherBytes);
            ObjectNode t = doc.putObject("teacher");
            t.put("architecture", arch.configName());
            t.put("parameters", teacher.numParams());
            t.put("examples", trainArrays.size());
            t.put("epochs", teacherEpochs);
            t.put("seconds", teacherSeconds);
            t.put("examplesPerSecond", (double) trainArrays.size() * teacherEpochs / teacherSeconds);
            ArrayNode perEpoch = t.putArray("examplesPerSecondPerEpoch");
            for (double s : epochSeconds) {
                perEpoch.add(trainArrays.size() / s);
            }
            t.put("accuracy", Distiller.evaluate(teacher, testArrays, CLASSES, 1000).accuracy());

            // 2. The same work as the stages, in plain loops on the driver.
            ObjectNode compute = doc.putObject("compute");
            compute.put("note", "examples/s of the per-batch work in a loop on the driver (one JVM thread, OMP_NUM_THREADS"
                    + " native threads): no Spark, no I/O");
            ObjectNode te = compute.putObject("teacherTrainEpoch");
            te.put("batchSize", batchSize);
            te.put("examples", trainArrays.size());
            te.put("examplesPerSecond", Bench.median(Arrays.stream(epochSeconds).map(s -> trainArrays.size() / s)
                    .toArray()));
            te.put("what", "median epoch of the teacher training loop (TeacherTrainer, the loop of pare train-teacher)");
            progress.println("bench: compute rates on the driver");
            ExampleArrays calibration = slice(trainArrays, 0, Math.min(calibrationSamples, trainArrays.size()));
            Precision precision = cfg.calibration().precision();
            compute.set("calibrationForwardBackward", calibrationRate(teacher, calibration, batchSize,
                    EnumSet.of(Statistic.INPUT_NORMS, Statistic.GRADIENTS), batchSize, precision,
                    "CalibrationJob.add with input norms + gradients (taylor/fisher), one backward per batch, "
                            + precision.configName() + " precision as on the executors"));
            compute.set("calibrationForward", calibrationRate(teacher, calibration, cfg.calibration().batchSize(),
                    EnumSet.of(Statistic.INPUT_NORMS), 1, precision, "CalibrationJob.add with input norms only (wanda,"
                            + " magnitude), forward only, " + precision.configName() + " precision"));
            ForwardPass.Buffers scoreBuffers = new ForwardPass.Buffers();
            List<ExampleArrays> scoreBatches = batches(trainArrays, scoreBatchSize);
            Runnable scorePass = () -> {
                for (ExampleArrays batch : scoreBatches) {
                    ScoreJob.score(teacher, batch, CLASSES, scoreBuffers);
                }
            };
            // Untimed passes until steady, as before the forward rates below: a run's first timed passes read
            // 886, 932 and 593 ms, then 366 ms, after a single untimed one (the JIT).
            int[] scoreWarmUp = warmUp(scorePass, 2, 2.0);
            compute.set("score", withWarmUp(rate(trainArrays.size(), scoreBatchSize, COMPUTE_REPEATS, scorePass,
                    "ScoreJob.score on every training example (median of " + COMPUTE_REPEATS
                            + " passes after untimed ones until steady):"
                            + " forward, logits, loss, EL2N, entropy, margin, GraNd, the batch's columns, as one task"
                            + " does with its reused arrays"), scoreWarmUp));
            for (int bs : new int[] {1000, 128}) {
                // One thread, as the peer's forward by default (compare-pytorch.sh: PEER_THREADS = OMP_NUM_THREADS),
                // with one set of arrays for every pass, as an evaluate task's thread keeps its own: fresh ones per
                // pass of 10 batches (Distiller.evaluate's) cost 65-75 ms a pass instead of 37-42 on this machine,
                // whose fresh pages are slow.
                List<ExampleArrays> testBatches = batches(testArrays, bs);
                ForwardPass.Buffers forwardBuffers = new ForwardPass.Buffers();
                Runnable forward = () -> {
                    ClassificationMetrics metrics = new ClassificationMetrics(CLASSES);
                    for (ExampleArrays batch : testBatches) {
                        metrics.add(ForwardPass.logitsRowMajor(teacher, forwardBuffers.features(batch), forwardBuffers),
                                batch.labels(), null);
                    }
                };
                int[] forwardWarmUp = warmUp(forward, 2, 1.0);
                compute.set("forwardBs" + bs, withWarmUp(rate(testArrays.size(), bs, COMPUTE_REPEATS, forward,
                        "teacher forward + accuracy on the test set, as the evaluate stage's tasks compute them with"
                                + " their reused arrays, median of " + COMPUTE_REPEATS
                                + " after untimed passes until steady"), forwardWarmUp));
            }

            // 3. Stages: calibration with gradients in a run directory of its own, the evaluate stage's Spark pass.
            ObjectNode stages = doc.putObject("stages");
            stages.put("note", "examples/s of a stage's wall time as StageRunner measures it (pare <stage> or pare run,"
                    + " without JVM and Spark session start-up): Spark jobs, Parquet I/O, broadcasts, driver work");
            List<String> gradientSets = new ArrayList<>(base);
            gradientSets.addAll(List.of("teacher.model=" + teacherFile, "prune.criterion=taylor",
                    "calibration.samples=" + calibrationSamples, "calibration.batch-size=" + batchSize,
                    "calibration.gradient-batch-size=" + batchSize));
            double[] gradientSeconds = new double[REPEATS];
            for (int i = 0; i < REPEATS; i++) {
                progress.printf("bench: calibrate with gradients (taylor statistics), %d of %d%n", i + 1, REPEATS);
                gradientSeconds[i] = runStages(files, ConfigLoader.load(null, gradientSets),
                        work.resolve("calibrate-gradients"), List.of(new CalibrateStage()), progress).get("calibrate");
            }
            int calibrated = Math.min(calibrationSamples, trainArrays.size());
            ObjectNode cg = stages.putObject("calibrateForwardBackward");
            cg.put("stage", "calibrate (median of " + REPEATS + ")");
            cg.put("settings", String.join(" ", gradientSets.subList(base.size() + 1, gradientSets.size())));
            cg.put("examples", calibrated);
            cg.put("seconds", Bench.median(gradientSeconds));
            cg.put("examplesPerSecond", calibrated / Bench.median(gradientSeconds));
            double[] evalSeconds = new double[REPEATS];
            byte[] model = teacherBytes;
            for (int i = 0; i < REPEATS; i++) {
                long e0 = System.nanoTime();
                EvaluateJob.run(spark, testDf, model, model, WIDTH, CLASSES, 1000);
                evalSeconds[i] = Bench.secondsSince(e0);
            }
            // The teacher evaluated against itself: EvaluateJob runs one forward pass per example (its own logits
            // are the agreement reference; before session 15 it ran the teacher twice and this counted two).
            ObjectNode ev = stages.putObject("evaluateForward");
            ev.put("stage", "evaluate (its Spark pass, EvaluateJob, on the teacher; median of " + REPEATS + ")");
            ev.put("examples", testArrays.size());
            ev.put("forwardPasses", testArrays.size());
            ev.put("batchSize", 1000);
            ev.put("seconds", Bench.median(evalSeconds));
            ev.put("examplesPerSecond", testArrays.size() / Bench.median(evalSeconds));
            ev.put("what", "forward passes per second: the teacher's logits of every test example, its metrics and"
                    + " its agreement with itself");

            // 4. One run directory per criterion x sparsity.
            ArrayNode runs = doc.putArray("runs");
            for (String criterion : criteria) {
                for (double s : sparsities) {
                    String name = configName(criterion, s);
                    boolean distill = distilled(kd, name);
                    List<String> sets = new ArrayList<>(base);
                    sets.addAll(List.of("teacher.model=" + teacherFile, "prune.criterion=" + criterion,
                            "prune.sparsity=" + s, "selection.fraction=1.0", "distill.epochs=" + kdEpochs,
                            "distill.batch-size=" + batchSize, "distill.learning-rate=" + learningRate,
                            "distill.temperature=" + temperature, "distill.alpha=" + alpha,
                            "calibration.samples=" + calibrationSamples, "score.batch-size=" + scoreBatchSize));
                    Path runDir = work.resolve(criterion + "-" + Math.round(100 * s));
                    progress.printf("bench: %s%s -> %s%n", name, distill ? " + KD" : " (one-shot only)", runDir);
                    List<Stage> stageList = distill ? Pipeline.stages()
                            : List.of(new CalibrateStage(), new PruneStage(), new EvaluateStage());
                    Map<String, Double> seconds = runStages(files, ConfigLoader.load(null, sets), runDir, stageList,
                            progress);
                    runs.add(run(runDir, name, criterion, s, distill, seconds, calibrated, trainArrays.size()));
                }
            }
            summarize(runs, stages, compute, calibrated, trainArrays.size(), batchSize);
        } finally {
            spark.stop();
        }
        Bench.finish(machine);
        System.out.println(Json.MAPPER.writeValueAsString(doc));
        return 0;
    }

    /** The first {@code n} training rows by id, written once under the work folder. */
    private String limited(SparkSession spark, Files files, PareConfig cfg, int n) throws java.io.IOException {
        Path out = work.resolve("train-first-" + n + ".parquet");
        if (!java.nio.file.Files.isDirectory(out)) {
            ExampleTable.read(spark, files, inputs.train, "data.train", cfg.data()).orderBy(ExampleTable.ID).limit(n)
                    .write().mode(SaveMode.Overwrite).parquet(out.toString());
        }
        return out.toString();
    }

    /** Runs {@code stages} in {@code runDir} (replacing earlier results); the seconds of each, by stage name. */
    private Map<String, Double> runStages(Files files, PareConfig cfg, Path runDir, List<Stage> stages,
                                          PrintStream progress) throws Exception {
        Map<String, Double> seconds = new LinkedHashMap<>();
        try (RunContext ctx = new RunContext(cfg, files, files.path(runDir.toString()), inputs.master, true, false,
                progress)) {
            for (Stage stage : stages) {
                seconds.put(stage.name(), StageRunner.run(ctx, stage).seconds());
            }
        }
        return seconds;
    }

    private static ObjectNode run(Path runDir, String name, String criterion, double sparsity, boolean distilled,
                                  Map<String, Double> seconds, int calibrated, int trainRows) throws java.io.IOException {
        ObjectNode r = Json.object();
        r.put("name", name);
        r.put("criterion", criterion);
        r.put("sparsity", sparsity);
        r.put("distilled", distilled);
        r.put("runDir", runDir.toString());
        r.put("achievedSparsity", read(runDir.resolve("pruned/layers.json")).path("achievedSparsity").asDouble());
        r.put("oneShotAccuracy", read(runDir.resolve("eval/pruned.json")).path("accuracy").asDouble());
        ObjectNode stageSeconds = r.putObject("stageSeconds");
        seconds.forEach(stageSeconds::put);
        r.put("calibrateExamplesPerSecond", calibrated / seconds.get("calibrate"));
        if (distilled) {
            r.put("studentAccuracy", read(runDir.resolve("eval/student.json")).path("accuracy").asDouble());
            JsonNode epochs = read(runDir.resolve("distill/provenance.json")).path("details").path("epochs");
            ArrayNode acc = r.putArray("accuracyPerEpoch");
            ArrayNode speed = r.putArray("kdExamplesPerSecondPerEpoch");
            epochs.forEach(e -> {
                acc.add(e.path("testAccuracy").asDouble());
                speed.add(e.path("examplesPerSecond").asDouble());
            });
            r.put("scoreDataExamplesPerSecond", trainRows / seconds.get("score-data"));
            r.put("distillExamplesPerSecond", (double) trainRows * epochs.size() / seconds.get("distill"));
        }
        return r;
    }

    /** Medians over the runs of the per-stage rates, and the KD epoch's compute rate. */
    private static void summarize(ArrayNode runs, ObjectNode stages, ObjectNode compute, int calibrated, int trainRows,
                                  int batchSize) {
        List<JsonNode> all = new ArrayList<>();
        runs.forEach(all::add);
        List<JsonNode> kdRuns = all.stream().filter(r -> r.path("distilled").asBoolean()).toList();
        ObjectNode cf = stages.putObject("calibrateForward");
        cf.put("stage", "calibrate (the configurations' own: input norms only)");
        cf.put("examples", calibrated);
        cf.put("seconds", medianOf(all, r -> r.at("/stageSeconds/calibrate").asDouble()));
        cf.put("examplesPerSecond", calibrated / cf.get("seconds").asDouble());
        if (kdRuns.isEmpty()) {
            return;
        }
        ObjectNode sd = stages.putObject("scoreData");
        sd.put("stage", "score-data");
        sd.put("examples", trainRows);
        sd.put("seconds", medianOf(kdRuns, r -> r.at("/stageSeconds/score-data").asDouble()));
        sd.put("examplesPerSecond", trainRows / sd.get("seconds").asDouble());
        ObjectNode ds = stages.putObject("distill");
        ds.put("stage", "distill (loading the subset and logits, KD epochs, test accuracy after each, checkpoints)");
        ds.put("examplesPerSecond", medianOf(kdRuns, r -> r.path("distillExamplesPerSecond").asDouble()));
        for (String stage : new String[] {"select-data", "prune", "evaluate"}) {
            stages.putObject(stage).put("seconds", medianOf(kdRuns, r -> r.path("stageSeconds").path(stage).asDouble()));
        }
        List<Double> epochRates = new ArrayList<>();
        kdRuns.forEach(r -> r.path("kdExamplesPerSecondPerEpoch").forEach(e -> epochRates.add(e.asDouble())));
        ObjectNode kdEpoch = compute.putObject("kdEpoch");
        kdEpoch.put("what", "median KD epoch over every distilled configuration (the distiller's loop, teacher logits"
                + " precomputed by score-data)");
        kdEpoch.put("examples", trainRows);
        kdEpoch.put("batchSize", batchSize);
        kdEpoch.put("examplesPerSecond", Bench.median(epochRates.stream().mapToDouble(Double::doubleValue).toArray()));
    }

    private static double medianOf(List<JsonNode> runs, ToDoubleFunction<JsonNode> f) {
        return Bench.median(runs.stream().mapToDouble(f).toArray());
    }

    private static JsonNode read(Path file) throws java.io.IOException {
        return Json.MAPPER.readTree(file.toFile());
    }

    /**
     * {@code a} cut into batches of {@code batch} rows (the last may be shorter), copied once before the timed
     * loops: a task gets each batch as arrays of its own, as PyTorch's loop gets views of its tensor. Until
     * session 11 the score and calibration loops copied every batch inside the timed pass: 188 MB per score
     * pass, 10-12 ms of its 300-330 ms (three alternating pairs of fresh JVMs).
     */
    static List<ExampleArrays> batches(ExampleArrays a, int batch) {
        List<ExampleArrays> out = new ArrayList<>();
        for (int from = 0; from < a.size(); from += batch) {
            out.add(slice(a, from, Math.min(a.size(), from + batch)));
        }
        return out;
    }

    /** Rows {@code [from, to)} as example arrays of their own. */
    static ExampleArrays slice(ExampleArrays a, int from, int to) {
        int w = a.width();
        return new ExampleArrays(Arrays.copyOfRange(a.ids(), from, to), Arrays.copyOfRange(a.features(), from * w, to * w),
                w, Arrays.copyOfRange(a.labels(), from, to));
    }

    /** The calibration pass of one task over {@code data}, on a copy of the teacher in {@code precision} (as executors). */
    private static ObjectNode calibrationRate(MultiLayerNetwork teacher, ExampleArrays data, int batch,
                                              Set<Statistic> statistics, int gradientBatch, Precision precision,
                                              String what) {
        MultiLayerNetwork net = teacher.convertDataType(precision.dataType());
        CalibrationJob.Settings s = new CalibrationJob.Settings(data.width(), batch, statistics, gradientBatch,
                Long.MAX_VALUE, precision);
        ForwardPass.Buffers buffers = new ForwardPass.Buffers();
        List<ExampleArrays> batches = batches(data, batch);
        Runnable pass = () -> {
            CalibrationStatistics stats = CalibrationStatistics.emptyFor(net, statistics, Long.MAX_VALUE);
            for (ExampleArrays b : batches) {
                CalibrationJob.add(stats, net, b, s, CLASSES, buffers);
            }
        };
        // Untimed passes first (JIT, workspaces: the steady state of an executor). 2048 examples are 16 batches:
        // after one pass the JIT has not compiled the per-batch loops yet (the rate was 0.7x the steady one).
        int[] untimed = warmUp(pass, CALIBRATION_WARM_UP, CALIBRATION_WARM_UP_SECONDS);
        ObjectNode r = withWarmUp(rate(data.size(), batch, CALIBRATION_REPEATS, pass, what), untimed);
        r.put("statistics", statistics.toString());
        r.put("gradientBatchSize", gradientBatch);
        r.put("precision", precision.configName());
        return r;
    }

    /**
     * Untimed runs of {@code pass}: at least {@code minPasses} and {@code minSeconds}, then until the last
     * {@value #STEADY_PASSES} are within {@value #STEADY_SPREAD}x of each other (the JIT has compiled the loop:
     * on 2 cores its compiler threads share them with this one), or for at most {@value #MAX_WARM_UP_SECONDS} s.
     *
     * @return the number of untimed passes, and 1 when they ended steady (else 0)
     */
    private static int[] warmUp(Runnable pass, int minPasses, double minSeconds) {
        long start = System.nanoTime();
        List<Double> seconds = new ArrayList<>();
        while (true) {
            long t0 = System.nanoTime();
            pass.run();
            seconds.add(Bench.secondsSince(t0));
            boolean steady = seconds.size() >= STEADY_PASSES && isSteady(seconds.subList(seconds.size() - STEADY_PASSES,
                    seconds.size()));
            if (seconds.size() >= minPasses && Bench.secondsSince(start) >= minSeconds
                    && (steady || Bench.secondsSince(start) >= MAX_WARM_UP_SECONDS)) {
                return new int[] {seconds.size(), steady ? 1 : 0};
            }
        }
    }

    /** Whether the longest of {@code seconds} is within {@value #STEADY_SPREAD}x of the shortest. */
    static boolean isSteady(List<Double> seconds) {
        double min = seconds.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        double max = seconds.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        return max <= STEADY_SPREAD * min;
    }

    private static ObjectNode withWarmUp(ObjectNode rate, int[] warmUp) {
        rate.put("untimedPasses", warmUp[0]);
        rate.put("steadyBeforeTiming", warmUp[1] == 1);
        return rate;
    }

    /** Median wall time of {@code repeats} runs of {@code body} over {@code examples} examples. */
    private static ObjectNode rate(int examples, int batch, int repeats, Runnable body, String what) {
        double[] seconds = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            body.run();
            seconds[i] = Bench.secondsSince(t0);
        }
        ObjectNode r = Json.object();
        r.put("what", what);
        r.put("examples", examples);
        r.put("batchSize", batch);
        r.put("seconds", Bench.median(seconds));
        r.put("examplesPerSecond", examples / Bench.median(seconds));
        // Every pass, so that a slow run shows whether all its passes were slow or a few.
        ArrayNode all = r.putArray("passSeconds");
        for (double x : seconds) {
            all.add(x);
        }
        return r;
    }
}
