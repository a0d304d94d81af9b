package dev.pare.common.sparsity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

class MaskSetTest {
    private static final boolean T = true;
    private static final boolean F = false;

    private static MaskSet sample() {
        LayerMask a = LayerMask.of(0, "fc1", new boolean[][] {
            {T, F, T},
            {F, F, T}});
        // 20 columns: the BitSet spans several bytes and ends with a cleared tail
        boolean[][] wide = new boolean[2][20];
        wide[0][3] = true;
        wide[1][10] = true;
        LayerMask b = LayerMask.of(1, "fc2 naïve", wide);
        // nothing kept: an empty BitSet writes zero bytes
        LayerMask c = LayerMask.of(3, "out", new boolean[][] {{F, F}, {F, F}});
        return new MaskSet(List.of(a, b, c));
    }

    private static byte[] bytes(MaskSet m) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        m.write(out);
        return out.toByteArray();
    }

    @Test
    void layerMaskBitsAndCounts() {
        LayerMask a = sample().layers().get(0);
        // bit i*nOut + j
        BitSet expected = new BitSet();
        expected.set(0);
        expected.set(2);
        expected.set(5);
        assertEquals(expected, a.keep());
        assertTrue(a.kept(1, 2));
        assertFalse(a.kept(1, 0));
        assertEquals(6, a.size());
        assertEquals(3, a.keptCount());
        assertEquals(0.5, a.sparsity());
        float[] arr = a.toArray(DataType.FLOAT).reshape(6).toFloatVector();
        assertArrayEquals(new float[] {1, 0, 1, 0, 0, 1}, arr);

        MaskSet set = sample();
        assertEquals(6 + 40 + 4, set.size());
        assertEquals(3 + 2 + 0, set.keptCount());
        assertEquals(1.0 - 5.0 / 50, set.sparsity(), 1e-15);
    }

    @Test
    void writeThenReadGivesAnEqualMaskSet() throws IOException {
        MaskSet m = sample();
        MaskSet back = MaskSet.read(new ByteArrayInputStream(bytes(m)), "mem");
        assertEquals(m, back);
        assertEquals("fc2 naïve", back.layers().get(1).name());
        assertEquals(20, back.layers().get(1).nOut());
        assertEquals(3, back.layers().get(2).index());
        // equality is by content: a different mask is not equal
        LayerMask other = LayerMask.of(0, "fc1", new boolean[][] {{T, T, T}, {F, F, T}});
        assertNotEquals(m, new MaskSet(List.of(other, m.layers().get(1), m.layers().get(2))));
    }

    @Test
    void emptyMaskSetRoundTrips() throws IOException {
        MaskSet empty = new MaskSet(List.of());
        assertEquals(empty, MaskSet.read(new ByteArrayInputStream(bytes(empty)), "mem"));
        assertEquals(0.0, empty.sparsity());
    }

    @Test
    void truncatedFileThrowsNamingTheSource() throws IOException {
        byte[] full = bytes(sample());
        for (int cut : new int[] {3, 10, 17, full.length - 1}) {
            byte[] part = Arrays.copyOf(full, cut);
            IOException e = assertThrows(IOException.class,
                    () -> MaskSet.read(new ByteArrayInputStream(part), "run/masks.bin"), "cut at " + cut);
            assertTrue(e.getMessage().contains("run/masks.bin"), e.getMessage());
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    @Test
    void badMagicThrowsNamingTheSource() throws IOException {
        byte[] b = bytes(sample());
        b[0] = 'X';
        IOException e = assertThrows(IOException.class,
                () -> MaskSet.read(new ByteArrayInputStream(b), "run/masks.bin"));
        assertTrue(e.getMessage().contains("run/masks.bin"), e.getMessage());
        assertTrue(e.getMessage().contains("magic"), e.getMessage());
    }

    @Test
    void unsupportedVersionThrows() throws IOException {
        byte[] b = bytes(sample());
        ByteBuffer.wrap(b).putInt(8, 2); // the version follows the 8-byte magic
        IOException e = assertThrows(IOException.class, () -> MaskSet.read(new ByteArrayInputStream(b), "m.bin"));
        assertTrue(e.getMessage().contains("m.bin") && e.getMessage().contains("version 2"), e.getMessage());
    }

    @Test
    void maskWithBitsBeyondItsShapeIsRejected() {
        BitSet bits = new BitSet();
        bits.set(6);
        assertThrows(IllegalArgumentException.class, () -> new LayerMask(0, "fc1", 2, 3, bits));
    }

    @Test
    void corruptLayerRecordThrowsIOExceptionNamingTheSource() throws IOException {
        MaskSet one = new MaskSet(List.of(LayerMask.of(0, "a", new boolean[][] {{T, F}, {F, T}})));
        byte[] b = bytes(one);
        // magic 8, version 4, count 4, index 4, name 2+1, nIn 4, nOut 4: the byte count is at offset 31
        ByteBuffer.wrap(b).putInt(31, -1);
        IOException negative = assertThrows(IOException.class, () -> MaskSet.read(new ByteArrayInputStream(b), "m.bin"));
        assertTrue(negative.getMessage().contains("m.bin"), negative.getMessage());

        byte[] c = bytes(one);
        ByteBuffer.wrap(c).putInt(23, 1); // nIn 2 -> 1: bit 3 is now beyond 1x2
        IOException beyond = assertThrows(IOException.class, () -> MaskSet.read(new ByteArrayInputStream(c), "m.bin"));
        assertTrue(beyond.getMessage().contains("m.bin"), beyond.getMessage());
    }
}
