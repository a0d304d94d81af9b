/**
 * Spark plumbing: sessions, models on executors, row conversion, and data-parallel distillation
 * with dl4j-spark's parameter averaging ({@link dev.pare.jobs.spark.ParameterAveragingEpochs}).
 */
package dev.pare.jobs.spark;
