package dev.pare.jobs.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.calibration.Statistic;
import dev.pare.common.config.ConfigLoader;
import dev.pare.common.config.PareConfig;
import dev.pare.common.data.ExampleArrays;
import dev.pare.common.distill.DistillSettings;
import dev.pare.common.distill.Distiller;
import dev.pare.common.distill.EpochMetrics;
import dev.pare.common.distill.MemoryCheckpointStore;
import dev.pare.common.importance.Criteria;
import dev.pare.common.model.ForwardPass;
import dev.pare.common.model.InferenceLatency;
import dev.pare.common.model.ModelSize;
import dev.pare.common.model.Networks;
import dev.pare.common.sparsity.LayerFilter;
import dev.pare.common.sparsity.SparsityAllocation;
import dev.pare.common.sparsity.SparsityPattern;
import dev.pare.common.surgery.OneShotPruner;
import dev.pare.common.surgery.PruneSettings;
import dev.pare.common.surgery.PrunedModel;
import dev.pare.common.surgery.SparseGpt;
import dev.pare.common.util.Seeds;
import dev.pare.jobs.io.ExampleTable;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.io.Json;
import dev.pare.jobs.spark.CalibrationJob;
import dev.pare.jobs.spark.ModelTime;
import dev.pare.jobs.spark.Rows;
import dev.pare.jobs.spark.Sessions;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * The pruning-toolbox protocol on Fashion-MNIST, as one command printing one JSON document: for a
 * given teacher, calibration statistics of every kind on 2048 seeded examples (Spark, 4 shards),
 * then for each criterion × {50, 70, 90}% unstructured, each criterion at 2:4, and structured 50%
 * of neurons/filters: the one-shot accuracy, the accuracy after 2 KD epochs (T = 4, α = 0.5, Adam
 * 1e-3, batch 128) on a seeded subset of the training set, parameters, saved and compressed-sparse
 * size, and inference latency (median of 10 calls on 256 test rows) of teacher and student.
 *
 * <p>This calls the pipeline's building blocks directly (one calibration pass and one set of
 * teacher logits shared by every configuration); the stage pipeline itself is measured by
 * {@link FashionMnistBenchmark}.
 *
 * <p>Usage: {@code PruningBenchmark TRAIN_URI TEST_URI TEACHER_ZIP KD_FRACTION [--master URL]}.
 */
@Command(name = "PruningBenchmark", mixinStandardHelpOptions = true,
        description = "Every criterion x pattern on one teacher: one-shot and KD accuracy, size, latency; one JSON document.")
public final class PruningBenchmark implements Callable<Integer> {
    private static final double[] SPARSITIES = {0.5, 0.7, 0.9};
    private static final Criteria[] WEIGHT_CRITERIA = {Criteria.MAGNITUDE, Criteria.WANDA, Criteria.TAYLOR,
        Criteria.FISHER, Criteria.SPARSEGPT};
    private static final Criteria[] UNIT_CRITERIA = {Criteria.MAGNITUDE, Criteria.TAYLOR, Criteria.FISHER,
        Criteria.ACTIVATION};
    private static final int LATENCY_BATCH = 256;

    @Mixin
    BenchInputs inputs;

    @Parameters(index = "2", paramLabel = "TEACHER_ZIP", description = "The teacher to prune (ModelSerializer zip).")
    String teacherUri;

    @Parameters(index = "3", paramLabel = "KD_FRACTION", description = "Share of the training set the KD runs use.")
    double fraction;

    public static void main(String[] args) {
        Bench.main(new PruningBenchmark(), args);
    }

