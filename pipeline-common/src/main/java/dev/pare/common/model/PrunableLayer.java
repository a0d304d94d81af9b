package dev.pare.common.model;

/**
 * A layer whose weights Pare can prune, seen as a matrix {@code [nIn, nOut]}: row i is input
 * column i, column j is output unit j. A dense layer's DL4J weights {@code W [nIn, nOut]} are that
 * matrix. A convolution layer's weights {@code W [nOut, inChannels, kH, kW]} are viewed with
 * {@code nIn = inChannels · kH · kW} rows, row {@code (c · kH + kh) · kW + kw}, the column order of
 * the im2col view of its input; so every criterion, pattern and mask works on both kinds alike.
 *
 * @param index position in the {@link org.deeplearning4j.nn.multilayer.MultiLayerNetwork}
 * @param name the layer's configured name, or {@code layer<index>} when it has none
 * @param kind dense or convolution
 * @param inChannels input width (dense) or input channels (convolution)
 * @param kernelH kernel height; 1 for dense layers
 * @param kernelW kernel width; 1 for dense layers
 * @param nOut output neurons (dense) or filters (convolution)
 * @param output whether it is the network's output (classifier) layer
 */
public record PrunableLayer(int index, String name, Kind kind, long inChannels, int kernelH, int kernelW, long nOut,
                            boolean output) implements java.io.Serializable {

    /** The layer types Pare prunes. */
    public enum Kind {
        DENSE, CONVOLUTION
    }

    /** A dense layer {@code [nIn, nOut]}. */
    public static PrunableLayer dense(int index, String name, long nIn, long nOut, boolean output) {
        return new PrunableLayer(index, name, Kind.DENSE, nIn, 1, 1, nOut, output);
    }

    /** Rows of the matrix view: {@code inChannels · kernelH · kernelW}. */
    public long nIn() {
        return inChannels * kernelH * kernelW;
    }

    public long weightCount() {
        return nIn() * nOut;
    }

    /** The shape of the DL4J weight parameter {@code W}. */
    public long[] weightShape() {
        return kind == Kind.DENSE ? new long[] {inChannels, nOut} : new long[] {nOut, inChannels, kernelH, kernelW};
    }
}
