/**
 * The pipeline's stages: calibrate, score-data, select-data (Spark executors), prune, distill
 * (driver), evaluate (executors) and report. Each reads finished upstream folders and writes its own.
 */
package dev.pare.jobs.stages;
