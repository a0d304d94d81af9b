package dev.pare.common.importance;

import dev.pare.common.calibration.CalibrationStatistics.LayerStatistics;
import dev.pare.common.sparsity.ComparisonGroup;

/**
 * Scores every weight of a dense layer; lower scores are pruned first. Weights are given in DL4J's
 * layout {@code w[i][j]}, i the input column ({@code nIn}), j the output neuron ({@code nOut}).
 */
public interface ImportanceCriterion {

    /**
     * @param weights {@code [nIn][nOut]}
     * @param statistics the layer's calibration statistics, or null when {@link #needsCalibration()} is false
     * @return scores of the same shape; larger means more important
     */
    double[][] scores(double[][] weights, LayerStatistics statistics);

    /** Which weights compete with each other for the kept slots. */
    ComparisonGroup group();

    /** Whether {@link #scores} needs calibration statistics. */
    boolean needsCalibration();
}
