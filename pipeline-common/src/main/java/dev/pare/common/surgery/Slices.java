package dev.pare.common.surgery;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Copies of an array that keep only some indices along one dimension. Values pass through
 * double precision, which is exact for every floating-point type DL4J uses (half, bfloat16,
 * float, double), so a kept value is bit-identical to the original.
 */
final class Slices {
    private Slices() {}

    /**
     * A new array, of {@code a}'s data type, holding {@code a}'s entries whose index along
     * {@code dim} is in {@code keep} (in that order); the other dimensions are unchanged.
     * {@code keep == null} means all indices (a plain copy).
     */
    static INDArray take(INDArray a, int dim, int[] keep) {
        if (keep == null) {
            return a.dup();
        }
        long[] shape = a.shape();
        if (dim < 0 || dim >= shape.length) {
            throw new IllegalArgumentException("dimension " + dim + " is out of range for shape " + Arrays.toString(shape));
        }
        long outer = 1;
        for (int d = 0; d < dim; d++) {
            outer *= shape[d];
        }
        long inner = 1;
        for (int d = dim + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        int size = Math.toIntExact(shape[dim]);
        for (int k : keep) {
            if (k < 0 || k >= size) {
                throw new IllegalArgumentException("index " + k + " is out of range for dimension " + dim + " of shape "
                        + Arrays.toString(shape));
            }
        }
        double[] src = a.castTo(DataType.DOUBLE).dup('c').reshape('c', new long[] {a.length()}).toDoubleVector();
        double[] dst = new double[Math.toIntExact(outer * keep.length * inner)];
        int in = Math.toIntExact(inner);
        int pos = 0;
        for (long o = 0; o < outer; o++) {
            for (int k : keep) {
                System.arraycopy(src, Math.toIntExact((o * size + k) * inner), dst, pos, in);
                pos += in;
            }
        }
        long[] outShape = shape.clone();
        outShape[dim] = keep.length;
        return Nd4j.create(dst, outShape, 'c').castTo(a.dataType());
    }

    /** {@link #take} along the last dimension (the unit dimension of biases and batch-norm vectors). */
    static INDArray takeLast(INDArray a, int[] keep) {
        return take(a, a.rank() - 1, keep);
    }
}
