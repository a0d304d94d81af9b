package dev.pare.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import java.util.LinkedHashMap;
import java.util.Map;

/** Typed reads from a resolved {@link Config} that fail with a {@link ConfigError} naming the key. */
final class Values {
    private final Config config;
    private final String prefix;

    Values(Config config, String prefix) {
        try {
            this.config = config.getConfig(prefix);
        } catch (ConfigException.WrongType | ConfigException.Null e) {
            throw new ConfigError(prefix, config.hasPathOrNull(prefix) && !config.getIsNull(prefix)
                    ? config.getValue(prefix).unwrapped() : null, "must be a section (an object of keys)");
        }
        this.prefix = prefix;
    }

    Values(Config config) {
        this.config = config;
        this.prefix = "";
    }

    private String path(String key) {
        return prefix.isEmpty() ? key : prefix + "." + key;
    }

    private Object raw(String key) {
        ConfigValue v = config.hasPathOrNull(key) ? config.getValue(key) : null;
        return v == null ? null : v.unwrapped();
    }

    String string(String key) {
        try {
            String s = config.getString(key);
            if (s.isBlank()) {
                throw new ConfigError(path(key), s, "must not be empty");
            }
            return s;
        } catch (ConfigException.WrongType | ConfigException.Null e) {
            throw new ConfigError(path(key), raw(key), "must be a string");
        }
    }

    double number(String key) {
        try {
            return config.getDouble(key);
        } catch (ConfigException.WrongType | ConfigException.Null e) {
            throw new ConfigError(path(key), raw(key), "must be a number");
        }
    }

    int integer(String key) {
        long v = longValue(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new ConfigError(path(key), v, "must be a whole number between " + Integer.MIN_VALUE + " and "
                    + Integer.MAX_VALUE);
        }
        return (int) v;
    }

    /** A whole number; {@code Config.getLong} alone would truncate 2.5 to 2 silently. */
    long longValue(String key) {
        Number n;
        try {
            n = config.getNumber(key);
        } catch (ConfigException.WrongType | ConfigException.Null e) {
            throw new ConfigError(path(key), raw(key), "must be a whole number");
        }
        if (n instanceof Double || n instanceof Float) {
            double d = n.doubleValue();
            if (d != Math.rint(d) || Double.isInfinite(d) || Math.abs(d) > Long.MAX_VALUE) {
                throw new ConfigError(path(key), n, "must be a whole number");
            }
            return (long) d;
        }
        return n.longValue();
    }

    boolean bool(String key) {
        try {
            return config.getBoolean(key);
        } catch (ConfigException.WrongType | ConfigException.Null e) {
            throw new ConfigError(path(key), raw(key), "must be true or false");
        }
    }

    /** A list of strings (possibly empty). */
    java.util.List<String> stringList(String key) {
        try {
            return java.util.List.copyOf(config.getStringList(key));
        } catch (ConfigException.WrongType | ConfigException.Null e) {
            throw new ConfigError(path(key), raw(key), "must be a list of strings, e.g. [\"fc1\", \"conv*\"]");
        }
    }

    /** A list of whole numbers. */
    int[] intList(String key) {
        java.util.List<Number> numbers;
        try {
            numbers = config.getNumberList(key);
        } catch (ConfigException.WrongType | ConfigException.Null e) {
            throw new ConfigError(path(key), raw(key), "must be a list of whole numbers, e.g. [1, 28, 28]");
        }
        int[] out = new int[numbers.size()];
        for (int i = 0; i < out.length; i++) {
            double d = numbers.get(i).doubleValue();
            if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
                throw new ConfigError(path(key), raw(key), "must be a list of whole numbers, e.g. [1, 28, 28]");
            }
            out[i] = (int) d;
        }
        return out;
    }

    Map<String, String> stringMap(String key) {
        Map<String, String> out = new LinkedHashMap<>();
        Config sub;
        try {
            sub = config.getConfig(key);
        } catch (ConfigException.WrongType e) {
            throw new ConfigError(path(key), raw(key), "must be an object of string values");
        }
        for (Map.Entry<String, ConfigValue> e : sub.entrySet()) {
            Object v = e.getValue().unwrapped();
            if (v instanceof Map || v instanceof java.util.List) {
                throw new ConfigError(path(key) + "." + e.getKey(), v, "must be a plain value");
            }
            out.put(com.typesafe.config.ConfigUtil.splitPath(e.getKey()).stream()
                    .reduce((a, b) -> a + "." + b).orElse(e.getKey()), String.valueOf(v));
        }
        return out;
    }

    static int positive(String path, int value) {
        if (value <= 0) {
            throw new ConfigError(path, value, "must be > 0");
        }
        return value;
    }

    static double positive(String path, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new ConfigError(path, value, "must be a finite number > 0");
        }
        return value;
    }

    static double inRange(String path, double value, double lo, boolean loInclusive, double hi, boolean hiInclusive) {
        boolean ok = (loInclusive ? value >= lo : value > lo) && (hiInclusive ? value <= hi : value < hi);
        if (!ok) {
            throw new ConfigError(path, value, "must be in " + (loInclusive ? "[" : "(") + lo + ", " + hi
                    + (hiInclusive ? "]" : ")"));
        }
        return value;
    }
}
