package dev.pare.jobs.bench;

import dev.pare.common.data.ExampleArrays;
import dev.pare.common.data.IdxFile;
import dev.pare.common.distill.DistillEngine;
import dev.pare.common.distill.DistillSettings;
import dev.pare.common.distill.Distiller;
import dev.pare.common.distill.EpochMetrics;
import dev.pare.common.distill.MemoryCheckpointStore;
import dev.pare.common.importance.MagnitudeCriterion;
import dev.pare.common.model.ForwardPass;
import dev.pare.common.model.Networks;
import dev.pare.common.surgery.OneShotPruner;
import dev.pare.common.surgery.PrunedModel;
import dev.pare.common.util.BlasKernels;
import dev.pare.jobs.spark.DriverNative;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * KD epochs of the magnitude-50% LeNet-300-100 student with each {@link DistillEngine} on the
 * Fashion-MNIST training set, engines alternating so machine noise hits both alike. Prints
 * examples/s per epoch (the training loop only, without evaluation), the median per engine, their
 * ratio, and each engine's test accuracy after its last epoch.
 *
 * <p>Usage: {@code DistillEngineBenchmark <dataset dir with *-ubyte.gz> <teacher.zip> [rounds] [batch size]}
 */
public final class DistillEngineBenchmark {
    private DistillEngineBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        DriverNative.prepare(); // as PareCli does: before anything loads ND4J's native libraries
        if (args.length < 2) {
            System.err.println("usage: DistillEngineBenchmark <fashion-mnist dir> <teacher.zip> [rounds=3] [batch=128]");
            System.exit(2);
        }
        Path dir = Paths.get(args[0]);
        MultiLayerNetwork teacher = Networks.read(Files.readAllBytes(Paths.get(args[1])), args[1], false);
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int batch = args.length > 3 ? Integer.parseInt(args[3]) : 128;
        ExampleArrays train = load(dir, "train");
        ExampleArrays test = load(dir, "t10k");
        // In batches: a CNN's activations for 60k examples at once would outgrow one array (ConvColumns refuses them).
        float[] logits = ForwardPass.logitsRowMajor(teacher, train, 1000);
        PrunedModel student = OneShotPruner.prune(teacher, null, new MagnitudeCriterion(), 0.5, false);
        System.out.printf("OMP_NUM_THREADS=%s OMP_WAIT_POLICY=%s %s, %d examples, batch %d%n",
                System.getenv("OMP_NUM_THREADS"), System.getenv("OMP_WAIT_POLICY"), BlasKernels.summary(),
                train.size(), batch);
        DistillEngine[] engines = {DistillEngine.DL4J, DistillEngine.FUSED};
        List<List<Double>> rates = List.of(new ArrayList<>(), new ArrayList<>());
        double[] accuracy = new double[engines.length];
        for (int round = 0; round < rounds; round++) {
            for (int e = 0; e < engines.length; e++) {
                DistillSettings settings = new DistillSettings(1, batch, 1e-3, 4.0, 0.5, round)
                        .withEngine(engines[e]);
                Distiller.Result r = new Distiller(settings).run(student.network(), student.masks(), train, logits,
                        test, new MemoryCheckpointStore(), false, h -> { });
                EpochMetrics m = r.epochs().get(0);
                rates.get(e).add(m.examplesPerSecond());
                accuracy[e] = m.testAccuracy();
                System.out.printf("round %d %-5s %8.0f examples/s, loss %.4f, test accuracy %.4f%n", round,
                        engines[e].configName(), m.examplesPerSecond(), m.trainLoss(), m.testAccuracy());
            }
        }
        double dl4j = median(rates.get(0));
        double fused = median(rates.get(1));
        System.out.printf("{\"batch\": %d, \"rounds\": %d, \"dl4jExamplesPerSecond\": %.0f, "
                        + "\"fusedExamplesPerSecond\": %.0f, \"ratio\": %.2f, \"dl4jTestAccuracy\": %.4f, "
                        + "\"fusedTestAccuracy\": %.4f}%n", batch, rounds, dl4j, fused, fused / dl4j, accuracy[0],
                accuracy[1]);
    }

    private static ExampleArrays load(Path dir, String split) throws java.io.IOException {
        IdxFile images = IdxFile.read(dir.resolve(split + "-images-idx3-ubyte.gz"));
        IdxFile labels = IdxFile.read(dir.resolve(split + "-labels-idx1-ubyte.gz"));
        int n = images.count();
        int width = images.itemSize();
        float[] x = new float[n * width];
        for (int k = 0; k < x.length; k++) {
            x[k] = (images.data()[k] & 0xff) / 255f;
        }
        int[] y = new int[n];
        long[] ids = new long[n];
        for (int r = 0; r < n; r++) {
            y[r] = labels.data()[r] & 0xff;
            ids[r] = r;
        }
        return new ExampleArrays(ids, x, width, y);
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
