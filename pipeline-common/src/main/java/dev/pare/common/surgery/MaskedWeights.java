package dev.pare.common.surgery;

import dev.pare.common.model.LayerWeights;
import dev.pare.common.model.Networks;
import dev.pare.common.model.PrunableLayer;
import dev.pare.common.sparsity.LayerMask;
import dev.pare.common.sparsity.MaskSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Binds a {@link MaskSet} to the live weight arrays of one network so masks can be re-applied
 * cheaply after every optimizer step. The weight arrays are views into the network's flat
 * parameter vector, so {@link #applyInPlace()} changes the network itself. Masks are stored in the
 * matrix view of {@link PrunableLayer}; convolution masks are reshaped to the filter layout here.
 */
public final class MaskedWeights {
    private final List<INDArray> weights = new ArrayList<>();
    private final List<INDArray> masks = new ArrayList<>();

    public MaskedWeights(MultiLayerNetwork net, MaskSet maskSet) {
        Map<Integer, PrunableLayer> layers = Networks.prunableLayers(net, true).prunable().stream()
                .collect(Collectors.toMap(PrunableLayer::index, Function.identity()));
        for (LayerMask m : maskSet.layers()) {
            PrunableLayer p = layers.get(m.index());
            if (p == null) {
                throw new IllegalArgumentException("mask for layer " + m.index() + " (" + m.name()
                        + ") but the network has no prunable layer at that index");
            }
            if (p.nIn() != m.nIn() || p.nOut() != m.nOut()) {
                throw new IllegalArgumentException("mask for layer " + m.name() + " is " + m.nIn() + "x" + m.nOut()
                        + " but its weights are " + p.nIn() + "x" + p.nOut());
            }
            INDArray w = LayerWeights.weightParam(net.getLayer(m.index()), p);
            weights.add(w);
            INDArray mask = LayerWeights.fromMatrixView(m.toArray(DataType.DOUBLE), p, w.dataType());
            // In the weights' own ordering (DL4J's dense W is 'f'): a multiply of arrays of different
            // orderings takes ND4J's strided path, which was a quarter of a fused KD step.
            masks.add(mask.ordering() == w.ordering() ? mask : mask.dup(w.ordering()));
        }
    }

    /** Multiplies every masked weight array by its 0/1 mask, in place. */
    public void applyInPlace() {
        for (int k = 0; k < weights.size(); k++) {
            weights.get(k).muli(masks.get(k));
        }
    }
}
