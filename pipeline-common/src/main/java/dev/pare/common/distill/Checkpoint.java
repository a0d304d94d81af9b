package dev.pare.common.distill;

import java.util.List;

/**
 * The state after a finished epoch: the training network with its updater (ModelSerializer zip
 * bytes) and the metrics so far. Resuming from it gives the same result as not stopping.
 */
public record Checkpoint(int epoch, byte[] model, List<EpochMetrics> history) {
    public Checkpoint {
        history = List.copyOf(history);
    }
}
