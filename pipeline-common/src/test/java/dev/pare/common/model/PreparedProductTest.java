package dev.pare.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class PreparedProductTest {

    private static INDArray gaussians(Random random, long rows, long columns, char order) {
        float[] v = new float[(int) (rows * columns)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return Nd4j.create(v, new long[] {rows, columns}, 'c').dup(order);
    }

    /** {@code Σ_k op(a)[r,k] op(b)[k,c]} in double, from the arrays' values. */
    private static double product(float[][] a, float[][] b, boolean ta, boolean tb, int r, int c) {
        int inner = ta ? a.length : a[0].length;
        double sum = 0;
        for (int k = 0; k < inner; k++) {
            sum += (double) (ta ? a[k][r] : a[r][k]) * (tb ? b[c][k] : b[k][c]);
        }
        return sum;
    }

    @Test
    void everyTransposeAlphaAndBetaGiveNd4jsGemmBitForBitAndTheFormula() {
        Random random = new Random(5);
        int n = 37;
        int k = 23;
        int m = 11;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                INDArray a = gaussians(random, ta ? k : n, ta ? n : k, ta ? 'f' : 'c');
                INDArray b = gaussians(random, tb ? m : k, tb ? k : m, 'f');
                INDArray start = gaussians(random, n, m, 'f');
                for (double[] ab : new double[][] {{1.0, 0.0}, {1.0, 1.0}, {0.5, 2.0}}) {
                    INDArray viaGemm = start.dup('f');
                    Nd4j.gemm(a, b, viaGemm, ta, tb, ab[0], ab[1]);
                    INDArray prepared = start.dup('f');
                    PreparedProduct product = new PreparedProduct();
                    assertSame(prepared, product.run(a, b, prepared, ta, tb, ab[0], ab[1]));
                    String what = "transposes " + ta + "," + tb + " alpha " + ab[0] + " beta " + ab[1];
                    assertArrayEquals(viaGemm.dup('c').data().asFloat(), prepared.dup('c').data().asFloat(), 0f, what);
                    float[][] av = a.toFloatMatrix();
                    float[][] bv = b.toFloatMatrix();
                    float[][] sv = start.toFloatMatrix();
                    for (int r = 0; r < n; r++) {
                        for (int c = 0; c < m; c++) {
                            double expected = ab[0] * product(av, bv, ta, tb, r, c) + ab[1] * sv[r][c];
                            assertEquals(expected, prepared.getDouble(r, c), 1e-4, what + " at " + r + "," + c);
                        }
                    }
                }
            }
        }
    }

    @Test
    void aCallWithOtherArraysOrArgumentsPreparesTheOpAgain() {
        Random random = new Random(6);
        INDArray a = gaussians(random, 8, 5, 'c');
        INDArray b = gaussians(random, 5, 3, 'f');
        INDArray other = gaussians(random, 8, 5, 'c');
        PreparedProduct product = new PreparedProduct();
        INDArray z = Nd4j.createUninitialized(DataType.FLOAT, new long[] {8, 3}, 'f');
        INDArray z2 = Nd4j.createUninitialized(DataType.FLOAT, new long[] {8, 3}, 'f');
        product.run(a, b, z, false, false, 1.0, 0.0);
        assertArrayEquals(a.mmul(b).dup('c').data().asFloat(), z.dup('c').data().asFloat(), 1e-5f);
        product.run(other, b, z, false, false, 1.0, 0.0); // another input, same output
        assertArrayEquals(other.mmul(b).dup('c').data().asFloat(), z.dup('c').data().asFloat(), 1e-5f);
        product.run(a, b, z2, false, false, 1.0, 0.0); // another output
        assertArrayEquals(a.mmul(b).dup('c').data().asFloat(), z2.dup('c').data().asFloat(), 1e-5f);
        product.run(a, b, z2, false, false, 2.0, 0.0); // another alpha
        assertArrayEquals(a.mmul(b).mul(2).dup('c').data().asFloat(), z2.dup('c').data().asFloat(), 1e-5f);
        a.muli(3); // the same array with new values: the prepared op reads them
        product.run(a, b, z2, false, false, 2.0, 0.0);
        assertArrayEquals(a.mmul(b).mul(2).dup('c').data().asFloat(), z2.dup('c').data().asFloat(), 1e-5f);
    }

    @Test
    void anOutputThatIsAViewOfALargerArrayGetsTheProductInPlace() {
        // As a layer's gradient views in the network's flattened gradient: [in, out] 'f' at an offset.
        Random random = new Random(7);
        INDArray flat = Nd4j.zeros(DataType.FLOAT, 1, 4 + 5 * 3);
        INDArray view = flat.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(4, 4 + 15)).reshape('f', 5, 3);
        INDArray a = gaussians(random, 9, 5, 'f');
        INDArray delta = gaussians(random, 9, 3, 'f');
        new PreparedProduct().run(a, delta, view, true, false, 1.0, 0.0);
        INDArray expected = a.transpose().mmul(delta);
        float[] all = flat.data().asFloat();
        assertArrayEquals(expected.dup('f').data().asFloat(), java.util.Arrays.copyOfRange(all, 4, 19), 1e-5f);
        assertArrayEquals(new float[4], java.util.Arrays.copyOfRange(all, 0, 4), 0f, "nothing else");
    }
}
