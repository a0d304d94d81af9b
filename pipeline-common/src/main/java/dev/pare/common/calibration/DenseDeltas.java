package dev.pare.common.calibration;

import dev.pare.common.model.ForwardPass;
import dev.pare.common.model.FusedBackprop;
import dev.pare.common.model.Networks;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per-example loss gradients with respect to every layer's pre-activation ({@code δ_l = ∂L_r/∂z_l},
 * one row per example) of a network of dense layers, from one batched backward pass. In such a
 * network the rows of a batch do not interact, so row r of the batched δ is example r's own, and
 * example r's weight gradient is the outer product {@code a_{l−1,r} δ_{l,r}ᵀ}
 * ({@link WeightGradientSums#addOuterProducts}). This replaces one {@code computeGradientAndScore}
 * per example.
 */
final class DenseDeltas {
    private DenseDeltas() {}

    /** Whether {@link #perExample} applies ({@link Networks#notDenseChain}). */
    static boolean supports(MultiLayerNetwork net) {
        return Networks.notDenseChain(net).isEmpty();
    }

    /**
     * {@code δ_l} for every layer l, {@code [batch, nOut_l]}, of the output layer's own loss on
     * {@code labels}, at the activations and pre-activations of {@code pass} (a pass of this
     * dense network keeps them: {@link ForwardPass#preActivations}).
     */
    static INDArray[] perExample(MultiLayerNetwork net, ForwardPass pass, INDArray labels) {
        int last = net.getnLayers() - 1;
        INDArray[] delta = new INDArray[last + 1];
        OutputLayer out = (OutputLayer) net.getLayer(last).conf().getLayer();
        delta[last] = out.getLossFn().computeGradient(labels, pass.logits().dup(), out.getActivationFn(), null);
        for (int l = last; l > 0; l--) {
            INDArray pre = pass.preActivations().get(l - 1);
            // In z's ordering, so that a ReLU's gradient runs on both buffers in step.
            INDArray epsilon = delta[l].mmul(net.getLayer(l).getParam("W").transpose(), pre.ordering());
            delta[l - 1] = FusedBackprop.activationGradient(
                    ((BaseLayer) net.getLayer(l - 1).conf().getLayer()).getActivationFn(), pre, epsilon);
        }
        return delta;
    }
}
