package dev.pare.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.util.Layouts;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class ReusedMemoryTest {

    private static long address(INDArray a) {
        return a.data().addressPointer().address();
    }

    @Test
    void smallerShapesTakeTheSameBufferAndLargerOnesANewOne() {
        ReusedMemory memory = new ReusedMemory();
        INDArray big = memory.array(DataType.FLOAT, 'f', 10, 6);
        assertArrayEquals(new long[] {10, 6}, big.shape());
        assertTrue(Layouts.leading(big, 'f'));
        assertSame(big, memory.array(DataType.FLOAT, 'f', 10, 6), "a shape asked for again: the same array");
        INDArray small = memory.array(DataType.FLOAT, 'f', 7, 6);
        assertArrayEquals(new long[] {7, 6}, small.shape());
        assertTrue(Layouts.leading(small, 'f'));
        assertEquals(address(big), address(small), "a smaller shape: the same native buffer");
        INDArray nchw = memory.array(DataType.FLOAT, 'c', 2, 3, 2, 5);
        assertTrue(Layouts.leading(nchw, 'c'));
        assertEquals(address(big), address(nchw));
        // Values written through one array are read through another: they share the buffer from index 0.
        small.assign(0f);
        small.putScalar(1, 0, 42f);
        assertEquals(42f, nchw.getFloat(0, 0, 0, 1), 0f, "'f' [7, 6] index (1, 0) is buffer value 1");
        // The buffer holds a quarter more than the first shape: 60 + 15 values.
        INDArray within = memory.array(DataType.FLOAT, 'f', 12, 6);
        assertEquals(address(big), address(within), "72 values of the buffer's 75: the same buffer");
        INDArray larger = memory.array(DataType.FLOAT, 'f', 13, 6);
        assertNotEquals(address(big), address(larger), "more values than the buffer has: a new buffer");
        assertNotSame(small, memory.array(DataType.FLOAT, 'f', 7, 6), "arrays over the old buffer are not handed out");
        assertEquals(address(larger), address(memory.array(DataType.FLOAT, 'f', 7, 6)));
        // 78 values asked for: 97 allocated, so 16 rows of 6 (96) still fit, 17 (102) do not.
        assertEquals(address(larger), address(memory.array(DataType.FLOAT, 'f', 16, 6)));
        assertNotEquals(address(larger), address(memory.array(DataType.FLOAT, 'f', 17, 6)));
    }

    @Test
    void anotherTypeOrOrderIsAnotherArrayAndEmptyShapesAreFresh() {
        ReusedMemory memory = new ReusedMemory();
        INDArray f = memory.array(DataType.FLOAT, 'f', 4, 3);
        INDArray c = memory.array(DataType.FLOAT, 'c', 4, 3);
        assertNotSame(f, c);
        assertEquals('c', c.ordering());
        assertEquals(address(f), address(c));
        INDArray d = memory.array(DataType.DOUBLE, 'f', 4, 3);
        assertEquals(DataType.DOUBLE, d.dataType());
        assertEquals(0, memory.array(DataType.FLOAT, 'c', 0, 3).length());
    }
}
