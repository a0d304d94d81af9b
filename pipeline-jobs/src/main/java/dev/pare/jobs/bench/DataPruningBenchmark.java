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
import dev.pare.common.distill.MaskSchedule;
import dev.pare.common.distill.MemoryCheckpointStore;
import dev.pare.common.importance.Criteria;
import dev.pare.common.model.ForwardPass;
import dev.pare.common.model.Networks;
import dev.pare.common.sparsity.CubicSchedule;
import dev.pare.common.surgery.GradualMasks;
import dev.pare.common.surgery.OneShotPruner;
import dev.pare.common.surgery.PruneSettings;
import dev.pare.common.surgery.PrunedModel;
import dev.pare.jobs.io.ExampleTable;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.io.Json;
import dev.pare.jobs.spark.CalibrationJob;
import dev.pare.jobs.spark.ModelTime;
import dev.pare.jobs.spark.Rows;
import dev.pare.jobs.spark.ScoreJob;
import dev.pare.jobs.spark.Sessions;
import dev.pare.jobs.stages.SelectDataStage;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * The data-pruning protocol on Fashion-MNIST, as one command printing one JSON document: the
 * Wanda 50% one-shot student of the given teacher distilled 2 epochs (T = 4, α = 0.5, Adam 1e-3,
 * batch 128) on subsets of f ∈ {0.1, 0.3, 0.5} chosen by every selector (random, hardest,
 * easiest, ccs by EL2N; plain and class-balanced) and on the full set; then gradual (cubic, from
 * 50% over the first 2 of 3 epochs) vs one-shot Wanda pruning to 90% with 3 KD epochs on all data.
 * Selection runs through {@link SelectDataStage#select} on Spark, scores through {@link ScoreJob}.
 *
 * <p>Usage: {@code DataPruningBenchmark TRAIN_URI TEST_URI TEACHER_ZIP [--master URL]}.
 */
@Command(name = "DataPruningBenchmark", mixinStandardHelpOptions = true,
        description = "Every data selector x fraction for the Wanda 50%% student, gradual vs one-shot to 90%%; one JSON"
                + " document.")
public final class DataPruningBenchmark implements Callable<Integer> {
    @Mixin
    BenchInputs inputs;

    @Parameters(index = "2", paramLabel = "TEACHER_ZIP", description = "The teacher (ModelSerializer zip).")
    String teacherUri;

    public static void main(String[] args) {
        Bench.main(new DataPruningBenchmark(), args);
    }

    @Override
    public Integer call() throws Exception {
        String master = inputs.master;
        PrintStream progress = System.err;
        ObjectNode doc = Json.object();
        doc.put("protocol", "wanda 50% student, 2 KD epochs (T=4, alpha=0.5, Adam 1e-3, batch 128) on subsets by"
                + " every selector (el2n) at f = 0.1/0.3/0.5 and on all data; gradual vs one-shot wanda to 90%, 3 KD"
                + " epochs on all data");
        ObjectNode machine = Bench.machine(doc, master);
        PareConfig cfg = ConfigLoader.load(null, List.of("data.train=" + inputs.train, "data.test=" + inputs.test));
        Files files = new Files(new Configuration());
        byte[] teacherBytes = files.readBytes(files.path(teacherUri));
        MultiLayerNetwork teacher = Networks.read(teacherBytes, teacherUri, false);
        int width = (int) Networks.inputSize(teacher);
        SparkSession spark = Sessions.open(cfg.spark(), master);
        try {
            Dataset<Row> trainDf = ExampleTable.read(spark, files, inputs.train, "data.train", cfg.data());
            Dataset<Row> testDf = ExampleTable.read(spark, files, inputs.test, "data.test", cfg.data());
            ExampleArrays all = Rows.collectInIdOrder(trainDf, width);
            ExampleArrays test = Rows.collectInIdOrder(testDf, width);
            Map<Long, Integer> rowOf = new HashMap<>();
            for (int r = 0; r < all.size(); r++) {
                rowOf.put(all.ids()[r], r);
            }
            float[] logits = ForwardPass.logitsRowMajor(teacher, all, 1000);
            Broadcast<byte[]> b = ScoreJob.broadcast(spark, teacherBytes);
            Dataset<Row> scores = ScoreJob.scores(spark, trainDf, b, width, 10, 1024).cache();
            long n = scores.count();
            CalibrationStatistics stats = CalibrationJob.run(spark, CalibrationJob.sample(trainDf, width, 2048, 4, 0L),
                    teacherBytes, teacher, new CalibrationJob.Settings(width, 256, EnumSet.of(Statistic.INPUT_NORMS), 1,
                            Long.MAX_VALUE), ModelTime.register(spark, "pare calibrate"));
            PrunedModel wanda50 = OneShotPruner.prune(teacher, stats, PruneSettings.unstructured(Criteria.WANDA, 0.5,
                    false));
            doc.put("oneShotWanda50Accuracy", Distiller.evaluate(wanda50.network(), test, 10, 1000).accuracy());

            ArrayNode runs = doc.putArray("selection");
            List<String[]> selectors = new ArrayList<>();
            for (String method : new String[] {"random", "hardest", "easiest", "ccs"}) {
                selectors.add(new String[] {method, "false"});
                selectors.add(new String[] {method, "true"});
            }
            for (double f : new double[] {0.1, 0.3, 0.5}) {
                for (String[] sel : selectors) {
                    PareConfig.Selection s = ConfigLoader.load(null, List.of("selection.method=" + sel[0],
                            "selection.class-balanced=" + sel[1], "selection.fraction=" + f)).selection();
                    long t0 = System.nanoTime();
                    List<Row> kept = SelectDataStage.select(scores, s, 0, SelectDataStage.keptCount(n, f))
                            .collectAsList();
                    double selectSeconds = (System.nanoTime() - t0) / 1e9;
                    int[] rows = kept.stream().mapToInt(r -> rowOf.get(r.getLong(0))).sorted().toArray();
                    ObjectNode r = distill(wanda50, all, logits, rows, test, 2, null);
                    r.put("method", sel[0]);
                    r.put("classBalanced", Boolean.parseBoolean(sel[1]));
                    r.put("fraction", f);
                    r.put("selectSeconds", selectSeconds);
                    runs.add(r);
                    progress.printf("bench: f=%.1f %-8s balanced=%-5s kept %d accuracy %.4f (%.1f s)%n", f, sel[0],
                            sel[1], rows.length, r.get("accuracy").asDouble(), r.get("seconds").asDouble());
                }
            }
            int[] everything = java.util.stream.IntStream.range(0, all.size()).toArray();
            ObjectNode full = distill(wanda50, all, logits, everything, test, 2, null);
            doc.set("fullData", full);
            progress.printf("bench: full data accuracy %.4f%n", full.get("accuracy").asDouble());

            // Gradual vs one-shot to 90%, 3 epochs on all data.
            PrunedModel wanda90 = OneShotPruner.prune(teacher, stats, PruneSettings.unstructured(Criteria.WANDA, 0.9,
                    false));
            ObjectNode oneShot = distill(wanda90, all, logits, everything, test, 3, null);
            oneShot.put("oneShotAccuracy", Distiller.evaluate(wanda90.network(), test, 10, 1000).accuracy());
            doc.set("oneShot90", oneShot);
            int stepsPerEpoch = (all.size() + 127) / 128;
            CubicSchedule cubic = new CubicSchedule(0.5, 0.9, 0, 10, stepsPerEpoch * 2L / 10);
            MaskSchedule gradual = new GradualMasks(cubic, stats, PruneSettings.unstructured(Criteria.WANDA, 0.9, false));
            ObjectNode grad = distill(wanda50, all, logits, everything, test, 3, gradual);
            doc.set("gradual90", grad);
            progress.printf("bench: 90%% one-shot %.4f -> %.4f, gradual %.4f%n", oneShot.get("oneShotAccuracy").asDouble(),
                    oneShot.get("accuracy").asDouble(), grad.get("accuracy").asDouble());
        } finally {
            spark.stop();
        }
        Bench.finish(machine);
        System.out.println(Json.MAPPER.writeValueAsString(doc));
        return 0;
    }

    private static ObjectNode distill(PrunedModel start, ExampleArrays all, float[] logits, int[] rows,
                                      ExampleArrays test, int epochs, MaskSchedule gradual) throws Exception {
        float[] z = new float[rows.length * 10];
        for (int k = 0; k < rows.length; k++) {
            System.arraycopy(logits, rows[k] * 10, z, k * 10, 10);
        }
        ExampleArrays subset = all.rows(rows);
        long t0 = System.nanoTime();
        Distiller.Result r = new Distiller(new DistillSettings(epochs, 128, 1e-3, 4.0, 0.5, 0)).run(start.network(),
                start.masks(), subset, z, null, test, new MemoryCheckpointStore(), false, gradual, h -> { });
        ObjectNode o = Json.object();
        o.put("examples", rows.length);
        o.put("epochs", epochs);
        o.put("seconds", (System.nanoTime() - t0) / 1e9);
        ArrayNode acc = o.putArray("accuracyPerEpoch");
        for (EpochMetrics m : r.epochs()) {
            acc.add(m.testAccuracy());
        }
        o.put("accuracy", r.epochs().get(r.epochs().size() - 1).testAccuracy());
        o.put("sparsity", r.masks().sparsity());
        return o;
    }
}
