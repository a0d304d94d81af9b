package dev.pare.common.importance;

import dev.pare.common.calibration.CalibrationStatistics.LayerStatistics;
import dev.pare.common.calibration.Statistic;
import dev.pare.common.sparsity.ComparisonGroup;
import java.util.Set;

/**
 * Scores every weight of a prunable layer; lower scores are pruned first. Weights are given in
 * the matrix view of {@link dev.pare.common.model.PrunableLayer}: {@code w[i][j]}, i the input
 * column (an im2col column for convolutions), j the output neuron or filter.
 */
public interface ImportanceCriterion {

    /**
     * @param weights {@code [nIn][nOut]}
     * @param statistics the layer's calibration statistics, or null when {@link #needs()} is empty
     * @return scores of the same shape; larger means more important
     */
    double[][] scores(double[][] weights, LayerStatistics statistics);

    /** Which weights compete with each other for the kept slots. */
    ComparisonGroup group();

    /** The calibration statistics {@link #scores} reads. */
    Set<Statistic> needs();

    /** Whether {@link #scores} needs calibration statistics. */
    default boolean needsCalibration() {
        return !needs().isEmpty();
    }

    /** Checks that {@code statistics} holds what this criterion reads; names the layer otherwise. */
    static LayerStatistics require(LayerStatistics statistics, Statistic needed, String criterion) {
        if (statistics == null || !statistics.has(needed)) {
            throw new IllegalArgumentException(criterion + " needs " + needed + " calibration statistics"
                    + (statistics == null ? "" : " for layer " + statistics.name())
                    + "; rerun calibrate for this criterion");
        }
        return statistics;
    }
}
