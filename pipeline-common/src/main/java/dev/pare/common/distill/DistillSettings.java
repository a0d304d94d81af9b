package dev.pare.common.distill;

/**
 * Hyper-parameters of offline KD; see {@link KnowledgeDistillationLoss} for T and alpha.
 *
 * @param schedule learning rate per epoch ({@link LrSchedule}), with {@code stepEvery} and
 *     {@code stepGamma} for {@code step}
 * @param patience with a validation split: stop after this many epochs without a better
 *     validation accuracy; 0 never stops early
 * @param keepBest with a validation split: the result is the epoch with the best validation
 *     accuracy (ties: the earlier), not the last
 * @param engine how a training step is computed
 */
public record DistillSettings(int epochs, int batchSize, double learningRate, double temperature, double alpha,
                              long seed, LrSchedule schedule, int stepEvery, double stepGamma, int patience,
                              boolean keepBest, DistillEngine engine) {

    /** With the {@code auto} engine. */
    public DistillSettings(int epochs, int batchSize, double learningRate, double temperature, double alpha,
                           long seed, LrSchedule schedule, int stepEvery, double stepGamma, int patience,
                           boolean keepBest) {
        this(epochs, batchSize, learningRate, temperature, alpha, seed, schedule, stepEvery, stepGamma, patience,
                keepBest, DistillEngine.AUTO);
    }

    /** The same settings with another engine. */
    public DistillSettings withEngine(DistillEngine other) {
        return new DistillSettings(epochs, batchSize, learningRate, temperature, alpha, seed, schedule, stepEvery,
                stepGamma, patience, keepBest, other);
    }

    /** Constant learning rate, no early stopping. */
    public DistillSettings(int epochs, int batchSize, double learningRate, double temperature, double alpha, long seed) {
        this(epochs, batchSize, learningRate, temperature, alpha, seed, LrSchedule.CONSTANT, 1, 1.0, 0, false);
    }
}
