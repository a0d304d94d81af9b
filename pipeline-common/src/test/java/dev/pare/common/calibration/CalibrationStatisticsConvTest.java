package dev.pare.common.calibration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.TinyNets;
import dev.pare.common.calibration.CalibrationStatistics.LayerStatistics;
import dev.pare.common.model.FusedBackprop;
import dev.pare.common.model.LayerWeights;
import dev.pare.common.model.PrunableLayer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Calibration statistics of a CNN ({@link TinyNets#cnn}: conv1 (layer 0) 3×3, 2 → 4 channels on
 * 6×6 → 4×4; pool1 (1); fc (2) 16 → 8; out (3) 8 → 3), checked against loops over the raw arrays.
 */
class CalibrationStatisticsConvTest {
    private static final int ROWS = 6;
    private static final int C = TinyNets.CNN_CHANNELS;
    private static final int S = TinyNets.CNN_SIZE;
    private static final int OUT = 4;        // conv1 output is 4×4
    private static final int F = 4;          // conv1 filters
    private static final int NIN = C * 3 * 3; // im2col width 18
    private static final Set<Statistic> ALL = EnumSet.of(Statistic.GRAM, Statistic.GRADIENTS,
            Statistic.OUTPUT_ACTIVATIONS);

    private static MultiLayerNetwork net;
    private static INDArray x;
    private static INDArray y;
    private static CalibrationStatistics stats;

    @BeforeAll
    static void setUp() {
        net = TinyNets.cnn(21, DataType.DOUBLE);
        x = TinyNets.toArray(TinyNets.randomRows(22, ROWS, C * S * S)).castTo(DataType.DOUBLE);
        y = TinyNets.oneHot(ROWS, 3, DataType.DOUBLE);
        stats = CalibrationStatistics.emptyFor(net, ALL, Long.MAX_VALUE);
        stats.add(net, x, y, 1);
    }

    /** im2col rows of the conv input by loops: row (n·4 + oh)·4 + ow, column (c·3 + kh)·3 + kw. */
    private static double[][] im2col(INDArray features) {
        int n = (int) features.rows();
        double[][] rows = new double[n * OUT * OUT][NIN];
        for (int r = 0; r < n; r++) {
            for (int oh = 0; oh < OUT; oh++) {
                for (int ow = 0; ow < OUT; ow++) {
                    for (int c = 0; c < C; c++) {
                        for (int kh = 0; kh < 3; kh++) {
                            for (int kw = 0; kw < 3; kw++) {
                                rows[(r * OUT + oh) * OUT + ow][(c * 3 + kh) * 3 + kw] =
                                        features.getDouble(r, (c * S + oh + kh) * S + ow + kw);
                            }
                        }
                    }
                }
            }
        }
        return rows;
    }

    private static void assertRel(double expected, double actual, double rel, String what) {
        assertEquals(expected, actual, rel * Math.max(1e-300, Math.abs(expected)), what);
    }

    private static void assertRel(double[] expected, double[] actual, double rel, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int k = 0; k < expected.length; k++) {
            assertRel(expected[k], actual[k], rel, what + "[" + k + "]");
        }
    }

    @Test
    void theConvLayerIsSurveyedInItsMatrixView() {
        assertEquals(List.of(0, 2, 3), stats.layers().stream().map(LayerStatistics::index).toList());
        PrunableLayer p = stats.layer(0).layer();
        assertEquals(new PrunableLayer(0, "conv1", PrunableLayer.Kind.CONVOLUTION, C, 3, 3, F, false), p);
        assertEquals(16, stats.layer(2).layer().nIn());
        assertEquals(ROWS, stats.samples());
    }

    @Test
    void inputNormsOfTheConvAreIm2colColumnSquareSums() {
        double[][] rows = im2col(x);
        double[] expected = new double[NIN];
        for (double[] r : rows) {
            for (int j = 0; j < NIN; j++) {
                expected[j] += r[j] * r[j];
            }
        }
        ColumnSquareSums got = stats.layer(0).inputSquareSums();
        assertEquals(ROWS * OUT * OUT, got.count(), "one row per example and output position");
        assertRel(expected, got.sums(), 1e-12, "conv1 Σx²");
        // the corner column (c=0, kh=0, kw=0) reads only input rows/columns 0..3 of channel 0
        double corner = 0;
        for (int r = 0; r < ROWS; r++) {
            for (int h = 0; h < OUT; h++) {
                for (int w = 0; w < OUT; w++) {
                    corner += Math.pow(x.getDouble(r, h * S + w), 2);
                }
            }
        }
        assertRel(corner, got.sums()[0], 1e-12, "corner column");
    }

    @Test
    void outputActivationsAreSumsPerChannelOverExamplesAndPositions() {
        List<INDArray> acts = net.feedForward(x, false);
        INDArray conv = acts.get(1);                  // [ROWS, 4, 4, 4]
        double[] abs = new double[F];
        double[] sq = new double[F];
        for (int r = 0; r < ROWS; r++) {
            for (int c = 0; c < F; c++) {
                for (int h = 0; h < OUT; h++) {
                    for (int w = 0; w < OUT; w++) {
                        double a = conv.getDouble(r, c, h, w);
                        abs[c] += Math.abs(a);
                        sq[c] += a * a;
                    }
                }
            }
        }
        UnitActivationSums got = stats.layer(0).outputActivations();
        assertEquals(ROWS * OUT * OUT, got.count());
        assertRel(abs, got.absSums(), 1e-12, "conv1 Σ|a|");
        assertRel(sq, got.squareSums(), 1e-12, "conv1 Σa²");
        assertTrue(sq[0] > 0 && sq[1] > 0 && sq[2] > 0 && sq[3] > 0, "every filter fires somewhere");

        INDArray fc = acts.get(3);                    // [ROWS, 8]
        double[] fcSq = new double[8];
        for (int r = 0; r < ROWS; r++) {
            for (int j = 0; j < 8; j++) {
                fcSq[j] += fc.getDouble(r, j) * fc.getDouble(r, j);
            }
        }
        assertEquals(ROWS, stats.layer(2).outputActivations().count());
        assertRel(fcSq, stats.layer(2).outputActivations().squareSums(), 1e-12, "fc Σa²");
    }

    @Test
    void perExampleGradientsMatchDl4jsBackwardPassAndTheSoftmaxFormula() {
        MultiLayerNetwork ref = net.clone();
        double[] taylor = new double[NIN * F];
        double[] gg = new double[NIN * F];
        double[] outTaylor = new double[8 * 3];
        double[] outGg = new double[8 * 3];
        INDArray w = ref.getLayer(0).getParam("W");
        INDArray wOut = ref.getLayer(3).getParam("W");
        for (int r = 0; r < ROWS; r++) {
            INDArray xr = x.get(NDArrayIndex.interval(r, r + 1), NDArrayIndex.all()).dup();
            INDArray yr = y.get(NDArrayIndex.interval(r, r + 1), NDArrayIndex.all()).dup();
            ref.setInput(xr);
            ref.setLabels(yr);
            ref.computeGradientAndScore();
            INDArray g = ref.gradient().getGradientFor("0_W").dup();
            assertArrayEquals(new long[] {F, C, 3, 3}, g.shape());
            // into the matrix view by hand: row (c·3 + kh)·3 + kw, column o
            for (int o = 0; o < F; o++) {
                for (int c = 0; c < C; c++) {
                    for (int kh = 0; kh < 3; kh++) {
                        for (int kw = 0; kw < 3; kw++) {
                            int k = ((c * 3 + kh) * 3 + kw) * F + o;
                            double gv = g.getDouble(o, c, kh, kw);
                            taylor[k] += Math.abs(w.getDouble(o, c, kh, kw) * gv);
                            gg[k] += gv * gv;
                        }
                    }
                }
            }
            // output layer, independently: softmax + cross-entropy gives dL/dW = h ⊗ (p − y) for one example
            INDArray h = ref.feedForward(xr, false).get(3);
            INDArray p = ref.output(xr);
            for (int i = 0; i < 8; i++) {
                for (int k = 0; k < 3; k++) {
                    double gv = h.getDouble(0, i) * (p.getDouble(0, k) - yr.getDouble(0, k));
                    outTaylor[i * 3 + k] += Math.abs(wOut.getDouble(i, k) * gv);
                    outGg[i * 3 + k] += gv * gv;
                }
            }
        }
        WeightGradientSums conv = stats.layer(0).gradients();
        assertEquals(ROWS, conv.count(), "one gradient sample per example");
        assertArrayEquals(new long[] {NIN, F}, conv.shape());
        assertRel(taylor, conv.taylor(), 1e-12, "conv1 Σ|w·g|");
        assertRel(gg, conv.squareGradientSums(), 1e-12, "conv1 Σg²");
        WeightGradientSums out = stats.layer(3).gradients();
        assertRel(outTaylor, out.taylor(), 1e-9, "out Σ|w·g|");
        assertRel(outGg, out.squareGradientSums(), 1e-9, "out Σg²");
        // gradients exist (a zero vector would make the comparisons above vacuous)
        assertTrue(java.util.Arrays.stream(conv.taylor()).sum() > 1e-3);
    }

    /**
     * A float CNN takes Pare's batched backward pass ({@link FusedBackprop}): its per-example and
     * per-group gradient statistics of every layer equal those of one DL4J backward pass per
     * group, up to float rounding. A group as large as the batch (or larger) takes the backward
     * pass's own weight gradient.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 4, ROWS, 100})
    void floatCnnGradientsFromOneBatchedPassMatchDl4jPerGroup(int group) {
        MultiLayerNetwork f = TinyNets.cnn(21, DataType.FLOAT);
        assertTrue(FusedBackprop.unsupported(f).isEmpty(), "the fused path is what this test covers");
        INDArray xf = x.castTo(DataType.FLOAT);
        INDArray yf = y.castTo(DataType.FLOAT);
        CalibrationStatistics fused = CalibrationStatistics.emptyFor(f, Set.of(Statistic.GRADIENTS), Long.MAX_VALUE);
        fused.add(f, xf, yf, group);

        MultiLayerNetwork ref = f.clone();
        for (int layer : new int[] {0, 2, 3}) {
            PrunableLayer p = fused.layer(layer).layer();
            WeightGradientSums expected = new WeightGradientSums(new long[] {p.nIn(), p.nOut()});
            for (int from = 0; from < ROWS; from += group) {
                int to = Math.min(ROWS, from + group);
                ref.setInput(xf.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()).dup());
                ref.setLabels(yf.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()).dup());
                ref.computeGradientAndScore();
                INDArray g = ref.gradient().getGradientFor(layer + "_W").castTo(DataType.DOUBLE);
                INDArray w = ref.getLayer(layer).getParam("W");
                expected.add(LayerWeights.toMatrixView(w, p), LayerWeights.toMatrixView(g, p));
            }
            WeightGradientSums actual = fused.layer(layer).gradients();
            assertEquals(expected.count(), actual.count(), "layer " + layer + " samples");
            assertRelativeL1(expected.taylor(), actual.taylor(), "layer " + layer + " Σ|w·g|");
            assertRelativeL1(expected.squareGradientSums(), actual.squareGradientSums(), "layer " + layer + " Σg²");
        }
    }

    /**
     * With gradients, a float CNN's input norms come from the fused pass's own layer inputs (no
     * DL4J forward pass): they equal those of the forward-only route, and for the convolution the
     * im2col column sums computed here from the input.
     */
    @Test
    void floatCnnInputNormsFromTheFusedPassMatchTheForwardPass() {
        MultiLayerNetwork f = TinyNets.cnn(21, DataType.FLOAT);
        INDArray xf = x.castTo(DataType.FLOAT);
        CalibrationStatistics fused = CalibrationStatistics.emptyFor(f, Set.of(Statistic.GRADIENTS), Long.MAX_VALUE);
        fused.add(f, xf.get(NDArrayIndex.interval(0, 3), NDArrayIndex.all()),
                y.castTo(DataType.FLOAT).get(NDArrayIndex.interval(0, 3), NDArrayIndex.all()), 2);
        fused.add(f, xf.get(NDArrayIndex.interval(3, ROWS), NDArrayIndex.all()),
                y.castTo(DataType.FLOAT).get(NDArrayIndex.interval(3, ROWS), NDArrayIndex.all()), 2);
        CalibrationStatistics forward = CalibrationStatistics.emptyFor(f);
        forward.add(f, xf);
        assertEquals(ROWS, fused.samples());
        for (int layer : new int[] {0, 2, 3}) {
            ColumnSquareSums a = fused.layer(layer).inputSquareSums();
            ColumnSquareSums b = forward.layer(layer).inputSquareSums();
            assertEquals(b.count(), a.count(), "layer " + layer + " rows");
            assertRel(b.sums(), a.sums(), 1e-6, "layer " + layer + " Σx²");
        }
        double[] expected = new double[NIN];
        for (double[] r : im2col(xf.castTo(DataType.DOUBLE))) {
            for (int j = 0; j < NIN; j++) {
                expected[j] += r[j] * r[j];
            }
        }
        assertEquals(ROWS * OUT * OUT, fused.layer(0).inputSquareSums().count());
        assertRel(expected, fused.layer(0).inputSquareSums().sums(), 1e-12, "conv1 Σx² from the im2col rows");
    }

    /** {@code Σ|e − a| ≤ 1e-5·Σ|e|}, with {@code Σ|e| > 0}. */
    private static void assertRelativeL1(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        double diff = 0;
        double norm = 0;
        for (int k = 0; k < expected.length; k++) {
            diff += Math.abs(expected[k] - actual[k]);
            norm += Math.abs(expected[k]);
        }
        assertTrue(norm > 1e-6, what + " must not be zero");
        assertTrue(diff <= 1e-5 * norm, what + ": relative L1 difference " + diff / norm);
    }

    @Test
    void gramOfTheConvIsXtXOfTheIm2colRows() {
        double[][] rows = im2col(x);
        GramMatrix g = stats.layer(0).gram();
        assertEquals(NIN, g.dimension());
        assertEquals(ROWS * OUT * OUT, g.count());
        double[][] got = g.sums();
        for (int i = 0; i < NIN; i++) {
            for (int j = 0; j < NIN; j++) {
                double e = 0;
                for (double[] r : rows) {
                    e += r[i] * r[j];
                }
                assertEquals(e, got[i][j], 1e-12 * Math.max(1, Math.abs(e)), "XᵀX[" + i + "][" + j + "]");
            }
        }
        // the dense layer's Gram is over the flattened pooled maps
        INDArray flat = net.feedForward(x, false).get(2).dup('c').reshape('c', ROWS, 16);
        double[][] fc = stats.layer(2).gram().sums();
        for (int i = 0; i < 16; i++) {
            for (int j = 0; j < 16; j++) {
                double e = 0;
                for (int r = 0; r < ROWS; r++) {
                    e += flat.getDouble(r, i) * flat.getDouble(r, j);
                }
                assertEquals(e, fc[i][j], 1e-12 * Math.max(1, Math.abs(e)), "fc XᵀX[" + i + "][" + j + "]");
            }
        }
    }

    @Test
    void writeThenReadGivesTheSameStatisticsIncludingGramFiles() throws IOException {
        Map<String, ByteArrayOutputStream> files = new TreeMap<>();
        stats.write(name -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            files.put(name, out);
            return out;
        });
        assertEquals(Set.of("statistics.json", "gram-0.bin", "gram-2.bin", "gram-3.bin"), files.keySet());
        // magic, version, d, count, d² doubles
        assertEquals(8 + 4 + 4 + 8 + 8 * NIN * NIN, files.get("gram-0.bin").size());

        CalibrationStatistics back = CalibrationStatistics.read(name -> {
            ByteArrayOutputStream f = files.get(name);
            if (f == null) {
                throw new FileNotFoundException(name);
            }
            return new ByteArrayInputStream(f.toByteArray());
        }, "mem");
        assertEquals(stats, back);
        assertEquals(stats.computed(), back.computed());
        assertEquals(ROWS, back.samples());
        for (LayerStatistics a : stats.layers()) {
            LayerStatistics b = back.layer(a.index());
            String l = "layer " + a.name();
            assertEquals(a.layer(), b.layer(), l);
            assertEquals(a.inputSquareSums().count(), b.inputSquareSums().count(), l);
            assertArrayEquals(a.inputSquareSums().sums(), b.inputSquareSums().sums(), l);
            assertEquals(a.gram().count(), b.gram().count(), l);
            assertArrayEquals(a.gram().sums(), b.gram().sums(), l + " gram");
            assertEquals(a.gradients().count(), b.gradients().count(), l);
            assertArrayEquals(a.gradients().shape(), b.gradients().shape(), l);
            assertArrayEquals(a.gradients().taylor(), b.gradients().taylor(), l);
            assertArrayEquals(a.gradients().squareGradientSums(), b.gradients().squareGradientSums(), l);
            assertEquals(a.outputActivations().count(), b.outputActivations().count(), l);
            assertArrayEquals(a.outputActivations().absSums(), b.outputActivations().absSums(), l);
            assertArrayEquals(a.outputActivations().squareSums(), b.outputActivations().squareSums(), l);
            assertNull(b.cosine(), l + ": no layer of this CNN keeps its shape");
        }

        // a missing gram file is an error naming the folder and the file, not a silently absent statistic
        files.remove("gram-2.bin");
        assertThrows(IOException.class, () -> CalibrationStatistics.read(name -> {
            ByteArrayOutputStream f = files.get(name);
            if (f == null) {
                throw new FileNotFoundException("mem/" + name);
            }
            return new ByteArrayInputStream(f.toByteArray());
        }, "mem"));
    }

    @Test
    void perExampleGradientsThroughBatchNormalizationAreRefused() {
        MultiLayerNetwork bn = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(4)
                .dataType(DataType.DOUBLE)
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3).name("conv1").nOut(2).activation(Activation.RELU).build())
                .layer(new BatchNormalization.Builder().name("norm1").build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(S, S, C))
                .build());
        bn.init();
        CalibrationStatistics s = CalibrationStatistics.emptyFor(bn, Set.of(Statistic.GRADIENTS), Long.MAX_VALUE);
        String msg = assertThrows(IllegalArgumentException.class, () -> s.add(bn, x, y, 1)).getMessage();
        assertTrue(msg.contains("norm1") && msg.contains("BatchNormalization")
                && msg.contains("calibration.gradient-batch-size"), msg);
        // a refused batch adds nothing: the forward statistics must not run ahead of the gradients
        assertEquals(0, s.samples());
        assertEquals(0, s.layer(0).inputSquareSums().count());
        assertEquals(0, s.layer(0).gradients().count());

        // batches of 3 are fine: ROWS / 3 gradient samples
        CalibrationStatistics ok = CalibrationStatistics.emptyFor(bn, Set.of(Statistic.GRADIENTS), Long.MAX_VALUE);
        ok.add(bn, x, y, 3);
        assertEquals(2, ok.layer(0).gradients().count());
    }

    @Test
    void invalidGradientBatchesAreRefusedBeforeAnythingIsAdded() {
        CalibrationStatistics s = CalibrationStatistics.emptyFor(net, Set.of(Statistic.GRADIENTS), Long.MAX_VALUE);
        String noLabels = assertThrows(IllegalArgumentException.class, () -> s.add(net, x, null, 1)).getMessage();
        assertTrue(noLabels.contains("label"), noLabels);
        INDArray tooFew = y.get(NDArrayIndex.interval(0, 2), NDArrayIndex.all()).dup();
        assertThrows(IllegalArgumentException.class, () -> s.add(net, x, tooFew, 1));
        // 0 would never advance through the batch
        String zero = assertThrows(IllegalArgumentException.class, () -> s.add(net, x, y, 0)).getMessage();
        assertTrue(zero.contains("0"), zero);
        assertEquals(0, s.samples());
        assertEquals(0, s.layer(0).inputSquareSums().count());
        // without GRADIENTS, labels are not needed
        CalibrationStatistics forward = CalibrationStatistics.emptyFor(net);
        forward.add(net, x, null, 0);
        assertEquals(ROWS, forward.samples());
    }

    @Test
    void gramMemoryAboveTheLimitIsRefused() {
        // 8·(18² + 16² + 8²) = 5152 bytes for conv1, fc and out
        long needed = 8L * (NIN * NIN + 16 * 16 + 8 * 8);
        String msg = assertThrows(IllegalArgumentException.class,
                () -> CalibrationStatistics.emptyFor(net, Set.of(Statistic.GRAM), needed - 1)).getMessage();
        assertTrue(msg.contains("calibration.max-gram-bytes") && msg.contains(Long.toString(needed))
                && msg.contains("conv1 18"), msg);
        assertEquals(NIN, CalibrationStatistics.emptyFor(net, Set.of(Statistic.GRAM), needed).layer(0).gram()
                .dimension());
        // without GRAM the limit does not apply
        assertNull(CalibrationStatistics.emptyFor(net, Set.of(Statistic.GRADIENTS), 0).layer(0).gram());
    }

    @Test
    void mergingTwoHalvesEqualsTheWhole() {
        int half = ROWS / 2;
        INDArray x1 = x.get(NDArrayIndex.interval(0, half), NDArrayIndex.all()).dup();
        INDArray x2 = x.get(NDArrayIndex.interval(half, ROWS), NDArrayIndex.all()).dup();
        INDArray y1 = y.get(NDArrayIndex.interval(0, half), NDArrayIndex.all()).dup();
        INDArray y2 = y.get(NDArrayIndex.interval(half, ROWS), NDArrayIndex.all()).dup();
        CalibrationStatistics a = CalibrationStatistics.emptyFor(net, ALL, Long.MAX_VALUE);
        a.add(net, x1, y1, 1);
        CalibrationStatistics b = CalibrationStatistics.emptyFor(net, ALL, Long.MAX_VALUE);
        b.add(net, x2, y2, 1);
        CalibrationStatistics merged = CalibrationStatistics.mergeInOrder(List.of(a, b));
        assertEquals(half, a.samples(), "mergeInOrder leaves its parts alone");
        assertEquals(ROWS, merged.samples());
        for (LayerStatistics w : stats.layers()) {
            LayerStatistics m = merged.layer(w.index());
            String l = "layer " + w.name();
            assertEquals(w.inputSquareSums().count(), m.inputSquareSums().count(), l);
            assertRel(w.inputSquareSums().sums(), m.inputSquareSums().sums(), 1e-12, l + " Σx²");
            assertEquals(w.gram().count(), m.gram().count(), l);
            double[][] gw = w.gram().sums();
            double[][] gm = m.gram().sums();
            for (int i = 0; i < gw.length; i++) {
                for (int j = 0; j < gw.length; j++) {
                    assertEquals(gw[i][j], gm[i][j], 1e-12 * Math.max(1, Math.abs(gw[i][j])), l + " gram");
                }
            }
            assertEquals(w.gradients().count(), m.gradients().count(), l);
            assertRel(w.gradients().taylor(), m.gradients().taylor(), 1e-12, l + " taylor");
            assertRel(w.gradients().squareGradientSums(), m.gradients().squareGradientSums(), 1e-12, l + " Σg²");
            assertEquals(w.outputActivations().count(), m.outputActivations().count(), l);
            assertRel(w.outputActivations().absSums(), m.outputActivations().absSums(), 1e-12, l + " Σ|a|");
            assertRel(w.outputActivations().squareSums(), m.outputActivations().squareSums(), 1e-12, l + " Σa²");
        }
        // statistics of another kind do not merge
        CalibrationStatistics normsOnly = CalibrationStatistics.emptyFor(net);
        assertThrows(IllegalArgumentException.class, () -> merged.merge(normsOnly));
    }
}
