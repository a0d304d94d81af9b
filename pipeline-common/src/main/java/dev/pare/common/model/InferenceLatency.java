package dev.pare.common.model;

import java.util.Arrays;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Measured inference latency: the median wall time of {@code net.output(batch)} over a number of
 * runs after warm-up runs, on the calling thread with the process's BLAS/OpenMP settings. A
 * measurement, so it varies with the machine and its load; compare models measured alike.
 */
public final class InferenceLatency {
    private InferenceLatency() {}

    /** Median milliseconds per {@code output(batch)} call. */
    public static double medianMillis(MultiLayerNetwork net, INDArray batch, int warmup, int runs) {
        if (runs < 1 || warmup < 0) {
            throw new IllegalArgumentException("runs must be >= 1 and warmup >= 0, were " + runs + " and " + warmup);
        }
        for (int i = 0; i < warmup; i++) {
            net.output(batch);
        }
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            net.output(batch);
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return runs % 2 == 1 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
    }
}
