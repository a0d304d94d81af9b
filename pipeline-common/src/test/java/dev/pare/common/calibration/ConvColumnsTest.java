package dev.pare.common.calibration;

import static dev.pare.common.calibration.AccumulatorTesting.assertRelClose;
import static dev.pare.common.calibration.AccumulatorTesting.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.model.ConvColumns;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ConvolutionUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

class ConvColumnsTest {

    /** One convolution geometry on an {@code [N, c, h, w]} input. */
    record Case(String name, int c, int h, int w, int[] kernel, int[] stride, int[] padding, int[] dilation,
            ConvolutionMode mode) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final int N = 2;
    private static final int N_OUT = 3;

    static Stream<Case> cases() {
        return Stream.of(
                new Case("3x3 pad 1", 2, 5, 6, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1},
                        new int[] {1, 1}, ConvolutionMode.Truncate),
                new Case("3x2 stride 2 pad 1,2 truncated", 3, 7, 6, new int[] {3, 2}, new int[] {2, 2},
                        new int[] {1, 2}, new int[] {1, 1}, ConvolutionMode.Truncate),
                new Case("dilation 2,1 stride 1,2", 2, 7, 7, new int[] {3, 3}, new int[] {1, 2}, new int[] {0, 1},
                        new int[] {2, 1}, ConvolutionMode.Truncate),
                new Case("Strict stride 2", 1, 5, 5, new int[] {3, 3}, new int[] {2, 2}, new int[] {0, 0},
                        new int[] {1, 1}, ConvolutionMode.Strict),
                new Case("Same 2x3 stride 2", 2, 6, 7, new int[] {2, 3}, new int[] {2, 2}, new int[] {0, 0},
                        new int[] {1, 1}, ConvolutionMode.Same),
                new Case("Same dilated 3x3 stride 2,1", 2, 5, 6, new int[] {3, 3}, new int[] {2, 1},
                        new int[] {0, 0}, new int[] {2, 2}, ConvolutionMode.Same));
    }

    private static MultiLayerNetwork network(Case k, CNN2DFormat format) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(17)
                .dataType(DataType.DOUBLE)
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new ConvolutionLayer.Builder(k.kernel()).dataFormat(format).stride(k.stride())
                        .padding(k.padding()).dilation(k.dilation()).convolutionMode(k.mode())
                        .nIn(k.c()).nOut(N_OUT).activation(Activation.IDENTITY).build())
                .setInputType(InputType.convolutional(k.h(), k.w(), k.c(), format))
                .build());
        net.init();
        INDArray b = net.getLayer(0).getParam("b");
        b.assign(Nd4j.create(uniform(99, (int) b.length()), b.shape(), DataType.DOUBLE));
        return net;
    }

    private static ConvolutionLayer config(MultiLayerNetwork net) {
        return (ConvolutionLayer) net.getLayerWiseConfigurations().getConf(0).getLayer();
    }

    private static INDArray input(Case k, long seed) {
        return Nd4j.create(uniform(seed, N * k.c() * k.h() * k.w()), new long[] {N, k.c(), k.h(), k.w()},
                DataType.DOUBLE);
    }

    /** Output size and top/left padding written out per mode, for the direct loop. */
    private static int[] sizeAndPad(int in, int k, int s, int p, int d, ConvolutionMode mode) {
        int eK = (k - 1) * d + 1;
        if (mode == ConvolutionMode.Same) {
            int out = (int) Math.ceil(in / (double) s);
            return new int[] {out, Math.max(0, ((out - 1) * s + eK - in) / 2)};
        }
        return new int[] {(int) Math.floor((in + 2.0 * p - eK) / s) + 1, p};
    }

    /** im2col by a direct nested loop: row (n, oh, ow), column (c, kh, kw), zeros in the padding. */
    private static double[][] directIm2col(Case k, INDArray x) {
        int[] hh = sizeAndPad(k.h(), k.kernel()[0], k.stride()[0], k.padding()[0], k.dilation()[0], k.mode());
        int[] ww = sizeAndPad(k.w(), k.kernel()[1], k.stride()[1], k.padding()[1], k.dilation()[1], k.mode());
        int kH = k.kernel()[0];
        int kW = k.kernel()[1];
        List<double[]> rows = new ArrayList<>();
        for (int n = 0; n < x.size(0); n++) {
            for (int oh = 0; oh < hh[0]; oh++) {
                for (int ow = 0; ow < ww[0]; ow++) {
                    double[] row = new double[k.c() * kH * kW];
                    for (int c = 0; c < k.c(); c++) {
                        for (int i = 0; i < kH; i++) {
                            for (int j = 0; j < kW; j++) {
                                int ih = oh * k.stride()[0] - hh[1] + i * k.dilation()[0];
                                int iw = ow * k.stride()[1] - ww[1] + j * k.dilation()[1];
                                boolean inside = ih >= 0 && ih < k.h() && iw >= 0 && iw < k.w();
                                row[(c * kH + i) * kW + j] = inside ? x.getDouble(n, c, ih, iw) : 0;
                            }
                        }
                    }
                    rows.add(row);
                }
            }
        }
        return rows.toArray(new double[0][]);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rowsMatchDirectLoop(Case k) {
        ConvColumns cc = new ConvColumns(k.c(), k.kernel(), k.stride(), k.padding(), k.dilation(), k.mode(), null);
        INDArray x = input(k, 1);
        double[][] expected = directIm2col(k, x);
        INDArray rows = cc.rows(x);
        assertEquals(DataType.DOUBLE, rows.dataType());
        assertArrayEquals(new long[] {expected.length, cc.columns()}, rows.shape());
        assertEquals(expected.length, cc.rowCount(x));
        for (int r = 0; r < expected.length; r++) {
            assertArrayEquals(expected[r], rows.getRow(r).toDoubleVector(), 0.0, "row " + r);
        }
        // A float NCHW input goes through Pare's own im2col (columns), widened: exactly the loop's rows of its values.
        INDArray floats = x.castTo(DataType.FLOAT);
        double[][] expectedFromFloats = directIm2col(k, floats);
        INDArray fromFloat = cc.rows(floats);
        assertArrayEquals(new long[] {expected.length, cc.columns()}, fromFloat.shape());
        for (int r = 0; r < expected.length; r++) {
            assertArrayEquals(expectedFromFloats[r], fromFloat.getRow(r).toDoubleVector(), 0.0, "float input, row " + r);
        }
        assertTrue(fromFloat.equalsWithEps(rows, 1e-6), "float input");
    }

    /** A float input whose im2col matrix is built in several chunks of examples gives libnd4j's im2col of it. */
    @Test
    void floatRowsBuiltInChunksAreLibnd4jsIm2col() {
        // 5×5 kernel over 28×28: 14,400 values per example, so chunks of 277 examples, 300 examples in two.
        ConvColumns cc = new ConvColumns(1, new int[] {5, 5}, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1},
                ConvolutionMode.Truncate, null);
        INDArray floats = Nd4j.create(uniform(9, 300 * 784), new long[] {300, 1, 28, 28}, DataType.DOUBLE)
                .castTo(DataType.FLOAT);
        INDArray viaLibnd4j = cc.rows(floats.castTo(DataType.DOUBLE));
        INDArray viaColumns = cc.rows(floats);
        assertEquals(300L * 24 * 24, viaColumns.rows());
        assertArrayEquals(viaLibnd4j.dup('c').data().asDouble(), viaColumns.dup('c').data().asDouble(), 0.0);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void squareSumsMatchDirectLoop(Case k) {
        ConvColumns cc = new ConvColumns(k.c(), k.kernel(), k.stride(), k.padding(), k.dilation(), k.mode(), null);
        INDArray x = input(k, 2);
        double[][] im2col = directIm2col(k, x);
        double[] expected = new double[cc.columns()];
        for (double[] row : im2col) {
            for (int j = 0; j < row.length; j++) {
                expected[j] += row[j] * row[j];
            }
        }
        assertRelClose(expected, cc.squareSums(x), 1e-12, "Σx² per column");
        // A packed float input is read in place (its own loop), any other through a double copy: both agree.
        INDArray floats = x.castTo(DataType.FLOAT);
        assertRelClose(cc.squareSums(floats.castTo(DataType.DOUBLE)), cc.squareSums(floats), 1e-12,
                "Σx² of a packed float input");
        ColumnSquareSums acc = new ColumnSquareSums(cc.squareSums(x), cc.rowCount(x));
        assertEquals(im2col.length, acc.count());
        assertRelClose(expected, acc.sums(), 1e-12, "accumulator sums");
        // and the im2col matrix itself gives the same through ColumnSquareSums
        ColumnSquareSums viaRows = new ColumnSquareSums(cc.columns());
        viaRows.add(cc.rows(x));
        assertRelClose(expected, viaRows.sums(), 1e-12, "Σx² of rows()");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rowsTimesFlatWeightsIsTheDl4jConvolution(Case k) {
        MultiLayerNetwork net = network(k, CNN2DFormat.NCHW);
        ConvColumns cc = ConvColumns.of(config(net));
        assertEquals(k.c() * k.kernel()[0] * k.kernel()[1], cc.columns());
        INDArray x = input(k, 3);
        INDArray y = net.output(x);
        int[] out = cc.outputSize(k.h(), k.w());
        assertArrayEquals(new long[] {N, N_OUT, out[0], out[1]}, y.shape(), "output size as DL4J computes it");

        INDArray w = net.getLayer(0).getParam("W");
        assertArrayEquals(new long[] {N_OUT, k.c(), k.kernel()[0], k.kernel()[1]}, w.shape());
        INDArray wFlat = w.reshape('c', new long[] {N_OUT, cc.columns()});
        INDArray b = net.getLayer(0).getParam("b").reshape(new long[] {1, N_OUT});
        INDArray product = cc.rows(x).mmul(wFlat.transpose()).addRowVector(b); // [N·oH·oW, nOut]
        INDArray asNchw = product.reshape('c', new long[] {N, out[0], out[1], N_OUT}).permute(0, 3, 1, 2);
        assertMaxAbsDiff(y, asNchw, 1e-5);
    }

    @Test
    void nhwcLayerReadsNhwcInput() {
        Case k = cases().filter(c -> c.name().startsWith("Same 2x3")).findFirst().orElseThrow();
        MultiLayerNetwork net = network(k, CNN2DFormat.NHWC);
        ConvColumns cc = ConvColumns.of(config(net));
        assertEquals(CNN2DFormat.NHWC, cc.format());
        INDArray nchw = input(k, 4);
        INDArray nhwc = nchw.permute(0, 2, 3, 1).dup('c');
        ConvColumns nchwColumns = new ConvColumns(k.c(), k.kernel(), k.stride(), k.padding(), k.dilation(),
                k.mode(), CNN2DFormat.NCHW);
        assertEquals(nchwColumns.rows(nchw), cc.rows(nhwc), "same im2col whatever the layout");
        assertArrayEquals(nchwColumns.squareSums(nchw), cc.squareSums(nhwc), 0.0);

        INDArray y = net.output(nhwc); // [N, oH, oW, nOut]
        int[] out = cc.outputSize(k.h(), k.w());
        assertArrayEquals(new long[] {N, out[0], out[1], N_OUT}, y.shape());
        INDArray wFlat = net.getLayer(0).getParam("W").reshape('c', new long[] {N_OUT, cc.columns()});
        INDArray b = net.getLayer(0).getParam("b").reshape(new long[] {1, N_OUT});
        INDArray product = cc.rows(nhwc).mmul(wFlat.transpose()).addRowVector(b);
        assertMaxAbsDiff(y, product.reshape('c', new long[] {N, out[0], out[1], N_OUT}), 1e-5);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cc.rows(nchw));
        assertTrue(e.getMessage().contains("NHWC"), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void bothFloatPassesGiveTheDirectConvolution(Case k) {
        // forward (Pare's im2col and one GEMM), forwardByOp (libnd4j's conv2d op, oneDNN's in a oneDNN
        // build; undilated only) and convolve (the one of the two for the build) against Σ_j im2col[(n, oh, ow), j]·W[o, j] + b[o] from the direct loop, in double.
        ConvColumns cc = new ConvColumns(k.c(), k.kernel(), k.stride(), k.padding(), k.dilation(), k.mode(), null);
        INDArray x = input(k, 5).castTo(DataType.FLOAT);
        double[][] im2col = directIm2col(k, x.castTo(DataType.DOUBLE));
        int cols = cc.columns();
        float[] w = new float[N_OUT * cols];
        double[] u = uniform(6, w.length);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) u[i];
        }
        float[] b = {0.25f, -0.5f, 1.0f};
        INDArray weights = Nd4j.create(w, new long[] {N_OUT, k.c(), k.kernel()[0], k.kernel()[1]}, 'c');
        INDArray bias = Nd4j.create(b, new long[] {1, N_OUT}, 'c');
        int[] out = cc.outputSize(k.h(), k.w());
        for (boolean withBias : new boolean[] {true, false}) {
            double[] expected = new double[N * N_OUT * out[0] * out[1]];
            for (int n = 0; n < N; n++) {
                for (int p = 0; p < out[0] * out[1]; p++) {
                    double[] row = im2col[n * out[0] * out[1] + p];
                    for (int o = 0; o < N_OUT; o++) {
                        double z = withBias ? b[o] : 0;
                        for (int j = 0; j < cols; j++) {
                            z += row[j] * w[o * cols + j];
                        }
                        expected[(n * N_OUT + o) * out[0] * out[1] + p] = z;
                    }
                }
            }
            INDArray want = Nd4j.create(expected, new long[] {N, N_OUT, out[0], out[1]}, 'c');
            INDArray b0 = withBias ? bias : null;
            assertMaxAbsDiff(want, cc.forward(x, weights, b0), 1e-5);
            if (k.dilation()[0] == 1 && k.dilation()[1] == 1) {
                assertMaxAbsDiff(want, cc.forwardByOp(x, weights, b0), 1e-5);
            } else {
                assertThrows(IllegalArgumentException.class, () -> cc.forwardByOp(x, weights, b0));
            }
            assertMaxAbsDiff(want, cc.convolve(x, weights, b0), 1e-5);
        }
    }

    @Test
    void theLoadedNd4jBuildHasOneDnn() {
        // The project's nd4j-native classifier is a oneDNN build, so convolve takes forwardByOp's path.
        assertTrue(ConvColumns.oneDnn(), "ND4J's native library: "
                + org.bytedeco.javacpp.Loader.getLoadedLibraries().get("nd4jcpu"));
    }

    private static void assertMaxAbsDiff(INDArray expected, INDArray actual, double tol) {
        assertArrayEquals(expected.shape(), actual.shape(), "shape");
        double max = Transforms.abs(expected.sub(actual.castTo(expected.dataType())), false).maxNumber().doubleValue();
        assertTrue(max <= tol, "max |difference| " + max + " > " + tol);
    }

    @Test
    void outputSizeAgreesWithDl4jOnAGrid() {
        int checked = 0;
        for (ConvolutionMode mode : new ConvolutionMode[] {ConvolutionMode.Truncate, ConvolutionMode.Strict,
                ConvolutionMode.Same}) {
            for (int in = 1; in <= 9; in++) {
                for (int kSize = 1; kSize <= 3; kSize++) {
                    for (int s = 1; s <= 3; s++) {
                        for (int p = 0; p <= 2; p++) {
                            for (int d = 1; d <= 2; d++) {
                                int height = in;
                                int width = kSize + 2;
                                int[] kernel = {kSize, kSize};
                                int[] stride = {s, 1};
                                int[] padding = {p, 0};
                                int[] dilation = {d, 1};
                                ConvColumns cc = new ConvColumns(1, kernel, stride, padding, dilation, mode, null);
                                INDArray probe = Nd4j.zeros(DataType.FLOAT, 1, 1, height, width);
                                int[] dl4j;
                                try {
                                    dl4j = ConvolutionUtils.getOutputSize(probe, kernel, stride, padding, mode,
                                            dilation, CNN2DFormat.NCHW);
                                } catch (RuntimeException e) {
                                    dl4j = null;
                                }
                                String what = mode + " in " + in + " k " + kSize + " s " + s + " p " + p + " d " + d;
                                // DL4J's Strict branch skips the kernel-fits check and returns sizes <= 0
                                // (e.g. in 1, k 3, s 1 gives -1); no layer can run with those, so refuse them
                                if (dl4j == null || dl4j[0] < 1) {
                                    assertThrows(IllegalArgumentException.class,
                                            () -> cc.outputSize(height, width), what + ": DL4J cannot run it");
                                } else {
                                    assertArrayEquals(dl4j, cc.outputSize(height, width), what);
                                    checked++;
                                }
                            }
                        }
                    }
                }
            }
        }
        assertTrue(checked > 300, "grid must mostly hold valid geometries, checked " + checked);
    }

    @Test
    void invalidGeometryAndInputsAreRefused() {
        int[] one = {1, 1};
        IllegalArgumentException causal = assertThrows(IllegalArgumentException.class,
                () -> new ConvColumns(1, new int[] {2, 2}, one, new int[] {0, 0}, one, ConvolutionMode.Causal, null));
        assertTrue(causal.getMessage().contains("Causal"), causal.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new ConvColumns(1, new int[] {0, 2}, one, new int[] {0, 0}, one, ConvolutionMode.Truncate, null));
        assertThrows(IllegalArgumentException.class,
                () -> new ConvColumns(1, new int[] {2}, one, new int[] {0, 0}, one, ConvolutionMode.Truncate, null));
        assertThrows(IllegalArgumentException.class,
                () -> new ConvColumns(1, one, one, new int[] {-1, 0}, one, ConvolutionMode.Truncate, null));

        ConvColumns strict = new ConvColumns(1, new int[] {3, 3}, new int[] {2, 2}, new int[] {0, 0}, one,
                ConvolutionMode.Strict, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> strict.outputSize(6, 5));
        assertTrue(e.getMessage().contains("Strict") && e.getMessage().contains("stride 2"), e.getMessage());

        ConvColumns cc = new ConvColumns(2, new int[] {3, 3}, one, new int[] {0, 0}, one, ConvolutionMode.Truncate,
                null);
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> cc.squareSums(Nd4j.zeros(DataType.FLOAT, 1, 2, 2, 5)));
        assertTrue(small.getMessage().contains("effective kernel 3"), small.getMessage());
        IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
                () -> cc.rows(Nd4j.zeros(DataType.FLOAT, 1, 3, 5, 5)));
        assertTrue(channels.getMessage().contains("[1, 3, 5, 5]") && channels.getMessage().contains("2 channels"),
                channels.getMessage());
        assertThrows(IllegalArgumentException.class, () -> cc.rows(Nd4j.zeros(DataType.FLOAT, 2, 5, 5)));

        Convolution1DLayer conv1d = new Convolution1DLayer.Builder().kernelSize(3).nIn(2).nOut(2).build();
        IllegalArgumentException sub = assertThrows(IllegalArgumentException.class, () -> ConvColumns.of(conv1d));
        assertTrue(sub.getMessage().contains("Convolution1DLayer"), sub.getMessage());
    }

    @Test
    void emptyBatchGivesNoRowsAndZeroSums() {
        int[] one = {1, 1};
        ConvColumns cc = new ConvColumns(2, new int[] {2, 2}, one, new int[] {1, 1}, one, ConvolutionMode.Truncate,
                null);
        INDArray empty = Nd4j.zeros(DataType.FLOAT, 0, 2, 4, 4);
        assertArrayEquals(new long[] {0, 8}, cc.rows(empty).shape());
        assertArrayEquals(new double[8], cc.squareSums(empty));
        assertEquals(0, cc.rowCount(empty));
    }

    @Test
    void aBatchWhoseOutputOutgrowsOneArrayIsRefusedNamingTheLargestThatFits() {
        // 1000 filters of 5×5 on 28×28: 1000·24·24 = 576,000 output values per example; one array holds
        // (2^31 − 1 − 8) / 4 = 536,870,909 floats, so 932 examples fit and 933 do not.
        ConvColumns cc = new ConvColumns(1, new int[] {5, 5}, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1},
                ConvolutionMode.Truncate, null);
        INDArray w = Nd4j.zeros(DataType.FLOAT, 1000, 1, 5, 5);
        INDArray x = Nd4j.zeros(DataType.FLOAT, 933, 1, 28, 28);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cc.forward(x, w, null));
        assertTrue(e.getMessage().contains("a batch of 933 examples"), e.getMessage());
        assertTrue(e.getMessage().contains("output holds 537,408,000 float values"), e.getMessage());
        assertTrue(e.getMessage().contains("pass at most 932 examples"), e.getMessage());
    }
}
