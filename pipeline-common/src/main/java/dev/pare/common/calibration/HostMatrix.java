package dev.pare.common.calibration;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The values of a 2-D float or double array read in place through its host buffer, at its own
 * offset and strides: no copy, whatever its ordering, and for views too. DL4J's weights are
 * 'f'-ordered views of the flattened parameters; {@code dup('c')} of a 784×300 one costs more than
 * a 128×784×300 GEMM here, so the accumulators read such arrays as they are.
 */
final class HostMatrix {
    private final FloatBuffer floats;
    private final DoubleBuffer doubles;
    private final long offset;
    private final long rowStride;
    private final long columnStride;
    private final int rows;
    private final int columns;
    private float[] floatScratch;

    private HostMatrix(INDArray a) {
        if (a.rank() != 2) {
            throw new IllegalArgumentException("expected a matrix, got shape " + Arrays.toString(a.shape()));
        }
        // The host copy is current after this (a no-op on the CPU backend; on CUDA it syncs).
        Nd4j.getAffinityManager().ensureLocation(a, AffinityManager.Location.HOST);
        floats = a.dataType() == DataType.FLOAT ? a.data().asNioFloat() : null;
        doubles = a.dataType() == DataType.DOUBLE ? a.data().asNioDouble() : null;
        offset = a.offset();
        rowStride = a.stride(0);
        columnStride = a.stride(1);
        rows = (int) a.rows();
        columns = (int) a.columns();
    }

    /** {@code a} read in place when it is float or double, else a double copy of it. */
    static HostMatrix of(INDArray a) {
        DataType t = a.dataType();
        return new HostMatrix(t == DataType.FLOAT || t == DataType.DOUBLE ? a : a.castTo(DataType.DOUBLE));
    }

    int rows() {
        return rows;
    }

    int columns() {
        return columns;
    }

    /**
     * 'c' or 'f' when every matrix is dense in that order (strides of a fresh array of its shape, any
     * offset) and has the first's shape, so that {@link #at} walks all of them alike; else 0.
     */
    static char commonLayout(HostMatrix... m) {
        for (char layout : new char[] {'c', 'f'}) {
            boolean all = true;
            for (HostMatrix x : m) {
                all &= x.rows == m[0].rows && x.columns == m[0].columns && x.dense(layout);
            }
            if (all) {
                return layout;
            }
        }
        return 0;
    }

    private boolean dense(char layout) {
        // A stride along a dimension of size 1 never matters.
        boolean rowsOk = rows == 1 || rowStride == (layout == 'c' ? columns : 1);
        boolean columnsOk = columns == 1 || columnStride == (layout == 'c' ? 1 : rows);
        return rowsOk && columnsOk;
    }

    /** The {@code k}-th value in the order of {@link #commonLayout}, widened to double. */
    double at(int k) {
        int i = (int) offset + k;
        return floats != null ? floats.get(i) : doubles.get(i);
    }

    /**
     * Values {@code [from, from + length)} in the order of {@link #commonLayout}, widened to double,
     * into {@code into[0, length)}: one bulk copy out of the buffer, so that the loops over them
     * compile to vector code (a per-value {@link #at} does not).
     */
    void read(int from, double[] into, int length) {
        int i = (int) offset + from;
        if (doubles != null) {
            doubles.get(i, into, 0, length);
            return;
        }
        if (floatScratch == null || floatScratch.length < length) {
            floatScratch = new float[length];
        }
        floats.get(i, floatScratch, 0, length);
        for (int k = 0; k < length; k++) {
            into[k] = floatScratch[k];
        }
    }

    /** Whether the values are floats (read in place, not widened by {@link #read(int, float[], int)}). */
    boolean isFloat() {
        return floats != null;
    }

    /** {@link #read(int, double[], int)} of a float matrix, as floats: one bulk copy. */
    void read(int from, float[] into, int length) {
        floats.get((int) offset + from, into, 0, length);
    }

    /** The value at row {@code r}, column {@code c}, widened to double. */
    double get(int r, int c) {
        int i = (int) (offset + r * rowStride + c * columnStride);
        return floats != null ? floats.get(i) : doubles.get(i);
    }
}
