package dev.pare.common.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxFileTest {

    /** Two 2x3 "images"; 200 and 255 check that bytes are kept unsigned-as-stored. */
    private static final byte[] PIXELS = {0, 1, 2, 3, 4, 5, (byte) 200, 7, 8, 9, 10, (byte) 255};

    /** A big-endian idx file: magic 0x00 0x00 type ndim, dims, then {@code data}. */
    private static byte[] idx(int type, int[] dims, byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt((type << 8) | dims.length);
        for (int d : dims) {
            out.writeInt(d);
        }
        out.write(data);
        out.flush();
        return bytes.toByteArray();
    }

    private static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(raw);
        }
        return bytes.toByteArray();
    }

    private static Path write(Path dir, String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    @Test
    void readsAPlainImageFile(@TempDir Path dir) throws IOException {
        byte[] raw = idx(0x08, new int[] {2, 2, 3}, PIXELS);
        assertEquals(4 + 12 + 12, raw.length);
        assertEquals(0x00, raw[0]);
        assertEquals(0x03, raw[3]);
        IdxFile f = IdxFile.read(write(dir, "images-idx3-ubyte", raw));
        assertArrayEquals(new int[] {2, 2, 3}, f.dims());
        assertArrayEquals(PIXELS, f.data());
        assertEquals(2, f.count());
        assertEquals(6, f.itemSize());
        assertEquals(200, f.data()[6] & 0xff);
    }

    @Test
    void readsAGzippedLabelFileWhateverItsName(@TempDir Path dir) throws IOException {
        byte[] labels = {3, 1, 4, 1, 5};
        // named without .gz: detection is by content
        IdxFile f = IdxFile.read(write(dir, "labels-idx1-ubyte", gzip(idx(0x08, new int[] {5}, labels))));
        assertArrayEquals(new int[] {5}, f.dims());
        assertArrayEquals(labels, f.data());
        assertEquals(5, f.count());
        assertEquals(1, f.itemSize());
        // and the gzip of the image file reads the same as the plain one
        IdxFile g = IdxFile.read(write(dir, "images.gz", gzip(idx(0x08, new int[] {2, 2, 3}, PIXELS))));
        assertArrayEquals(PIXELS, g.data());
    }

    private static IOException failing(Path dir, String name, byte[] content) throws IOException {
        Path p = write(dir, name, content);
        IOException e = assertThrows(IOException.class, () -> IdxFile.read(p));
        assertTrue(e.getMessage().contains(p.toString()), "source missing from: " + e.getMessage());
        return e;
    }

    @Test
    void badMagicThrows(@TempDir Path dir) throws IOException {
        // type 0x0D (float) is not supported
        IOException e = failing(dir, "float.idx", idx(0x0D, new int[] {2}, new byte[8]));
        assertTrue(e.getMessage().contains("not an unsigned-byte idx file"), e.getMessage());
        assertTrue(e.getMessage().contains("00000d01"), e.getMessage());
        // a file that is not idx at all
        IOException text = failing(dir, "readme.txt", "hello, world".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertTrue(text.getMessage().contains("magic"), text.getMessage());
    }

    @Test
    void badDimensionsThrow(@TempDir Path dir) throws IOException {
        IOException zeroDims = failing(dir, "zero.idx", idx(0x08, new int[0], new byte[0]));
        assertTrue(zeroDims.getMessage().contains("0 dimensions"), zeroDims.getMessage());
        IOException negative = failing(dir, "neg.idx", idx(0x08, new int[] {2, -3}, new byte[0]));
        assertTrue(negative.getMessage().contains("dimension 1 is -3"), negative.getMessage());
    }

    @Test
    void truncatedDataThrows(@TempDir Path dir) throws IOException {
        byte[] full = idx(0x08, new int[] {2, 2, 3}, PIXELS);
        IOException e = failing(dir, "short.idx", Arrays.copyOf(full, full.length - 1));
        assertTrue(e.getMessage().contains("shorter than its header declares"), e.getMessage());
        IOException header = failing(dir, "header.idx", Arrays.copyOf(full, 6));
        assertTrue(header.getMessage().contains("shorter"), header.getMessage());
        IOException gz = failing(dir, "short.gz", gzip(Arrays.copyOf(full, full.length - 1)));
        assertTrue(gz.getMessage().contains("shorter"), gz.getMessage());
    }

    @Test
    void trailingBytesThrow(@TempDir Path dir) throws IOException {
        byte[] full = idx(0x08, new int[] {2, 2, 3}, PIXELS);
        byte[] longer = Arrays.copyOf(full, full.length + 1);
        IOException e = failing(dir, "long.idx", longer);
        assertTrue(e.getMessage().contains("bytes after the 12 declared"), e.getMessage());
        IOException gz = failing(dir, "long.gz", gzip(longer));
        assertTrue(gz.getMessage().contains("bytes after"), gz.getMessage());
    }

    @Test
    void dimensionProductOverflowIsRejected(@TempDir Path dir) throws IOException {
        failing(dir, "overflow.idx", idx(0x08, new int[] {65536, 65536, 65536, 65536}, new byte[0]));
    }
}
