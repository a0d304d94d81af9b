package dev.pare.common.importance;

import dev.pare.common.calibration.CalibrationStatistics.LayerStatistics;
import dev.pare.common.calibration.Statistic;
import java.util.Set;

/**
 * Scores whole output units of a layer (dense neurons or convolution filters) for structured
 * pruning; the lowest-scoring units are removed physically. Weights are in the matrix view
 * {@code [nIn][nOut]}; column j holds the weights of unit j.
 */
public interface UnitImportance {

    /** @return one score per output unit; larger means more important */
    double[] scores(double[][] weights, LayerStatistics statistics);

    /** The calibration statistics {@link #scores} reads. */
    Set<Statistic> needs();

    /** Sums a per-weight score matrix over each unit's weights (column sums). */
    static double[] columnSums(double[][] perWeight) {
        int nOut = perWeight.length == 0 ? 0 : perWeight[0].length;
        double[] s = new double[nOut];
        for (double[] row : perWeight) {
            for (int j = 0; j < nOut; j++) {
                s[j] += row[j];
            }
        }
        return s;
    }

    /**
     * A unit's summed per-weight importance of a weight criterion: {@code S_j = Σ_i S_ij}, e.g. the
     * L1 norm of a filter for magnitude (Li, Kadav, Durdanovic, Samet, Graf, "Pruning Filters for
     * Efficient ConvNets", ICLR 2017) or the group Taylor importance (Molchanov et al. 2019).
     */
    static UnitImportance summed(ImportanceCriterion weights) {
        return new UnitImportance() {
            @Override
            public double[] scores(double[][] w, LayerStatistics statistics) {
                return columnSums(weights.scores(w, statistics));
            }

            @Override
            public Set<Statistic> needs() {
                return weights.needs();
            }
        };
    }
}
