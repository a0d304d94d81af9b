package dev.pare.common.distill;

import java.util.List;

/**
 * The state after a finished epoch: the training network with its updater (ModelSerializer zip
 * bytes), the metrics so far and, under gradual pruning, the masks in force ({@code MaskSet} bytes;
 * null when the masks never change). Resuming from it gives the same result as not stopping.
 */
public record Checkpoint(int epoch, byte[] model, List<EpochMetrics> history, byte[] masks) {
    public Checkpoint {
        history = List.copyOf(history);
    }

    public Checkpoint(int epoch, byte[] model, List<EpochMetrics> history) {
        this(epoch, model, history, null);
    }
}
