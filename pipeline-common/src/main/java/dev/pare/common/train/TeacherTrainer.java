package dev.pare.common.train;

import dev.pare.common.data.ExampleArrays;
import dev.pare.common.data.Minibatches;
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
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        for (int epoch = 1; epoch <= epochs; epoch++) {
            int[] order = Minibatches.epochOrder(data.size(), seed, SHUFFLE, epoch);
            for (int from = 0; from < data.size(); from += batchSize) {
                int to = Math.min(data.size(), from + batchSize);
                INDArray x = data.featureBatch(order, from, to);
                float[] y = new float[(to - from) * numClasses];
                for (int r = from; r < to; r++) {
                    y[(r - from) * numClasses + data.labels()[order[r]]] = 1f;
                }
                net.fit(new DataSet(x, Nd4j.create(y, new long[] {to - from, numClasses}, 'c')));
            }
            onEpoch.accept(epoch);
        }
        return net;
    }
}
