/** Benchmarks run as commands (deploy/bench/), never as tests: they print numbers, they assert nothing. */
package dev.pare.jobs.bench;
