package dev.pare.common.surgery;

import dev.pare.common.sparsity.MaskSet;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * A pruned copy of a teacher: the network with masked weights set to zero, its masks, the
 * per-layer table, the layers that were not pruned (with the reason) and, for structured pruning,
 * the teacher's units each cut layer kept (layer index → sorted unit indices; empty otherwise).
 */
public record PrunedModel(MultiLayerNetwork network, MaskSet masks, List<LayerReport> layers, List<String> skipped,
                          Map<Integer, int[]> keptUnits) {
    public PrunedModel {
        layers = List.copyOf(layers);
        skipped = List.copyOf(skipped);
        keptUnits = Map.copyOf(keptUnits);
    }

    /** A pruned model whose layers keep all their units. */
    public PrunedModel(MultiLayerNetwork network, MaskSet masks, List<LayerReport> layers, List<String> skipped) {
        this(network, masks, layers, skipped, Map.of());
    }
}
