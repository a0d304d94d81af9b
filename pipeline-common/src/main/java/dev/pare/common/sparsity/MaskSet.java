package dev.pare.common.sparsity;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * The masks of every pruned layer of a model.
 *
 * <p>Binary format ({@code masks.bin}, big-endian, as {@link DataOutputStream} writes): the
 * magic {@code "PAREMASK"}, an int version (1), an int layer count, then per layer: int index,
 * UTF name, int nIn, int nOut, int byte count, and the bytes of {@link BitSet#toByteArray()} with
 * bit {@code i·nOut + j} set for a kept weight.
 */
public record MaskSet(List<LayerMask> layers) {
    private static final byte[] MAGIC = "PAREMASK".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final int VERSION = 1;

    public MaskSet {
        layers = List.copyOf(layers);
    }

    /** Weights in masked layers. */
    public long size() {
        return layers.stream().mapToLong(LayerMask::size).sum();
    }

    public long keptCount() {
        return layers.stream().mapToLong(LayerMask::keptCount).sum();
    }

    /** Share of masked-layer weights that are pruned. */
    public double sparsity() {
        return size() == 0 ? 0 : 1.0 - (double) keptCount() / size();
    }

    public void write(OutputStream out) throws IOException {
        DataOutputStream d = new DataOutputStream(out);
        d.write(MAGIC);
        d.writeInt(VERSION);
        d.writeInt(layers.size());
        for (LayerMask m : layers) {
            d.writeInt(m.index());
            d.writeUTF(m.name());
            d.writeInt(m.nIn());
            d.writeInt(m.nOut());
            byte[] bits = m.keep().toByteArray();
            d.writeInt(bits.length);
            d.write(bits);
        }
        d.flush();
    }

    public static MaskSet read(InputStream in, String source) throws IOException {
        DataInputStream d = new DataInputStream(in);
        byte[] magic = new byte[MAGIC.length];
        try {
            d.readFully(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new IOException(source + ": not a Pare mask file (bad magic)");
            }
            int version = d.readInt();
            if (version != VERSION) {
                throw new IOException(source + ": mask file version " + version + " is not supported (expected "
                        + VERSION + ")");
            }
            int count = d.readInt();
            if (count < 0) {
                throw new IOException(source + ": corrupt mask file (layer count " + count + ")");
            }
            List<LayerMask> layers = new ArrayList<>();
            for (int l = 0; l < count; l++) {
                int index = d.readInt();
                String name = d.readUTF();
                int nIn = d.readInt();
                int nOut = d.readInt();
                int length = d.readInt();
                long maxBytes = nIn < 0 || nOut < 0 ? -1 : ((long) nIn * nOut + 7) / 8;
                if (index < 0 || length < 0 || length > maxBytes) {
                    throw new IOException(source + ": corrupt mask record of layer '" + name + "' (index " + index
                            + ", " + nIn + "x" + nOut + ", " + length + " mask bytes)");
                }
                byte[] bits = new byte[length];
                d.readFully(bits);
                try {
                    layers.add(new LayerMask(index, name, nIn, nOut, BitSet.valueOf(bits)));
                } catch (IllegalArgumentException e) {
                    throw new IOException(source + ": corrupt mask record: " + e.getMessage(), e);
                }
            }
            return new MaskSet(layers);
        } catch (java.io.EOFException e) {
            throw new IOException(source + ": mask file is truncated", e);
        }
    }
}
