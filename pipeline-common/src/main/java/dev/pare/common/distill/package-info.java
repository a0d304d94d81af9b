/**
 * Knowledge distillation: the KD loss as a DL4J loss function, and the training loop that
 * recovers a pruned student's accuracy with masks re-applied after every step.
 */
package dev.pare.common.distill;
