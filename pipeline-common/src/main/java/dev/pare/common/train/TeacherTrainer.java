package dev.pare.common.train;

import dev.pare.common.data.ExampleArrays;
import dev.pare.common.data.Minibatches;
import dev.pare.common.distill.Distiller;
import java.util.function.IntConsumer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** Supervised training of a teacher with cross-entropy, seeded minibatch order per epoch. */
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
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        for (int epoch = 1; epoch <= epochs; epoch++) {
            int[] order = Minibatches.epochOrder(data.size(), seed, SHUFFLE, epoch);
            double lossSum = 0;
            for (int from = 0; from < data.size(); from += batchSize) {
                int to = Math.min(data.size(), from + batchSize);
                INDArray x = data.featureBatch(order, from, to);
                float[] y = new float[(to - from) * numClasses];
                for (int r = from; r < to; r++) {
                    y[(r - from) * numClasses + data.labels()[order[r]]] = 1f;
                }
                net.fit(new DataSet(x, Nd4j.create(y, new long[] {to - from, numClasses}, 'c')));
                lossSum += net.score();
                int batch = from / batchSize + 1;
                progress.batch(epoch, batch, (data.size() + batchSize - 1) / batchSize, to, lossSum / batch);
            }
            onEpoch.accept(epoch);
        }
        return net;
    }
}
