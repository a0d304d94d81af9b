/**
 * Knowledge distillation: the KD loss as a DL4J loss function, and the epoch loop that recovers a
 * pruned student's accuracy with masks re-applied after every step; how an epoch is trained is an
 * {@link dev.pare.common.distill.EpochTrainer} (the driver loop here, data-parallel in the jobs module).
 */
package dev.pare.common.distill;
