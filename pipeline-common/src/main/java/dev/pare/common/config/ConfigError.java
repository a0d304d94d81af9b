package dev.pare.common.config;

/**
 * A configuration value broke a rule. The message always names the key path, the offending
 * value and the rule, so a user can fix the file without reading code; the value of a sensitive
 * key ({@link Redaction}) is shown redacted.
 */
public final class ConfigError extends IllegalArgumentException {
    private final String path;

    public ConfigError(String path, Object value, String rule) {
        super("config key '" + path + "' = " + (Redaction.isSensitive(path) ? Redaction.REDACTED : render(value))
                + ": " + rule);
        this.path = path;
    }

    public ConfigError(String path, String message) {
        super("config key '" + path + "': " + message);
        this.path = path;
    }

    private ConfigError(String path, String message, Void raw) {
        super(message);
        this.path = path;
    }

    /** A problem with a whole config file (missing, unreadable, not HOCON). */
    public static ConfigError ofFile(String file, String problem) {
        return new ConfigError("--config", "config file " + file + ": " + problem, (Void) null);
    }

    /** The same error with where the value came from appended, e.g. {@code (in conf/demo.conf:12)}. */
    public ConfigError at(String where) {
        ConfigError e = new ConfigError(path, getMessage() + " (in " + where + ")", (Void) null);
        e.initCause(this);
        return e;
    }

    public String path() {
        return path;
    }

    private static String render(Object value) {
        return value instanceof String s ? '"' + s + '"' : String.valueOf(value);
    }
}
