package dev.pare.common.calibration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.TinyNets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class ColumnSquareSumsTest {

    private static void assertRelClose(double[] expected, double[] actual, double rel) {
        assertEquals(expected.length, actual.length, "length");
        for (int j = 0; j < expected.length; j++) {
            double tol = rel * Math.max(1e-300, Math.abs(expected[j]));
            assertEquals(expected[j], actual[j], tol, "column " + j);
        }
    }

    private static double[][] toDouble(float[][] rows) {
        double[][] d = new double[rows.length][];
        for (int r = 0; r < rows.length; r++) {
            d[r] = new double[rows[r].length];
            for (int j = 0; j < d[r].length; j++) {
                d[r][j] = rows[r][j];
            }
        }
        return d;
    }

    @Test
    void handComputedSumsOnThreeByTwo() {
        ColumnSquareSums s = new ColumnSquareSums(2);
        s.add(new double[][] {{1, 2}, {3, -4}, {0.5, 0}});
        // column 0: 1 + 9 + 0.25; column 1: 4 + 16 + 0
        assertArrayEquals(new double[] {10.25, 20.0}, s.sums());
        assertEquals(3, s.count());
        assertEquals(2, s.columns());
        assertArrayEquals(new double[] {10.25 / 3, 20.0 / 3}, s.mean());
        assertArrayEquals(new double[] {Math.sqrt(10.25), Math.sqrt(20.0)}, s.norms());
    }

    @Test
    void emptyAccumulatorHasZeroMeanAndCount() {
        ColumnSquareSums s = new ColumnSquareSums(3);
        assertEquals(0, s.count());
        assertArrayEquals(new double[3], s.mean());
        assertArrayEquals(new double[3], s.sums());
    }

    @Test
    void mergeOfPartsEqualsWhole() {
        double[][] rows = toDouble(TinyNets.randomRows(11, 10, 4));
        ColumnSquareSums whole = new ColumnSquareSums(4);
        whole.add(rows);

        ColumnSquareSums a = new ColumnSquareSums(4);
        a.add(Arrays.copyOfRange(rows, 0, 3));
        ColumnSquareSums b = new ColumnSquareSums(4);
        b.add(Arrays.copyOfRange(rows, 3, 7));
        ColumnSquareSums c = new ColumnSquareSums(4);
        c.add(Arrays.copyOfRange(rows, 7, 10));
        ColumnSquareSums empty = new ColumnSquareSums(4);

        ColumnSquareSums merged = a.copy();
        merged.merge(b);
        merged.merge(empty);
        merged.merge(c);

        assertEquals(10, merged.count());
        assertRelClose(whole.sums(), merged.sums(), 1e-12);
        assertRelClose(whole.mean(), merged.mean(), 1e-12);
        // the parts are not modified by merging into a copy
        assertEquals(3, a.count());
    }

    @Test
    void meanOfMergeIsCountWeightedMeanOfParts() {
        double[][] small = toDouble(TinyNets.randomRows(1, 2, 3));
        double[][] large = toDouble(TinyNets.randomRows(2, 5, 3));
        // make the parts' means clearly different so that an unweighted average would fail
        for (double[] r : large) {
            for (int j = 0; j < r.length; j++) {
                r[j] *= 4;
            }
        }
        ColumnSquareSums a = new ColumnSquareSums(3);
        a.add(small);
        ColumnSquareSums b = new ColumnSquareSums(3);
        b.add(large);
        double[] ma = a.mean();
        double[] mb = b.mean();
        a.merge(b);

        double[] expected = new double[3];
        double[] unweighted = new double[3];
        for (int j = 0; j < 3; j++) {
            expected[j] = (2 * ma[j] + 5 * mb[j]) / 7;
            unweighted[j] = (ma[j] + mb[j]) / 2;
        }
        assertEquals(7, a.count());
        assertRelClose(expected, a.mean(), 1e-12);
        assertTrue(Math.abs(unweighted[0] - a.mean()[0]) > 1e-3, "test data must separate weighted from unweighted");
    }

    @Test
    void addINDArrayEqualsAddDoubleRows() {
        float[][] rows = TinyNets.randomRows(5, 6, 4);
        ColumnSquareSums viaArray = new ColumnSquareSums(4);
        viaArray.add(Nd4j.create(rows).castTo(DataType.FLOAT));
        ColumnSquareSums viaRows = new ColumnSquareSums(4);
        viaRows.add(toDouble(rows));
        assertEquals(viaRows.count(), viaArray.count());
        assertRelClose(viaRows.sums(), viaArray.sums(), 1e-12);

        ColumnSquareSums viaDoubleArray = new ColumnSquareSums(4);
        viaDoubleArray.add(Nd4j.create(toDouble(rows)));
        assertRelClose(viaRows.sums(), viaDoubleArray.sums(), 1e-12);
    }

    @Test
    void mergingMismatchedWidthsThrows() {
        ColumnSquareSums two = new ColumnSquareSums(2);
        ColumnSquareSums three = new ColumnSquareSums(3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> two.merge(three));
        assertTrue(e.getMessage().contains("3") && e.getMessage().contains("2"), e.getMessage());
        assertEquals(0, two.count(), "a refused merge changes nothing");
    }

    @Test
    void addingArrayOfWrongWidthThrows() {
        ColumnSquareSums two = new ColumnSquareSums(2);
        assertThrows(IllegalArgumentException.class, () -> two.add(Nd4j.zeros(DataType.FLOAT, 4, 3)));
        assertThrows(IllegalArgumentException.class, () -> two.add(Nd4j.zeros(DataType.FLOAT, 2)));
    }

    @Test
    void negativeCountIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new ColumnSquareSums(new double[2], -1));
    }

    @Test
    void copyIsIndependent() {
        ColumnSquareSums a = new ColumnSquareSums(new double[] {1, 2}, 1);
        ColumnSquareSums b = a.copy();
        b.add(new double[][] {{1, 1}});
        assertArrayEquals(new double[] {1, 2}, a.sums());
        assertArrayEquals(new double[] {2, 3}, b.sums());
    }

    @Test
    void everyLayoutViewAndPrecisionGivesTheSums() {
        // 'c' features, 'f' layer outputs, a strided row view, a transposed view, double and half.
        float[][] rows = TinyNets.randomRows(17, 6, 5);
        double[][] d = toDouble(rows);
        double[] expected = new double[5];
        for (double[] row : d) {
            for (int j = 0; j < 5; j++) {
                expected[j] += row[j] * row[j];
            }
        }
        INDArray c = Nd4j.create(rows);
        INDArray padded = Nd4j.zeros(DataType.FLOAT, 12, 5);
        for (int r = 0; r < 6; r++) {
            padded.putRow(2 * r, c.getRow(r));
        }
        INDArray[] inputs = {
            c, c.dup('f'), padded.get(NDArrayIndex.interval(0, 2, 12),
                    NDArrayIndex.all()),
            c.transpose().dup('c').transpose(), c.castTo(DataType.DOUBLE).dup('f'),
        };
        for (INDArray in : inputs) {
            ColumnSquareSums s = new ColumnSquareSums(5);
            s.add(in);
            assertEquals(6, s.count());
            assertRelClose(expected, s.sums(), 1e-12);
        }
        ColumnSquareSums half = new ColumnSquareSums(5);
        half.add(c.castTo(DataType.HALF));
        assertRelClose(expected, half.sums(), 1e-3);
    }
}
