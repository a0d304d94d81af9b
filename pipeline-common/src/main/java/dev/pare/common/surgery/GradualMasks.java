package dev.pare.common.surgery;

import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.distill.MaskSchedule;
import dev.pare.common.sparsity.CubicSchedule;
import dev.pare.common.sparsity.MaskSet;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Gradual pruning by a {@link PruneSettings}: at each step of {@code schedule} the masks are the
 * one-shot masks of the student's current weights at the schedule's sparsity ({@link OneShotPruner}).
 *
 * @param statistics calibration statistics, or null when the criterion needs none
 */
public record GradualMasks(CubicSchedule schedule, CalibrationStatistics statistics, PruneSettings settings)
        implements MaskSchedule {

    @Override
    public MaskSet masks(MultiLayerNetwork student, double sparsity) {
        return OneShotPruner.prune(student, statistics, settings.withSparsity(sparsity)).masks();
    }
}
