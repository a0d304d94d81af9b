package dev.pare.common.datapruning;

import dev.pare.common.util.Names;

/**
 * How {@code select-data} chooses the kept subset of the training set.
 *
 * <ul>
 *   <li>{@code random}: a seeded uniform sample without replacement; with knowledge distillation
 *       a strong baseline ("Distilling the Knowledge in Data Pruning", Ben-Baruch et al. 2024).</li>
 *   <li>{@code el2n-hardest}: the examples with the largest EL2N score
 *       {@code ||softmax(z) - onehot(y)||_2} (Paul et al., "Deep Learning on a Data Diet", 2021);
 *       ties broken by the smaller id.</li>
 * </ul>
 */
public enum SelectionMethod {
    RANDOM("random"),
    EL2N_HARDEST("el2n-hardest");

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
