package dev.pare.common.util;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Where an ND4J array's values lie in its data buffer. */
public final class Layouts {
    private Layouts() {}

    /**
     * Whether the values of {@code a}, in {@code order} ('c' or 'f'), are the leading
     * {@code a.length()} values of its data buffer: offset 0 and the strides of a fresh array of its
     * shape in that order. Such an array is read and written through its buffer from index 0, whether
     * it is a fresh array or one over the front of a larger buffer (memory reused by batches of other
     * sizes); views of other shapes (a column range, a transpose, an offset) are not.
     */
    public static boolean leading(INDArray a, char order) {
        if (a.isEmpty() || a.offset() != 0 || a.length() > a.data().length()) {
            return false;
        }
        if (a.length() == 1) {
            return true;
        }
        return a.ordering() == order && Arrays.equals(a.stride(), Nd4j.getStrides(a.shape(), order));
    }
}
