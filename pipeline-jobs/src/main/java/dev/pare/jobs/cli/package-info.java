/** The {@code pare} command line (picocli): one subcommand per stage, plus run, import-idx, train-teacher. */
package dev.pare.jobs.cli;
