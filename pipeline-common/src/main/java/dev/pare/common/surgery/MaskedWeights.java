package dev.pare.common.surgery;

import dev.pare.common.sparsity.LayerMask;
import dev.pare.common.sparsity.MaskSet;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Binds a {@link MaskSet} to the live weight arrays of one network so masks can be re-applied
 * cheaply after every optimizer step. The weight arrays are views into the network's flat
 * parameter vector, so {@link #applyInPlace()} changes the network itself.
 */
public final class MaskedWeights {
    private final List<INDArray> weights = new ArrayList<>();
    private final List<INDArray> masks = new ArrayList<>();

    public MaskedWeights(MultiLayerNetwork net, MaskSet maskSet) {
        for (LayerMask m : maskSet.layers()) {
            if (m.index() >= net.getnLayers()) {
                throw new IllegalArgumentException("mask for layer " + m.index() + " (" + m.name()
                        + ") but the network has " + net.getnLayers() + " layers");
            }
            INDArray w = net.getLayer(m.index()).getParam("W");
            if (w == null || w.rows() != m.nIn() || w.columns() != m.nOut()) {
                throw new IllegalArgumentException("mask for layer " + m.name() + " is " + m.nIn() + "x" + m.nOut()
                        + " but its weights are " + (w == null ? "absent" : w.rows() + "x" + w.columns()));
            }
            weights.add(w);
            masks.add(m.toArray(w.dataType()));
        }
    }

    /** Multiplies every masked weight matrix by its 0/1 mask, in place. */
    public void applyInPlace() {
        for (int k = 0; k < weights.size(); k++) {
            weights.get(k).muli(masks.get(k));
        }
    }
}
