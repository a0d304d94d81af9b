package dev.pare.common.importance;

import dev.pare.common.calibration.CalibrationStatistics.LayerStatistics;
import dev.pare.common.calibration.Statistic;
import dev.pare.common.sparsity.ComparisonGroup;
import java.util.Set;

/**
 * Magnitude pruning: {@code S_ij = |W_ij|}, compared across the whole layer
 * (Han et al., "Learning both Weights and Connections for Efficient Neural Networks", 2015).
 * Needs no calibration data.
 */
public final class MagnitudeCriterion implements ImportanceCriterion {
    @Override
    public double[][] scores(double[][] weights, LayerStatistics statistics) {
        double[][] s = new double[weights.length][];
        for (int i = 0; i < weights.length; i++) {
            s[i] = new double[weights[i].length];
            for (int j = 0; j < s[i].length; j++) {
                s[i][j] = Math.abs(weights[i][j]);
            }
        }
        return s;
    }

    @Override
    public ComparisonGroup group() {
        return ComparisonGroup.LAYER;
    }

    @Override
    public Set<Statistic> needs() {
        return Set.of();
    }
}
