package dev.pare.common.importance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.calibration.CalibrationStatistics.LayerStatistics;
import dev.pare.common.calibration.ColumnSquareSums;
import dev.pare.common.sparsity.ComparisonGroup;
import dev.pare.common.sparsity.UnstructuredMasks;
import org.junit.jupiter.api.Test;

class WandaCriterionTest {
    /** w[i][j]: 3 inputs, 2 output neurons. */
    private static final double[][] W = {
        {1.0, -2.0},
        {-5.0, 4.0},
        {3.0, 0.0}};

    /** Calibration rows: input column 1 is always zero. */
    private static LayerStatistics stats() {
        ColumnSquareSums s = new ColumnSquareSums(3);
        s.add(new double[][] {{1, 0, 2}, {2, 0, -1}, {0, 0, 3}});
        // S = [1+4+0, 0, 4+1+9] = [5, 0, 14]
        return LayerStatistics.inputNorms(0, "fc1", s);
    }

    @Test
    void scoresAreAbsWeightTimesInputNorm() {
        double r5 = Math.sqrt(5);
        double r14 = Math.sqrt(14);
        double[][] expected = {
            {1 * r5, 2 * r5},
            {0, 0},
            {3 * r14, 0}};
        double[][] scores = new WandaCriterion().scores(W, stats());
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(expected[i], scores[i], 1e-15, "row " + i);
        }
    }

    @Test
    void zeroActivationColumnScoresZeroWhateverItsWeights() {
        double[][] scores = new WandaCriterion().scores(W, stats());
        // |W| = 5 and 4 are the largest weights, but input column 1 never fired
        assertEquals(0.0, scores[1][0]);
        assertEquals(0.0, scores[1][1]);
        // so Wanda prunes them where magnitude would keep them
        boolean[][] keep = UnstructuredMasks.keep(scores, ComparisonGroup.OUTPUT_NEURON, 1.0 / 3);
        assertFalse(keep[1][0]);
        assertFalse(keep[1][1]);
    }

    @Test
    void comparesWithinOutputNeuronsAndNeedsCalibration() {
        WandaCriterion c = new WandaCriterion();
        assertEquals(ComparisonGroup.OUTPUT_NEURON, c.group());
        assertTrue(c.needsCalibration());
        assertThrows(IllegalArgumentException.class, () -> c.scores(W, null));
    }

    @Test
    void statisticsOfTheWrongWidthThrow() {
        LayerStatistics two = LayerStatistics.inputNorms(0, "fc1", new ColumnSquareSums(new double[] {1, 1}, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new WandaCriterion().scores(W, two));
        assertTrue(e.getMessage().contains("fc1"), e.getMessage());
    }

    @Test
    void registeredUnderItsConfigName() {
        assertEquals(Criteria.WANDA, Criteria.fromName("prune.criterion", "wanda"));
        assertTrue(Criteria.WANDA.criterion() instanceof WandaCriterion);
    }
}
