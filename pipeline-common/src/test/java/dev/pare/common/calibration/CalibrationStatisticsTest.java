package dev.pare.common.calibration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.TinyNets;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CalibrationStatisticsTest {
    private static final int ROWS = 12;
    private static MultiLayerNetwork net;
    private static float[][] x;

    @BeforeAll
    static void setUp() {
        net = TinyNets.dense(42, 4, 3, 2);
        x = TinyNets.randomRows(7, ROWS, 4);
    }

    private static CalibrationStatistics statsOf(float[][] rows) {
        CalibrationStatistics s = CalibrationStatistics.emptyFor(net);
        s.add(net, TinyNets.toArray(rows));
        return s;
    }

    private static void assertRelClose(double[] expected, double[] actual, double rel, double absFloor, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int j = 0; j < expected.length; j++) {
            assertEquals(expected[j], actual[j], Math.max(absFloor, rel * Math.abs(expected[j])), what + " column " + j);
        }
    }

    @Test
    void hasOneAccumulatorPerDenseLayerIncludingOutput() {
        CalibrationStatistics s = CalibrationStatistics.emptyFor(net);
        assertEquals(2, s.layers().size());
        assertEquals(4, s.layer(0).inputSquareSums().columns());
        assertEquals(3, s.layer(1).inputSquareSums().columns());
        assertEquals("fc1", s.layer(0).name());
        assertEquals("out", s.layer(1).name());
        assertEquals(0, s.samples());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.layer(5));
        assertTrue(e.getMessage().contains("5"), e.getMessage());
    }

    @Test
    void mergeOfDisjointPartsEqualsStatisticsOfAllRows() {
        CalibrationStatistics whole = statsOf(x);
        List<CalibrationStatistics> parts = List.of(
                statsOf(Arrays.copyOfRange(x, 0, 5)),
                statsOf(Arrays.copyOfRange(x, 5, 6)),
                statsOf(Arrays.copyOfRange(x, 6, ROWS)));
        CalibrationStatistics merged = CalibrationStatistics.mergeInOrder(parts);

        assertEquals(ROWS, whole.samples());
        assertEquals(ROWS, merged.samples());
        for (int l = 0; l < 2; l++) {
            assertEquals(ROWS, merged.layer(l).inputSquareSums().count());
            assertRelClose(whole.layer(l).inputSquareSums().sums(), merged.layer(l).inputSquareSums().sums(), 1e-9,
                    0, "layer " + l);
        }
        // mergeInOrder copies: the first part is unchanged
        assertEquals(5, parts.get(0).samples());
    }

    @Test
    void mergeInOrderOfNothingThrows() {
        assertThrows(IllegalArgumentException.class, () -> CalibrationStatistics.mergeInOrder(List.of()));
    }

    @Test
    void mergingStatisticsOfDifferentLayersThrows() {
        CalibrationStatistics a = CalibrationStatistics.emptyFor(net);
        CalibrationStatistics b = CalibrationStatistics.emptyFor(TinyNets.dense(1, 4, 3, 3, 2));
        assertThrows(IllegalArgumentException.class, () -> a.merge(b));
    }

    @Test
    void inputSumsMatchActivationsComputedByHand() {
        CalibrationStatistics s = statsOf(x);
        float[][] w = TinyNets.weights(net, 0);
        float[] b = TinyNets.bias(net, 0);

        double[] expectedIn0 = new double[4];
        double[] expectedIn1 = new double[3];
        for (float[] row : x) {
            for (int i = 0; i < 4; i++) {
                expectedIn0[i] += (double) row[i] * row[i];
            }
            for (int j = 0; j < 3; j++) {
                double z = b[j];
                for (int i = 0; i < 4; i++) {
                    z += (double) row[i] * w[i][j];
                }
                double h = Math.max(0, z); // ReLU
                expectedIn1[j] += h * h;
            }
        }
        double total = Arrays.stream(expectedIn1).sum();
        assertTrue(total > 0.1, "the hidden layer must be active for this test to mean anything: " + total);

        // layer 0 sees the float features themselves: squares widened to double are exact
        assertRelClose(expectedIn0, s.layer(0).inputSquareSums().sums(), 1e-12, 0, "layer 0");
        // layer 1 sees ReLU(x W + b) computed by ND4J in float
        assertRelClose(expectedIn1, s.layer(1).inputSquareSums().sums(), 1e-5, 1e-6, "layer 1");
        assertEquals(ROWS, s.layer(1).inputSquareSums().count());
    }

    @Test
    void jsonRoundTripIsBitIdentical() throws IOException {
        CalibrationStatistics s = statsOf(x);
        java.util.Map<String, ByteArrayOutputStream> files = new java.util.HashMap<>();
        s.write(name -> files.computeIfAbsent(name, k -> new ByteArrayOutputStream()));
        assertEquals(java.util.Set.of(CalibrationStatistics.FILE), files.keySet());
        String json = files.get(CalibrationStatistics.FILE).toString(StandardCharsets.UTF_8);
        assertTrue(json.contains(CalibrationStatistics.FORMAT), json);

        CalibrationStatistics back = CalibrationStatistics.read(
                name -> new ByteArrayInputStream(files.get(name).toByteArray()), "mem");
        assertEquals(s, back);
        assertEquals(ROWS, back.samples());
        assertEquals("fc1", back.layer(0).name());
        assertEquals("out", back.layer(1).name());
        for (int l = 0; l < 2; l++) {
            // equals() compares with Arrays.equals; check the raw bits as well
            double[] a = s.layer(l).inputSquareSums().sums();
            double[] c = back.layer(l).inputSquareSums().sums();
            for (int j = 0; j < a.length; j++) {
                assertEquals(Double.doubleToRawLongBits(a[j]), Double.doubleToRawLongBits(c[j]));
            }
        }
        // equals is not trivially true
        assertNotEquals(s, statsOf(Arrays.copyOfRange(x, 0, 3)));
    }

    @Test
    void readingJsonThatIsNotStatisticsNamesTheSource() {
        byte[] other = "{\"format\": \"something-else/1\", \"layers\": []}".getBytes(StandardCharsets.UTF_8);
        IOException e = assertThrows(IOException.class,
                () -> CalibrationStatistics.read(name -> new ByteArrayInputStream(other), "runs/x"));
        assertTrue(e.getMessage().contains("runs/x/statistics.json"), e.getMessage());

        byte[] array = "[1, 2, 3]".getBytes(StandardCharsets.UTF_8);
        IOException e2 = assertThrows(IOException.class,
                () -> CalibrationStatistics.read(name -> new ByteArrayInputStream(array), "arr"));
        assertTrue(e2.getMessage().contains("arr/statistics.json"), e2.getMessage());
    }

    @Test
    void readingSumsThatDisagreeWithNInThrows() {
        String json = "{\"format\": \"" + CalibrationStatistics.FORMAT + "\", \"samples\": 1, \"layers\": ["
                + "{\"index\": 0, \"name\": \"fc1\", \"nIn\": 3, \"count\": 1, \"inputSquareSums\": [1.0, 2.0]}]}";
        IOException e = assertThrows(IOException.class, () -> CalibrationStatistics.read(
                name -> new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "bad"));
        assertTrue(e.getMessage().contains("bad/statistics.json") && e.getMessage().contains("fc1"), e.getMessage());
    }

    @Test
    void copyIsIndependentOfTheOriginal() {
        CalibrationStatistics s = statsOf(Arrays.copyOfRange(x, 0, 4));
        CalibrationStatistics c = s.copy();
        c.add(net, TinyNets.toArray(Arrays.copyOfRange(x, 4, 6)));
        assertEquals(4, s.samples());
        assertEquals(6, c.samples());
        assertArrayEquals(statsOf(Arrays.copyOfRange(x, 0, 4)).layer(0).inputSquareSums().sums(),
                s.layer(0).inputSquareSums().sums());
    }
}
