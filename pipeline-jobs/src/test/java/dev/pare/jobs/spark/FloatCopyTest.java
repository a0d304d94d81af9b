package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.execution.vectorized.Dictionary;
import org.apache.spark.sql.execution.vectorized.OffHeapColumnVector;
import org.apache.spark.sql.execution.vectorized.OnHeapColumnVector;
import org.apache.spark.sql.execution.vectorized.WritableColumnVector;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.vectorized.ColumnarArray;
import org.junit.jupiter.api.Test;

class FloatCopyTest {
    private static final float SENTINEL = -7.5f;

    /** {@code lists} as rows of an {@code array<float>} column vector: row r's list at offset Σ earlier lengths. */
    private static void fill(WritableColumnVector v, float[]... lists) {
        WritableColumnVector child = v.arrayData();
        int at = 0;
        for (int r = 0; r < lists.length; r++) {
            child.reserve(at + lists[r].length);
            child.putFloats(at, lists[r].length, lists[r], 0);
            v.putArray(r, at, lists[r].length);
            at += lists[r].length;
        }
        child.addElementsAppended(at);
    }

    /** {@code a} copied to index {@code at} of an array of {@code length} sentinels. */
    private static float[] copied(ArrayData a, int at, int length) {
        float[] dest = new float[length];
        Arrays.fill(dest, SENTINEL);
        FloatCopy.copy(a, dest, at);
        return dest;
    }

    private static float[] expected(float[] values, int at, int length) {
        float[] dest = new float[length];
        Arrays.fill(dest, SENTINEL);
        System.arraycopy(values, 0, dest, at, values.length);
        return dest;
    }

    @Test
    void thisSparkHasTheFieldsOfTheDirectCopy() {
        // Spark 3.5's private fields: a Spark that renamed them would fall back to a copy more, silently slower.
        assertTrue(FloatCopy.direct());
    }

    @Test
    void aColumnBatchArrayIsCopiedFromItsOffsetInTheVector() {
        float[] first = {1f, 2f, 3f};
        float[] second = {4.25f, -0f, Float.MIN_VALUE, Float.NaN};
        for (WritableColumnVector v : new WritableColumnVector[] {
            new OnHeapColumnVector(2, DataTypes.createArrayType(DataTypes.FloatType)),
            new OffHeapColumnVector(2, DataTypes.createArrayType(DataTypes.FloatType))}) {
            try (v) {
                fill(v, first, second);
                ColumnarArray row1 = v.getArray(1);
                assertEquals(4, row1.numElements());
                // Bits, not values: NaN and -0 must arrive as they are.
                assertArrayEquals(floatBits(expected(second, 2, 8)), floatBits(copied(row1, 2, 8)), v.getClass().getName());
                assertArrayEquals(floatBits(expected(first, 0, 3)), floatBits(copied(v.getArray(0), 0, 3)));
            }
        }
    }

    @Test
    void aVectorOfDictionaryIdsIsDecoded() {
        try (OnHeapColumnVector v = new OnHeapColumnVector(1, DataTypes.createArrayType(DataTypes.FloatType))) {
            WritableColumnVector child = v.arrayData();
            child.reserve(3);
            WritableColumnVector ids = child.reserveDictionaryIds(3);
            ids.putInt(0, 2);
            ids.putInt(1, 0);
            ids.putInt(2, 2);
            child.setDictionary(new Dictionary() {
                private final float[] values = {0.5f, 9f, -3f};

                @Override
                public float decodeToFloat(int id) {
                    return values[id];
                }

                @Override
                public int decodeToInt(int id) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public long decodeToLong(int id) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public double decodeToDouble(int id) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public byte[] decodeToBinary(int id) {
                    throw new UnsupportedOperationException();
                }
            });
            child.addElementsAppended(3);
            v.putArray(0, 0, 3);
            assertArrayEquals(new float[] {SENTINEL, -3f, 0.5f, -3f}, copied(v.getArray(0), 1, 4));
        }
    }

    @Test
    void sparksRowFormatAndOtherArraysCopyTheirValues() {
        float[] values = {0.1f, 0.2f, Float.NEGATIVE_INFINITY, 7f, 8f};
        // UnsafeArrayData's values start after its header (element count and null bits), 8-byte aligned.
        assertArrayEquals(expected(values, 3, 9), copied(UnsafeArrayData.fromPrimitiveArray(values), 3, 9));
        UnsafeArrayData odd = UnsafeArrayData.fromPrimitiveArray(new float[] {5f, 6f, 7f});
        assertArrayEquals(new float[] {5f, 6f, 7f}, copied(odd, 0, 3));
        // A copied row's array: the row format's again, through the row.
        GenericInternalRow row = new GenericInternalRow(new Object[] {new GenericArrayData(new Object[] {1f, 2f})});
        assertArrayEquals(new float[] {SENTINEL, 1f, 2f}, copied(row.getArray(0), 1, 3));
    }

    @Test
    void aCopyPastTheEndOfTheDestinationIsRefused() {
        ArrayData a = UnsafeArrayData.fromPrimitiveArray(new float[] {1f, 2f, 3f});
        assertThrows(IndexOutOfBoundsException.class, () -> FloatCopy.copy(a, new float[4], 2));
        assertThrows(IndexOutOfBoundsException.class, () -> FloatCopy.copy(a, new float[4], -1));
    }

    private static int[] floatBits(float[] v) {
        int[] bits = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            bits[i] = Float.floatToRawIntBits(v[i]);
        }
        return bits;
    }
}
