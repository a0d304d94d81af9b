package dev.pare.common.datapruning;

import dev.pare.common.util.Names;

/**
 * How {@code select-data} chooses the kept subset of the training set ({@code selection.method}).
 * Every method keeps {@code max(1, floor(f·N))} examples, optionally class-balanced (per-class
 * budgets proportional to class frequency, {@link SelectionBudgets#proportional}).
 *
 * <ul>
 *   <li>{@code random}: a seeded uniform sample without replacement; with knowledge distillation
 *       a strong baseline (Ben-Baruch et al., "Distilling the Knowledge in Data Pruning", 2024).</li>
 *   <li>{@code hardest} / {@code easiest}: the examples with the highest / lowest hardness by the
 *       chosen {@link ScoreKind} (Paul et al., "Deep Learning on a Data Diet", 2021); ties by id.</li>
 *   <li>{@code ccs}: coverage-centric coreset selection (Zheng et al., ICLR 2023): optionally drop
 *       the hardest β first (likely label noise), split the score range into k equal-width strata,
 *       spread the budget evenly over strata ({@link SelectionBudgets#ccsBudgets}) and sample
 *       uniformly (seeded) within each.</li>
 * </ul>
 */
public enum SelectionMethod {
    RANDOM("random"),
    HARDEST("hardest"),
    EASIEST("easiest"),
    CCS("ccs");

    private final String configName;

    SelectionMethod(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static SelectionMethod fromName(String path, String name) {
        return Names.lookup(SelectionMethod.class, SelectionMethod::configName, path, name);
    }
}
