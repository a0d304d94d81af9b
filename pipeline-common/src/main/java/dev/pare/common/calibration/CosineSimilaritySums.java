package dev.pare.common.calibration;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Mergeable accumulator of {@code Σ_n cos(x_n, y_n)} over pairs of a block's input {@code x_n}
 * and output {@code y_n}, with the number of pairs. {@code 1 − }{@link #meanCosine()} is the
 * Block Influence of ShortGPT (Men et al., "ShortGPT: Layers in Large Language Models are More
 * Redundant Than You Expect", 2024): a block whose output is nearly parallel to its input changes
 * little and is the first candidate for depth pruning.
 *
 * <p>Rows are examples: an {@code [n, ...]} array holds {@code n} examples and each example is
 * flattened in C order (all features, channels, positions, time steps together) before
 * {@code cos(x, y) = x·y / (||x||·||y||)}. Degenerate rows: if both {@code x_n} and {@code y_n}
 * are zero vectors the block left the example unchanged, so {@code cos = 1}; if only one of them
 * is zero the angle is undefined and counts as {@code cos = 0} (orthogonal, i.e. influential).
 * Rounding may give {@code |cos|} slightly above 1; it is clamped to {@code [−1, 1]}. NaN in a
 * row makes that row's cosine, and so the sum, NaN.
 *
 * <p>Products are formed in double precision; merging adds sums and counts, so the mean of a merge
 * is the count-weighted mean of the parts.
 */
public final class CosineSimilaritySums implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private double sum;
    private long count;

    public CosineSimilaritySums() {}

    /** An accumulator holding {@code Σ cos} over {@code count} pairs. */
    public CosineSimilaritySums(double sum, long count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, was " + count);
        }
        if (Math.abs(sum) > count) {
            throw new IllegalArgumentException("|sum of cosines| cannot exceed the count " + count + ", was " + sum);
        }
        this.sum = sum;
        this.count = count;
    }

    /** Adds the {@code n} pairs {@code (in_n, out_n)}; both {@code [n, ...]} with the same shape, rank >= 2. */
    public void add(INDArray in, INDArray out) {
        if (!Arrays.equals(in.shape(), out.shape())) {
            throw new IllegalArgumentException("block input " + Arrays.toString(in.shape())
                    + " and output " + Arrays.toString(out.shape()) + " must have the same shape");
        }
        if (in.rank() < 2) {
            throw new IllegalArgumentException("expected [examples, ...] arrays of rank >= 2, got "
                    + Arrays.toString(in.shape()));
        }
        long n = in.size(0);
        long width = in.length() / Math.max(1, n);
        if (n == 0) {
            return;
        }
        if (width == 0) {
            // every example is an empty (hence zero) vector on both sides
            sum += n;
            count += n;
            return;
        }
        INDArray x = in.castTo(DataType.DOUBLE).reshape('c', new long[] {n, width});
        INDArray y = out.castTo(DataType.DOUBLE).reshape('c', new long[] {n, width});
        double[] dots = x.mul(y).sum(1).toDoubleVector();
        double[] xx = x.mul(x).sum(1).toDoubleVector();
        double[] yy = y.mul(y).sum(1).toDoubleVector();
        for (int r = 0; r < n; r++) {
            sum += cosine(dots[r], xx[r], yy[r]);
        }
        count += n;
    }

    /** {@code cos} from {@code x·y}, {@code ||x||²}, {@code ||y||²} with the degenerate cases of the class doc. */
    static double cosine(double dot, double xx, double yy) {
        if (xx == 0 && yy == 0) {
            return 1;
        }
        if (xx == 0 || yy == 0) {
            return 0;
        }
        // separate roots: xx·yy could overflow or underflow where the cosine itself is fine
        double c = dot / (Math.sqrt(xx) * Math.sqrt(yy));
        return Double.isNaN(c) ? c : Math.max(-1, Math.min(1, c));
    }

    /** Adds {@code other} into this accumulator. */
    public void merge(CosineSimilaritySums other) {
        sum += other.sum;
        count += other.count;
    }

    /** {@code Σ_n cos(x_n, y_n)}. */
    public double sum() {
        return sum;
    }

    /** Number of pairs added. */
    public long count() {
        return count;
    }

    /**
     * {@code Σ cos / count}.
     *
     * @throws IllegalStateException when no pair was added (an empty block score would silently
     *     rank the block as maximally or minimally important)
     */
    public double meanCosine() {
        if (count == 0) {
            throw new IllegalStateException("no input/output pairs were added, the mean cosine is undefined");
        }
        return sum / count;
    }

    /** ShortGPT Block Influence {@code 1 − meanCosine()}. */
    public double blockInfluence() {
        return 1 - meanCosine();
    }

    public CosineSimilaritySums copy() {
        return new CosineSimilaritySums(sum, count);
    }
}
