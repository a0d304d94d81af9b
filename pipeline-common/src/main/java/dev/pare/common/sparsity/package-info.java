/**
 * Sparsity patterns, masks and allocation: which weights a score keeps (unstructured, N:M),
 * how the target sparsity is spread over layers (uniform, global threshold, outlier-weighted),
 * which layers are selected by name, and how masks are stored with the model.
 */
package dev.pare.common.sparsity;
