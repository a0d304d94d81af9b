package dev.pare.common.calibration;

/**
 * The kinds of calibration statistics a criterion may need. {@link #INPUT_NORMS} is always
 * computed (it is cheap and the report and outlier-weighted allocation use it); the others only
 * when the chosen criterion or pattern asks for them.
 */
public enum Statistic {
    /** {@code Σ x_j²} per input column (im2col column for convolutions): Wanda, outlier ratios. */
    INPUT_NORMS,
    /** {@code XᵀX} per layer, {@code nIn × nIn} doubles: SparseGPT. */
    GRAM,
    /** {@code Σ|w·g|} and {@code Σg²} per weight from the teacher's loss: Taylor, Fisher. */
    GRADIENTS,
    /** {@code Σ|a|} and {@code Σa²} per output neuron or channel: activation importance. */
    OUTPUT_ACTIVATIONS,
    /** Mean cosine similarity of a layer's input and output where their shapes match: layer removal. */
    COSINE
}
