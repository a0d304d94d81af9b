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

    /** The 3x3 identity: {@code Z · I + b} is {@code Z + b} exactly (products by 1, sums with 0). */
    private static INDArray identity() {
        return Nd4j.eye(3).castTo(DataType.FLOAT);
    }

    @Test
    void biasThenReluOnFOrderedFloatsKeepsThePreActivation() {
        for (char order : new char[] {'f', 'c'}) { // 'c' takes the product, then libnd4j's ops: the same values
            INDArray z = Nd4j.createUninitialized(DataType.FLOAT, new long[] {2, 3}, order);
            INDArray h = Nd4j.createUninitialized(DataType.FLOAT, new long[] {2, 3}, order);
            INDArray out = StepLayer.affine(null, Nd4j.create(Z), identity(), Nd4j.create(BIAS).reshape(1, 3),
                    z, new ActivationReLU(), h, false);
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
    void theBiasBeforeTheProductGivesTheProductThenTheBias() {
        // 1000 x 37 outputs: 4 columns per ReLU chunk of 4096 values, the last chunk 1 column; 5000 x 3: one
        // column per chunk. Inner dimension 17 (one block of OpenBLAS's): the same bits as the product, then
        // libnd4j's broadcast add and ReLU. Inner dimension 784 (several blocks): the sums of the formula in
        // double, within float rounding.
        java.util.Random random = new java.util.Random(11);
        for (int[] shape : new int[][] {{1000, 17, 37}, {5000, 17, 3}, {300, 784, 20}}) {
            int n = shape[0];
            int k = shape[1];
            int out = shape[2];
            float[] a = gaussians(random, n * k);
            float[] w = gaussians(random, k * out);
            float[] bias = gaussians(random, out);
            INDArray in = Nd4j.create(a, new long[] {n, k}, 'c');
            INDArray weights = Nd4j.create(w, new long[] {k, out}, 'c').dup('f');
            INDArray b = Nd4j.create(bias).reshape(1, out);
            INDArray z = Nd4j.createUninitialized(DataType.FLOAT, new long[] {n, out}, 'f');
            INDArray h = Nd4j.createUninitialized(DataType.FLOAT, new long[] {n, out}, 'f');
            StepLayer.affine(null, in, weights, b, z, new ActivationReLU(), h, false);
            float[] zRowMajor = z.dup('c').data().asFloat();
            float[] hRowMajor = h.dup('c').data().asFloat();
            if (k == 17) {
                // DL4J's dense layer: the product into an 'f' array, then libnd4j's broadcast add and ReLU.
                INDArray reference = Nd4j.createUninitialized(DataType.FLOAT, new long[] {n, out}, 'f');
                Nd4j.gemm(in, weights, reference, false, false, 1.0, 0.0);
                reference.addiRowVector(b);
                INDArray referenceH = new ActivationReLU().getActivation(reference.dup('c'), false);
                assertArrayEquals(reference.dup('c').data().asFloat(), zRowMajor, 0f, "z " + n);
                assertArrayEquals(referenceH.data().asFloat(), hRowMajor, 0f, "h " + n);
            } else {
                for (int r = 0; r < n; r++) {
                    for (int j = 0; j < out; j++) {
                        double sum = bias[j];
                        double magnitude = Math.abs(bias[j]);
                        for (int i = 0; i < k; i++) {
                            sum += (double) a[r * k + i] * w[i * out + j];
                            magnitude += Math.abs((double) a[r * k + i] * w[i * out + j]);
                        }
                        assertEquals(sum, zRowMajor[r * out + j], 1e-6 * magnitude, "z " + r + "," + j);
                        assertEquals(Math.max(zRowMajor[r * out + j], 0f), hRowMajor[r * out + j], 0f);
                    }
                }
            }
        }
    }

    private static float[] gaussians(java.util.Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    @Test
    void biasAloneOtherActivationsAndNoBias() {
        INDArray z = Nd4j.createUninitialized(DataType.FLOAT, new long[] {2, 3}, 'f');
        assertSame(z, StepLayer.affine(null, Nd4j.create(Z), identity(), Nd4j.create(BIAS), z, null, null, false));
        float[][] pre = expectedPre();
        assertArrayEquals(pre[1], z.getRow(1).toFloatVector(), 0f);
        INDArray t = Nd4j.createUninitialized(DataType.FLOAT, new long[] {2, 3}, 'f');
        INDArray h = Nd4j.createUninitialized(DataType.FLOAT, new long[] {2, 3}, 'f');
        StepLayer.affine(null, Nd4j.create(Z), identity(), Nd4j.create(BIAS), t, new ActivationTanH(), h, false);
        assertEquals(Math.tanh(pre[0][2]), h.getFloat(0, 2), 1e-6);
        assertArrayEquals(pre[0], t.getRow(0).toFloatVector(), 0f, "tanh keeps z too");
        INDArray plain = Nd4j.createUninitialized(DataType.FLOAT, new long[] {2, 3}, 'f');
        INDArray relu = Nd4j.createUninitialized(DataType.FLOAT, new long[] {2, 3}, 'f');
        StepLayer.affine(null, Nd4j.create(Z), identity(), null, plain, new ActivationReLU(), relu, false);
        assertArrayEquals(Z[0], plain.getRow(0).toFloatVector(), 0f, "no bias: the product alone");
        assertArrayEquals(new float[] {0, 3.25f, 0}, relu.getRow(1).toFloatVector(), 0f);
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
