package dev.pare.common.sparsity;

import dev.pare.common.util.Names;

/** Which weights pruning removes, by configuration name ({@code prune.pattern}). */
public enum SparsityPattern {
    /** Any individual weights; the model keeps its shape (stored and run dense by DL4J). */
    UNSTRUCTURED("unstructured"),
    /** N kept out of every M consecutive inputs of each output unit (e.g. 2:4). */
    N_OF_M("n-of-m"),
    /** Whole neurons or filters, removed physically: the saved model is smaller and faster. */
    STRUCTURED("structured"),
    /** Whole layers whose input and output shapes match, removed physically. */
    LAYERS("layers");

    private final String configName;

    SparsityPattern(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static SparsityPattern fromName(String path, String name) {
        return Names.lookup(SparsityPattern.class, SparsityPattern::configName, path, name);
    }
}
