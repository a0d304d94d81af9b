package dev.pare.jobs.spark;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.execution.vectorized.OffHeapColumnVector;
import org.apache.spark.sql.execution.vectorized.OnHeapColumnVector;
import org.apache.spark.sql.execution.vectorized.WritableColumnVector;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarArray;
import org.apache.spark.unsafe.Platform;
import org.slf4j.LoggerFactory;

/**
 * A Spark {@code array<float>} value copied into a given Java array, with no array of its own in
 * between: {@link ArrayData#toFloatArray} makes a fresh {@code float[]} for every row, which the
 * caller then copies into its batch (for Fashion-MNIST's 60k rows of 784 floats, 188 MB of garbage
 * per scan and a second pass over the values).
 *
 * <p>Spark's row format ({@link UnsafeArrayData}) and off-heap column vectors expose their memory;
 * a column batch's array ({@link ColumnarArray}) over an on-heap vector, what Pare's Parquet reader
 * and Spark's vectorized reader produce, keeps its vector, offset and values in private fields, read
 * here through {@link VarHandle}s (Spark 3.5's field names; {@link #direct} says whether this Spark
 * has them). Any other array, or a Spark without those fields, is copied through
 * {@code toFloatArray}: the same values, one copy more; a vector of dictionary ids, one value at a time.
 * Like {@code toFloatArray}, a null element is copied as whatever its slot holds (Spark writes 0).
 */
final class FloatCopy {
    private static final VarHandle ARRAY_DATA;
    private static final VarHandle ARRAY_OFFSET;
    private static final VarHandle ON_HEAP_FLOATS;

    static {
        VarHandle data = null;
        VarHandle offset = null;
        VarHandle floats = null;
        try {
            MethodHandles.Lookup array = MethodHandles.privateLookupIn(ColumnarArray.class, MethodHandles.lookup());
            data = array.findVarHandle(ColumnarArray.class, "data", ColumnVector.class);
            offset = array.findVarHandle(ColumnarArray.class, "offset", int.class);
            floats = MethodHandles.privateLookupIn(OnHeapColumnVector.class, MethodHandles.lookup())
                    .findVarHandle(OnHeapColumnVector.class, "floatData", float[].class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            data = null;
            offset = null;
            floats = null;
            LoggerFactory.getLogger(FloatCopy.class).warn("Spark's column-batch arrays are copied through"
                    + " toFloatArray, one copy more per row: this Spark lacks the fields Pare reads ({})", e.toString());
        }
        ARRAY_DATA = data;
        ARRAY_OFFSET = offset;
        ON_HEAP_FLOATS = floats;
    }

    private FloatCopy() {}

    /** Whether column-batch arrays over on-heap vectors are copied straight from the vector's values. */
    static boolean direct() {
        return ON_HEAP_FLOATS != null;
    }

    /** The {@code a.numElements()} floats of {@code a} into {@code dest} from index {@code at}. */
    static void copy(ArrayData a, float[] dest, int at) {
        int n = a.numElements();
        if (at < 0 || n > dest.length - at) {
            throw new IndexOutOfBoundsException("copying " + n + " floats to index " + at + " of " + dest.length);
        }
        if (a instanceof UnsafeArrayData u) {
            long values = u.getBaseOffset() + UnsafeArrayData.calculateHeaderPortionInBytes(n);
            Platform.copyMemory(u.getBaseObject(), values, dest, Platform.FLOAT_ARRAY_OFFSET + (long) at * Float.BYTES,
                    (long) n * Float.BYTES);
            return;
        }
        if (a instanceof ColumnarArray c && ON_HEAP_FLOATS != null) {
            ColumnVector vector = (ColumnVector) ARRAY_DATA.get(c);
            int offset = (int) ARRAY_OFFSET.get(c);
            if (vector instanceof WritableColumnVector w && w.hasDictionary()) {
                // Dictionary ids, not values, in the vector's memory: decoded one by one.
                for (int i = 0; i < n; i++) {
                    dest[at + i] = w.getFloat(offset + i);
                }
                return;
            }
            if (vector instanceof OnHeapColumnVector v) {
                float[] values = (float[]) ON_HEAP_FLOATS.get(v);
                if (values != null) {
                    System.arraycopy(values, offset, dest, at, n);
                    return;
                }
            } else if (vector instanceof OffHeapColumnVector v) {
                Platform.copyMemory(null, v.valuesNativeAddress() + (long) offset * Float.BYTES, dest,
                        Platform.FLOAT_ARRAY_OFFSET + (long) at * Float.BYTES, (long) n * Float.BYTES);
                return;
            }
        }
        System.arraycopy(a.toFloatArray(), 0, dest, at, n);
    }
}
