package dev.pare.common.importance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.config.ConfigError;
import dev.pare.common.sparsity.ComparisonGroup;
import org.junit.jupiter.api.Test;

class MagnitudeCriterionTest {

    @Test
    void scoresAreAbsoluteWeights() {
        double[][] w = {
            {1.0, -2.0},
            {-0.5, 4.0},
            {0.0, -0.0}};
        double[][] expected = {
            {1.0, 2.0},
            {0.5, 4.0},
            {0.0, 0.0}};
        double[][] s = new MagnitudeCriterion().scores(w, null);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(expected[i], s[i], 0.0, "row " + i);
        }
        // the input is not modified
        assertEquals(-2.0, w[0][1]);
    }

    @Test
    void comparesAcrossTheLayerWithoutCalibration() {
        MagnitudeCriterion c = new MagnitudeCriterion();
        assertEquals(ComparisonGroup.LAYER, c.group());
        assertFalse(c.needsCalibration());
        assertEquals(Criteria.MAGNITUDE, Criteria.fromName("prune.criterion", "magnitude"));
        assertTrue(Criteria.MAGNITUDE.criterion() instanceof MagnitudeCriterion);
    }

    @Test
    void unknownCriterionNameListsTheValidOnes() {
        ConfigError e = assertThrows(ConfigError.class, () -> Criteria.fromName("prune.criterion", "optimal-brain-surgeon"));
        assertTrue(e.getMessage().contains("prune.criterion"), e.getMessage());
        assertTrue(e.getMessage().contains("optimal-brain-surgeon"), e.getMessage());
        assertTrue(e.getMessage().contains("magnitude, wanda"), e.getMessage());
        assertEquals("prune.criterion", e.path());
    }
}
