/** File-system, Parquet and JSON I/O of the jobs: every read validated, every write atomic. */
package dev.pare.jobs.io;
