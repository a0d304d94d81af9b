package dev.pare.common.datapruning;

/**
 * Per-example scores computed from a teacher's logits.
 *
 * <p>For logits {@code z} (length C) and label {@code y}:
 * <ul>
 *   <li>loss = cross-entropy {@code -log softmax(z)_y = logsumexp(z) - z_y} (computed stably);</li>
 *   <li>EL2N = {@code ||softmax(z) - onehot(y)||_2} (Paul et al. 2021), in [0, sqrt(2)].</li>
 * </ul>
 * Arithmetic is in double precision; the inputs are the float logits the teacher produced.
 */
public record ExampleScores(double loss, double el2n) {

    /** Scores of one row of {@code logits} starting at {@code offset} with {@code classes} entries. */
    public static ExampleScores of(float[] logits, int offset, int classes, int label) {
        if (label < 0 || label >= classes) {
            throw new IllegalArgumentException("label " + label + " is outside [0, " + classes + ")");
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            max = Math.max(max, logits[offset + c]);
        }
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            sum += Math.exp(logits[offset + c] - max);
        }
        double logSumExp = max + Math.log(sum);
        double sq = 0;
        for (int c = 0; c < classes; c++) {
            double p = Math.exp(logits[offset + c] - logSumExp);
            double d = p - (c == label ? 1.0 : 0.0);
            sq += d * d;
        }
        return new ExampleScores(logSumExp - logits[offset + label], Math.sqrt(sq));
    }
}
