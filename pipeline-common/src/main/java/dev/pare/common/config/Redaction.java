package dev.pare.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Which settings hold credentials, and their values replaced by {@value #REDACTED}: the one place
 * that decides what Pare may print or record of a setting.
 *
 * <p>A setting is sensitive when its name (any part of its key path) matches {@value #KEY_REGEX},
 * case-insensitively: Spark's own default for {@code spark.redaction.regex} ({@code secret},
 * {@code password}, {@code token}, {@code access.key}, {@code accesskey}), widened to
 * {@code access_key} and {@code access-key}, and to the account and private keys of Azure
 * ({@code fs.azure.account.key.ACCOUNT...}) and Google Cloud
 * ({@code fs.gs.auth.service.account.private.key}), which Spark's default misses. So
 * {@code spark.hadoop.fs.s3a.secret.key}, {@code fs.s3a.access.key},
 * {@code spark.ssl.keyStorePassword} and {@code spark.kubernetes.authenticate.oauthToken} are
 * sensitive; their keys stay visible, only their values are hidden. Sessions set
 * {@code spark.redaction.regex} from {@link #sparkRegex}, so Spark's own logs, UI and event logs
 * hide the same names.
 */
public final class Redaction {
    /** Names of settings whose values are never printed or recorded. */
    public static final String KEY_REGEX =
            "(?i)secret|password|token|access[._-]?key|account[._-]key|private[._-]?key";
    /** What a redacted value is shown as (Spark's own replacement text). */
    public static final String REDACTED = "*********(redacted)";

    private static final Pattern KEY = Pattern.compile(KEY_REGEX);

    private Redaction() {}

    /** True when the value of setting {@code key} (a name or a HOCON path) must not be shown. */
    public static boolean isSensitive(String key) {
        return key != null && KEY.matcher(key).find();
    }

    /** {@code value}, or {@value #REDACTED} when {@code key} is sensitive. */
    public static String value(String key, String value) {
        return isSensitive(key) ? REDACTED : value;
    }

    /** A copy of {@code settings} (in the same order) with every sensitive value redacted. */
    public static Map<String, String> settings(Map<String, String> settings) {
        Map<String, String> out = new LinkedHashMap<>();
        settings.forEach((k, v) -> out.put(k, value(k, v)));
        return out;
    }

    /**
     * {@code config} with the value of every sensitive path replaced by {@value #REDACTED} (a
     * list or object under a sensitive name is replaced whole); keys are kept, so a reader sees
     * which settings were given.
     */
    public static Config config(Config config) {
        Config out = config;
        for (Map.Entry<String, com.typesafe.config.ConfigValue> e : config.entrySet()) {
            if (isSensitive(e.getKey())) {
                out = out.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(REDACTED, "redacted"));
            }
        }
        return out;
    }

    /**
     * The value for Spark's {@code spark.redaction.regex}: {@link #KEY_REGEX}, or'ed with a
     * pattern the user set (null or blank: none), so a user's setting can widen it but never drop
     * these names.
     */
    public static String sparkRegex(String userRegex) {
        return userRegex == null || userRegex.isBlank() || userRegex.equals(KEY_REGEX)
                ? KEY_REGEX : "(?:" + userRegex + ")|(?:" + KEY_REGEX + ")";
    }
}
