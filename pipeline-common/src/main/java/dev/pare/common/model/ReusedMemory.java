package dev.pare.common.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.common.util.ArrayUtil;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One native buffer that arrays of varying shapes take turns in: {@link #array} gives an array over
 * the buffer's leading values ({@link dev.pare.common.util.Layouts#leading}), and allocates a larger
 * buffer only when a shape needs more values than it has, a quarter more than that shape needs. A
 * task's batches vary in size (each row group is cut into chunks of nearly equal size), and arrays
 * made to each batch's exact size were fresh native allocations, which libnd4j zero-fills and the C
 * allocator served with new pages: 290-580k page faults in the first wave of a LeNet-5
 * {@code score-data} stage of 60k rows. Made to the largest batch so far, a buffer still grew with
 * each new largest one (batches of 629-822 rows: each buffer of a task allocated 3 times); with the
 * quarter more, once or twice.
 *
 * <p>An array handed out is valid until the next call: arrays of other shapes share its values.
 * The last few arrays are kept, so that a shape seen again gets the same array (and what was
 * prepared for it, {@link PreparedProduct}, still holds). Not thread-safe.
 */
final class ReusedMemory {
    private static final int KEPT = 4;
    /** A new buffer holds 1 + 1/HEADROOM times the values of the shape that asked for it. */
    static final int HEADROOM = 4;
    private INDArray base;
    private final List<INDArray> kept = new ArrayList<>(KEPT);

    /** An array of {@code shape} in {@code order} over this memory's leading values (uninitialized). */
    INDArray array(DataType type, char order, long... shape) {
        for (INDArray a : kept) {
            if (a.dataType() == type && a.ordering() == order && Arrays.equals(a.shape(), shape)) {
                return a;
            }
        }
        long length = ArrayUtil.prodLong(shape);
        if (length == 0) {
            return Nd4j.createUninitialized(type, shape, order);
        }
        if (base == null || base.dataType() != type || base.length() < length) {
            // The old buffer is left to the collector: arrays over it may still be referenced.
            base = Nd4j.createUninitialized(type, new long[] {length + length / HEADROOM}, 'c');
            kept.clear();
        }
        INDArray a = Nd4j.create(base.data(), shape, Nd4j.getStrides(shape, order), 0, order);
        if (kept.size() == KEPT) {
            kept.remove(0);
        }
        kept.add(a);
        return a;
    }
}
