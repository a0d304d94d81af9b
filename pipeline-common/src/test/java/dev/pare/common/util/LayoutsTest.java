package dev.pare.common.util;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class LayoutsTest {

    @Test
    void freshArraysLeadTheirBufferInTheirOwnOrderOnly() {
        INDArray c = Nd4j.createUninitialized(DataType.FLOAT, new long[] {3, 4}, 'c');
        INDArray f = Nd4j.createUninitialized(DataType.FLOAT, new long[] {3, 4}, 'f');
        assertTrue(Layouts.leading(c, 'c'));
        assertFalse(Layouts.leading(c, 'f'));
        assertTrue(Layouts.leading(f, 'f'));
        assertFalse(Layouts.leading(f, 'c'));
        INDArray nchw = Nd4j.createUninitialized(DataType.FLOAT, new long[] {2, 3, 4, 5}, 'c');
        assertTrue(Layouts.leading(nchw, 'c'));
        assertTrue(Layouts.leading(Nd4j.scalar(1f), 'f'), "one value leads in any order");
    }

    @Test
    void theFrontOfALargerBufferLeadsItButOtherViewsDoNot() {
        INDArray base = Nd4j.createUninitialized(DataType.FLOAT, new long[] {100}, 'c');
        INDArray frontC = Nd4j.create(base.data(), new long[] {3, 4}, new long[] {4, 1}, 0, 'c');
        INDArray frontF = Nd4j.create(base.data(), new long[] {3, 4}, new long[] {1, 3}, 0, 'f');
        assertTrue(Layouts.leading(frontC, 'c'));
        assertTrue(Layouts.leading(frontF, 'f'));
        INDArray shifted = Nd4j.create(base.data(), new long[] {3, 4}, new long[] {4, 1}, 8, 'c');
        assertFalse(Layouts.leading(shifted, 'c'), "an offset");
        INDArray matrix = Nd4j.createUninitialized(DataType.FLOAT, new long[] {6, 4}, 'f');
        assertFalse(Layouts.leading(matrix.get(NDArrayIndex.interval(0, 3), NDArrayIndex.all()), 'f'),
                "the first rows of an 'f' matrix are strided by its full height");
        assertFalse(Layouts.leading(matrix.transpose(), 'c') && Layouts.leading(matrix.transpose(), 'f'),
                "a transpose is not both");
        assertTrue(Layouts.leading(matrix.transpose(), 'c'), "the transpose of an 'f' matrix is its buffer in C order");
        INDArray c = Nd4j.createUninitialized(DataType.FLOAT, new long[] {6, 4}, 'c');
        assertFalse(Layouts.leading(c.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 2)), 'c'), "a column range");
        assertTrue(Layouts.leading(c.get(NDArrayIndex.interval(0, 3), NDArrayIndex.all()), 'c'),
                "the first rows of a 'c' matrix are its buffer's front");
    }
}
