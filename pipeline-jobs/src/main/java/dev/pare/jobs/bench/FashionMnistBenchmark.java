package dev.pare.jobs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.config.ConfigLoader;
import dev.pare.common.config.PareConfig;
import dev.pare.common.data.ExampleArrays;
import dev.pare.common.distill.Distiller;
import dev.pare.common.model.Networks;
import dev.pare.common.train.Architecture;
import dev.pare.common.train.TeacherTrainer;
import dev.pare.jobs.io.ExampleTable;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.io.Json;
import dev.pare.jobs.spark.Rows;
import dev.pare.jobs.spark.Sessions;
import dev.pare.jobs.stage.RunContext;
import dev.pare.jobs.stage.Stage;
import dev.pare.jobs.stage.StageRunner;
import dev.pare.jobs.stages.Pipeline;
import java.io.PrintStream;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The Fashion-MNIST protocol of the end-to-end slice, as one command printing one JSON document:
 * LeNet-300-100 teacher trained 5 epochs (Adam 1e-3, batch 128, seed 0); calibration on 2048
 * examples; one-shot magnitude and Wanda at 50/70/90%; 2 KD epochs (T=4, α=0.5, Adam 1e-3,
 * batch 128) on the full training set for each; examples/s of teacher training, calibrate,
 * score-data and a KD epoch; wall seconds per stage; machine load before and after.
 *
 * <p>Usage: {@code FashionMnistBenchmark TRAIN_URI TEST_URI WORK_DIR [MASTER]}. Progress goes to
 * stderr, the JSON document to stdout. Run by {@code deploy/bench/fashion-mnist.sh}.
 */
public final class FashionMnistBenchmark {
    private static final double[] SPARSITIES = {0.5, 0.7, 0.9};
    private static final String[] CRITERIA = {"magnitude", "wanda"};

    private FashionMnistBenchmark() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: FashionMnistBenchmark TRAIN_URI TEST_URI WORK_DIR [MASTER]");
            System.exit(2);
        }
        String train = args[0];
        String test = args[1];
        Path work = Paths.get(args[2]).toAbsolutePath();
        String master = args.length > 3 ? args[3] : "local[2]";
        PrintStream progress = System.err;
        ObjectNode doc = Json.object();
        doc.put("protocol", "fashion-mnist lenet-300-100: teacher 5 epochs; calibration 2048; magnitude and wanda at"
                + " 50/70/90%; 2 KD epochs (T=4, alpha=0.5, Adam 1e-3, batch 128) on the full training set");
        ObjectNode machine = doc.putObject("machine");
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("loadavgStart", loadavg());
        machine.put("OMP_NUM_THREADS", System.getenv("OMP_NUM_THREADS"));
        machine.put("OMP_WAIT_POLICY", System.getenv("OMP_WAIT_POLICY"));
        machine.put("OPENBLAS_CORETYPE", System.getenv("OPENBLAS_CORETYPE"));
        machine.put("master", master);

        List<String> base = List.of("data.train=" + train, "data.test=" + test, "seed=0");
        PareConfig cfg = ConfigLoader.load(null, base);
        Files files = new Files(new Configuration());
        SparkSession spark = Sessions.open(cfg.spark(), master);
        try {
            // 1. Teacher.
            var trainDf = ExampleTable.read(spark, files, train, "data.train", cfg.data());
            var testDf = ExampleTable.read(spark, files, test, "data.test", cfg.data());
            ExampleTable.validate(trainDf, "data.train", train, 784, 10);
            ExampleArrays trainArrays = Rows.all(trainDf.orderBy(ExampleTable.ID).collectAsList(), 784);
            ExampleArrays testArrays = Rows.all(testDf.orderBy(ExampleTable.ID).collectAsList(), 784);
            PareConfig.TrainTeacher tt = cfg.trainTeacher();
            progress.printf("bench: training the teacher on %d examples%n", trainArrays.size());
            long t0 = System.nanoTime();
            MultiLayerNetwork teacher = TeacherTrainer.train(
                    Architecture.LENET_300_100.configuration(new dev.pare.common.train.InputShape(1, 28, 28), 10, tt.learningRate(), 0), trainArrays, 10,
                    tt.epochs(), tt.batchSize(), 0, e -> progress.printf("bench: teacher epoch %d%n", e));
            double teacherSeconds = (System.nanoTime() - t0) / 1e9;
            Path teacherFile = work.resolve("teacher.zip");
            files.writeBytes(files.path(teacherFile.toString()), Networks.toBytes(teacher, false));
            ObjectNode t = doc.putObject("teacher");
            t.put("epochs", tt.epochs());
            t.put("seconds", teacherSeconds);
            t.put("examplesPerSecond", (double) trainArrays.size() * tt.epochs() / teacherSeconds);
            t.put("accuracy", Distiller.evaluate(teacher, testArrays, 10, 1000).accuracy());

            // 2. One run directory per criterion x sparsity, full data, 2 KD epochs.
            ArrayNode runs = doc.putArray("runs");
            for (String criterion : CRITERIA) {
                for (double s : SPARSITIES) {
                    List<String> sets = new ArrayList<>(base);
                    sets.addAll(List.of("teacher.model=" + teacherFile, "prune.criterion=" + criterion,
                            "prune.sparsity=" + s, "selection.fraction=1.0", "distill.epochs=2",
                            "calibration.samples=2048"));
                    PareConfig runCfg = ConfigLoader.load(null, sets);
                    Path runDir = work.resolve(criterion + "-" + (int) Math.round(100 * s));
                    progress.printf("bench: %s at %.0f%% -> %s%n", criterion, 100 * s, runDir);
                    try (RunContext ctx = new RunContext(runCfg, files, files.path(runDir.toString()), master, true,
                            false, progress)) {
                        for (Stage stage : Pipeline.stages()) {
                            StageRunner.run(ctx, stage);
                        }
                    }
                    JsonNode report = Json.MAPPER.readTree(runDir.resolve("report/report.json").toFile());
                    ObjectNode r = runs.addObject();
                    r.put("criterion", criterion);
                    r.put("sparsity", s);
                    r.put("achievedSparsity", report.at("/sparsity/achieved").asDouble());
                    r.put("oneShotAccuracy", report.at("/pruned/accuracy").asDouble());
                    r.put("studentAccuracy", report.at("/student/accuracy").asDouble());
                    r.set("accuracyPerEpoch", report.at("/student/epochs"));
                    JsonNode epochs = report.at("/student/epochMetrics");
                    ArrayNode kd = r.putArray("kdExamplesPerSecondPerEpoch");
                    epochs.forEach(e -> kd.add(e.path("examplesPerSecond").asDouble()));
                    r.set("stageSeconds", report.path("stages"));
                    long n = trainArrays.size();
                    r.put("calibrateExamplesPerSecond", 2048 / report.at("/stages/calibrate/seconds").asDouble());
                    r.put("scoreDataExamplesPerSecond", n / report.at("/stages/score-data/seconds").asDouble());
                }
            }
        } finally {
            spark.stop();
        }
        machine.put("loadavgEnd", loadavg());
        System.out.println(Json.MAPPER.writeValueAsString(doc));
    }

    static String loadavg() {
        try {
            return java.nio.file.Files.readString(Paths.get("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
