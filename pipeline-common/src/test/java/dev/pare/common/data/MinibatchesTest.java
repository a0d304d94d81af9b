package dev.pare.common.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class MinibatchesTest {

    @Test
    void epochOrderIsAPermutation() {
        for (int n : new int[] {0, 1, 2, 17, 100}) {
            int[] order = Minibatches.epochOrder(n, 5, "distill-shuffle", 1);
            int[] sorted = order.clone();
            Arrays.sort(sorted);
            assertArrayEquals(IntStream.range(0, n).toArray(), sorted, "n = " + n);
        }
    }

    @Test
    void sameSeedAndEpochGiveTheSameOrder() {
        assertArrayEquals(Minibatches.epochOrder(50, 5, "distill-shuffle", 3),
                Minibatches.epochOrder(50, 5, "distill-shuffle", 3));
    }

    @Test
    void epochsSeedsAndPurposesGiveDifferentOrders() {
        int[] e1 = Minibatches.epochOrder(50, 5, "distill-shuffle", 1);
        assertFalse(Arrays.equals(e1, Minibatches.epochOrder(50, 5, "distill-shuffle", 2)));
        assertFalse(Arrays.equals(e1, Minibatches.epochOrder(50, 6, "distill-shuffle", 1)));
        assertFalse(Arrays.equals(e1, Minibatches.epochOrder(50, 5, "teacher-shuffle", 1)));
        assertFalse(Arrays.equals(e1, IntStream.range(0, 50).toArray()), "the order is shuffled");
    }

    @Test
    void batchCountCoversEveryRow() {
        assertEquals(0, Minibatches.count(0, 16));
        assertEquals(1, Minibatches.count(1, 16));
        assertEquals(4, Minibatches.count(64, 16));
        assertEquals(5, Minibatches.count(65, 16));
    }

    @Test
    void featureBatchFollowsTheOrder() {
        ExampleArrays data = new ExampleArrays(new long[] {10, 11, 12}, new float[] {0, 1, 2, 3, 4, 5}, 2,
                new int[] {0, 1, 0});
        INDArray b = data.featureBatch(new int[] {2, 0, 1}, 0, 2);
        assertArrayEquals(new float[][] {{4, 5}, {0, 1}}, b.toFloatMatrix());
        assertArrayEquals(new float[][] {{2, 3}, {4, 5}}, data.featureRange(1, 3).toFloatMatrix());
    }
}
