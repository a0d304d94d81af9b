package dev.pare.common.importance;

import dev.pare.common.util.Names;

/** The registry of importance criteria, by their configuration name. */
public enum Criteria {
    MAGNITUDE("magnitude", new MagnitudeCriterion()),
    WANDA("wanda", new WandaCriterion());

    private final String configName;
    private final ImportanceCriterion criterion;

    Criteria(String configName, ImportanceCriterion criterion) {
        this.configName = configName;
        this.criterion = criterion;
    }

    public String configName() {
        return configName;
    }

    public ImportanceCriterion criterion() {
        return criterion;
    }

    /** @throws dev.pare.common.config.ConfigError naming {@code path} and the valid names */
    public static Criteria fromName(String path, String name) {
        return Names.lookup(Criteria.class, Criteria::configName, path, name);
    }
}
