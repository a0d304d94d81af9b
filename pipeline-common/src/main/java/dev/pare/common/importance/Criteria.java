package dev.pare.common.importance;

import dev.pare.common.calibration.Statistic;
import dev.pare.common.sparsity.SparsityPattern;
import dev.pare.common.util.Names;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The registry of pruning criteria by configuration name, with the patterns each supports and
 * the calibration statistics each needs.
 */
public enum Criteria {
    MAGNITUDE("magnitude", new MagnitudeCriterion(), true, Set.of(),
            SparsityPattern.UNSTRUCTURED, SparsityPattern.N_OF_M, SparsityPattern.STRUCTURED),
    WANDA("wanda", new WandaCriterion(), false, Set.of(Statistic.INPUT_NORMS),
            SparsityPattern.UNSTRUCTURED, SparsityPattern.N_OF_M),
    TAYLOR("taylor", new TaylorCriterion(), true, Set.of(Statistic.GRADIENTS),
            SparsityPattern.UNSTRUCTURED, SparsityPattern.N_OF_M, SparsityPattern.STRUCTURED),
    FISHER("fisher", new FisherCriterion(), true, Set.of(Statistic.GRADIENTS),
            SparsityPattern.UNSTRUCTURED, SparsityPattern.N_OF_M, SparsityPattern.STRUCTURED),
    /** SparseGPT chooses masks while it reconstructs weights ({@link dev.pare.common.surgery.SparseGpt}). */
    SPARSEGPT("sparsegpt", null, false, Set.of(Statistic.GRAM), SparsityPattern.UNSTRUCTURED, SparsityPattern.N_OF_M),
    /** Output-activation energy per unit ({@link ActivationImportance}). */
    ACTIVATION("activation", null, false, Set.of(Statistic.OUTPUT_ACTIVATIONS), SparsityPattern.STRUCTURED),
    /**
     * Layer removal by block influence {@code 1 − E[cos(x_in, x_out)]} (Men et al., "ShortGPT:
     * Layers in Large Language Models are More Redundant Than You Expect", 2024): the layers that
     * change their input least go first.
     */
    BLOCK_INFLUENCE("block-influence", null, false, Set.of(Statistic.COSINE), SparsityPattern.LAYERS);

    private final String configName;
    private final ImportanceCriterion weights;
    private final boolean summedUnits;
    private final Set<Statistic> needs;
    private final Set<SparsityPattern> patterns;

    Criteria(String configName, ImportanceCriterion weights, boolean summedUnits, Set<Statistic> needs,
             SparsityPattern... patterns) {
        this.configName = configName;
        this.weights = weights;
        this.summedUnits = summedUnits;
        this.needs = needs;
        this.patterns = EnumSet.of(patterns[0], patterns);
    }

    public String configName() {
        return configName;
    }

    /** The per-weight criterion; null for sparsegpt, activation and block-influence. */
    public ImportanceCriterion criterion() {
        return weights;
    }

    /** The per-unit importance for structured pruning; null when {@link #supports} rejects STRUCTURED. */
    public UnitImportance unitImportance() {
        if (this == ACTIVATION) {
            return new ActivationImportance();
        }
        return summedUnits ? UnitImportance.summed(weights) : null;
    }

    /** The calibration statistics this criterion reads. */
    public Set<Statistic> needs() {
        return needs;
    }

    public boolean needsCalibration() {
        return !needs.isEmpty();
    }

    public boolean supports(SparsityPattern pattern) {
        return patterns.contains(pattern);
    }

    /** Names of the criteria that support {@code pattern}, for error messages. */
    public static String supporting(SparsityPattern pattern) {
        return java.util.Arrays.stream(values()).filter(c -> c.supports(pattern)).map(Criteria::configName)
                .collect(Collectors.joining(", "));
    }

    /** @throws dev.pare.common.config.ConfigError naming {@code path} and the valid names */
    public static Criteria fromName(String path, String name) {
        return Names.lookup(Criteria.class, Criteria::configName, path, name);
    }
}
