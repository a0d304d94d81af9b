package dev.pare.common.distill;

/** Hyper-parameters of offline KD; see {@link KnowledgeDistillationLoss} for T and alpha. */
public record DistillSettings(int epochs, int batchSize, double learningRate, double temperature, double alpha,
                              long seed) {}
