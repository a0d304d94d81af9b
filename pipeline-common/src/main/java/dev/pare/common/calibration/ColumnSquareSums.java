package dev.pare.common.calibration;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Mergeable accumulator of {@code S_j = Σ_n x_nj²} over the rows {@code x_n} a layer received,
 * with the row count. {@code sqrt(S_j) = ||X_j||_2} is the activation norm Wanda multiplies into
 * {@code |W_ij|} (Sun et al., "A Simple and Effective Pruning Approach for LLMs", 2023).
 *
 * <p>Sums are kept in double precision: each float activation is widened before squaring, so
 * splitting the rows into parts and merging the parts changes the result only by double rounding.
 * Merging adds sums and counts (a sample-weighted sum), so {@link #mean()} of a merge is the
 * count-weighted mean of the parts.
 */
public final class ColumnSquareSums implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final double[] sums;
    private long count;

    public ColumnSquareSums(int columns) {
        this.sums = new double[columns];
    }

    public ColumnSquareSums(double[] sums, long count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, was " + count);
        }
        this.sums = sums.clone();
        this.count = count;
    }

    /** Adds every row of {@code activations} ({@code [rows, columns]}). */
    public void add(INDArray activations) {
        if (activations.rank() != 2 || activations.columns() != sums.length) {
            throw new IllegalArgumentException("expected [rows, " + sums.length + "] activations, got "
                    + Arrays.toString(activations.shape()));
        }
        // One pass over the rows, read in place (no copy for float or double, whatever the ordering).
        HostMatrix m = HostMatrix.of(activations);
        int rows = m.rows();
        int columns = sums.length;
        char layout = HostMatrix.commonLayout(m);
        if (layout == 'f') {
            // Column by column along the buffer (the layers' outputs are 'f'-ordered).
            for (int j = 0, i = 0; j < columns; j++) {
                double s = 0;
                for (int r = 0; r < rows; r++, i++) {
                    double x = m.at(i);
                    s += x * x;
                }
                sums[j] += s;
            }
        } else if (layout == 'c') {
            double[] row = new double[columns];
            for (int r = 0; r < rows; r++) {
                m.read(r * columns, row, columns);
                for (int j = 0; j < columns; j++) {
                    sums[j] += row[j] * row[j];
                }
            }
        } else {
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < columns; j++) {
                    double x = m.get(r, j);
                    sums[j] += x * x;
                }
            }
        }
        count += rows;
    }

    /** Adds rows given as plain arrays (row-major {@code [rows, columns]}). */
    public void add(double[][] rows) {
        for (double[] row : rows) {
            if (row.length != sums.length) {
                throw new IllegalArgumentException("expected rows of " + sums.length + " columns, got " + row.length);
            }
            for (int j = 0; j < sums.length; j++) {
                sums[j] += row[j] * row[j];
            }
        }
        count += rows.length;
    }

    /** Adds {@code other} into this accumulator. */
    public void merge(ColumnSquareSums other) {
        if (other.sums.length != sums.length) {
            throw new IllegalArgumentException("cannot merge " + other.sums.length + " columns into " + sums.length);
        }
        for (int j = 0; j < sums.length; j++) {
            sums[j] += other.sums[j];
        }
        count += other.count;
    }

    public int columns() {
        return sums.length;
    }

    public long count() {
        return count;
    }

    /** {@code Σ_n x_nj²} for every column j (a copy). */
    public double[] sums() {
        return sums.clone();
    }

    /** {@code ||X_j||_2 = sqrt(Σ_n x_nj²)}. */
    public double[] norms() {
        double[] n = new double[sums.length];
        for (int j = 0; j < n.length; j++) {
            n[j] = Math.sqrt(sums[j]);
        }
        return n;
    }

    /** {@code E[x_j²] = S_j / count}; all zeros when no row was added. */
    public double[] mean() {
        double[] m = new double[sums.length];
        if (count > 0) {
            for (int j = 0; j < m.length; j++) {
                m[j] = sums[j] / count;
            }
        }
        return m;
    }

    public ColumnSquareSums copy() {
        return new ColumnSquareSums(sums, count);
    }
}
