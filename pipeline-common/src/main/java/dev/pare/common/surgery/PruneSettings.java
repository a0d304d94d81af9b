package dev.pare.common.surgery;

import dev.pare.common.importance.Criteria;
import dev.pare.common.sparsity.LayerFilter;
import dev.pare.common.sparsity.SparsityAllocation;
import dev.pare.common.sparsity.SparsityPattern;

/**
 * What {@link OneShotPruner} does: criterion × pattern × allocation and their parameters (the
 * typed form of the {@code prune} configuration section).
 *
 * @param sparsity unstructured: share of weights pruned; structured: share of units removed per layer
 * @param n kept weights of every {@code m} (pattern n-of-m)
 * @param removeLayers layers to remove (pattern layers)
 */
public record PruneSettings(Criteria criterion, SparsityPattern pattern, double sparsity, int n, int m,
                            SparsityAllocation.Method allocation, SparsityAllocation.OwlParameters owl,
                            LayerFilter filter, boolean pruneOutputLayer, int removeLayers, int sparseGptBlockSize,
                            double sparseGptDamping) {

    /** Uniform unstructured pruning of every eligible layer at {@code sparsity}. */
    public static PruneSettings unstructured(Criteria criterion, double sparsity, boolean pruneOutputLayer) {
        return new PruneSettings(criterion, SparsityPattern.UNSTRUCTURED, sparsity, 2, 4,
                SparsityAllocation.Method.UNIFORM, SparsityAllocation.OwlParameters.DEFAULTS, LayerFilter.all(),
                pruneOutputLayer, 1, SparseGpt.DEFAULT_BLOCK_SIZE, SparseGpt.DEFAULT_DAMP_FRACTION);
    }

    /** The same settings at another sparsity. */
    public PruneSettings withSparsity(double s) {
        return new PruneSettings(criterion, pattern, s, n, m, allocation, owl, filter, pruneOutputLayer, removeLayers,
                sparseGptBlockSize, sparseGptDamping);
    }

    /** Whether pruning reads calibration statistics (the criterion's, or input norms for OWL). */
    public boolean needsCalibration() {
        return criterion.needsCalibration() || allocation == SparsityAllocation.Method.OUTLIER_WEIGHTED;
    }
}
