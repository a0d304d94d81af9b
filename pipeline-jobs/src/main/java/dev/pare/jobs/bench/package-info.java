/**
 * Benchmarks run as commands (deploy/bench/), never as tests: they print numbers, they assert nothing.
 * The Fashion-MNIST mains share their command line ({@code BenchInputs}) and machine block ({@code Bench});
 * {@code BenchTool} turns what the scripts measured (PyTorch peer output, cluster wall times, GC logs) into
 * one JSON document each.
 */
package dev.pare.jobs.bench;
