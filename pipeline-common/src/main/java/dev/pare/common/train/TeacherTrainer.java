package dev.pare.common.train;

import dev.pare.common.data.ExampleArrays;
import dev.pare.common.data.Minibatches;
import dev.pare.common.distill.DistillEngine;
import dev.pare.common.distill.Distiller;
import dev.pare.common.distill.FusedStep;
import dev.pare.common.model.ForwardPass;
import java.util.Optional;
import java.util.function.IntConsumer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Supervised training of a teacher with cross-entropy, seeded minibatch order per epoch. Networks the
 * fused step computes (dense layers; float convolutions and max pooling) train with
 * {@link FusedStep#crossEntropy} (one GEMM per product, DL4J's own Adam), others, or on request,
 * with {@code MultiLayerNetwork.fit}; the two agree up to rounding.
 */
public final class TeacherTrainer {
    private static final String SHUFFLE = "teacher-shuffle";

    private TeacherTrainer() {}

    /**
     * @param onEpoch called with the 1-based epoch number after each epoch
     */
    public static MultiLayerNetwork train(MultiLayerConfiguration conf, ExampleArrays data, int numClasses, int epochs,
                                          int batchSize, long seed, IntConsumer onEpoch) {
        return train(conf, data, numClasses, epochs, batchSize, seed, onEpoch, Distiller.Progress.NONE);
    }

    /** As {@link #train(MultiLayerConfiguration, ExampleArrays, int, int, int, long, IntConsumer)}, telling {@code progress} after every step. */
    public static MultiLayerNetwork train(MultiLayerConfiguration conf, ExampleArrays data, int numClasses, int epochs,
                                          int batchSize, long seed, IntConsumer onEpoch, Distiller.Progress progress) {
        return train(conf, data, numClasses, epochs, batchSize, seed, onEpoch, progress, DistillEngine.AUTO);
    }

    /**
     * As above, with the step chosen by {@code engine}: {@code auto} (fused where the network allows
     * it), {@code dl4j} ({@code fit}) or {@code fused} (refused, with the reason, where it cannot).
     */
    public static MultiLayerNetwork train(MultiLayerConfiguration conf, ExampleArrays data, int numClasses, int epochs,
                                          int batchSize, long seed, IntConsumer onEpoch, Distiller.Progress progress,
                                          DistillEngine engine) {
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        Optional<FusedStep> fused = engine == DistillEngine.DL4J ? Optional.empty()
                : FusedStep.crossEntropy(net);
        if (engine == DistillEngine.FUSED && fused.isEmpty()) {
            throw new IllegalArgumentException("the fused step cannot train this teacher: "
                    + FusedStep.unsupported(net).orElse("its output layer's loss is not plain cross-entropy"));
        }
        // The fused step reads [n, 2C] labels (one-hot, then C ignored teacher-logit columns).
        int width = fused.isPresent() ? 2 * numClasses : numClasses;
        ForwardPass.Buffers batches = new ForwardPass.Buffers(); // minibatch feature arrays, reused
        for (int epoch = 1; epoch <= epochs; epoch++) {
            int[] order = Minibatches.epochOrder(data.size(), seed, SHUFFLE, epoch);
            double lossSum = 0;
            for (int from = 0; from < data.size(); from += batchSize) {
                int to = Math.min(data.size(), from + batchSize);
                INDArray x = batches.features(data, order, from, to);
                float[] y = new float[(to - from) * width];
                for (int r = from; r < to; r++) {
                    y[(r - from) * width + data.labels()[order[r]]] = 1f;
                }
                INDArray labels = Nd4j.create(y, new long[] {to - from, width}, 'c');
                if (fused.isPresent()) {
                    lossSum += fused.get().fit(x, labels);
                } else {
                    net.fit(new DataSet(x, labels));
                    lossSum += net.score();
                }
                int batch = from / batchSize + 1;
                progress.batch(epoch, batch, (data.size() + batchSize - 1) / batchSize, to, lossSum / batch);
            }
            onEpoch.accept(epoch);
        }
        return net;
    }
}
