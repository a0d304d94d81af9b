package dev.pare.common.datapruning;

/**
 * Per-example scores computed from a teacher's logits (and, for GraNd, its penultimate activations).
 *
 * <p>For logits {@code z} (length C ≥ 1), label {@code y}, {@code p = softmax(z)} and the
 * penultimate activations {@code h} (length H, the input of the softmax output layer
 * {@code z = h·W + b}):
 * <ul>
 *   <li>{@code loss} = cross-entropy {@code -log p_y = logsumexp(z) - z_y}, computed stably, in [0, ∞);</li>
 *   <li>{@code el2n} = {@code ||p - onehot(y)||_2} (Paul, Ganguli, Dziugaite, "Deep Learning on a Data
 *       Diet: Finding Important Examples Early in Training", NeurIPS 2021), in [0, sqrt(2)];</li>
 *   <li>{@code entropy} = {@code -Σ_c p_c log p_c} (natural log, {@code 0·log 0 = 0}), in [0, log C];
 *       it ignores the label;</li>
 *   <li>{@code margin} = {@code p_(1) - p_(2)}, the largest minus the second largest probability
 *       whatever the label, in [0, 1]; 0 when the two largest tie; 1 when C = 1 (the missing second
 *       probability counts as 0);</li>
 *   <li>{@code grand} = the GraNd score of Paul et al. restricted to the last layer: the L2 norm of the
 *       cross-entropy gradient with respect to the output layer's weights and bias. With
 *       {@code dL/dz = p - onehot(y)}, {@code dL/dW = h ⊗ (p - onehot(y))} and
 *       {@code dL/db = p - onehot(y)}, so
 *       {@code ||(dL/dW, dL/db)||_2 = ||p - onehot(y)||_2 · sqrt(||h||² + 1) = el2n · sqrt(||h||² + 1)}.
 *       This is the gradient of one example's loss, what DL4J's {@code computeGradientAndScore}
 *       gives for a minibatch of that one example (for a larger minibatch it gives the sum over the
 *       examples). The paper's GraNd is the expected norm of the gradient over all parameters and
 *       several initialisations early in training; this last-layer, one-model version is a cheap
 *       proxy for it: EL2N weighted by {@code sqrt(||h||² + 1)}, so it ranks examples differently
 *       from EL2N only through the size of their penultimate activations.</li>
 * </ul>
 * Arithmetic is in double precision; the inputs are the floats the teacher produced. Extreme but
 * finite logits give no NaN; a logit of -∞ is a probability of 0. A NaN or +∞ logit, or a row of
 * -∞ only, makes every score NaN, and a NaN or infinite activation makes {@code grand} NaN or ∞:
 * they are not refused here, so a broken teacher shows up in the score columns.
 */
public record ExampleScores(double loss, double el2n, double entropy, double margin, double grand) {
    /** Per thread: the row's exponentials (scoring runs on several task threads). */
    private static final ThreadLocal<double[]> EXPONENTIALS = ThreadLocal.withInitial(() -> new double[16]);

    /**
     * Every score except {@code grand}, which is {@link Double#NaN} because it needs the penultimate
     * activations; use {@link #of(float[], int, int, int, float[], int, int)} for it.
     *
     * @param logits  the logits of one or more rows
     * @param offset  the index of this row's first logit
     * @param classes C, the number of logits in the row (≥ 1)
     * @param label   the true class, in [0, C)
     */
    public static ExampleScores of(float[] logits, int offset, int classes, int label) {
        checkRange("logits", logits, offset, classes, 1);
        if (label < 0 || label >= classes) {
            throw new IllegalArgumentException("label " + label + " is outside [0, " + classes + ")");
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            max = Math.max(max, logits[offset + c]);
        }
        // exp(z_c - max), kept for p_c = exp(z_c - max) / Σ: one exp per class (two took 4% of a scoring pass).
        double[] e = EXPONENTIALS.get();
        if (e.length < classes) {
            e = new double[classes];
            EXPONENTIALS.set(e);
        }
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            e[c] = Math.exp(logits[offset + c] - max);
            sum += e[c];
        }
        double logSumExp = max + Math.log(sum);
        if (Double.isNaN(logSumExp)) { // a NaN or +∞ logit, or every logit -∞
            return new ExampleScores(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        double sq = 0;
        double entropy = 0;
        double first = Double.NEGATIVE_INFINITY;
        double second = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            double logP = logits[offset + c] - logSumExp;
            double p = e[c] / sum;
            double d = p - (c == label ? 1.0 : 0.0);
            sq += d * d;
            // p underflows to 0 long before log p is -∞; skipping p = 0 keeps 0·log 0 = 0 for z = -∞
            if (p > 0) {
                entropy -= p * logP;
            }
            if (p > first) {
                second = first;
                first = p;
            } else if (p > second) {
                second = p;
            }
        }
        if (classes == 1) {
            second = 0;
        }
        return new ExampleScores(logSumExp - logits[offset + label], Math.sqrt(sq), entropy, first - second, Double.NaN);
    }

    /**
     * All five scores, {@code grand} from the penultimate activations {@code h}.
     *
     * @param logits      the logits of one or more rows
     * @param offset      the index of this row's first logit
     * @param classes     C, the number of logits in the row (≥ 1)
     * @param label       the true class, in [0, C)
     * @param penultimate the penultimate activations of one or more rows (the output layer's input)
     * @param hOffset     the index of this row's first activation
     * @param width       H, the number of activations in the row (≥ 0; 0 leaves only the bias
     *                    gradient, so {@code grand = el2n})
     */
    public static ExampleScores of(float[] logits, int offset, int classes, int label,
                                   float[] penultimate, int hOffset, int width) {
        checkRange("penultimate", penultimate, hOffset, width, 0);
        double hSq = 0;
        for (int k = 0; k < width; k++) {
            double h = penultimate[hOffset + k];
            hSq += h * h; // a float squared cannot overflow a double, nor can a sum of 2^31 of them
        }
        return of(logits, offset, classes, label, hSq);
    }

    /**
     * All five scores, {@code grand} from {@code penultimateSquareNorm}, the row's {@code Σ_k h_k²}
     * (in double, as {@link #of(float[], int, int, int, float[], int, int)} sums it).
     */
    public static ExampleScores of(float[] logits, int offset, int classes, int label, double penultimateSquareNorm) {
        ExampleScores s = of(logits, offset, classes, label);
        if (!(penultimateSquareNorm >= 0)) {
            throw new IllegalArgumentException("the penultimate square norm must be >= 0, was " + penultimateSquareNorm);
        }
        return new ExampleScores(s.loss, s.el2n, s.entropy, s.margin, s.el2n * Math.sqrt(penultimateSquareNorm + 1));
    }

    private static void checkRange(String name, float[] values, int offset, int length, int minLength) {
        if (values == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        if (length < minLength) {
            throw new IllegalArgumentException(name + ": row length " + length + " is below " + minLength);
        }
        if (offset < 0 || offset > values.length - length) {
            throw new IllegalArgumentException(name + ": row [" + offset + ", " + ((long) offset + length)
                    + ") is outside the array of length " + values.length);
        }
    }
}
