package dev.pare.common.model;

import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One inference pass of a network that keeps what Pare needs: the input of every layer and the
 * output layer's pre-softmax logits {@code z = h W + b}.
 *
 * @param layerInputs {@code layerInputs.get(i)} is the input of layer i ({@code [batch, nIn_i]})
 * @param logits {@code [batch, numClasses]}
 */
public record ForwardPass(List<INDArray> layerInputs, INDArray logits) {

    /** Runs {@code net} in inference mode on {@code features} ({@code [batch, nIn]}). */
    public static ForwardPass run(MultiLayerNetwork net, INDArray features) {
        List<INDArray> acts = net.feedForward(features, false);
        int last = net.getnLayers() - 1;
        // feedForward returns [input, out_0, ..., out_last]; out_last is already softmax-ed, so the
        // logits are recomputed from the output layer's input.
        INDArray h = acts.get(last);
        INDArray w = net.getLayer(last).getParam("W");
        INDArray b = net.getLayer(last).getParam("b");
        INDArray logits = h.mmul(w).addiRowVector(b);
        return new ForwardPass(List.copyOf(acts.subList(0, last + 1)), logits);
    }

    /** Only the logits; the same arithmetic as {@link #run}. */
    public static INDArray logits(MultiLayerNetwork net, INDArray features) {
        return run(net, features).logits();
    }

    /** The logits as a row-major float array {@code [batch · numClasses]}. */
    public static float[] logitsRowMajor(MultiLayerNetwork net, INDArray features) {
        INDArray z = logits(net, features);
        // A fresh C-order copy owns a buffer of exactly [batch · numClasses] floats in row-major order.
        return z.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat();
    }
}