    @Override
    public Integer call() throws Exception {
        String train = inputs.train;
        String test = inputs.test;
        String master = inputs.master;
        PrintStream progress = System.err;
        ObjectNode doc = Json.object();
        ObjectNode machine = Bench.machine(doc, master);

        PareConfig cfg = ConfigLoader.load(null, List.of("data.train=" + train, "data.test=" + test));
        Files files = new Files(new Configuration());
        byte[] teacherBytes = files.readBytes(files.path(teacherUri));
        MultiLayerNetwork teacher = Networks.read(teacherBytes, teacherUri, false);
        int width = (int) Networks.inputSize(teacher);
        doc.put("teacher", teacherUri);
        doc.put("protocol", "calibration 2048 (all statistics, per-example gradients); unstructured 50/70/90% and 2:4 per"
                + " criterion; structured 50%; 2 KD epochs (T=4, alpha=0.5, Adam 1e-3, batch 128) on a seeded "
                + fraction + " of the training set; latency: median of 10 output() calls on 256 test rows");
        SparkSession spark = Sessions.open(cfg.spark(), master);
        try {
            var trainDf = ExampleTable.read(spark, files, train, "data.train", cfg.data());
            var testDf = ExampleTable.read(spark, files, test, "data.test", cfg.data());
            ExampleArrays trainArrays = Rows.collectInIdOrder(trainDf, width);
            ExampleArrays testArrays = Rows.collectInIdOrder(testDf, width);

            long t0 = System.nanoTime();
            CalibrationStatistics stats = CalibrationJob.run(spark, CalibrationJob.sample(trainDf, width, 2048, 4, 0L),
                    teacherBytes, teacher, new CalibrationJob.Settings(width, 256, EnumSet.of(Statistic.INPUT_NORMS,
                            Statistic.GRAM, Statistic.GRADIENTS, Statistic.OUTPUT_ACTIVATIONS), 1, Long.MAX_VALUE),
                    ModelTime.register(spark, "pare calibrate"));
            double calSeconds = (System.nanoTime() - t0) / 1e9;
            doc.put("calibrationSeconds", calSeconds);
            progress.printf("bench: calibration (all statistics) %.1f s%n", calSeconds);

            ExampleArrays subset = subset(trainArrays, fraction);
            float[] logits = ForwardPass.logitsRowMajor(teacher, subset, 1000);
            INDArray latencyBatch = testArrays.featureRange(0, Math.min(LATENCY_BATCH, testArrays.size()));
            ObjectNode t = doc.putObject("teacherModel");
            t.put("accuracy", Distiller.evaluate(teacher, testArrays, 10, 1000).accuracy());
            t.put("parameters", teacher.numParams());
            t.put("bytes", ModelSize.serializedBytes(teacher));
            t.put("msPerBatch", InferenceLatency.medianMillis(teacher, latencyBatch, 3, 10));
            doc.put("kdExamples", subset.size());

            List<PruneSettings> configs = new ArrayList<>();
            for (Criteria c : WEIGHT_CRITERIA) {
                for (double s : SPARSITIES) {
                    configs.add(settings(c, SparsityPattern.UNSTRUCTURED, s));
                }
                configs.add(settings(c, SparsityPattern.N_OF_M, 0.5));
            }
            for (Criteria c : UNIT_CRITERIA) {
                configs.add(settings(c, SparsityPattern.STRUCTURED, 0.5));
            }
            ArrayNode runs = doc.putArray("runs");
            for (PruneSettings s : configs) {
                String label = s.criterion().configName() + " " + switch (s.pattern()) {
                    case N_OF_M -> "2:4";
                    case STRUCTURED -> "structured " + Math.round(100 * s.sparsity()) + "%";
                    default -> Math.round(100 * s.sparsity()) + "%";
                };
                progress.printf("bench: %s%n", label);
                long p0 = System.nanoTime();
                PrunedModel pruned = OneShotPruner.prune(teacher, stats, s);
                double pruneSeconds = (System.nanoTime() - p0) / 1e9;
                ObjectNode r = runs.addObject();
                r.put("criterion", s.criterion().configName());
                r.put("pattern", s.pattern().configName());
                r.put("sparsity", s.pattern() == SparsityPattern.N_OF_M ? 0.5 : s.sparsity());
                r.put("pruneSeconds", pruneSeconds);
                long weights = pruned.layers().stream().mapToLong(l -> l.weights()).sum();
                long kept = pruned.layers().stream().mapToLong(l -> l.kept()).sum();
                r.put("achievedSparsity", 1.0 - (double) kept / weights);
                r.put("oneShotAccuracy", Distiller.evaluate(pruned.network(), testArrays, 10, 1000).accuracy());
                Distiller.Result kd = new Distiller(new DistillSettings(2, 128, 1e-3, 4.0, 0.5, 0L))
                        .run(pruned.network(), pruned.masks(), subset, logits, testArrays, new MemoryCheckpointStore(), false,
                                h -> { });
                ArrayNode epochs = r.putArray("accuracyPerEpoch");
                ArrayNode speed = r.putArray("kdExamplesPerSecond");
                for (EpochMetrics m : kd.epochs()) {
                    epochs.add(m.testAccuracy());
                    speed.add(m.examplesPerSecond());
                }
                MultiLayerNetwork student = kd.student();
                r.put("studentAccuracy", kd.epochs().get(kd.epochs().size() - 1).testAccuracy());
                r.put("studentParameters", student.numParams());
                r.put("studentBytes", ModelSize.serializedBytes(student));
                r.put("studentSparseBytes", ModelSize.sparseBytes(student));
                r.put("studentMsPerBatch", InferenceLatency.medianMillis(student, latencyBatch, 3, 10));
                r.put("teacherMsPerBatch", InferenceLatency.medianMillis(teacher, latencyBatch, 3, 10));
                progress.printf("bench: %-26s one-shot %.4f student %.4f  params %d  %.2f ms vs teacher %.2f ms%n", label,
                        r.get("oneShotAccuracy").asDouble(), r.get("studentAccuracy").asDouble(), student.numParams(),
                        r.get("studentMsPerBatch").asDouble(), r.get("teacherMsPerBatch").asDouble());
            }
        } finally {
            spark.stop();
        }
        Bench.finish(machine);
        System.out.println(Json.MAPPER.writeValueAsString(doc));
        return 0;
    }

    private static PruneSettings settings(Criteria c, SparsityPattern pattern, double sparsity) {
        return new PruneSettings(c, pattern, sparsity, 2, 4, SparsityAllocation.Method.UNIFORM,
                SparsityAllocation.OwlParameters.DEFAULTS, LayerFilter.all(), false, 1, SparseGpt.DEFAULT_BLOCK_SIZE,
                SparseGpt.DEFAULT_DAMP_FRACTION);
    }

    /** A seeded subset of {@code floor(f · N)} rows, in row order. */
    private static ExampleArrays subset(ExampleArrays all, double fraction) {
        int n = (int) Math.floor(fraction * all.size());
        java.util.Random random = new java.util.Random(Seeds.derive(0, "bench-subset", 0));
        int[] order = java.util.stream.IntStream.range(0, all.size()).toArray();
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        int[] rows = Arrays.copyOf(order, n);
        Arrays.sort(rows);
        return all.rows(rows);
    }
}
