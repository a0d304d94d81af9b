/**
 * Data pruning: per-example scores computed from the teacher (loss, EL2N, entropy, margin,
 * last-layer GraNd), the selection methods that keep a fraction of the training set, and the
 * budget arithmetic (class-balanced shares, CCS strata) that the Spark selectors use.
 */
package dev.pare.common.datapruning;
