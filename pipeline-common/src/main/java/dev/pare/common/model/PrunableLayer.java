package dev.pare.common.model;

/**
 * A layer whose weight matrix Pare can prune. DL4J stores a dense layer's weights as
 * {@code W} with shape {@code [nIn, nOut]}: row i is input column i, column j is output neuron j.
 *
 * @param index position in the {@link org.deeplearning4j.nn.multilayer.MultiLayerNetwork}
 * @param name the layer's configured name, or {@code layer<index>} when it has none
 * @param output whether it is the network's output (classifier) layer
 */
public record PrunableLayer(int index, String name, long nIn, long nOut, boolean output) {
    public long weightCount() {
        return nIn * nOut;
    }
}
