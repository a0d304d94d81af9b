package dev.pare.common.sparsity;

import java.util.BitSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The keep-mask of one layer's weight matrix {@code W [nIn, nOut]}: bit {@code i·nOut + j} is set
 * when {@code W[i][j]} is kept.
 */
public record LayerMask(int index, String name, int nIn, int nOut, BitSet keep) {
    public LayerMask {
        keep = (BitSet) keep.clone();
        if (keep.length() > nIn * nOut) {
            throw new IllegalArgumentException("mask of " + name + " has bits beyond " + nIn + "x" + nOut);
        }
    }

    public static LayerMask of(int index, String name, boolean[][] keep) {
        int nIn = keep.length;
        int nOut = nIn == 0 ? 0 : keep[0].length;
        BitSet bits = new BitSet(nIn * nOut);
        for (int i = 0; i < nIn; i++) {
            for (int j = 0; j < nOut; j++) {
                if (keep[i][j]) {
                    bits.set(i * nOut + j);
                }
            }
        }
        return new LayerMask(index, name, nIn, nOut, bits);
    }

    public boolean kept(int i, int j) {
        return keep.get(i * nOut + j);
    }

    public long size() {
        return (long) nIn * nOut;
    }

    public long keptCount() {
        return keep.cardinality();
    }

    /** Share of weights pruned. */
    public double sparsity() {
        return size() == 0 ? 0 : 1.0 - (double) keptCount() / size();
    }

    /** The mask as a {@code [nIn, nOut]} array of 1 (kept) and 0 (pruned) in {@code dataType}. */
    public INDArray toArray(DataType dataType) {
        float[] m = new float[nIn * nOut];
        for (int b = keep.nextSetBit(0); b >= 0; b = keep.nextSetBit(b + 1)) {
            m[b] = 1f;
        }
        return Nd4j.create(m, new long[] {nIn, nOut}, 'c').castTo(dataType);
    }

    @Override
    public BitSet keep() {
        return (BitSet) keep.clone();
    }
}
