package dev.pare.common.distill;

import dev.pare.common.util.Names;

/**
 * How {@link Distiller} computes a training step ({@code distill.engine}):
 * <ul>
 *   <li>{@code dl4j}: {@code MultiLayerNetwork.fit}, for every student;</li>
 *   <li>{@code fused}: {@link FusedStep}, for students {@code FusedBackprop} computes (dense layers,
 *       float convolutions and max pooling; refused, with the reason, for others);</li>
 *   <li>{@code auto}: {@code fused} where the student allows it, else {@code dl4j}.</li>
 * </ul>
 * Both apply DL4J's own updater (Adam and its learning-rate schedule) to the same flat gradient,
 * so checkpoints, resume and the saved student are the same for either.
 */
public enum DistillEngine {
    AUTO("auto"),
    DL4J("dl4j"),
    FUSED("fused");

    private final String configName;

    DistillEngine(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static DistillEngine fromName(String path, String name) {
        return Names.lookup(DistillEngine.class, DistillEngine::configName, path, name);
    }
}
