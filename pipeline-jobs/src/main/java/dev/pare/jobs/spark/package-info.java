/** Spark plumbing: sessions, models on executors, row conversion. */
package dev.pare.jobs.spark;
