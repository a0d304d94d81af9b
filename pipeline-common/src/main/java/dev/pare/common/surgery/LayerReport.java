package dev.pare.common.surgery;

/** One row of the per-layer pruning table. */
public record LayerReport(int index, String name, long nIn, long nOut, long weights, long kept, double sparsity) {}
