package dev.pare.common.calibration;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

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
        if (activations.rank() == 2 && shape[1] == units) {
            perUnit = shape[0];
        } else if (activations.rank() == 4 && shape[1] == units) {
            perUnit = shape[0] * shape[2] * shape[3];
        } else {
            throw new IllegalArgumentException("expected [n, " + units + "] or [n, " + units
                    + ", H, W] (NCHW) activations, got " + Arrays.toString(shape));
        }
        if (perUnit == 0 || units == 0) {
            count += perUnit;
            return;
        }
        // Read in place, one pass: through ND4J (a double copy, abs and square copies, two reductions over
        // dimensions 0, 2, 3) this cost a LeNet-5 calibration batch about half as much as its forward pass.
        long plane = perUnit / shape[0];
        boolean planes = activations.rank() == 4;
        HostMatrix m = HostMatrix.of(planes ? activations.reshape('c', shape[0] * units, plane) : activations);
        char layout = HostMatrix.commonLayout(m);
        if (planes && layout != 'c') {
            // Planes not packed one after the other (a view, another ordering): read from a packed copy.
            m = HostMatrix.of(activations.dup('c').reshape('c', shape[0] * units, plane));
            layout = 'c';
        }
        if (planes) {
            // Row r holds the plane of example r / units, channel r % units.
            addPlanes(m, units);
        } else if (layout == 'f') {
            // [n, units] column by column: unit j's values are contiguous.
            double[] column = new double[m.rows()];
            for (int j = 0; j < units; j++) {
                m.read(j * column.length, column, column.length);
                addRun(j, column, column.length);
            }
        } else {
            double[] row = new double[m.columns()];
            for (int r = 0; r < m.rows(); r++) {
                if (layout == 'c') {
                    m.read(r * row.length, row, row.length);
                } else {
                    for (int j = 0; j < row.length; j++) {
                        row[j] = m.get(r, j);
                    }
                }
                for (int j = 0; j < units; j++) {
                    absSums[j] += Math.abs(row[j]);
                    squareSums[j] += row[j] * row[j];
                }
            }
        }
        count += perUnit;
    }

    /** Adds the rows of a dense C-order {@code [n·units, plane]} matrix, row {@code r} to unit {@code r % units}. */
    private void addPlanes(HostMatrix m, int units) {
        int plane = m.columns();
        double[] values = new double[plane];
        for (int r = 0; r < m.rows(); r++) {
            m.read(r * plane, values, plane);
            addRun(r % units, values, plane);
        }
    }

    /**
     * Adds {@code values[0, length)}, all of unit {@code u}: summed on their own first, in four
     * interleaved partial sums (value {@code k} into sum {@code k % 4}, so the additions do not wait
     * on one another), then onto the unit's sums.
     */
    private void addRun(int u, double[] values, int length) {
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        double q0 = 0, q1 = 0, q2 = 0, q3 = 0;
        int k = 0;
        for (; k + 3 < length; k += 4) {
            double v0 = values[k];
            double v1 = values[k + 1];
            double v2 = values[k + 2];
            double v3 = values[k + 3];
            a0 += Math.abs(v0);
            a1 += Math.abs(v1);
            a2 += Math.abs(v2);
            a3 += Math.abs(v3);
            q0 += v0 * v0;
            q1 += v1 * v1;
            q2 += v2 * v2;
            q3 += v3 * v3;
        }
        for (; k < length; k++) {
            a0 += Math.abs(values[k]);
            q0 += values[k] * values[k];
        }
        absSums[u] += (a0 + a1) + (a2 + a3);
        squareSums[u] += (q0 + q1) + (q2 + q3);
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
