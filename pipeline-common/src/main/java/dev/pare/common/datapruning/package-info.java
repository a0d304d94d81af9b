/**
 * Data pruning: per-example scores computed from the teacher (loss, EL2N) and the selection
 * methods that keep a fraction of the training set. The ranking itself runs in Spark.
 */
package dev.pare.common.datapruning;
