/**
 * Model surgery: one-shot pruning by criterion × pattern × allocation ({@code OneShotPruner}),
 * SparseGPT's reconstruction, physical removal of neurons, filters and layers
 * ({@code StructuredSurgery}), and keeping masked weights at zero while the student trains.
 */
package dev.pare.common.surgery;
