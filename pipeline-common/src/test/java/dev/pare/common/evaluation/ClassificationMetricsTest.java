package dev.pare.common.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ClassificationMetricsTest {
    /** Four rows of 3-class logits. Predictions: 0, 2, 1, 0 (row 3 ties 0 and 1: the lower index wins). */
    private static final float[] LOGITS = {
        3, 1, 0,
        0, 1, 2,
        0, 5, 1,
        2, 2, 1};
    private static final int[] LABELS = {0, 2, 2, 1};
    /** A reference model's predictions: agrees on rows 0 and 2. */
    private static final int[] REFERENCE = {0, 1, 1, 1};

    private static double ce(double[] z, int y) {
        double sum = 0;
        for (double v : z) {
            sum += Math.exp(v);
        }
        return -Math.log(Math.exp(z[y]) / sum);
    }

    @Test
    void handComputedMetrics() {
        ClassificationMetrics m = new ClassificationMetrics(3);
        m.add(LOGITS, LABELS, REFERENCE);
        assertEquals(4, m.count());
        // correct: row 0 (0=0), row 1 (2=2); wrong: row 2 (1≠2), row 3 (0≠1)
        assertEquals(0.5, m.accuracy());
        assertEquals(0.5, m.agreement());
        double expectedLoss = (ce(new double[] {3, 1, 0}, 0) + ce(new double[] {0, 1, 2}, 2)
                + ce(new double[] {0, 5, 1}, 2) + ce(new double[] {2, 2, 1}, 1)) / 4;
        assertEquals(expectedLoss, m.meanLoss(), 1e-12);
        // class 0: 1/1; class 1: 0/1; class 2: 1/2
        assertArrayEquals(new double[] {1.0, 0.0, 0.5}, m.perClassAccuracy(), 0.0);
        assertArrayEquals(new long[] {1, 1, 2}, m.perClassCount());
    }

    @Test
    void argmaxTiesGoToTheLowerIndex() {
        assertEquals(0, ClassificationMetrics.argmax(new float[] {2, 2, 1}, 0, 3));
        assertEquals(1, ClassificationMetrics.argmax(new float[] {9, 0, 4, 4}, 1, 3));
    }

    @Test
    void mergeEqualsSingleAccumulation() {
        ClassificationMetrics whole = new ClassificationMetrics(3);
        whole.add(LOGITS, LABELS, REFERENCE);

        ClassificationMetrics a = new ClassificationMetrics(3);
        a.add(Arrays.copyOfRange(LOGITS, 0, 3), Arrays.copyOfRange(LABELS, 0, 1), Arrays.copyOfRange(REFERENCE, 0, 1));
        ClassificationMetrics b = new ClassificationMetrics(3);
        b.add(Arrays.copyOfRange(LOGITS, 3, 12), Arrays.copyOfRange(LABELS, 1, 4), Arrays.copyOfRange(REFERENCE, 1, 4));
        ClassificationMetrics empty = new ClassificationMetrics(3);
        a.merge(empty);
        a.merge(b);

        assertEquals(whole.count(), a.count());
        assertEquals(whole.accuracy(), a.accuracy());
        assertEquals(whole.agreement(), a.agreement());
        assertEquals(whole.meanLoss(), a.meanLoss(), 1e-12);
        assertArrayEquals(whole.perClassAccuracy(), a.perClassAccuracy(), 0.0);
        assertArrayEquals(whole.perClassCount(), a.perClassCount());
    }

    @Test
    void emptyAndReferenceFreeMetricsAreNaN() {
        ClassificationMetrics m = new ClassificationMetrics(3);
        assertTrue(Double.isNaN(m.accuracy()));
        assertTrue(Double.isNaN(m.meanLoss()));
        m.add(LOGITS, LABELS, null);
        assertTrue(Double.isNaN(m.agreement()), "no reference given");
        assertEquals(0.5, m.accuracy());
        ClassificationMetrics one = new ClassificationMetrics(3);
        one.add(new float[] {0, 0, 1}, new int[] {2}, null);
        assertTrue(Double.isNaN(one.perClassAccuracy()[0]), "class never seen");
        assertEquals(1.0, one.perClassAccuracy()[2]);
    }

    @Test
    void agreementCountsOnlyRowsWithAReference() {
        ClassificationMetrics withRef = new ClassificationMetrics(3);
        withRef.add(Arrays.copyOfRange(LOGITS, 0, 6), Arrays.copyOfRange(LABELS, 0, 2), new int[] {0, 2});
        ClassificationMetrics noRef = new ClassificationMetrics(3);
        noRef.add(Arrays.copyOfRange(LOGITS, 6, 12), Arrays.copyOfRange(LABELS, 2, 4), null);
        withRef.merge(noRef);
        assertEquals(1.0, withRef.agreement());
        assertEquals(4, withRef.count());
    }

    @Test
    void extremeLogitsGiveFiniteLoss() {
        ClassificationMetrics m = new ClassificationMetrics(2);
        m.add(new float[] {1000, 0, 0, 1000}, new int[] {1, 1}, null);
        assertEquals(500.0, m.meanLoss(), 1e-9);
    }

    @Test
    void mergingDifferentClassCountsThrows() {
        assertThrows(IllegalArgumentException.class,
                () -> new ClassificationMetrics(3).merge(new ClassificationMetrics(4)));
    }
}
