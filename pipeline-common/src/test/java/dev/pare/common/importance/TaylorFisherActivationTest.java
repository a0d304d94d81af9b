package dev.pare.common.importance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.calibration.CalibrationStatistics.LayerStatistics;
import dev.pare.common.calibration.ColumnSquareSums;
import dev.pare.common.calibration.Statistic;
import dev.pare.common.calibration.UnitActivationSums;
import dev.pare.common.calibration.WeightGradientSums;
import dev.pare.common.model.PrunableLayer;
import dev.pare.common.sparsity.ComparisonGroup;
import dev.pare.common.sparsity.SparsityPattern;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TaylorFisherActivationTest {
    // a 3 → 2 dense layer
    private static final double[][] W = {
        {0.5, -2.0},
        {-1.0, 0.25},
        {3.0, 0.0},
    };
    // row-major [3·2]: entry i·2 + j belongs to W[i][j]
    private static final double[] TAYLOR_SUMS = {0.2, 1.5, 0.0, 0.7, 2.5, 0.1};
    private static final double[] SQUARE_GRADIENT_SUMS = {4.0, 0.4, 1.2, 8.0, 0.0, 2.0};
    private static final long GRADIENT_SAMPLES = 4;
    private static final double[] ACT_ABS = {6.0, 1.0};
    private static final double[] ACT_SQ = {10.0, 0.5};
    private static final long ACT_COUNT = 5;

    private static final PrunableLayer FC = PrunableLayer.dense(1, "fc2", 3, 2, false);

    private static LayerStatistics full() {
        return new LayerStatistics(FC, new ColumnSquareSums(new double[] {1, 4, 9}, 3), null,
                new WeightGradientSums(new long[] {3, 2}, TAYLOR_SUMS, SQUARE_GRADIENT_SUMS, GRADIENT_SAMPLES),
                new UnitActivationSums(ACT_ABS, ACT_SQ, ACT_COUNT), null);
    }

    private static LayerStatistics normsOnly() {
        return new LayerStatistics(FC, new ColumnSquareSums(new double[] {1, 4, 9}, 3), null, null, null, null);
    }

    @Test
    void taylorIsTheSummedAbsoluteWeightTimesGradient() {
        double[][] s = new TaylorCriterion().scores(W, full());
        assertArrayEquals(new double[][] {{0.2, 1.5}, {0.0, 0.7}, {2.5, 0.1}}, s);
        assertEquals(ComparisonGroup.LAYER, new TaylorCriterion().group());
        assertEquals(Set.of(Statistic.GRADIENTS), new TaylorCriterion().needs());
    }

    @Test
    void fisherIsHalfTheSquaredWeightTimesTheMeanSquaredGradient() {
        double[][] s = new FisherCriterion().scores(W, full());
        // ½ · w² · Σg² / 4
        double[][] expected = {
            {0.5 * 0.25 * 1.0, 0.5 * 4.0 * 0.1},
            {0.5 * 1.0 * 0.3, 0.5 * 0.0625 * 2.0},
            {0.5 * 9.0 * 0.0, 0.5 * 0.0 * 0.5},
        };
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 2; j++) {
                assertEquals(expected[i][j], s[i][j], 1e-15, "fisher[" + i + "][" + j + "]");
            }
        }
        assertEquals(0.125, s[0][0], 1e-15);
        assertEquals(0.2, s[0][1], 1e-15);
        assertEquals(ComparisonGroup.LAYER, new FisherCriterion().group());
    }

    @Test
    void activationImportanceIsTheMeanSquaredOutputPerUnit() {
        double[] s = new ActivationImportance().scores(W, full());
        assertArrayEquals(new double[] {2.0, 0.1}, s, 1e-15);
        assertEquals(Set.of(Statistic.OUTPUT_ACTIVATIONS), new ActivationImportance().needs());

        // weights of another width than the statistics
        String msg = assertThrows(IllegalArgumentException.class,
                () -> new ActivationImportance().scores(new double[][] {{1, 2, 3}}, full())).getMessage();
        assertTrue(msg.contains("fc2") && msg.contains("2 units") && msg.contains("3"), msg);
    }

    @Test
    void missingStatisticsAreRefusedNamingTheCriterionAndTheLayer() {
        String taylor = assertThrows(IllegalArgumentException.class,
                () -> new TaylorCriterion().scores(W, normsOnly())).getMessage();
        assertTrue(taylor.contains("taylor") && taylor.contains("GRADIENTS") && taylor.contains("fc2"), taylor);
        String fisher = assertThrows(IllegalArgumentException.class,
                () -> new FisherCriterion().scores(W, normsOnly())).getMessage();
        assertTrue(fisher.contains("fisher") && fisher.contains("GRADIENTS") && fisher.contains("fc2"), fisher);
        String act = assertThrows(IllegalArgumentException.class,
                () -> new ActivationImportance().scores(W, normsOnly())).getMessage();
        assertTrue(act.contains("activation") && act.contains("OUTPUT_ACTIVATIONS") && act.contains("fc2"), act);
        String none = assertThrows(IllegalArgumentException.class,
                () -> new TaylorCriterion().scores(W, null)).getMessage();
        assertTrue(none.contains("taylor") && none.contains("GRADIENTS"), none);
    }

    @Test
    void gradientsOfTheWrongShapeAreRefused() {
        LayerStatistics wrong = new LayerStatistics(FC, new ColumnSquareSums(3), null,
                new WeightGradientSums(2, 2), null, null);
        String msg = assertThrows(IllegalArgumentException.class, () -> new FisherCriterion().scores(W, wrong))
                .getMessage();
        assertTrue(msg.contains("fc2") && msg.contains("4 values") && msg.contains("3x2"), msg);
    }

    @Test
    void summedMagnitudeIsTheL1NormOfEachColumn() {
        UnitImportance l1 = UnitImportance.summed(new MagnitudeCriterion());
        // |0.5| + |−1| + |3| = 4.5, |−2| + |0.25| + |0| = 2.25
        assertArrayEquals(new double[] {4.5, 2.25}, l1.scores(W, null), 0.0);
        assertTrue(l1.needs().isEmpty());
        // summed Taylor: column sums of Σ|w·g|, 0.2 + 0 + 2.5 and 1.5 + 0.7 + 0.1
        UnitImportance t = UnitImportance.summed(new TaylorCriterion());
        assertArrayEquals(new double[] {2.7, 2.3}, t.scores(W, full()), 1e-15);
        assertEquals(Set.of(Statistic.GRADIENTS), t.needs());
    }

    @Test
    void theRegistryKnowsWhatEachCriterionSupportsAndNeeds() {
        assertEquals(Set.of(Statistic.GRADIENTS), Criteria.TAYLOR.needs());
        assertEquals(Set.of(Statistic.GRADIENTS), Criteria.FISHER.needs());
        assertEquals(Set.of(Statistic.GRAM), Criteria.SPARSEGPT.needs());
        assertEquals(Set.of(Statistic.OUTPUT_ACTIVATIONS), Criteria.ACTIVATION.needs());
        assertEquals(Set.of(Statistic.COSINE), Criteria.BLOCK_INFLUENCE.needs());
        assertFalse(Criteria.MAGNITUDE.needsCalibration());
        for (Criteria c : Criteria.values()) {
            if (c.criterion() != null) {
                assertEquals(c.needs(), c.criterion().needs(), c.configName());
            }
            // a criterion that supports structured pruning has a unit importance, and only then
            assertEquals(c.supports(SparsityPattern.STRUCTURED), c.unitImportance() != null, c.configName());
        }
        assertTrue(Criteria.TAYLOR.supports(SparsityPattern.N_OF_M));
        assertFalse(Criteria.WANDA.supports(SparsityPattern.STRUCTURED));
        assertFalse(Criteria.SPARSEGPT.supports(SparsityPattern.STRUCTURED));
        assertFalse(Criteria.ACTIVATION.supports(SparsityPattern.UNSTRUCTURED));
        assertTrue(Criteria.BLOCK_INFLUENCE.supports(SparsityPattern.LAYERS));
        assertFalse(Criteria.MAGNITUDE.supports(SparsityPattern.LAYERS));
        assertNull(Criteria.SPARSEGPT.criterion());
        assertEquals(Criteria.FISHER, Criteria.fromName("prune.criterion", "fisher"));
        // the activation unit importance of the registry scores E[a²]
        assertArrayEquals(new double[] {2.0, 0.1}, Criteria.ACTIVATION.unitImportance().scores(W, full()), 1e-15);
        // the summed fisher of the registry is the column sum of ½w²E[g²]: 0.125 + 0.15 + 0, 0.2 + 0.0625 + 0
        assertArrayEquals(new double[] {0.275, 0.2625}, Criteria.FISHER.unitImportance().scores(W, full()), 1e-15);
    }
}
