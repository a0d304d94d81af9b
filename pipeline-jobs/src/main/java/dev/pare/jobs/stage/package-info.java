/**
 * Running stages safely: atomic output folders with {@code _SUCCESS} hashes, skip/refuse/force
 * on rerun, resume of an interrupted stage, and provenance next to every output.
 */
package dev.pare.jobs.stage;
