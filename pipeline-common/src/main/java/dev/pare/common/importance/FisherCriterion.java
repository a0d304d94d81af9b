package dev.pare.common.importance;

import dev.pare.common.calibration.CalibrationStatistics.LayerStatistics;
import dev.pare.common.calibration.Statistic;
import dev.pare.common.sparsity.ComparisonGroup;
import java.util.Set;

/**
 * Fisher / Optimal Brain Damage saliency: {@code S_ij = ½ · w_ij² · E[g_ij²]}, the second-order
 * loss increase of removing weight ij with the Hessian's diagonal approximated by the empirical
 * Fisher {@code E[g²]} over the calibration gradients (LeCun, Denker, Solla, "Optimal Brain
 * Damage", NIPS 1989; Theis et al., "Faster gaze prediction with dense networks and Fisher
 * pruning", 2018). Compared across the whole layer.
 */
public final class FisherCriterion implements ImportanceCriterion {
    @Override
    public double[][] scores(double[][] weights, LayerStatistics statistics) {
        ImportanceCriterion.require(statistics, Statistic.GRADIENTS, "fisher");
        double[][] f = statistics.matrix(statistics.gradients().fisherDiagonal(), weights, "gradient");
        for (int i = 0; i < f.length; i++) {
            for (int j = 0; j < f[i].length; j++) {
                f[i][j] = 0.5 * weights[i][j] * weights[i][j] * f[i][j];
            }
        }
        return f;
    }

    @Override
    public ComparisonGroup group() {
        return ComparisonGroup.LAYER;
    }

    @Override
    public Set<Statistic> needs() {
        return Set.of(Statistic.GRADIENTS);
    }
}
