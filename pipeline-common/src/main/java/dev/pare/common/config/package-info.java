/**
 * Typed, strict configuration: HOCON files and {@code --set} overrides are resolved against the
 * documented {@code reference.conf}, unknown keys are rejected, and the result is an immutable
 * {@link dev.pare.common.config.PareConfig} whose records check their own fields.
 * {@link dev.pare.common.config.Redaction} decides which settings hold credentials, whose values
 * are never printed or recorded.
 */
package dev.pare.common.config;
