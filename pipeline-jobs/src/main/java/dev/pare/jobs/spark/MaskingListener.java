package dev.pare.jobs.spark;

import dev.pare.common.sparsity.MaskSet;
import dev.pare.common.surgery.MaskedWeights;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import org.apache.spark.TaskContext;
import org.apache.spark.util.CollectionAccumulator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;

/**
 * Set on the workers' networks by dl4j-spark: after every optimizer step of a worker it multiplies
 * the pruned weights by their 0/1 masks, so they are exactly zero again before the next forward
 * pass, and records the minibatch's loss. DL4J's {@code StochasticGradientDescent.optimize} calls
 * {@code iterationDone} after {@code stepFunction.step(params, gradient)} has updated the parameters
 * in place (and before the next minibatch), so this is the same invariant as the driver loop's
 * {@code MaskedWeights.applyInPlace()} after each {@code fit}.
 *
 * <p>Serialized into every training task with the worker (one instance per task); the masks
 * travel as {@code masks.bin} bytes and are bound to the task's network on its first step.
 */
final class MaskingListener extends BaseTrainingListener implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * The loss of one worker minibatch; (stage, partition, iteration) identifies it, so the driver can
     * sum the losses in an order that does not depend on when tasks finished.
     */
    record Loss(int stage, int partition, long iteration, double value) implements Serializable {}

    private final byte[] masks;
    private final CollectionAccumulator<Loss> losses;
    private transient Model bound;
    private transient MaskedWeights masked;

    MaskingListener(byte[] masks, CollectionAccumulator<Loss> losses) {
        this.masks = masks.clone();
        this.losses = losses;
    }

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        if (model != bound) {
            try {
                MaskSet set = MaskSet.read(new ByteArrayInputStream(masks), "distill masks");
                masked = new MaskedWeights((MultiLayerNetwork) model, set);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            bound = model;
        }
        masked.applyInPlace();
        TaskContext task = TaskContext.get();
        losses.add(new Loss(task == null ? -1 : task.stageId(), task == null ? -1 : task.partitionId(), iteration,
                model.score()));
    }
}
