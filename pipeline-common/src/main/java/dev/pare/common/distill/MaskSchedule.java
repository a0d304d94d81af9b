package dev.pare.common.distill;

import dev.pare.common.sparsity.CubicSchedule;
import dev.pare.common.sparsity.MaskSet;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Gradual pruning during distillation: at the pruning steps of a {@link CubicSchedule} the
 * {@link Distiller} asks for new masks at the schedule's sparsity, computed from the student's
 * current weights by the configured criterion.
 */
public interface MaskSchedule {
    CubicSchedule schedule();

    /** Masks of {@code student} (current weights) at {@code sparsity}. */
    MaskSet masks(MultiLayerNetwork student, double sparsity);
}
