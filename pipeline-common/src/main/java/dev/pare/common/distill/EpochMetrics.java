package dev.pare.common.distill;

/**
 * One line of {@code metrics.jsonl}.
 *
 * @param epoch 1-based
 * @param trainLoss mean KD loss over the epoch's batches
 * @param testAccuracy student accuracy on the test split after the epoch
 */
public record EpochMetrics(int epoch, double trainLoss, double testAccuracy, double testLoss, double seconds,
                           double examplesPerSecond) {}
