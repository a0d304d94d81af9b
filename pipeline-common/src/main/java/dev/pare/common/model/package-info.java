/**
 * DL4J networks as Pare sees them: reading and checking model files, describing which layers
 * can be pruned (dense and convolution layers in one matrix view), running the teacher forward to
 * get layer inputs, outputs and logits, and measuring a model's size and latency.
 */
package dev.pare.common.model;
