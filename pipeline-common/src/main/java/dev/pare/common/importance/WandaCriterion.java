package dev.pare.common.importance;

import dev.pare.common.calibration.CalibrationStatistics.LayerStatistics;
import dev.pare.common.calibration.Statistic;
import dev.pare.common.sparsity.ComparisonGroup;
import java.util.Set;

/**
 * Wanda: {@code S_ij = |W_ij| · ||X_i||_2}, where {@code ||X_i||_2} is the L2 norm of input column
 * i over the calibration rows, compared within each output neuron j (Sun, Liu, Bair, Kolter,
 * "A Simple and Effective Pruning Approach for Large Language Models", ICLR 2024). An input
 * column that was always zero scores 0 for every weight reading it.
 */
public final class WandaCriterion implements ImportanceCriterion {
    @Override
    public double[][] scores(double[][] weights, LayerStatistics statistics) {
        ImportanceCriterion.require(statistics, Statistic.INPUT_NORMS, "wanda");
        double[] norms = statistics.inputSquareSums().norms();
        if (norms.length != weights.length) {
            throw new IllegalArgumentException("layer " + statistics.name() + ": calibration has " + norms.length
                    + " input columns but the weights have " + weights.length);
        }
        double[][] s = new double[weights.length][];
        for (int i = 0; i < weights.length; i++) {
            s[i] = new double[weights[i].length];
            for (int j = 0; j < s[i].length; j++) {
                s[i][j] = Math.abs(weights[i][j]) * norms[i];
            }
        }
        return s;
    }

    @Override
    public ComparisonGroup group() {
        return ComparisonGroup.OUTPUT_NEURON;
    }

    @Override
    public Set<Statistic> needs() {
        return Set.of(Statistic.INPUT_NORMS);
    }
}
