package dev.pare.common.importance;

import dev.pare.common.calibration.CalibrationStatistics.LayerStatistics;
import dev.pare.common.calibration.Statistic;
import dev.pare.common.sparsity.ComparisonGroup;
import java.util.Set;

/**
 * First-order Taylor importance: {@code S_ij = Σ_n |w_ij · g_n,ij|}, the summed magnitude of the
 * first-order change of the teacher's loss when weight ij is removed, where {@code g_n} is the
 * loss gradient of calibration sample (or gradient mini-batch) n (Molchanov, Mallya, Tyree,
 * Frosio, Kautz, "Importance Estimation for Neural Network Pruning", CVPR 2019). Compared across
 * the whole layer. A weight whose gradient was always zero scores 0.
 */
public final class TaylorCriterion implements ImportanceCriterion {
    @Override
    public double[][] scores(double[][] weights, LayerStatistics statistics) {
        ImportanceCriterion.require(statistics, Statistic.GRADIENTS, "taylor");
        return statistics.matrix(statistics.gradients().taylor(), weights, "gradient");
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
