package dev.pare.common.surgery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.TinyNets;
import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.calibration.Statistic;
import dev.pare.common.importance.Criteria;
import dev.pare.common.sparsity.LayerFilter;
import dev.pare.common.sparsity.LayerMask;
import dev.pare.common.sparsity.SparsityAllocation;
import dev.pare.common.sparsity.SparsityPattern;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * OneShotPruner's patterns and allocations on a seeded MLP 16-12-8-4 (fc1 0, fc2 1, out 2) and
 * the CNN of {@link TinyNets#cnn} (conv1 0, pool1 1, fc 2, out 3); every expectation is computed
 * here from the teacher's weights and the calibration rows.
 */
class OneShotPrunerPatternsTest {
    private static final int ROWS = 64;

    private static MultiLayerNetwork mlp() {
        return TinyNets.dense(31, 16, 12, 8, 4);
    }

    private static INDArray mlpRows() {
        return TinyNets.toArray(TinyNets.randomRows(32, ROWS, 16));
    }

    private static PruneSettings settings(Criteria c, SparsityPattern pattern, double sparsity,
                                          SparsityAllocation.Method allocation, LayerFilter filter,
                                          boolean pruneOutput, int removeLayers) {
        return new PruneSettings(c, pattern, sparsity, 2, 4, allocation, SparsityAllocation.OwlParameters.DEFAULTS,
                filter, pruneOutput, removeLayers, SparseGpt.DEFAULT_BLOCK_SIZE, SparseGpt.DEFAULT_DAMP_FRACTION);
    }

    private static PruneSettings unstructured(Criteria c, double sparsity, SparsityAllocation.Method allocation,
                                              boolean pruneOutput) {
        return settings(c, SparsityPattern.UNSTRUCTURED, sparsity, allocation, LayerFilter.all(), pruneOutput, 1);
    }

    private static CalibrationStatistics calibrate(MultiLayerNetwork net, INDArray x, Set<Statistic> s) {
        CalibrationStatistics stats = CalibrationStatistics.emptyFor(net, s, Long.MAX_VALUE);
        stats.add(net, x);
        return stats;
    }

    private static double[][] w(MultiLayerNetwork net, int layer) {
        return net.getLayer(layer).getParam("W").castTo(DataType.DOUBLE).toDoubleMatrix();
    }

    private static double maxAbsDiff(INDArray a, INDArray b) {
        assertArrayEquals(a.shape(), b.shape());
        return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    }

    /** Column L2 norms of {@code x} ({@code [rows][cols]}) by a plain loop. */
    private static double[] columnNorms(double[][] x) {
        double[] n = new double[x[0].length];
        for (double[] row : x) {
            for (int j = 0; j < n.length; j++) {
                n[j] += row[j] * row[j];
            }
        }
        for (int j = 0; j < n.length; j++) {
            n[j] = Math.sqrt(n[j]);
        }
        return n;
    }

    /** Indices of the {@code k} largest values, sorted ascending (values are distinct in these tests). */
    private static int[] largest(double[] v, int k) {
        return IntStream.range(0, v.length).boxed().sorted(Comparator.comparingDouble((Integer i) -> -v[i]))
                .limit(k).mapToInt(Integer::intValue).sorted().toArray();
    }

    /** Kept weights equal the teacher's, pruned ones are exactly 0; returns the number pruned. */
    private static int checkMasked(double[][] teacher, double[][] student, LayerMask mask) {
        int pruned = 0;
        for (int i = 0; i < teacher.length; i++) {
            for (int j = 0; j < teacher[i].length; j++) {
                if (mask.kept(i, j)) {
                    assertEquals(teacher[i][j], student[i][j], 0.0, mask.name() + " kept w[" + i + "][" + j + "]");
                } else {
                    assertEquals(0.0, student[i][j], 0.0, mask.name() + " pruned w[" + i + "][" + j + "]");
                    pruned++;
                }
            }
        }
        return pruned;
    }

    // ---- n-of-m -------------------------------------------------------------------------------

    @Test
    void twoOfFourKeepsTheTwoLargestOfEveryGroupOfFourInputs() {
        MultiLayerNetwork teacher = mlp();
        PrunedModel p = OneShotPruner.prune(teacher, null,
                settings(Criteria.MAGNITUDE, SparsityPattern.N_OF_M, 0, SparsityAllocation.Method.UNIFORM,
                        LayerFilter.all(), true, 1));
        assertTrue(p.skipped().isEmpty(), p.skipped().toString());
        assertEquals(List.of(0, 1, 2), p.masks().layers().stream().map(LayerMask::index).toList());
        for (int l = 0; l < 3; l++) {
            double[][] t = w(teacher, l);
            double[][] s = w(p.network(), l);
            for (int j = 0; j < t[0].length; j++) {
                for (int g = 0; g < t.length; g += 4) {
                    int zeros = 0;
                    double[] abs = new double[4];
                    for (int k = 0; k < 4; k++) {
                        zeros += s[g + k][j] == 0.0 ? 1 : 0;
                        abs[k] = Math.abs(t[g + k][j]);
                    }
                    assertEquals(2, zeros, "layer " + l + " output " + j + " group " + g / 4);
                    for (int k : largest(abs, 2)) {
                        assertEquals(t[g + k][j], s[g + k][j], 0.0, "the two largest stay");
                    }
                }
            }
            assertEquals(0.5, p.masks().layers().get(l).sparsity(), 0.0);
            assertEquals(0.5, p.layers().get(l).target(), 0.0);
        }
    }

    @Test
    void twoOfFourWithWandaRanksInputsByWeightTimesInputNorm() {
        MultiLayerNetwork teacher = mlp();
        INDArray x = mlpRows();
        CalibrationStatistics stats = calibrate(teacher, x, Set.of());
        PrunedModel p = OneShotPruner.prune(teacher, stats,
                settings(Criteria.WANDA, SparsityPattern.N_OF_M, 0, SparsityAllocation.Method.UNIFORM,
                        LayerFilter.all(), false, 1));
        double[] norms = columnNorms(x.castTo(DataType.DOUBLE).toDoubleMatrix());
        double[][] t = w(teacher, 0);
        LayerMask mask = p.masks().layers().get(0);
        for (int j = 0; j < 12; j++) {
            for (int g = 0; g < 16; g += 4) {
                double[] score = new double[4];
                for (int k = 0; k < 4; k++) {
                    score[k] = Math.abs(t[g + k][j]) * norms[g + k];
                }
                int[] keep = largest(score, 2);
                for (int k = 0; k < 4; k++) {
                    boolean expected = k == keep[0] || k == keep[1];
                    assertEquals(expected, mask.kept(g + k, j), "fc1 w[" + (g + k) + "][" + j + "]");
                }
            }
        }
        assertEquals(96, checkMasked(t, w(p.network(), 0), mask));
    }

    @Test
    void sparseGptTwoOfFourLeavesExactlyTwoOfEveryFourInputs() {
        MultiLayerNetwork teacher = mlp();
        CalibrationStatistics stats = calibrate(teacher, correlatedRows(52, ROWS, 16), Set.of(Statistic.GRAM));
        PrunedModel p = OneShotPruner.prune(teacher, stats,
                settings(Criteria.SPARSEGPT, SparsityPattern.N_OF_M, 0, SparsityAllocation.Method.UNIFORM,
                        LayerFilter.all(), false, 1));
        assertEquals(List.of(0, 1), p.masks().layers().stream().map(LayerMask::index).toList());
        for (int l = 0; l < 2; l++) {
            double[][] s = w(p.network(), l);
            LayerMask mask = p.masks().layers().get(l);
            for (int j = 0; j < s[0].length; j++) {
                for (int g = 0; g < s.length; g += 4) {
                    int zeros = 0;
                    for (int k = 0; k < 4; k++) {
                        zeros += s[g + k][j] == 0.0 ? 1 : 0;
                        assertEquals(mask.kept(g + k, j), s[g + k][j] != 0.0, "mask and weights agree");
                    }
                    assertEquals(2, zeros, "layer " + l + " output " + j + " group " + g / 4);
                }
            }
        }
    }

    @Test
    void aLayerWhoseWidthIsNotAMultipleOfMIsSkippedAndReported() {
        // 16-12-6-4: out reads 6 inputs
        MultiLayerNetwork teacher = TinyNets.dense(33, 16, 12, 6, 4);
        PrunedModel p = OneShotPruner.prune(teacher, null,
                settings(Criteria.MAGNITUDE, SparsityPattern.N_OF_M, 0, SparsityAllocation.Method.UNIFORM,
                        LayerFilter.all(), true, 1));
        assertEquals(List.of(0, 1), p.masks().layers().stream().map(LayerMask::index).toList());
        assertEquals(1, p.skipped().size(), p.skipped().toString());
        String why = p.skipped().get(0);
        assertTrue(why.startsWith("out") && why.contains("6") && why.contains("m = 4"), why);
        assertArrayEquals(w(teacher, 2), w(p.network(), 2), "the skipped layer is untouched");
        assertEquals(0.5, p.masks().layers().get(1).sparsity(), 0.0);
    }

    // ---- allocation ------------------------------------------------------------------------------

    @Test
    void globalMagnitudeKeepsTheLargestWeightsAcrossAllLayers() {
        MultiLayerNetwork teacher = mlp();
        double s = 0.6;
        PrunedModel p = OneShotPruner.prune(teacher, null,
                unstructured(Criteria.MAGNITUDE, s, SparsityAllocation.Method.GLOBAL, true));
        List<Double> all = new ArrayList<>();
        for (int l = 0; l < 3; l++) {
            for (double[] row : w(teacher, l)) {
                for (double v : row) {
                    all.add(Math.abs(v));
                }
            }
        }
        assertEquals(16 * 12 + 12 * 8 + 8 * 4, all.size());
        all.sort(null);
        int pruned = (int) Math.round(s * all.size());      // 192 of 320
        double smallestKept = all.get(pruned);
        assertTrue(all.get(pruned - 1) < smallestKept, "no tie at the threshold, so the kept set is unique");
        double[] layerSparsity = new double[3];
        for (int l = 0; l < 3; l++) {
            double[][] t = w(teacher, l);
            LayerMask mask = p.masks().layers().get(l);
            for (int i = 0; i < t.length; i++) {
                for (int j = 0; j < t[i].length; j++) {
                    assertEquals(Math.abs(t[i][j]) >= smallestKept, mask.kept(i, j), "layer " + l + " w[" + i + "][" + j + "]");
                }
            }
            layerSparsity[l] = (double) checkMasked(t, w(p.network(), l), mask) / mask.size();
        }
        assertEquals(s, p.masks().sparsity(), 0.005);
        assertEquals((double) pruned / all.size(), p.masks().sparsity(), 1e-15);
        assertTrue(layerSparsity[0] != layerSparsity[1] || layerSparsity[1] != layerSparsity[2],
                "one global threshold prunes layers of different scales unevenly: " + Arrays.toString(layerSparsity));
    }

    @Test
    void outlierWeightedTargetsStayInTheBandAndAverageToTheTarget() {
        MultiLayerNetwork teacher = mlp();
        INDArray x = mlpRows();
        CalibrationStatistics stats = calibrate(teacher, x, Set.of());
        double s = 0.5;
        double m = 2;        // small enough that these tiny layers have outliers
        double band = 0.1;
        PruneSettings settings = new PruneSettings(Criteria.MAGNITUDE, SparsityPattern.UNSTRUCTURED, s, 2, 4,
                SparsityAllocation.Method.OUTLIER_WEIGHTED, new SparsityAllocation.OwlParameters(m, band),
                LayerFilter.all(), true, 1, SparseGpt.DEFAULT_BLOCK_SIZE, SparseGpt.DEFAULT_DAMP_FRACTION);
        PrunedModel p = OneShotPruner.prune(teacher, stats, settings);

        // OWL's outlier ratio from Wanda scores |W_ij|·‖X_i‖, the input norms taken from feedForward
        List<INDArray> acts = teacher.feedForward(x, false);
        double[] d = new double[3];
        double[] n = new double[3];
        double[] t = new double[3];
        long expectedPruned = 0;
        for (int l = 0; l < 3; l++) {
            double[] norms = columnNorms(acts.get(l).castTo(DataType.DOUBLE).toDoubleMatrix());
            double[][] wl = w(teacher, l);
            double sum = 0;
            List<Double> scores = new ArrayList<>();
            for (int i = 0; i < wl.length; i++) {
                for (int j = 0; j < wl[i].length; j++) {
                    scores.add(Math.abs(wl[i][j]) * norms[i]);
                    sum += Math.abs(wl[i][j]) * norms[i];
                }
            }
            double cut = m * sum / scores.size();
            d[l] = scores.stream().filter(v -> v > cut).count() / (double) scores.size();
            n[l] = scores.size();
            LayerReport r = p.layers().get(l);
            assertEquals(d[l], r.outlierRatio(), 1e-12, "outlier ratio of layer " + l);
            t[l] = r.target();
            assertTrue(t[l] >= s - band - 1e-12 && t[l] <= s + band + 1e-12, "layer " + l + " target " + t[l]);
            // magnitude compares across the layer: round(t·n) weights go
            long prunedHere = Math.round(t[l] * n[l]);
            assertEquals(prunedHere, checkMasked(wl, w(p.network(), l), p.masks().layers().get(l)), "layer " + l);
            expectedPruned += prunedHere;
        }
        assertFalse(d[0] == d[1] && d[1] == d[2], "the layers must differ in outliers for this test: " + Arrays.toString(d));
        assertEquals(s, (t[0] * n[0] + t[1] * n[1] + t[2] * n[2]) / (n[0] + n[1] + n[2]), 1e-9);
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                if (d[a] > d[b]) {
                    assertTrue(t[a] <= t[b], "more outliers, less pruning: D " + Arrays.toString(d) + " targets "
                            + Arrays.toString(t));
                }
            }
        }
        assertFalse(t[0] == t[1] && t[1] == t[2], "targets differ: " + Arrays.toString(t));
        assertEquals(expectedPruned / 320.0, p.masks().sparsity(), 1e-15);
        assertEquals(s, p.masks().sparsity(), 0.005);
    }

    @Test
    void excludedLayersAreUntouchedAndListed() {
        MultiLayerNetwork teacher = mlp();
        PrunedModel p = OneShotPruner.prune(teacher, null, settings(Criteria.MAGNITUDE, SparsityPattern.UNSTRUCTURED, 0.5,
                SparsityAllocation.Method.UNIFORM, LayerFilter.of(List.of(), List.of("fc2")), true, 1));
        assertEquals(List.of(0, 2), p.masks().layers().stream().map(LayerMask::index).toList());
        assertArrayEquals(w(teacher, 1), w(p.network(), 1));
        assertEquals(1, p.skipped().size(), p.skipped().toString());
        assertTrue(p.skipped().get(0).startsWith("fc2") && p.skipped().get(0).contains("exclude"), p.skipped().get(0));
        assertEquals(96, checkMasked(w(teacher, 0), w(p.network(), 0), p.masks().layers().get(0)));

        // include fc* with the output layer allowed: out is left out, by the filter
        PrunedModel q = OneShotPruner.prune(teacher, null, settings(Criteria.MAGNITUDE, SparsityPattern.UNSTRUCTURED,
                0.5, SparsityAllocation.Method.UNIFORM, LayerFilter.of(List.of("fc*"), List.of()), true, 1));
        assertEquals(List.of(0, 1), q.masks().layers().stream().map(LayerMask::index).toList());
        assertArrayEquals(w(teacher, 2), w(q.network(), 2));
        assertTrue(q.skipped().size() == 1 && q.skipped().get(0).startsWith("out")
                && q.skipped().get(0).contains("not selected"), q.skipped().toString());
    }

    @Test
    void taylorThroughThePrunerKeepsTheLargestGradientScoresOfEachLayer() {
        MultiLayerNetwork teacher = mlp();
        CalibrationStatistics stats = CalibrationStatistics.emptyFor(teacher, Set.of(Statistic.GRADIENTS), Long.MAX_VALUE);
        stats.add(teacher, mlpRows(), TinyNets.oneHot(ROWS, 4, DataType.FLOAT), 8);
        PrunedModel p = OneShotPruner.prune(teacher, stats, unstructured(Criteria.TAYLOR, 0.5,
                SparsityAllocation.Method.UNIFORM, false));
        for (int l = 0; l < 2; l++) {
            double[] taylor = stats.layer(l).gradients().taylor();     // row-major [nIn·nOut]
            double[] sorted = taylor.clone();
            Arrays.sort(sorted);
            int k = taylor.length / 2;
            assertTrue(sorted[k - 1] < sorted[k], "no tie at the threshold");
            LayerMask mask = p.masks().layers().get(l);
            int nOut = mask.nOut();
            for (int idx = 0; idx < taylor.length; idx++) {
                assertEquals(taylor[idx] >= sorted[k], mask.kept(idx / nOut, idx % nOut), "layer " + l + " weight " + idx);
            }
        }
        // statistics without gradients are refused, naming what is missing
        String msg = assertThrows(IllegalArgumentException.class, () -> OneShotPruner.prune(teacher,
                calibrate(teacher, mlpRows(), Set.of()), unstructured(Criteria.TAYLOR, 0.5,
                        SparsityAllocation.Method.UNIFORM, false))).getMessage();
        assertTrue(msg.contains("taylor") && msg.contains("GRADIENTS"), msg);
    }

    // ---- structured ------------------------------------------------------------------------------

    @Test
    void structuredMagnitudeRemovesTheUnitsWithTheSmallestL1Norms() {
        MultiLayerNetwork teacher = mlp();
        INDArray before = teacher.params().dup();
        PrunedModel p = OneShotPruner.prune(teacher, null, settings(Criteria.MAGNITUDE, SparsityPattern.STRUCTURED, 0.5,
                SparsityAllocation.Method.UNIFORM, LayerFilter.all(), false, 1));
        MultiLayerNetwork student = p.network();
        assertEquals(0.0, maxAbsDiff(before, teacher.params()), "the teacher is not modified");
        assertTrue(p.masks().layers().isEmpty());

        int[][] kept = new int[2][];
        for (int l = 0; l < 2; l++) {
            double[][] t = w(teacher, l);
            double[] l1 = new double[t[0].length];
            for (double[] row : t) {
                for (int j = 0; j < l1.length; j++) {
                    l1[j] += Math.abs(row[j]);
                }
            }
            kept[l] = largest(l1, l1.length - (int) Math.round(0.5 * l1.length));
        }
        assertEquals(6, kept[0].length);
        assertEquals(4, kept[1].length);
        assertArrayEquals(new long[] {16, 6}, student.getLayer(0).getParam("W").shape());
        assertArrayEquals(new long[] {6, 4}, student.getLayer(1).getParam("W").shape());
        assertArrayEquals(new long[] {4, 4}, student.getLayer(2).getParam("W").shape(), "classes stay");
        assertEquals(16 * 6 + 6 + 6 * 4 + 4 + 4 * 4 + 4, student.numParams());

        double[][] t1 = w(teacher, 1);
        double[][] s1 = w(student, 1);
        for (int a = 0; a < 6; a++) {
            for (int b = 0; b < 4; b++) {
                assertEquals(t1[kept[0][a]][kept[1][b]], s1[a][b], 0.0, "fc2 keeps the kept units' weights");
            }
        }

        // reference: the teacher with the removed units' outgoing weights zeroed
        MultiLayerNetwork ref = teacher.clone();
        for (int l = 0; l < 2; l++) {
            INDArray next = ref.getLayer(l + 1).getParam("W");
            for (int u = 0; u < next.rows(); u++) {
                if (Arrays.binarySearch(kept[l], u) < 0) {
                    next.getRow(u).assign(0);
                }
            }
        }
        INDArray x = mlpRows();
        assertTrue(maxAbsDiff(teacher.output(x), ref.output(x)) > 1e-4, "the removed units matter");
        double diff = maxAbsDiff(ref.output(x), student.output(x));
        assertTrue(diff < 1e-5, "max |reference − student| = " + diff);

        LayerReport r0 = p.layers().get(0);
        assertEquals(12, r0.unitsBefore());
        assertEquals(6, r0.nOut());
        assertEquals(16 * 6, r0.kept());
    }

    @Test
    void structuredActivationRemovesTheUnitsWithTheSmallestMeanSquaredOutput() {
        MultiLayerNetwork teacher = mlp();
        INDArray x = mlpRows();
        CalibrationStatistics stats = calibrate(teacher, x, Set.of(Statistic.OUTPUT_ACTIVATIONS));
        PrunedModel p = OneShotPruner.prune(teacher, stats, settings(Criteria.ACTIVATION, SparsityPattern.STRUCTURED,
                0.25, SparsityAllocation.Method.UNIFORM, LayerFilter.all(), false, 1));
        List<INDArray> acts = teacher.feedForward(x, false);
        int[] widths = {12, 8};
        int[][] kept = new int[2][];
        for (int l = 0; l < 2; l++) {
            double[][] a = acts.get(l + 1).castTo(DataType.DOUBLE).toDoubleMatrix();
            double[] meanSquare = new double[widths[l]];
            for (double[] row : a) {
                for (int j = 0; j < widths[l]; j++) {
                    meanSquare[j] += row[j] * row[j] / ROWS;
                }
            }
            kept[l] = largest(meanSquare, widths[l] - (int) Math.round(0.25 * widths[l]));  // 9 and 6 stay
        }
        double[][] t0 = w(teacher, 0);
        double[][] s0 = w(p.network(), 0);
        assertEquals(9, s0[0].length);
        for (int i = 0; i < 16; i++) {
            for (int a = 0; a < 9; a++) {
                assertEquals(t0[i][kept[0][a]], s0[i][a], 0.0, "fc1 keeps unit " + kept[0][a]);
            }
        }
        double[][] t1 = w(teacher, 1);
        double[][] s1 = w(p.network(), 1);
        assertEquals(6, s1[0].length);
        for (int a = 0; a < 9; a++) {
            for (int b = 0; b < 6; b++) {
                assertEquals(t1[kept[0][a]][kept[1][b]], s1[a][b], 0.0);
            }
        }
    }

    @Test
    void structuredOnTheCnnRemovesFiltersAndTheNetworkStillRuns() {
        MultiLayerNetwork teacher = TinyNets.cnn(35, DataType.FLOAT);
        PrunedModel p = OneShotPruner.prune(teacher, null, settings(Criteria.MAGNITUDE, SparsityPattern.STRUCTURED, 0.5,
                SparsityAllocation.Method.UNIFORM, LayerFilter.all(), false, 1));
        MultiLayerNetwork student = p.network();
        // filter L1 norms over W[o][c][kh][kw]
        INDArray wc = teacher.getLayer(0).getParam("W");
        double[] l1 = new double[4];
        for (int o = 0; o < 4; o++) {
            l1[o] = wc.get(org.nd4j.linalg.indexing.NDArrayIndex.point(o)).castTo(DataType.DOUBLE).norm1Number()
                    .doubleValue();
        }
        int[] keptFilters = largest(l1, 2);
        double[][] tf = w(teacher, 2);
        double[] fcL1 = new double[8];
        for (double[] row : tf) {
            for (int j = 0; j < 8; j++) {
                fcL1[j] += Math.abs(row[j]);
            }
        }
        int[] keptFc = largest(fcL1, 4);

        assertArrayEquals(new long[] {2, 2, 3, 3}, student.getLayer(0).getParam("W").shape());
        assertArrayEquals(new long[] {8, 4}, student.getLayer(2).getParam("W").shape());
        assertEquals(4 * 18 + 4 + 16 * 8 + 8 + 8 * 3 + 3, teacher.numParams());
        assertEquals(2 * 18 + 2 + 8 * 4 + 4 + 4 * 3 + 3, student.numParams());
        for (int a = 0; a < 2; a++) {
            assertEquals(wc.get(org.nd4j.linalg.indexing.NDArrayIndex.point(keptFilters[a])),
                    student.getLayer(0).getParam("W").get(org.nd4j.linalg.indexing.NDArrayIndex.point(a)));
        }

        INDArray x = TinyNets.toArray(TinyNets.randomRows(36, 10, 72));
        INDArray out = student.output(x);
        assertArrayEquals(new long[] {10, 3}, out.shape());
        for (int r = 0; r < 10; r++) {
            assertEquals(1.0, out.getRow(r).sumNumber().doubleValue(), 1e-5);
        }
        // reference: zero fc's inputs from the removed filters (4 pooled positions each) and out's rows of removed fc units
        MultiLayerNetwork ref = teacher.clone();
        INDArray refFc = ref.getLayer(2).getParam("W");
        for (int c = 0; c < 4; c++) {
            if (Arrays.binarySearch(keptFilters, c) < 0) {
                for (int pos = 0; pos < 4; pos++) {
                    refFc.getRow(c * 4 + pos).assign(0);
                }
            }
        }
        INDArray refOut = ref.getLayer(3).getParam("W");
        for (int u = 0; u < 8; u++) {
            if (Arrays.binarySearch(keptFc, u) < 0) {
                refOut.getRow(u).assign(0);
            }
        }
        double diff = maxAbsDiff(ref.output(x), out);
        assertTrue(diff < 1e-5, "max |reference − student| = " + diff);
    }

    // ---- layers -------------------------------------------------------------------------------

    @Test
    void blockInfluenceRemovesTheLayerThatChangesItsInputLeast() {
        // 8-8-8-4: fc1 and fc2 keep their width; fc2 is made close to the identity
        MultiLayerNetwork teacher = TinyNets.dense(41, 8, 8, 8, 4);
        SplittableRandom rnd = new SplittableRandom(42);
        double[][] nearIdentity = new double[8][8];
        for (int i = 0; i < 8; i++) {
            for (int j = 0; j < 8; j++) {
                nearIdentity[i][j] = (i == j ? 1 : 0) + 0.1 * (rnd.nextDouble() - 0.5);
            }
        }
        teacher.getLayer(1).getParam("W").assign(Nd4j.createFromArray(nearIdentity).castTo(DataType.FLOAT));
        INDArray x = TinyNets.toArray(TinyNets.randomRows(43, ROWS, 8));
        CalibrationStatistics stats = calibrate(teacher, x, Set.of(Statistic.COSINE));

        // mean cosine of each layer's input and output, from feedForward
        List<INDArray> acts = teacher.feedForward(x, false);
        double[] meanCos = new double[2];
        for (int l = 0; l < 2; l++) {
            double[][] in = acts.get(l).castTo(DataType.DOUBLE).toDoubleMatrix();
            double[][] out = acts.get(l + 1).castTo(DataType.DOUBLE).toDoubleMatrix();
            for (int r = 0; r < ROWS; r++) {
                double dot = 0;
                double a = 0;
                double b = 0;
                for (int j = 0; j < 8; j++) {
                    dot += in[r][j] * out[r][j];
                    a += in[r][j] * in[r][j];
                    b += out[r][j] * out[r][j];
                }
                meanCos[l] += a == 0 && b == 0 ? 1 : a == 0 || b == 0 ? 0 : dot / Math.sqrt(a * b);
            }
            meanCos[l] /= ROWS;
            assertEquals(meanCos[l], stats.layer(l).cosine().meanCosine(), 1e-6, "layer " + l);
        }
        int removed = meanCos[1] > meanCos[0] ? 1 : 0;
        int stays = 1 - removed;
        assertEquals(1, removed, "fc2 was built to be the more redundant: " + Arrays.toString(meanCos));
        assertTrue(Math.abs(meanCos[0] - meanCos[1]) > 0.05, Arrays.toString(meanCos));

        PrunedModel p = OneShotPruner.prune(teacher, stats, settings(Criteria.BLOCK_INFLUENCE, SparsityPattern.LAYERS, 0,
                SparsityAllocation.Method.UNIFORM, LayerFilter.all(), false, 1));
        MultiLayerNetwork student = p.network();
        assertEquals(2, student.getnLayers());
        assertEquals(List.of("fc" + (stays + 1), "out"), List.of(student.getLayer(0).conf().getLayer().getLayerName(),
                student.getLayer(1).conf().getLayer().getLayerName()));
        assertEquals(teacher.numParams() - (8 * 8 + 8), student.numParams());
        assertEquals(1, p.layers().size());
        assertEquals("fc" + (removed + 1), p.layers().get(0).name());
        assertEquals(1.0, p.layers().get(0).sparsity(), 0.0);

        // the student is the teacher without that layer, computed by hand: out(relu(fc_stays(x)))
        double[][] xs = x.castTo(DataType.DOUBLE).toDoubleMatrix();
        double[][] ws = w(teacher, stays);
        double[] bs = teacher.getLayer(stays).getParam("b").castTo(DataType.DOUBLE).toDoubleVector();
        double[][] wo = w(teacher, 2);  // out
        double[] bo = teacher.getLayer(2).getParam("b").castTo(DataType.DOUBLE).toDoubleVector();
        INDArray probs = student.output(x);
        for (int r = 0; r < ROWS; r++) {
            double[] h = new double[8];
            for (int j = 0; j < 8; j++) {
                h[j] = bs[j];
                for (int i = 0; i < 8; i++) {
                    h[j] += xs[r][i] * ws[i][j];
                }
                h[j] = Math.max(0, h[j]);
            }
            double[] z = new double[4];
            double norm = 0;
            for (int k = 0; k < 4; k++) {
                z[k] = bo[k];
                for (int j = 0; j < 8; j++) {
                    z[k] += h[j] * wo[j][k];
                }
                norm += Math.exp(z[k]);
            }
            for (int k = 0; k < 4; k++) {
                assertEquals(Math.exp(z[k]) / norm, probs.getDouble(r, k), 1e-5, "row " + r + " class " + k);
            }
        }

        String msg = assertThrows(IllegalArgumentException.class, () -> OneShotPruner.prune(teacher, stats,
                settings(Criteria.BLOCK_INFLUENCE, SparsityPattern.LAYERS, 0, SparsityAllocation.Method.UNIFORM,
                        LayerFilter.all(), false, 3))).getMessage();
        assertTrue(msg.contains("prune.remove-layers = 3") && msg.contains("only 2"), msg);
    }

    // ---- sparsegpt ------------------------------------------------------------------------------

    /** {@code ‖XW − XŴ‖²} over the rows of {@code x}. */
    private static double reconstructionError(double[][] x, double[][] w, double[][] wHat) {
        double e = 0;
        for (double[] row : x) {
            for (int j = 0; j < w[0].length; j++) {
                double d = 0;
                for (int i = 0; i < row.length; i++) {
                    d += row[i] * (w[i][j] - wHat[i][j]);
                }
                e += d * d;
            }
        }
        return e;
    }

    /** Calibration rows with correlated columns: x_i = z_i + 0.8·z_{i−1}, z uniform in [−1, 1). */
    private static INDArray correlatedRows(long seed, int rows, int cols) {
        float[][] z = TinyNets.randomRows(seed, rows, cols);
        float[][] x = new float[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < cols; i++) {
                x[r][i] = z[r][i] + (i > 0 ? 0.8f * z[r][i - 1] : 0f);
            }
        }
        return TinyNets.toArray(x);
    }

    @Test
    void sparseGptReconstructsBetterThanWandaAtTheSameSparsity() {
        MultiLayerNetwork teacher = mlp();
        INDArray x = correlatedRows(51, ROWS, 16);
        CalibrationStatistics stats = calibrate(teacher, x, Set.of(Statistic.GRAM));
        PrunedModel gpt = OneShotPruner.prune(teacher, stats, unstructured(Criteria.SPARSEGPT, 0.5,
                SparsityAllocation.Method.UNIFORM, false));
        PrunedModel wanda = OneShotPruner.prune(teacher, stats, unstructured(Criteria.WANDA, 0.5,
                SparsityAllocation.Method.UNIFORM, false));

        assertEquals(2, gpt.masks().layers().size());
        boolean reconstructed = false;
        for (int l = 0; l < 2; l++) {
            LayerMask mask = gpt.masks().layers().get(l);
            assertEquals(0.5, mask.sparsity(), 0.01, "layer " + l);
            double[][] t = w(teacher, l);
            double[][] s = w(gpt.network(), l);
            for (int i = 0; i < t.length; i++) {
                for (int j = 0; j < t[i].length; j++) {
                    if (!mask.kept(i, j)) {
                        assertEquals(0.0, s[i][j], 0.0, "pruned weights are 0");
                    } else if (s[i][j] != t[i][j]) {
                        reconstructed = true;
                    }
                }
            }
            // wanda leaves the kept weights as they were
            checkMasked(t, w(wanda.network(), l), wanda.masks().layers().get(l));
        }
        assertTrue(reconstructed, "sparsegpt updates the kept weights");
        assertArrayEquals(w(teacher, 2), w(gpt.network(), 2), "the output layer is not pruned");

        double[][] xs = x.castTo(DataType.DOUBLE).toDoubleMatrix();
        double[][] t0 = w(teacher, 0);
        double eGpt = reconstructionError(xs, t0, w(gpt.network(), 0));
        double eWanda = reconstructionError(xs, t0, w(wanda.network(), 0));
        assertEquals(0.5, wanda.masks().layers().get(0).sparsity(), 0.0);
        assertTrue(eGpt < eWanda, "‖XW − XŴ‖²: sparsegpt " + eGpt + ", wanda " + eWanda);
    }

    // ---- convolution masks ------------------------------------------------------------------------

    @Test
    void wandaOnTheCnnZeroesExactlyTheMaskedFilterWeights() {
        MultiLayerNetwork teacher = TinyNets.cnn(61, DataType.FLOAT);
        INDArray x = TinyNets.toArray(TinyNets.randomRows(62, 12, 72));
        CalibrationStatistics stats = calibrate(teacher, x, Set.of());
        PrunedModel p = OneShotPruner.prune(teacher, stats, unstructured(Criteria.WANDA, 0.5,
                SparsityAllocation.Method.UNIFORM, false));
        assertEquals(List.of(0, 2), p.masks().layers().stream().map(LayerMask::index).toList());
        LayerMask mask = p.masks().layers().get(0);
        assertEquals(18, mask.nIn());
        assertEquals(4, mask.nOut());

        // im2col column norms by loops: column (c·3 + kh)·3 + kw over all examples and 4×4 positions
        double[] norms = new double[18];
        for (int r = 0; r < 12; r++) {
            for (int oh = 0; oh < 4; oh++) {
                for (int ow = 0; ow < 4; ow++) {
                    for (int c = 0; c < 2; c++) {
                        for (int kh = 0; kh < 3; kh++) {
                            for (int kw = 0; kw < 3; kw++) {
                                double v = x.getDouble(r, (c * 6 + oh + kh) * 6 + ow + kw);
                                norms[(c * 3 + kh) * 3 + kw] += v * v;
                            }
                        }
                    }
                }
            }
        }
        INDArray wt = teacher.getLayer(0).getParam("W");
        INDArray ws = p.network().getLayer(0).getParam("W");
        int zeros = 0;
        for (int o = 0; o < 4; o++) {
            double[] score = new double[18];
            for (int c = 0; c < 2; c++) {
                for (int kh = 0; kh < 3; kh++) {
                    for (int kw = 0; kw < 3; kw++) {
                        int row = (c * 3 + kh) * 3 + kw;
                        score[row] = Math.abs(wt.getDouble(o, c, kh, kw)) * Math.sqrt(norms[row]);
                    }
                }
            }
            int[] keep = largest(score, 9);
            for (int c = 0; c < 2; c++) {
                for (int kh = 0; kh < 3; kh++) {
                    for (int kw = 0; kw < 3; kw++) {
                        int row = (c * 3 + kh) * 3 + kw;
                        String at = "W[" + o + "][" + c + "][" + kh + "][" + kw + "]";
                        assertEquals(Arrays.binarySearch(keep, row) >= 0, mask.kept(row, o), at);
                        if (mask.kept(row, o)) {
                            assertEquals(wt.getDouble(o, c, kh, kw), ws.getDouble(o, c, kh, kw), 0.0, at);
                        } else {
                            assertEquals(0.0, ws.getDouble(o, c, kh, kw), 0.0, at);
                            zeros++;
                        }
                    }
                }
            }
        }
        assertEquals(36, zeros);
        assertEquals(teacher.getLayer(0).getParam("b"), p.network().getLayer(0).getParam("b"), "biases stay");
        assertEquals(64, checkMasked(w(teacher, 2), w(p.network(), 2), p.masks().layers().get(1)));
    }

    // ---- determinism ------------------------------------------------------------------------------

    @Test
    void theSameInputsGiveTheSameMasksAndParameters() {
        MultiLayerNetwork teacher = mlp();
        INDArray x = correlatedRows(71, ROWS, 16);
        CalibrationStatistics stats = calibrate(teacher, x, Set.of(Statistic.GRAM));
        MultiLayerNetwork cnn = TinyNets.cnn(72, DataType.FLOAT);
        CalibrationStatistics cnnStats = calibrate(cnn, TinyNets.toArray(TinyNets.randomRows(73, 8, 72)), Set.of());
        List<Runnable> checks = List.of(
                () -> same(OneShotPruner.prune(teacher, stats, unstructured(Criteria.SPARSEGPT, 0.5,
                        SparsityAllocation.Method.UNIFORM, true)),
                        OneShotPruner.prune(teacher, stats, unstructured(Criteria.SPARSEGPT, 0.5,
                                SparsityAllocation.Method.UNIFORM, true))),
                () -> same(OneShotPruner.prune(cnn, cnnStats, unstructured(Criteria.WANDA, 0.7,
                        SparsityAllocation.Method.UNIFORM, true)),
                        OneShotPruner.prune(cnn, cnnStats, unstructured(Criteria.WANDA, 0.7,
                                SparsityAllocation.Method.UNIFORM, true))),
                () -> same(OneShotPruner.prune(cnn, null, unstructured(Criteria.MAGNITUDE, 0.7,
                        SparsityAllocation.Method.GLOBAL, true)),
                        OneShotPruner.prune(cnn, null, unstructured(Criteria.MAGNITUDE, 0.7,
                                SparsityAllocation.Method.GLOBAL, true))),
                () -> same(OneShotPruner.prune(cnn, null, settings(Criteria.MAGNITUDE, SparsityPattern.STRUCTURED, 0.5,
                        SparsityAllocation.Method.UNIFORM, LayerFilter.all(), false, 1)),
                        OneShotPruner.prune(cnn, null, settings(Criteria.MAGNITUDE, SparsityPattern.STRUCTURED, 0.5,
                                SparsityAllocation.Method.UNIFORM, LayerFilter.all(), false, 1))));
        checks.forEach(Runnable::run);
    }

    private static void same(PrunedModel a, PrunedModel b) {
        assertEquals(a.masks(), b.masks());
        assertEquals(a.network().params(), b.network().params());
        assertEquals(a.layers(), b.layers());
        assertEquals(a.skipped(), b.skipped());
    }
}
