package dev.pare.common.datapruning;

import dev.pare.common.util.Names;

/**
 * The per-example scores {@code score-data} writes, by configuration name ({@code selection.score})
 * and Parquet column, with the direction of hardness: for every score but margin a larger value
 * means a harder example; a small top-1 − top-2 margin means a hard one.
 */
public enum ScoreKind {
    EL2N("el2n", true),
    LOSS("loss", true),
    ENTROPY("entropy", true),
    MARGIN("margin", false),
    GRAND("grand", true);

    private final String name;
    private final boolean harderWhenLarger;

    ScoreKind(String name, boolean harderWhenLarger) {
        this.name = name;
        this.harderWhenLarger = harderWhenLarger;
    }

    /** The configuration name, which is also the Parquet column of {@code example-scores}. */
    public String configName() {
        return name;
    }

    public boolean harderWhenLarger() {
        return harderWhenLarger;
    }

    /** Hardness of an example with score {@code value}: larger is harder. */
    public double hardness(double value) {
        return harderWhenLarger ? value : -value;
    }

    public static ScoreKind fromName(String path, String name) {
        return Names.lookup(ScoreKind.class, ScoreKind::configName, path, name);
    }
}
