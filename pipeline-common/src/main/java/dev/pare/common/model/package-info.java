/**
 * DL4J networks as Pare sees them: reading and checking model files, describing which layers
 * can be pruned, and running the teacher forward to get layer inputs and logits.
 */
package dev.pare.common.model;
