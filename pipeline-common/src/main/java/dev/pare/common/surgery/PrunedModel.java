package dev.pare.common.surgery;

import dev.pare.common.sparsity.MaskSet;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * A pruned copy of a teacher: the network with masked weights set to zero, its masks, the
 * per-layer table and the layers that were not pruned (with the reason).
 */
public record PrunedModel(MultiLayerNetwork network, MaskSet masks, List<LayerReport> layers, List<String> skipped) {
    public PrunedModel {
        layers = List.copyOf(layers);
        skipped = List.copyOf(skipped);
    }
}
