package dev.pare.common.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reader of the idx format of MNIST and Fashion-MNIST (LeCun et al.): a big-endian magic
 * {@code 0x00 0x00 type ndim} (type 0x08 = unsigned byte), {@code ndim} int dimensions, then the
 * data. Files may be gzip-compressed (detected from the content, not the name).
 *
 * @param dims the dimensions, e.g. {@code [60000, 28, 28]} for images, {@code [60000]} for labels
 * @param data the unsigned bytes, row-major
 */
public record IdxFile(int[] dims, byte[] data) {

    public int count() {
        return dims[0];
    }

    /** Elements per item (e.g. 784 for 28x28 images, 1 for labels). */
    public int itemSize() {
        int s = 1;
        for (int i = 1; i < dims.length; i++) {
            s *= dims[i];
        }
        return s;
    }

    public static IdxFile read(Path path) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(path))) {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            InputStream in = (b0 == 0x1f && b1 == 0x8b) ? new GZIPInputStream(raw, 1 << 16) : raw;
            return read(in, path.toString());
        }
    }

    static IdxFile read(InputStream stream, String source) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        try {
            int magic = in.readInt();
            if ((magic >>> 16) != 0 || ((magic >>> 8) & 0xff) != 0x08) {
                throw new IOException(source + ": not an unsigned-byte idx file (magic 0x"
                        + String.format("%08x", magic) + ", expected 0x000008NN)");
            }
            int ndim = magic & 0xff;
            if (ndim < 1 || ndim > 4) {
                throw new IOException(source + ": idx header declares " + ndim + " dimensions (expected 1 to 4)");
            }
            int[] dims = new int[ndim];
            long total = 1;
            for (int i = 0; i < ndim; i++) {
                dims[i] = in.readInt();
                if (dims[i] <= 0) {
                    throw new IOException(source + ": idx dimension " + i + " is " + dims[i]);
                }
                total *= dims[i];
                if (total > Integer.MAX_VALUE - 8) {
                    throw new IOException(source + ": idx dimensions " + java.util.Arrays.toString(
                            java.util.Arrays.copyOf(dims, i + 1)) + "... describe more than 2 GB of data");
                }
            }
            if (total > Integer.MAX_VALUE - 8) {
                throw new IOException(source + ": idx data of " + total + " bytes is too large");
            }
            byte[] data = new byte[(int) total];
            in.readFully(data);
            if (in.read() != -1) {
                throw new IOException(source + ": idx file has bytes after the " + total + " declared by its header");
            }
            return new IdxFile(dims, data);
        } catch (EOFException e) {
            throw new IOException(source + ": idx file is shorter than its header declares", e);
        }
    }
}
