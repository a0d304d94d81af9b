package dev.pare.common.sparsity;

/** The set of weights among which the lowest scores are pruned. */
public enum ComparisonGroup {
    /** All weights of the layer compete (layer-wise magnitude pruning). */
    LAYER,
    /** The weights feeding one output neuron compete; every neuron keeps the same count (Wanda). */
    OUTPUT_NEURON
}
