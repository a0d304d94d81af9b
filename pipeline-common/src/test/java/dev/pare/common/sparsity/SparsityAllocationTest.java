package dev.pare.common.sparsity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.config.ConfigError;
import dev.pare.common.sparsity.SparsityAllocation.Allocation;
import dev.pare.common.sparsity.SparsityAllocation.LayerScores;
import dev.pare.common.sparsity.SparsityAllocation.Method;
import dev.pare.common.sparsity.SparsityAllocation.OwlParameters;
import dev.pare.common.sparsity.SparsityAllocation.OwlTargets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SparsityAllocationTest {
    private static final boolean T = true;
    private static final boolean F = false;
    private static final double LAMBDA = 0.08;

    private static LayerScores layer(String name, double[][] scores) {
        return new LayerScores(name, scores, ComparisonGroup.LAYER);
    }

    private static void assertMask(String name, boolean[][] expected, boolean[][] actual) {
        assertEquals(expected.length, actual.length, name + " nIn");
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], actual[i], name + " row " + i);
        }
    }

    private static double weightedMean(double[] s, List<LayerScores> layers) {
        double sum = 0;
        double n = 0;
        for (int l = 0; l < s.length; l++) {
            sum += s[l] * layers.get(l).size();
            n += layers.get(l).size();
        }
        return sum / n;
    }

    @Test
    void methodsAreLookedUpByConfigName() {
        assertEquals(Method.UNIFORM, Method.fromName("prune.allocation", "uniform"));
        assertEquals(Method.GLOBAL, Method.fromName("prune.allocation", "global"));
        assertEquals(Method.OUTLIER_WEIGHTED, Method.fromName("prune.allocation", "outlier-weighted"));
        ConfigError e = assertThrows(ConfigError.class, () -> Method.fromName("prune.allocation", "owl"));
        assertTrue(e.getMessage().contains("prune.allocation"), e.getMessage());
        assertTrue(e.getMessage().contains("uniform, global, outlier-weighted"), e.getMessage());
    }

    // ---- global ----------------------------------------------------------------------------

    @Test
    void globalPrunesTheLowestScoresOfTheWholeModel() {
        LayerScores a = layer("a", new double[][] {
            {0.4, 0.1},
            {0.9, 0.3}});
        LayerScores b = layer("b", new double[][] {
            {0.2},
            {0.5},
            {0.05}});
        // 7 weights at 3/7: the 3 lowest of the model are 0.05 (b), 0.1 (a) and 0.2 (b)
        List<boolean[][]> keep = SparsityAllocation.global(List.of(a, b), 3.0 / 7);
        assertMask("a", new boolean[][] {{T, F}, {T, T}}, keep.get(0));
        assertMask("b", new boolean[][] {{F}, {T}, {F}}, keep.get(1));

        // uniform at the same target prunes round(4·3/7) = 2 of a (0.1, 0.3) and round(3·3/7) = 1 of b (0.05)
        Allocation uniform = SparsityAllocation.allocate(Method.UNIFORM, List.of(a, b), 3.0 / 7, null);
        assertMask("a", new boolean[][] {{T, F}, {T, F}}, uniform.keep().get(0));
        assertMask("b", new boolean[][] {{T}, {T}, {F}}, uniform.keep().get(1));

        Allocation global = SparsityAllocation.allocate(Method.GLOBAL, List.of(a, b), 3.0 / 7, null);
        assertArrayEquals(new double[] {0.25, 2.0 / 3}, global.targets(), 1e-15);
        assertEquals(3.0 / 7, global.overallSparsity(), 1e-15);
        assertEquals(0, global.outlierRatios().length);
    }

    @Test
    void globalTiesBreakByEarlierLayerThenPyTorchIndex() {
        // a's index j·nIn + i: a00 = 0, a10 = 1, a01 = 2, a11 = 3
        LayerScores a = layer("a", new double[][] {
            {1, 1},
            {1, 0}});
        LayerScores b = layer("b", new double[][] {
            {1},
            {0}});
        List<LayerScores> layers = List.of(a, b);
        // one of the two zeros: a's, the earlier layer
        List<boolean[][]> one = SparsityAllocation.global(layers, 1.0 / 6);
        assertMask("a", new boolean[][] {{T, T}, {T, F}}, one.get(0));
        assertMask("b", new boolean[][] {{T}, {T}}, one.get(1));
        // both zeros, then the 1s: a00 first
        List<boolean[][]> three = SparsityAllocation.global(layers, 0.5);
        assertMask("a", new boolean[][] {{F, T}, {T, F}}, three.get(0));
        assertMask("b", new boolean[][] {{T}, {F}}, three.get(1));
        // then a10 (index 1), not a01 (index 2) as a row-major order would take
        List<boolean[][]> four = SparsityAllocation.global(layers, 4.0 / 6);
        assertMask("a", new boolean[][] {{F, T}, {F, F}}, four.get(0));
        assertMask("b", new boolean[][] {{T}, {F}}, four.get(1));
        // then a01, still before b's 1
        List<boolean[][]> five = SparsityAllocation.global(layers, 5.0 / 6);
        assertMask("a", new boolean[][] {{F, F}, {F, F}}, five.get(0));
        assertMask("b", new boolean[][] {{T}, {F}}, five.get(1));
    }

    @Test
    void globalRejectsNaNAndBadSparsity() {
        List<LayerScores> nan = List.of(layer("a", new double[][] {{1, Double.NaN}}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SparsityAllocation.global(nan, 0.5));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        List<LayerScores> ok = List.of(layer("a", new double[][] {{1, 2}}));
        for (double s : new double[] {1.0, -0.1, Double.NaN}) {
            e = assertThrows(IllegalArgumentException.class, () -> SparsityAllocation.global(ok, s));
            assertTrue(e.getMessage().contains("sparsity"), e.getMessage());
        }
    }

    // ---- outlier-weighted ------------------------------------------------------------------

    /** A {@code rows × cols} matrix of {@code base}, the first {@code outliers} entries (row-major) {@code outlier}. */
    private static double[][] scores(int rows, int cols, double base, int outliers, double outlier) {
        double[][] s = new double[rows][cols];
        for (int k = 0; k < rows * cols; k++) {
            s[k / cols][k % cols] = k < outliers ? outlier : base;
        }
        return s;
    }

    @Test
    void outlierRatiosAndSparsitiesOfAHandBuiltThreeLayerCase() {
        // l0: 15 × 11 and one 75 (16 weights): mean 240/16 = 15, cut 5·15 = 75, and 75 is not > 75 → D = 0
        // l1: 19 × 1 and one 100 (20 weights): mean 119/20 = 5.95, cut 29.75 → D = 1/20
        // l2: 17 × 1 and three 100 (20 weights): mean 317/20 = 15.85, cut 79.25 → D = 3/20
        LayerScores l0 = layer("l0", scores(4, 4, 11, 1, 75));
        LayerScores l1 = layer("l1", scores(4, 5, 1, 1, 100));
        LayerScores l2 = layer("l2", scores(5, 4, 1, 3, 100));
        List<LayerScores> layers = List.of(l0, l1, l2);
        assertEquals(0.0, SparsityAllocation.outlierRatio(l0, 5), 0);
        assertEquals(0.05, SparsityAllocation.outlierRatio(l1, 5), 1e-15);
        assertEquals(0.15, SparsityAllocation.outlierRatio(l2, 5), 1e-15);

        // offsets map D ∈ [0, 0.15] onto [−λ, λ]: −λ, −λ/3, +λ. Unclipped, c = −λ/21 would put l2 at
        // s − 22λ/21, below s − λ; so l2 clips to s − λ and 16(λ + c) + 20(λ/3 + c) − 20λ = 0 gives
        // c = −2λ/27: l0 = s + 25λ/27, l1 = s + 7λ/27, l2 = s − λ.
        double s = 0.5;
        OwlTargets owl = SparsityAllocation.outlierWeighted(layers, s, OwlParameters.DEFAULTS);
        assertArrayEquals(new double[] {0, 0.05, 0.15}, owl.outlierRatios(), 1e-15);
        assertArrayEquals(new double[] {s + 25 * LAMBDA / 27, s + 7 * LAMBDA / 27, s - LAMBDA}, owl.sparsities(), 1e-12);
        assertEquals(s, weightedMean(owl.sparsities(), layers), 1e-12);
    }

    @Test
    void theOutlierThresholdIsAParameter() {
        // 19 × 1 and one 10: mean 29/20 = 1.45; 10 > 5·1.45 = 7.25 is an outlier, 10 > 7·1.45 = 10.15 is not
        LayerScores l = layer("l", scores(4, 5, 1, 1, 10));
        assertEquals(0.05, SparsityAllocation.outlierRatio(l, 5), 1e-15);
        assertEquals(0.0, SparsityAllocation.outlierRatio(l, 7), 0);
    }

    /** Three MLP layers of realistic sizes with 1%, 3% and no outliers of 50× a uniform score. */
    private static List<LayerScores> mlp(ComparisonGroup group) {
        SplittableRandom rnd = new SplittableRandom(5);
        int[][] shapes = {{784, 300}, {300, 100}, {100, 10}};
        double[] outlierShare = {0.01, 0.03, 0};
        List<LayerScores> layers = new ArrayList<>();
        for (int l = 0; l < shapes.length; l++) {
            double[][] s = new double[shapes[l][0]][shapes[l][1]];
            for (double[] row : s) {
                for (int j = 0; j < row.length; j++) {
                    row[j] = rnd.nextDouble() < outlierShare[l] ? 50 + rnd.nextDouble() : rnd.nextDouble();
                }
            }
            layers.add(new LayerScores("fc" + (l + 1), s, group));
        }
        return layers;
    }

    @Test
    void owlMeetsTheTargetStaysInTheBandAndOrdersByOutliers() {
        List<LayerScores> layers = mlp(ComparisonGroup.OUTPUT_NEURON);
        for (double s : new double[] {0.05, 0.3, 0.5, 0.7, 0.9, 0.95}) {
            OwlTargets owl = SparsityAllocation.outlierWeighted(layers, s, OwlParameters.DEFAULTS);
            double[] sl = owl.sparsities();
            double[] d = owl.outlierRatios();
            assertEquals(s, weightedMean(sl, layers), 1e-9, "weighted mean at " + s);
            double lo = Math.max(0, s - LAMBDA);
            double hi = Math.min(s + LAMBDA, 0.99);
            for (int l = 0; l < sl.length; l++) {
                assertTrue(sl[l] >= lo - 1e-15 && sl[l] <= hi + 1e-15, "layer " + l + " at " + s + ": " + sl[l]);
            }
            // fc2 has the most outliers, fc3 none: fc2 is pruned least, fc3 most
            assertTrue(d[1] > d[0] && d[0] > d[2] && d[2] == 0, Arrays.toString(d));
            assertTrue(sl[1] < sl[0] && sl[0] < sl[2], "at " + s + ": " + Arrays.toString(sl));
        }
    }

    @Test
    void owlIsUniformWhenAllLayersHaveTheSameOutlierRatio() {
        // uniform scores in [0, 1) have no score above 5× their mean: D = 0 everywhere
        List<LayerScores> layers = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(2);
        for (int[] shape : new int[][] {{30, 20}, {20, 7}, {7, 3}}) {
            double[][] s = new double[shape[0]][shape[1]];
            for (double[] row : s) {
                for (int j = 0; j < row.length; j++) {
                    row[j] = rnd.nextDouble();
                }
            }
            layers.add(layer("l", s));
        }
        OwlTargets owl = SparsityAllocation.outlierWeighted(layers, 0.6, OwlParameters.DEFAULTS);
        assertArrayEquals(new double[] {0, 0, 0}, owl.outlierRatios(), 0);
        assertArrayEquals(new double[] {0.6, 0.6, 0.6}, owl.sparsities(), 0);

        // a single layer, and a band of 0, are uniform too
        List<LayerScores> outliers = List.of(layer("a", scores(4, 5, 1, 1, 100)), layer("b", scores(4, 4, 1, 0, 1)));
        assertArrayEquals(new double[] {0.6}, SparsityAllocation.outlierWeighted(outliers.subList(0, 1), 0.6,
                OwlParameters.DEFAULTS).sparsities(), 0);
        assertArrayEquals(new double[] {0.6, 0.6}, SparsityAllocation.outlierWeighted(outliers, 0.6,
                new OwlParameters(5, 0)).sparsities(), 0);
        // and sparsity 0 stays 0: the band [max(0, −λ), λ] with mean 0 leaves no room
        assertArrayEquals(new double[] {0, 0}, SparsityAllocation.outlierWeighted(outliers, 0,
                OwlParameters.DEFAULTS).sparsities(), 1e-15);
    }

    @Test
    void owlOnTwoUnequalLayersClipsTheSmallOne() {
        // a (20 weights, D = 0.05) gets offset +λ, b (80 weights, D = 0) offset −λ
        LayerScores a = layer("a", scores(4, 5, 1, 1, 100));
        LayerScores b = layer("b", scores(8, 10, 1, 0, 1));
        // unclipped: 20(−λ + c) + 80(λ + c) = 0 → c = −0.6λ, b = s + 0.4λ, a = s − 1.6λ < s − λ → a clips to s − λ,
        // then −20λ + 80(λ + c) = 0 → c = −0.75λ: b = s + 0.25λ
        OwlTargets owl = SparsityAllocation.outlierWeighted(List.of(a, b), 0.5, OwlParameters.DEFAULTS);
        assertArrayEquals(new double[] {0.5 - LAMBDA, 0.5 + 0.25 * LAMBDA}, owl.sparsities(), 1e-12);
    }

    // ---- achieved sparsity -----------------------------------------------------------------

    @Test
    void achievedSparsityIsPrunedOverTotal() {
        List<boolean[][]> masks = List.of(new boolean[][] {{T, F}}, new boolean[][] {{F}, {F}, {T}});
        assertEquals(0.6, SparsityAllocation.achievedSparsity(masks), 1e-15);
        assertEquals(0.0, SparsityAllocation.achievedSparsity(List.of()), 0);
        assertEquals(0.0, SparsityAllocation.achievedSparsity(new boolean[0][0]), 0);
        assertEquals(0.5, SparsityAllocation.achievedSparsity(new boolean[][] {{T, F}}), 0);
    }

    @Test
    void everyMethodReachesTheTargetWithinHalfAPercentOnARealisticMlp() {
        for (ComparisonGroup group : ComparisonGroup.values()) {
            List<LayerScores> layers = mlp(group);
            for (double s : new double[] {0.1, 0.5, 0.8, 0.9}) {
                for (Method m : Method.values()) {
                    Allocation a = SparsityAllocation.allocate(m, layers, s, OwlParameters.DEFAULTS);
                    String where = m + " " + group + " at " + s;
                    assertEquals(s, a.overallSparsity(), 0.005, where);
                    assertEquals(3, a.keep().size(), where);
                    // per-layer masks match their targets up to the rounding of each comparison group
                    double[] t = a.targets();
                    for (int l = 0; l < 3; l++) {
                        double achieved = SparsityAllocation.achievedSparsity(a.keep().get(l));
                        assertEquals(t[l], achieved, 0.5 / layers.get(l).nIn() + 1e-12, where + " layer " + l);
                    }
                }
            }
        }
    }

    @Test
    void uniformAndOwlApplyUnstructuredMasksPerLayer() {
        List<LayerScores> layers = mlp(ComparisonGroup.OUTPUT_NEURON);
        Allocation owl = SparsityAllocation.allocate(Method.OUTLIER_WEIGHTED, layers, 0.7, OwlParameters.DEFAULTS);
        double[] t = SparsityAllocation.outlierWeighted(layers, 0.7, OwlParameters.DEFAULTS).sparsities();
        assertArrayEquals(t, owl.targets(), 0);
        assertEquals(3, owl.outlierRatios().length);
        for (int l = 0; l < 3; l++) {
            boolean[][] expected = UnstructuredMasks.keep(layers.get(l).scores(), ComparisonGroup.OUTPUT_NEURON, t[l]);
            assertMask("layer " + l, expected, owl.keep().get(l));
        }
    }

    // ---- refusals --------------------------------------------------------------------------

    @Test
    void invalidInputsAreRefusedWithTheirValue() {
        List<LayerScores> layers = List.of(layer("a", scores(4, 5, 1, 1, 100)), layer("b", scores(4, 4, 1, 0, 1)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SparsityAllocation.outlierWeighted(layers, 0.995, OwlParameters.DEFAULTS));
        assertTrue(e.getMessage().contains("0.995") && e.getMessage().contains("0.99"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> SparsityAllocation.outlierWeighted(layers, 0.5, null));
        assertTrue(e.getMessage().contains("OWL parameters"), e.getMessage());

        LayerScores negative = layer("fc9", new double[][] {{1, 2}, {-0.5, 1}});
        e = assertThrows(IllegalArgumentException.class, () -> SparsityAllocation.outlierRatio(negative, 5));
        assertTrue(e.getMessage().contains("fc9") && e.getMessage().contains("score[1][0] = -0.5"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> new OwlParameters(0, 0.08));
        assertTrue(e.getMessage().contains("threshold") && e.getMessage().contains("0.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new OwlParameters(5, -0.1));
        assertTrue(e.getMessage().contains("band") && e.getMessage().contains("-0.1"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> new LayerScores("fc2", new double[][] {{1, 2}, {3}}, ComparisonGroup.LAYER));
        assertTrue(e.getMessage().contains("fc2") && e.getMessage().contains("row 1 has 1"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> SparsityAllocation.perLayer(layers, new double[] {0.5}));
        assertTrue(e.getMessage().contains("1 sparsities for 2 layers"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> SparsityAllocation.perLayer(layers, new double[] {0.5, 1.5}));
        assertTrue(e.getMessage().contains("layer b") && e.getMessage().contains("1.5"), e.getMessage());
    }
}
