/**
 * Importance criteria: one small final class per published formula behind
 * {@link dev.pare.common.importance.ImportanceCriterion}, registered in
 * {@link dev.pare.common.importance.Criteria}.
 */
package dev.pare.common.importance;
