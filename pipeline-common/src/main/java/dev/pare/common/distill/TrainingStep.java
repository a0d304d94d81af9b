package dev.pare.common.distill;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/** One optimizer step of {@link Distiller} on a minibatch; see {@link DistillEngine}. */
interface TrainingStep {

    /**
     * Trains on one minibatch and advances the network's iteration count.
     *
     * @param kdLabels {@code [batch, 2C]}: one-hot labels, then the teacher's logits
     * @return the minibatch's mean KD loss
     */
    double fit(INDArray features, INDArray kdLabels);

    /** {@code MultiLayerNetwork.fit} on a network whose output layer has the KD loss. */
    static TrainingStep dl4j(MultiLayerNetwork net) {
        return (x, y) -> {
            net.fit(new DataSet(x, y));
            return net.score();
        };
    }
}
