/** Mergeable evaluation metrics (accuracy, loss, teacher agreement, per class). */
package dev.pare.common.evaluation;
