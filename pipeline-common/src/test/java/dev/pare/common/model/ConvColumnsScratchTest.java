package dev.pare.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

class ConvColumnsScratchTest {

    private static INDArray random(long seed, long... shape) {
        SplittableRandom rnd = new SplittableRandom(seed);
        INDArray a = Nd4j.createUninitialized(DataType.FLOAT, shape, 'c');
        for (long i = 0; i < a.length(); i++) {
            a.putScalar(i, (float) (rnd.nextDouble() - 0.5));
        }
        return a;
    }

    private static float[] values(INDArray a) {
        return a.dup('c').data().asFloat();
    }

    @Test
    void aScratchGivesFreshArraysBitsForEveryBatchSizeAndInput() {
        // 8 channels, 3×3: 72 im2col columns, which a oneDNN build convolves in its op, and the im2col route.
        ConvColumns conv = new ConvColumns(8, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1},
                new int[] {1, 1}, ConvolutionMode.Truncate, null);
        INDArray w = random(1, 5, 8, 3, 3);
        INDArray b = random(2, 1, 5);
        ConvColumns.Scratch forward = new ConvColumns.Scratch();
        ConvColumns.Scratch byOp = new ConvColumns.Scratch();
        ConvColumns.Scratch either = new ConvColumns.Scratch();
        INDArray wide = random(3, 12, 8, 7, 6);
        long first = -1;
        for (int n : new int[] {6, 4, 6, 1}) {
            INDArray x = random(10 + n, n, 8, 7, 6);
            // Every other example of a larger batch: not its buffer's front, read through a copy.
            INDArray strided = wide.get(NDArrayIndex.interval(0, 2, 2 * n - 1), NDArrayIndex.all(), NDArrayIndex.all(),
                    NDArrayIndex.all());
            for (INDArray input : new INDArray[] {x, strided}) {
                INDArray expected = conv.forward(input, w, b);
                INDArray actual = conv.forward(input, w, b, forward, false);
                assertArrayEquals(expected.shape(), actual.shape());
                assertArrayEquals(values(expected), values(actual), 0f, n + " examples");
                // The ReLU taken as the output is written: libnd4j's ReLU of the plain output, bit for bit.
                float[] rectified = values(Transforms.relu(expected, true));
                assertArrayEquals(rectified, values(conv.forward(input, w, b, forward, true)), 0f, n + " examples, ReLU");
                assertArrayEquals(values(Transforms.relu(conv.convolve(input, w, b), true)),
                        values(conv.convolve(input, w, b, either, new ActivationReLU())), 0f);
                assertArrayEquals(values(Transforms.tanh(conv.convolve(input, w, b), true)),
                        values(conv.convolve(input, w, b, either, new ActivationTanH())), 0f);
                actual = conv.forward(input, w, b, forward, false);
                if (ConvColumns.oneDnn()) {
                    assertArrayEquals(values(conv.forwardByOp(input, w, b)), values(conv.forwardByOp(input, w, b, byOp)),
                            0f, n + " examples by op");
                }
                long address = actual.data().addressPointer().address();
                if (first < 0) {
                    first = address;
                }
                assertEquals(first, address, "the output of " + n + " examples in the first batch's memory");
            }
        }
    }
}
