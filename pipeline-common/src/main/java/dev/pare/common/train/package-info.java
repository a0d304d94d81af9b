/** Teacher architectures and their supervised training (for demos and benchmarks). */
package dev.pare.common.train;
