package dev.pare.common.distill;

/**
 * One line of {@code metrics.jsonl}.
 *
 * @param epoch 1-based
 * @param trainLoss mean KD loss over the epoch's batches
 * @param testAccuracy student accuracy on the test split after the epoch (reported, never used to choose)
 * @param learningRate the epoch's learning rate
 * @param validationAccuracy accuracy on the validation split held out of the training subset; null without one
 * @param validationLoss mean cross-entropy on the validation split; null without one
 */
public record EpochMetrics(int epoch, double trainLoss, double testAccuracy, double testLoss, double seconds,
                           double examplesPerSecond, double learningRate, Double validationAccuracy,
                           Double validationLoss) {}
