package dev.pare.common.datapruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.config.ConfigError;
import org.junit.jupiter.api.Test;

class ExampleScoresTest {

    @Test
    void lossAndEl2nOfSmallLogitsByHand() {
        // softmax([2, 1, 0]) computed directly
        double sum = Math.exp(2) + Math.exp(1) + Math.exp(0);
        double p0 = Math.exp(2) / sum;
        double p1 = Math.exp(1) / sum;
        double p2 = Math.exp(0) / sum;
        double loss0 = -Math.log(p0);
        double el2n0 = Math.sqrt((p0 - 1) * (p0 - 1) + p1 * p1 + p2 * p2);

        ExampleScores s = ExampleScores.of(new float[] {2, 1, 0}, 0, 3, 0);
        assertEquals(loss0, s.loss(), 1e-12);
        assertEquals(el2n0, s.el2n(), 1e-12);
        // the same numbers written out, to 1e-6
        assertEquals(0.407606, s.loss(), 1e-6);
        assertEquals(0.424336, s.el2n(), 1e-6);

        ExampleScores s2 = ExampleScores.of(new float[] {2, 1, 0}, 0, 3, 2);
        assertEquals(-Math.log(p2), s2.loss(), 1e-12);
        assertEquals(Math.sqrt(p0 * p0 + p1 * p1 + (p2 - 1) * (p2 - 1)), s2.el2n(), 1e-12);
    }

    @Test
    void readsTheRowAtTheGivenOffset() {
        float[] rows = {9, 9, 9, 2, 1, 0, -5, -5, -5};
        ExampleScores atOffset = ExampleScores.of(rows, 3, 3, 0);
        ExampleScores alone = ExampleScores.of(new float[] {2, 1, 0}, 0, 3, 0);
        assertEquals(alone, atOffset);
        // uniform logits: loss log 3, EL2N sqrt((2/3)^2 + 2 (1/3)^2) = sqrt(2/3)
        ExampleScores uniform = ExampleScores.of(rows, 0, 3, 1);
        assertEquals(Math.log(3), uniform.loss(), 1e-12);
        assertEquals(Math.sqrt(2.0 / 3), uniform.el2n(), 1e-12);
    }

    @Test
    void extremeLogitsGiveNoNaN() {
        ExampleScores right = ExampleScores.of(new float[] {1000, 0}, 0, 2, 0);
        assertEquals(0.0, right.loss(), 1e-12);
        assertEquals(0.0, right.el2n(), 1e-12);

        ExampleScores wrong = ExampleScores.of(new float[] {1000, 0}, 0, 2, 1);
        assertEquals(1000.0, wrong.loss(), 1e-9);
        assertEquals(Math.sqrt(2), wrong.el2n(), 1e-12);

        ExampleScores negative = ExampleScores.of(new float[] {-1000, -1000, -3000}, 0, 3, 2);
        assertFalse(Double.isNaN(negative.loss()) || Double.isNaN(negative.el2n()));
        assertEquals(2000 + Math.log(2), negative.loss(), 1e-9);

        ExampleScores huge = ExampleScores.of(new float[] {Float.MAX_VALUE, 0}, 0, 2, 1);
        assertFalse(Double.isNaN(huge.loss()) || Double.isNaN(huge.el2n()));
        assertTrue(huge.el2n() <= Math.sqrt(2) + 1e-12);
    }

    @Test
    void selectionMethodNames() {
        assertEquals(SelectionMethod.HARDEST, SelectionMethod.fromName("selection.method", "hardest"));
        assertEquals(SelectionMethod.RANDOM, SelectionMethod.fromName("selection.method", "random"));
        ConfigError e = assertThrows(ConfigError.class, () -> SelectionMethod.fromName("selection.method", "el2n-hardest"));
        assertTrue(e.getMessage().contains("random, hardest, easiest, ccs"), e.getMessage());
        assertEquals(ScoreKind.MARGIN, ScoreKind.fromName("selection.score", "margin"));
        assertEquals(-0.25, ScoreKind.MARGIN.hardness(0.25));
        assertEquals(0.25, ScoreKind.GRAND.hardness(0.25));
    }
}
