/**
 * Sparsity patterns and masks: which weights a score keeps, how masks are stored with the model,
 * and the per-layer report of what was kept.
 */
package dev.pare.common.sparsity;
