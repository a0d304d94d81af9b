package dev.pare.common.calibration;

import static dev.pare.common.calibration.AccumulatorTesting.roundTrip;
import static dev.pare.common.calibration.AccumulatorTesting.uniformFloats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class CosineSimilaritySumsTest {

    /** {@code Σ_n cos(x_n, y_n)} with the rows of a rank-4 pair flattened by explicit index loops. */
    private static double loopCosineSum(INDArray x, INDArray y) {
        long[] s = x.shape();
        double total = 0;
        for (int n = 0; n < s[0]; n++) {
            double dot = 0;
            double xx = 0;
            double yy = 0;
            for (int c = 0; c < s[1]; c++) {
                for (int h = 0; h < s[2]; h++) {
                    for (int w = 0; w < s[3]; w++) {
                        double a = x.getDouble(n, c, h, w);
                        double b = y.getDouble(n, c, h, w);
                        dot += a * b;
                        xx += a * a;
                        yy += b * b;
                    }
                }
            }
            total += dot / Math.sqrt(xx * yy);
        }
        return total;
    }

    private static INDArray random(long seed, long... shape) {
        int length = 1;
        for (long d : shape) {
            length *= (int) d;
        }
        return Nd4j.create(uniformFloats(seed, length), shape, DataType.DOUBLE).castTo(DataType.FLOAT);
    }

    @Test
    void handComputedPairs() {
        CosineSimilaritySums s = new CosineSimilaritySums();
        INDArray in = Nd4j.create(new double[][] {{1, 0}, {1, 1}, {3, 4}, {2, 0}});
        INDArray out = Nd4j.create(new double[][] {{0, 5}, {-2, -2}, {3, 4}, {1, 1}});
        s.add(in, out);
        // orthogonal 0, antiparallel −1, identical 1, 45° √½
        double expected = 0 - 1 + 1 + Math.sqrt(0.5);
        assertEquals(expected, s.sum(), 1e-15);
        assertEquals(4, s.count());
        assertEquals(expected / 4, s.meanCosine(), 1e-15);
        assertEquals(1 - expected / 4, s.blockInfluence(), 1e-15);
    }

    @Test
    void rankFourRowsAreFlattenedPerExample() {
        INDArray in = random(1, 5, 3, 2, 4);
        INDArray out = in.add(random(2, 5, 3, 2, 4).mul(0.7f));
        double expected = loopCosineSum(in, out);
        CosineSimilaritySums s = new CosineSimilaritySums();
        s.add(in, out);
        assertEquals(5, s.count());
        assertEquals(expected, s.sum(), 1e-12 * 5);
        assertTrue(expected / 5 > 0.3 && expected / 5 < 0.99, "test data should be neither parallel nor orthogonal");

        CosineSimilaritySums fOrdered = new CosineSimilaritySums();
        fOrdered.add(in.dup('f'), out);
        assertEquals(expected, fOrdered.sum(), 1e-12 * 5, "flattening follows the logical C order, not memory");
    }

    @Test
    void zeroRowsFollowTheDocumentedConvention() {
        CosineSimilaritySums s = new CosineSimilaritySums();
        INDArray in = Nd4j.create(new double[][] {{0, 0, 0}, {0, 0, 0}, {1, 2, 3}});
        INDArray out = Nd4j.create(new double[][] {{0, 0, 0}, {1, 0, 0}, {0, 0, 0}});
        s.add(in, out);
        // both zero: unchanged, 1; one side zero: 0
        assertEquals(1.0, s.sum(), 0.0);
        assertEquals(3, s.count());
    }

    @Test
    void cosineIsClampedToMinusOneOne() {
        assertEquals(1.0, CosineSimilaritySums.cosine(1 + 1e-15, 1, 1), 0.0);
        assertEquals(-1.0, CosineSimilaritySums.cosine(-1 - 1e-15, 1, 1), 0.0);
        assertTrue(Double.isNaN(CosineSimilaritySums.cosine(Double.NaN, 1, 1)));
        // huge norms whose product overflows still give the right cosine
        assertEquals(1.0, CosineSimilaritySums.cosine(1e300, 1e300, 1e300), 1e-15);
    }

    @Test
    void mergeOfPartsEqualsWhole() {
        INDArray in = random(3, 9, 6);
        INDArray out = random(4, 9, 6).add(in);
        CosineSimilaritySums whole = new CosineSimilaritySums();
        whole.add(in, out);

        CosineSimilaritySums a = new CosineSimilaritySums();
        a.add(in.get(interval(0, 4), all()), out.get(interval(0, 4), all()));
        CosineSimilaritySums b = new CosineSimilaritySums();
        b.add(in.get(interval(4, 9), all()), out.get(interval(4, 9), all()));
        CosineSimilaritySums merged = a.copy();
        merged.merge(new CosineSimilaritySums());
        merged.merge(b);

        assertEquals(9, merged.count());
        assertEquals(whole.sum(), merged.sum(), 1e-12 * 9);
        assertEquals(whole.meanCosine(), merged.meanCosine(), 1e-12);
        assertEquals((a.sum() + b.sum()) / 9, merged.meanCosine(), 1e-15, "count-weighted, not a mean of means");
        assertEquals(4, a.count(), "merging into a copy leaves the part alone");
    }

    @Test
    void shapeMismatchIsRefusedAndNamesBothShapes() {
        CosineSimilaritySums s = new CosineSimilaritySums();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> s.add(Nd4j.zeros(DataType.FLOAT, 2, 3), Nd4j.zeros(DataType.FLOAT, 2, 4)));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[2, 4]"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> s.add(Nd4j.zeros(DataType.FLOAT, 3), Nd4j.zeros(DataType.FLOAT, 3)));
        assertEquals(0, s.count());
    }

    @Test
    void emptyMeanIsAnErrorNotAScore() {
        CosineSimilaritySums s = new CosineSimilaritySums();
        s.add(Nd4j.zeros(DataType.FLOAT, 0, 3), Nd4j.zeros(DataType.FLOAT, 0, 3));
        assertEquals(0, s.count());
        IllegalStateException e = assertThrows(IllegalStateException.class, s::meanCosine);
        assertTrue(e.getMessage().contains("no input/output pairs"), e.getMessage());
    }

    @Test
    void constructorChecksAndSerializationRoundTrip() {
        assertThrows(IllegalArgumentException.class, () -> new CosineSimilaritySums(0, -1));
        assertThrows(IllegalArgumentException.class, () -> new CosineSimilaritySums(3, 2));
        CosineSimilaritySums s = new CosineSimilaritySums(1.5, 2);
        CosineSimilaritySums back = roundTrip(s);
        assertEquals(1.5, back.sum(), 0.0);
        assertEquals(2, back.count());
    }
}
