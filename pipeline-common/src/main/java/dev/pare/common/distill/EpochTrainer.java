package dev.pare.common.distill;

import dev.pare.common.sparsity.MaskSet;
import java.io.IOException;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * How {@link Distiller} trains its network for one epoch; the Distiller owns everything around it
 * (the training network and its KD loss and Adam schedule, checkpoints and resume, evaluation,
 * validation, early stopping, the result). Two strategies: {@link MinibatchEpochs} (on the driver,
 * one minibatch after another, with gradual pruning) and data-parallel training on Spark executors
 * (in {@code pipeline-jobs}, which may import Spark).
 *
 * <p>Contract: {@link #train} is called with the network's epoch count at {@code epoch − 1}
 * (it drives the per-epoch learning rate) and trains {@code net} in place, with its updater; when
 * it returns, every weight that {@link #masks()} prunes is exactly zero. The result must depend only
 * on the network's state, the seed and the epoch number, so that a run resumed from the checkpoint
 * of epoch e − 1 ends as an uninterrupted one.
 */
public interface EpochTrainer {

    /**
     * @param meanLoss mean KD training loss of the epoch's minibatches
     * @param examples training examples seen in the epoch
     */
    record Epoch(double meanLoss, long examples) {}

    /** Binds a strategy to the training network, fresh or restored from a checkpoint. */
    @FunctionalInterface
    interface Factory {
        /**
         * @param net the network to train in place (KD loss on its output layer)
         * @param masks the masks in force at the start (the pruned model's, or a checkpoint's)
         * @throws IllegalArgumentException when this strategy cannot train {@code net}
         */
        EpochTrainer bind(MultiLayerNetwork net, MaskSet masks);

        /** Whether the masks may change during training (then checkpoints carry them). */
        default boolean masksChange() {
            return false;
        }
    }

    /** Trains the bound network for 1-based {@code epoch}. */
    Epoch train(int epoch) throws IOException;

    /** The masks in force now. */
    MaskSet masks();

    /** The engine that computes the training steps. */
    DistillEngine engine();
}
