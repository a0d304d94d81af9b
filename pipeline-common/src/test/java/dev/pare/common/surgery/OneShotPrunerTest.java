package dev.pare.common.surgery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.TinyNets;
import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.importance.MagnitudeCriterion;
import dev.pare.common.importance.WandaCriterion;
import dev.pare.common.sparsity.LayerMask;
import dev.pare.common.sparsity.MaskSet;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OneShotPrunerTest {
    private MultiLayerNetwork teacher;
    private CalibrationStatistics stats;

    @BeforeEach
    void setUp() {
        // 5-6-5-3: fc1 5x6 (nIn 5: wanda at 0.5 prunes round(2.5) = 3 per neuron), fc2 6x5, out 5x3
        teacher = TinyNets.dense(3, 5, 6, 5, 3);
        stats = CalibrationStatistics.emptyFor(teacher);
        stats.add(teacher, TinyNets.toArray(TinyNets.randomRows(9, 32, 5)));
    }

    /** Kept weights equal the teacher's, pruned ones are exactly 0.0f; returns the pruned count. */
    private static int checkWeights(float[][] teacherW, float[][] studentW, LayerMask mask) {
        int pruned = 0;
        for (int i = 0; i < teacherW.length; i++) {
            for (int j = 0; j < teacherW[i].length; j++) {
                if (mask.kept(i, j)) {
                    assertEquals(teacherW[i][j], studentW[i][j], 0.0f, "kept w[" + i + "][" + j + "]");
                    assertNotEquals(0.0f, studentW[i][j], "a kept weight of this seeded teacher is non-zero");
                } else {
                    assertEquals(0.0f, studentW[i][j], 0.0f, "pruned w[" + i + "][" + j + "]");
                    pruned++;
                }
            }
        }
        return pruned;
    }

    @Test
    void wandaAtHalfZeroesExactlyTheMaskedWeights() {
        float[] before = teacher.params().dup().toFloatVector();
        PrunedModel p = OneShotPruner.prune(teacher, stats, new WandaCriterion(), 0.5, false);
        MultiLayerNetwork student = p.network();
        assertNotSame(teacher, student);

        MaskSet masks = p.masks();
        assertEquals(2, masks.layers().size(), "output layer is not pruned by default");
        assertEquals(List.of(0, 1), masks.layers().stream().map(LayerMask::index).toList());

        // fc1: nIn 5 → 3 of 5 pruned per neuron → 18 of 30; fc2: nIn 6 → 3 of 6 → 15 of 30
        assertEquals(18, checkWeights(TinyNets.weights(teacher, 0), TinyNets.weights(student, 0), masks.layers().get(0)));
        assertEquals(15, checkWeights(TinyNets.weights(teacher, 1), TinyNets.weights(student, 1), masks.layers().get(1)));
        assertEquals(0.6, masks.layers().get(0).sparsity(), 1e-15);
        assertEquals(0.5, masks.layers().get(1).sparsity(), 1e-15);

        // per-layer report agrees: round(s·nIn)/nIn for a per-neuron criterion
        LayerReport r0 = p.layers().get(0);
        assertEquals(0, r0.index());
        assertEquals("fc1", r0.name());
        assertEquals(5, r0.nIn());
        assertEquals(6, r0.nOut());
        assertEquals(30, r0.weights());
        assertEquals(12, r0.kept());
        assertEquals(3.0 / 5, r0.sparsity(), 1e-15);
        assertEquals(15, p.layers().get(1).kept());
        assertEquals(3.0 / 6, p.layers().get(1).sparsity(), 1e-15);

        // biases and the output layer are untouched
        for (int l = 0; l < 3; l++) {
            assertArrayEquals(TinyNets.bias(teacher, l), TinyNets.bias(student, l), "bias of layer " + l);
        }
        float[][] outT = TinyNets.weights(teacher, 2);
        float[][] outS = TinyNets.weights(student, 2);
        for (int i = 0; i < outT.length; i++) {
            assertArrayEquals(outT[i], outS[i], "output layer row " + i);
        }
        assertEquals(1, p.skipped().size());
        assertTrue(p.skipped().get(0).contains("out"), p.skipped().get(0));

        // the teacher is not modified
        assertArrayEquals(before, teacher.params().toFloatVector());
    }

    @Test
    void wandaPrunesTheLowestActivationWeightedScoresOfEachNeuron() {
        PrunedModel p = OneShotPruner.prune(teacher, stats, new WandaCriterion(), 0.5, false);
        for (int l = 0; l < 2; l++) {
            float[][] w = TinyNets.weights(teacher, l);
            double[] sq = stats.layer(l).inputSquareSums().sums();
            LayerMask mask = p.masks().layers().get(l);
            int nIn = w.length;
            int k = (int) Math.round(0.5 * nIn);
            for (int j = 0; j < w[0].length; j++) {
                // rank of w[i][j] among its neuron's weights, ties by lower index: pruned iff rank < k
                for (int i = 0; i < nIn; i++) {
                    double si = Math.abs(w[i][j]) * Math.sqrt(sq[i]);
                    int rank = 0;
                    for (int o = 0; o < nIn; o++) {
                        double so = Math.abs(w[o][j]) * Math.sqrt(sq[o]);
                        if (so < si || (so == si && o < i)) {
                            rank++;
                        }
                    }
                    assertEquals(rank >= k, mask.kept(i, j), "layer " + l + " w[" + i + "][" + j + "]");
                }
            }
        }
    }

    @Test
    void magnitudeAchievesRoundedLayerSparsity() {
        for (double s : new double[] {0.3, 0.5, 0.9}) {
            PrunedModel p = OneShotPruner.prune(teacher, null, new MagnitudeCriterion(), s, true);
            assertEquals(3, p.masks().layers().size(), "output layer pruned when asked");
            assertTrue(p.skipped().isEmpty());
            for (int l = 0; l < 3; l++) {
                LayerMask mask = p.masks().layers().get(l);
                int n = (int) mask.size();
                long pruned = Math.round(s * n);
                assertEquals(pruned, checkWeights(TinyNets.weights(teacher, l), TinyNets.weights(p.network(), l), mask),
                        "layer " + l + " at " + s);
                assertEquals((double) pruned / n, p.layers().get(l).sparsity(), 1e-15);
            }
        }
    }

    @Test
    void sparsityZeroChangesNothing() {
        PrunedModel p = OneShotPruner.prune(teacher, stats, new WandaCriterion(), 0.0, true);
        assertArrayEquals(teacher.params().toFloatVector(), p.network().params().toFloatVector());
        assertEquals(0.0, p.masks().sparsity());
    }

    @Test
    void wandaWithoutStatisticsThrows() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OneShotPruner.prune(teacher, null, new WandaCriterion(), 0.5, false));
        assertTrue(e.getMessage().contains("calibrat"), e.getMessage());
    }

    @Test
    void maskedWeightsReapplyAfterAnUpdate() {
        PrunedModel p = OneShotPruner.prune(teacher, null, new MagnitudeCriterion(), 0.5, false);
        MultiLayerNetwork net = p.network();
        MaskedWeights masked = new MaskedWeights(net, p.masks());
        net.getLayer(0).getParam("W").addi(1.0f);
        masked.applyInPlace();
        float[][] w = TinyNets.weights(net, 0);
        float[][] t = TinyNets.weights(teacher, 0);
        LayerMask m = p.masks().layers().get(0);
        for (int i = 0; i < w.length; i++) {
            for (int j = 0; j < w[i].length; j++) {
                assertEquals(m.kept(i, j) ? t[i][j] + 1.0f : 0.0f, w[i][j], 0.0f);
            }
        }
    }

    @Test
    void maskOfTheWrongShapeIsRejected() {
        LayerMask wrong = LayerMask.of(0, "fc1", new boolean[4][6]);
        assertThrows(IllegalArgumentException.class, () -> new MaskedWeights(teacher, new MaskSet(List.of(wrong))));
        LayerMask beyond = LayerMask.of(7, "fc8", new boolean[5][6]);
        assertThrows(IllegalArgumentException.class, () -> new MaskedWeights(teacher, new MaskSet(List.of(beyond))));
    }
}
