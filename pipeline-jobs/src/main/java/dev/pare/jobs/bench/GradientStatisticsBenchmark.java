package dev.pare.jobs.bench;

import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.calibration.Statistic;
import dev.pare.common.data.IdxFile;
import dev.pare.common.model.Networks;
import dev.pare.jobs.spark.DriverNative;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Set;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Per-example gradient statistics (taylor, fisher) of a teacher on the first N Fashion-MNIST
 * training images in double precision, as calibration computes them: {@link CalibrationStatistics}
 * (one batched backward pass for dense networks) against one DL4J backward pass per example (timed
 * on 256 examples and scaled), in rounds that alternate the two.
 *
 * <p>Usage: {@code GradientStatisticsBenchmark <fashion-mnist dir> <teacher.zip> [examples=2048] [rounds=3]}
 */
public final class GradientStatisticsBenchmark {
    private GradientStatisticsBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        DriverNative.prepare(); // as PareCli does: before anything loads ND4J's native libraries
        if (args.length < 2) {
            System.err.println("usage: GradientStatisticsBenchmark <fashion-mnist dir> <teacher.zip> [examples] [rounds]");
            System.exit(2);
        }
        MultiLayerNetwork net = Networks.read(Files.readAllBytes(Paths.get(args[1])), args[1], false)
                .convertDataType(DataType.DOUBLE);
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 2048;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        Path dir = Paths.get(args[0]);
        IdxFile images = IdxFile.read(dir.resolve("train-images-idx3-ubyte.gz"));
        IdxFile labels = IdxFile.read(dir.resolve("train-labels-idx1-ubyte.gz"));
        int width = images.itemSize();
        int classes = (int) Networks.outputSize(net);
        double[] x = new double[n * width];
        double[] y = new double[n * classes];
        for (int i = 0; i < x.length; i++) {
            x[i] = (images.data()[i] & 0xff) / 255.0;
        }
        for (int r = 0; r < n; r++) {
            y[r * classes + (labels.data()[r] & 0xff)] = 1;
        }
        INDArray features = Nd4j.create(x, new long[] {n, width}, 'c');
        INDArray oneHot = Nd4j.create(y, new long[] {n, classes}, 'c');
        int probe = Math.min(n, 256);
        for (int round = 0; round < rounds; round++) {
            CalibrationStatistics stats = CalibrationStatistics.emptyFor(net, Set.of(Statistic.GRADIENTS),
                    Long.MAX_VALUE);
            long t0 = System.nanoTime();
            for (int from = 0; from < n; from += 256) {
                int to = Math.min(n, from + 256);
                stats.add(net, rows(features, from, to), rows(oneHot, from, to), 1);
            }
            double batched = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            for (int r = 0; r < probe; r++) {
                net.setInput(rows(features, r, r + 1));
                net.setLabels(rows(oneHot, r, r + 1));
                net.computeGradientAndScore();
                for (int l = 0; l < net.getnLayers(); l++) {
                    INDArray w = net.getLayer(l).getParam("W");
                    INDArray g = net.gradient().getGradientFor(l + "_W");
                    Transforms.abs(w.mul(g), false).data().asDouble();
                    g.mul(g).data().asDouble();
                }
            }
            double perExample = (System.nanoTime() - t0) / 1e9 * n / probe;
            System.out.printf("{\"round\": %d, \"examples\": %d, \"batchedSeconds\": %.3f, "
                            + "\"onePassPerExampleSeconds\": %.3f, \"ratio\": %.1f}%n", round, n, batched, perExample,
                    perExample / batched);
        }
    }

    private static INDArray rows(INDArray a, int from, int to) {
        return a.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()).dup();
    }
}
