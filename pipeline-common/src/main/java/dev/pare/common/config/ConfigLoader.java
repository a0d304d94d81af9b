package dev.pare.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Resolves a user's HOCON file and {@code key=value} overrides against {@code reference.conf}.
 *
 * <p>Precedence: overrides, then the file, then the reference defaults. Keys are written without
 * the {@code pare.} prefix the reference uses. Unknown keys are errors (free-form maps such as
 * {@code spark.conf} excepted), with a suggestion when a known key is one edit away.
 */
public final class ConfigLoader {
    /** Keys below these prefixes are free-form maps and are not checked against the reference. */
    private static final List<String> FREE_FORM = List.of("spark.conf.");

    private ConfigLoader() {}

    /** The reference defaults, without the {@code pare} prefix. */
    public static Config reference() {
        return ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(), "reference.conf")
                .resolve()
                .getConfig("pare");
    }

    /**
     * Loads and validates a configuration.
     *
     * @param file the user's HOCON file, or null for defaults only
     * @param overrides {@code key=value} strings; values are HOCON (quoted automatically when not)
     * @throws ConfigError naming the key path, value and rule of the first problem found
     */
    public static PareConfig load(File file, List<String> overrides) {
        Config reference = reference();
        Config user = ConfigFactory.empty();
        if (file != null) {
            if (!file.isFile()) {
                throw ConfigError.ofFile(file.getPath(), "does not exist or is not a regular file");
            }
            try {
                user = ConfigFactory.parseFile(file, ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (ConfigException e) {
                throw ConfigError.ofFile(file.getPath(), "is not valid HOCON: " + e.getMessage());
            }
            checkKnownKeys(user, reference, file.getPath());
        }
        Config sets = parseOverrides(overrides);
        checkKnownKeys(sets, reference, "--set");
        Config merged;
        try {
            merged = sets.withFallback(user).withFallback(reference).resolve();
        } catch (ConfigException e) {
            throw new ConfigError("--config", e.getMessage());
        }
        try {
            PareConfig config = PareConfig.from(merged);
            config.validate();
            return config;
        } catch (ConfigError e) {
            String where = origin(merged, e.path());
            throw where == null ? e : e.at(where);
        }
    }

    private static final String SET_ORIGIN = "--set";

    /**
     * Where the value at {@code path} came from: {@code FILE:LINE} for a config file, {@code --set}
     * for an override; null for a default, or a path that names no single value.
     */
    private static String origin(Config merged, String path) {
        ConfigOrigin o;
        try {
            if (!merged.hasPath(path)) {
                return null;
            }
            o = merged.getValue(path).origin();
        } catch (ConfigException e) {
            return null;
        }
        if (o.filename() != null) {
            return o.filename() + (o.lineNumber() > 0 ? ":" + o.lineNumber() : "");
        }
        return o.description().startsWith(SET_ORIGIN) ? SET_ORIGIN : null;
    }

    static Config parseOverrides(List<String> overrides) {
        Config result = ConfigFactory.empty();
        for (String override : overrides == null ? List.<String>of() : overrides) {
            int eq = override.indexOf('=');
            if (eq <= 0) {
                throw new ConfigError("--set", override, "must have the form key=value");
            }
            String key = override.substring(0, eq).trim();
            String value = override.substring(eq + 1).trim();
            boolean secret = Redaction.isSensitive(key);
            // Numbers, booleans, null, quoted strings, lists and objects are HOCON; anything else is a
            // plain string taken whole (a path may hold '#', '//' or ':', which HOCON would cut).
            boolean literal = value.matches("-?[0-9][0-9eE+.\\-]*|true|false|null|yes|no|on|off")
                    || value.startsWith("\"") || value.startsWith("[") || value.startsWith("{");
            Config one;
            try {
                one = ConfigFactory.parseString(key + " = " + (literal ? value : quote(value)),
                        ConfigParseOptions.defaults().setOriginDescription(SET_ORIGIN));
            } catch (ConfigException e) {
                // The parser's message may quote the value: left out for a sensitive key.
                throw new ConfigError("--set", secret ? key + "=" + Redaction.REDACTED : override,
                        "is not a valid key=value" + (secret ? "" : ": " + e.getMessage()));
            }
            result = one.withFallback(result);
        }
        return result;
    }

    private static String quote(String value) {
        return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    private static void checkKnownKeys(Config user, Config reference, String origin) {
        for (Map.Entry<String, ConfigValue> entry : user.entrySet()) {
            String path = entry.getKey();
            if (FREE_FORM.stream().anyMatch(path::startsWith)) {
                continue;
            }
            if (!reference.hasPathOrNull(path)) {
                boolean fromFile = !origin.equals("--set") && entry.getValue().origin() != null
                        && entry.getValue().origin().lineNumber() > 0;
                String where = fromFile ? origin + ":" + entry.getValue().origin().lineNumber() : origin;
                throw new ConfigError(path, "unknown key (in " + where + ")" + suggestion(path, reference));
            }
        }
    }

    private static String suggestion(String path, Config reference) {
        List<String> close = new ArrayList<>();
        TreeSet<String> all = new TreeSet<>();
        for (Map.Entry<String, ConfigValue> e : reference.entrySet()) {
            all.add(e.getKey());
            if (editDistance(e.getKey(), path) <= 2) {
                close.add(e.getKey());
            }
        }
        if (!close.isEmpty()) {
            return "; did you mean '" + String.join("' or '", close) + "'?";
        }
        int dot = path.lastIndexOf('.');
        String parent = dot < 0 ? "" : path.substring(0, dot + 1);
        List<String> siblings = all.stream().filter(k -> k.startsWith(parent)).toList();
        return "; valid keys" + (parent.isEmpty() ? "" : " under '" + parent.substring(0, parent.length() - 1) + "'")
                + ": " + String.join(", ", siblings.isEmpty() ? all : siblings);
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
