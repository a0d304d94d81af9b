/**
 * Importance criteria: one small final class per published formula, per weight behind
 * {@link dev.pare.common.importance.ImportanceCriterion} or per unit behind
 * {@link dev.pare.common.importance.UnitImportance}, registered with the patterns they support
 * and the statistics they need in {@link dev.pare.common.importance.Criteria}.
 */
package dev.pare.common.importance;
