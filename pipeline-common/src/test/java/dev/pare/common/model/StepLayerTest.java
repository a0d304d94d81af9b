package dev.pare.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The element-wise pieces StepLayer computes in Java, against the same arithmetic written out here. */
class StepLayerTest {
    private static final float[][] Z = {{-1.5f, 0f, 2f}, {-0f, 3.25f, -0.5f}};
    private static final float[] BIAS = {0.5f, -1f, 0.25f};

    private static float[][] expectedPre() {
        float[][] e = new float[2][3];
        for (int r = 0; r < 2; r++) {
            for (int c = 0; c < 3; c++) {
                e[r][c] = Z[r][c] + BIAS[c];
            }
        }
        return e;
    }

    @Test
    void biasThenReluOnFOrderedFloatsKeepsThePreActivation() {
        for (char order : new char[] {'f', 'c'}) { // 'c' takes libnd4j's ops: the same values
            INDArray z = Nd4j.create(Z).dup(order);
            INDArray h = Nd4j.createUninitialized(DataType.FLOAT, new long[] {2, 3}, order);
            INDArray out = StepLayer.biasAndActivation(z, Nd4j.create(BIAS).reshape(1, 3), new ActivationReLU(), h, false);
            assertSame(h, out);
            float[][] pre = expectedPre();
            for (int r = 0; r < 2; r++) {
                assertArrayEquals(pre[r], z.getRow(r).toFloatVector(), 0f, order + " z row " + r);
                for (int c = 0; c < 3; c++) {
                    assertEquals(Math.max(pre[r][c], 0f), h.getFloat(r, c), 0f, order + " h " + r + "," + c);
                }
            }
        }
    }

    @Test
    void manyChunksGiveLibnd4jsValuesBitForBit() {
        // 1000 x 37: 4 columns per chunk of 4096 values, the last chunk 1 column; 5000 x 3: one column per chunk.
        java.util.Random random = new java.util.Random(11);
        for (int[] shape : new int[][] {{1000, 37}, {5000, 3}}) {
            float[] values = new float[shape[0] * shape[1]];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) random.nextGaussian();
            }
            float[] bias = new float[shape[1]];
            for (int j = 0; j < bias.length; j++) {
                bias[j] = (float) random.nextGaussian();
            }
            INDArray reference = Nd4j.create(values, new long[] {shape[0], shape[1]}, 'c');
            INDArray referenceH = Nd4j.createUninitialized(DataType.FLOAT, reference.shape(), 'c');
            StepLayer.biasAndActivation(reference, Nd4j.create(bias).reshape(1, bias.length), new ActivationReLU(),
                    referenceH, false); // 'c': libnd4j's broadcast add and ReLU
            INDArray z = Nd4j.create(values, new long[] {shape[0], shape[1]}, 'c').dup('f');
            INDArray h = Nd4j.createUninitialized(DataType.FLOAT, z.shape(), 'f');
            StepLayer.biasAndActivation(z, Nd4j.create(bias).reshape(1, bias.length), new ActivationReLU(), h, false);
            assertArrayEquals(reference.dup('c').data().asFloat(), z.dup('c').data().asFloat(), 0f, "z " + shape[0]);
            assertArrayEquals(referenceH.dup('c').data().asFloat(), h.dup('c').data().asFloat(), 0f, "h " + shape[0]);
        }
    }

    @Test
    void biasAloneAndOtherActivations() {
        INDArray z = Nd4j.create(Z).dup('f');
        assertSame(z, StepLayer.biasAndActivation(z, Nd4j.create(BIAS), null, null, false));
        float[][] pre = expectedPre();
        assertArrayEquals(pre[1], z.getRow(1).toFloatVector(), 0f);
        INDArray t = Nd4j.create(Z).dup('f');
        INDArray h = Nd4j.createUninitialized(DataType.FLOAT, new long[] {2, 3}, 'f');
        StepLayer.biasAndActivation(t, Nd4j.create(BIAS), new ActivationTanH(), h, false);
        assertEquals(Math.tanh(pre[0][2]), h.getFloat(0, 2), 1e-6);
        assertArrayEquals(pre[0], t.getRow(0).toFloatVector(), 0f, "tanh keeps z too");
    }

    @Test
    void reluGradientPassesEpsilonWhereZIsPositiveOnly() {
        INDArray z = Nd4j.create(Z).dup('f');
        INDArray eps = Nd4j.create(new float[][] {{1, 2, 3}, {4, 5, 6}}).dup('f');
        INDArray into = Nd4j.createUninitialized(DataType.FLOAT, new long[] {2, 3}, 'f');
        StepLayer.reluGradient(z, eps, into);
        // z = -1.5, 0, 2 / -0, 3.25, -0.5: only 2 and 3.25 are > 0 (0 and -0 are not)
        assertArrayEquals(new float[] {0, 0, 3}, into.getRow(0).toFloatVector(), 0f);
        assertArrayEquals(new float[] {0, 5, 0}, into.getRow(1).toFloatVector(), 0f);
        INDArray mixed = Nd4j.create(new float[][] {{1, 2, 3}, {4, 5, 6}}); // 'c': libnd4j's op
        StepLayer.reluGradient(z, mixed, mixed);
        assertArrayEquals(new float[] {0, 5, 0}, mixed.getRow(1).toFloatVector(), 0f);
    }
}
