package dev.pare.common.surgery;

/**
 * One row of the per-layer pruning table.
 *
 * @param nIn rows of the layer's matrix view after pruning (see {@link dev.pare.common.model.PrunableLayer})
 * @param nOut output units after pruning
 * @param weights weights of the layer before pruning
 * @param kept weights that remain (non-masked, or in the physically smaller layer)
 * @param sparsity {@code 1 − kept / weights}
 * @param target the layer's target sparsity (allocation), or the unit fraction removed for structured pruning
 * @param outlierRatio the layer's outlier ratio under outlier-weighted allocation, NaN otherwise
 * @param unitsBefore output units before pruning
 */
public record LayerReport(int index, String name, long nIn, long nOut, long weights, long kept, double sparsity,
                          double target, double outlierRatio, long unitsBefore) {

    /** A masked (shape-keeping) layer. */
    public static LayerReport masked(int index, String name, long nIn, long nOut, long kept, double target,
                                     double outlierRatio) {
        long weights = nIn * nOut;
        return new LayerReport(index, name, nIn, nOut, weights, kept, weights == 0 ? 0 : 1.0 - (double) kept / weights,
                target, outlierRatio, nOut);
    }
}
