package dev.pare.common.calibration;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Mergeable accumulator of the output activation magnitudes of every unit of a layer: for unit
 * {@code u}, {@code A_u = Σ |a_u|} and {@code Q_u = Σ a_u²} over all values the unit produced,
 * with the number of values per unit. A unit is a neuron of a dense layer ({@code [n, units]}
 * activations: {@code count += n}) or a channel of a convolution layer ({@code [n, C, H, W]}
 * NCHW activations: every spatial position is one value, {@code count += n·H·W}).
 *
 * <p>{@link #meanAbs()} {@code = A_u / count} and {@link #meanSquare()} {@code = Q_u / count} are
 * the activation-based neuron/channel importances of Minitron (Muralidharan et al., "Compact
 * Language Models via Pruning and Knowledge Distillation", 2024), which score a unit by the
 * magnitude of what it outputs on calibration data.
 *
 * <p>Sums are double precision (activations are widened first); merging adds sums and counts, so
 * the means of a merge are the count-weighted means of the parts. With no values added both means
 * are all zeros. Dense and convolution batches may be mixed; each value counts once.
 */
public final class UnitActivationSums implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final double[] absSums;
    private final double[] squareSums;
    private long count;

    public UnitActivationSums(int units) {
        if (units < 0) {
            throw new IllegalArgumentException("units must be >= 0, was " + units);
        }
        this.absSums = new double[units];
        this.squareSums = new double[units];
    }

    /** An accumulator holding {@code Σ|a|} and {@code Σa²} per unit over {@code count} values per unit. */
    public UnitActivationSums(double[] absSums, double[] squareSums, long count) {
        if (absSums.length != squareSums.length) {
            throw new IllegalArgumentException("absSums has " + absSums.length + " units but squareSums has "
                    + squareSums.length);
        }
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, was " + count);
        }
        this.absSums = absSums.clone();
        this.squareSums = squareSums.clone();
        this.count = count;
    }

    /**
     * Adds {@code activations}: {@code [n, units]} (dense) or {@code [n, units, H, W]} (NCHW
     * convolution output; every spatial position counts as one value of its channel).
     */
    public void add(INDArray activations) {
        int units = absSums.length;
        long[] shape = activations.shape();
        long perUnit;
        int[] reduce;
        if (activations.rank() == 2 && shape[1] == units) {
            perUnit = shape[0];
            reduce = new int[] {0};
        } else if (activations.rank() == 4 && shape[1] == units) {
            perUnit = shape[0] * shape[2] * shape[3];
            reduce = new int[] {0, 2, 3};
        } else {
            throw new IllegalArgumentException("expected [n, " + units + "] or [n, " + units
                    + ", H, W] (NCHW) activations, got " + Arrays.toString(shape));
        }
        if (perUnit == 0 || units == 0) {
            count += perUnit;
            return;
        }
        INDArray a = activations.castTo(DataType.DOUBLE);
        // abs(a, true) copies: castTo may return the caller's own array when it is already double
        double[] abs = Transforms.abs(a, true).sum(reduce).toDoubleVector();
        double[] sq = a.mul(a).sum(reduce).toDoubleVector();
        for (int u = 0; u < units; u++) {
            absSums[u] += abs[u];
            squareSums[u] += sq[u];
        }
        count += perUnit;
    }

    /** Adds {@code other} into this accumulator. */
    public void merge(UnitActivationSums other) {
        if (other.absSums.length != absSums.length) {
            throw new IllegalArgumentException("cannot merge " + other.absSums.length + " units into "
                    + absSums.length);
        }
        for (int u = 0; u < absSums.length; u++) {
            absSums[u] += other.absSums[u];
            squareSums[u] += other.squareSums[u];
        }
        count += other.count;
    }

    public int units() {
        return absSums.length;
    }

    /** Values added per unit ({@code n} per dense batch, {@code n·H·W} per convolution batch). */
    public long count() {
        return count;
    }

    /** {@code Σ|a_u|} per unit (a copy). */
    public double[] absSums() {
        return absSums.clone();
    }

    /** {@code Σ a_u²} per unit (a copy). */
    public double[] squareSums() {
        return squareSums.clone();
    }

    /** {@code E|a_u| = Σ|a_u| / count}; all zeros when nothing was added. */
    public double[] meanAbs() {
        return mean(absSums);
    }

    /** {@code E[a_u²] = Σa_u² / count}; all zeros when nothing was added. */
    public double[] meanSquare() {
        return mean(squareSums);
    }

    private double[] mean(double[] sums) {
        double[] m = new double[sums.length];
        if (count > 0) {
            for (int u = 0; u < m.length; u++) {
                m[u] = sums[u] / count;
            }
        }
        return m;
    }

    public UnitActivationSums copy() {
        return new UnitActivationSums(absSums, squareSums, count);
    }
}
