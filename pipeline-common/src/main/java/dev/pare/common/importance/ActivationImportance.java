package dev.pare.common.importance;

import dev.pare.common.calibration.CalibrationStatistics.LayerStatistics;
import dev.pare.common.calibration.Statistic;
import java.util.Set;

/**
 * Activation-based unit importance: {@code S_j = E[a_j²]}, the mean square of unit j's output
 * activation over the calibration sample (and, for a convolution filter, over every output
 * position), the activation-magnitude criterion of Minitron (Muralidharan et al., "Compact
 * Language Models via Pruning and Knowledge Distillation", 2024). A unit that never activated
 * scores 0 and goes first. Weights are not read.
 */
public final class ActivationImportance implements UnitImportance {
    @Override
    public double[] scores(double[][] weights, LayerStatistics statistics) {
        ImportanceCriterion.require(statistics, Statistic.OUTPUT_ACTIVATIONS, "activation");
        double[] s = statistics.outputActivations().meanSquare();
        int nOut = weights.length == 0 ? 0 : weights[0].length;
        if (s.length != nOut) {
            throw new IllegalArgumentException("layer " + statistics.name() + ": activation statistics have " + s.length
                    + " units but the layer has " + nOut);
        }
        return s;
    }

    @Override
    public Set<Statistic> needs() {
        return Set.of(Statistic.OUTPUT_ACTIVATIONS);
    }
}
