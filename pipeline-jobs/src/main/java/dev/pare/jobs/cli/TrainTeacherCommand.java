package dev.pare.jobs.cli;

import dev.pare.common.config.ConfigLoader;
import dev.pare.common.config.PareConfig;
import dev.pare.common.data.ExampleArrays;
import dev.pare.common.distill.Distiller;
import dev.pare.common.evaluation.ClassificationMetrics;
import dev.pare.common.model.Networks;
import dev.pare.common.train.Architecture;
import dev.pare.common.train.TeacherTrainer;
import dev.pare.jobs.io.BadInputException;
import dev.pare.jobs.io.ExampleTable;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.spark.Rows;
import dev.pare.jobs.spark.Sessions;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pare train-teacher}: trains a teacher of a named architecture on data.train and saves it. */
@Command(name = "train-teacher", mixinStandardHelpOptions = true,
        description = "Train a teacher (train-teacher.architecture, Adam, cross-entropy) on data.train, report its"
                + " test accuracy and save it with ModelSerializer.")
final class TrainTeacherCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "HOCON config file.")
    File config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one config key (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "Model zip to write.")
    String output;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: the config's spark.master).")
    String master;

    @Option(names = "--force", description = "Replace the output if it exists.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        PareConfig cfg = ConfigLoader.load(config, overrides);
        PareConfig.TrainTeacher tt = cfg.trainTeacher();
        Architecture arch = Architecture.fromName("train-teacher.architecture", tt.architecture());
        Files files = new Files(Sessions.hadoopConfiguration(cfg.spark()));
        if (output.isBlank()) {
            throw new BadInputException("--output is empty: give the model file to write");
        }
        Path out = files.path(output);
        if (files.exists(out) && files.fs(out).getFileStatus(out).isDirectory()) {
            // --force would otherwise delete the whole folder to put the model file in its place.
            throw new BadInputException("--output " + out + " is a directory: give the model file to write");
        }
        if (files.exists(out) && !force) {
            throw new BadInputException("--output " + out + " exists; pass --force to replace it");
        }
        try (Sessions.Handle session = Sessions.handle(cfg.spark(), master)) {
            SparkSession spark = session.spark();
            Dataset<Row> train = ExampleTable.read(spark, files, cfg.data().train(), "data.train", cfg.data());
            Dataset<Row> test = ExampleTable.read(spark, files, cfg.data().test(), "data.test", cfg.data());
            java.util.OptionalInt firstWidth = ExampleTable.firstFeatureLength(train, "data.train", cfg.data().train());
            if (firstWidth.isEmpty()) {
                throw new BadInputException("data.train (" + cfg.data().train() + ") is empty: no examples");
            }
            int width = firstWidth.getAsInt();
            if (tt.inputShape().length() != width) {
                throw new BadInputException("train-teacher.input-shape = " + tt.inputShape() + " has "
                        + tt.inputShape().length() + " features but data.train (" + cfg.data().train() + ") has "
                        + width + " per example");
            }
            int classes = cfg.data().numClasses();
            ExampleTable.validate(train, "data.train", cfg.data().train(), width, classes);
            ExampleTable.validate(test, "data.test", cfg.data().test(), width, classes);
            // Both come to the driver whole: read there where Pare's reader reads them (no job, no maxResultSize).
            ExampleArrays trainArrays = Rows.readInIdOrder(train, width)
                    .orElseGet(() -> Rows.collectInIdOrder(train, width));
            ExampleArrays testArrays = Rows.readInIdOrder(test, width)
                    .orElseGet(() -> Rows.collectInIdOrder(test, width));
            System.out.printf("train-teacher: %s on %d examples, %d epochs, batch %d, Adam %.4g, seed %d%n",
                    arch.configName(), trainArrays.size(), tt.epochs(), tt.batchSize(), tt.learningRate(), cfg.seed());
            long t0 = System.nanoTime();
            long[] last = {t0};
            MultiLayerNetwork net = TeacherTrainer.train(
                    arch.configuration(tt.inputShape(), classes, tt.learningRate(), cfg.seed()), trainArrays, classes,
                    tt.epochs(), tt.batchSize(), cfg.seed(), epoch -> {
                        long now = System.nanoTime();
                        System.out.printf("train-teacher: epoch %d/%d %.1f s (%.0f examples/s)%n", epoch, tt.epochs(),
                                (now - last[0]) / 1e9, trainArrays.size() / ((now - last[0]) / 1e9));
                        last[0] = now;
                    }, new dev.pare.jobs.stages.ConsoleProgress(System.out, "train-teacher", tt.epochs(),
                            dev.pare.jobs.stages.ConsoleProgress.isTerminal()));
            double seconds = (System.nanoTime() - t0) / 1e9;
            ClassificationMetrics m = Distiller.evaluate(net, testArrays, classes, 1000);
            Path tmp = new Path(out.getParent(), "." + out.getName() + ".tmp");
            files.writeBytes(tmp, Networks.toBytes(net, false));
            files.delete(out);
            if (!files.fs(out).rename(tmp, out)) {
                throw new java.io.IOException("could not rename " + tmp + " to " + out);
            }
            System.out.printf("train-teacher: test accuracy %.4f, %.1f s (%.0f examples/s); saved %s%n", m.accuracy(),
                    seconds, (double) trainArrays.size() * tt.epochs() / seconds, out);
        }
        return 0;
    }
}
