package dev.pare.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RedactionTest {
    @ParameterizedTest
    @ValueSource(strings = {"spark.hadoop.fs.s3a.secret.key", "fs.s3a.access.key", "fs.s3a.accesskey",
        "aws_access_key_id", "fs.s3a.session.token", "spark.ssl.keyStorePassword", "javax.jdo.option.ConnectionPassword",
        "spark.kubernetes.authenticate.oauthToken", "fs.azure.account.key.acct.dfs.core.windows.net",
        "fs.gs.auth.service.account.private.key", "spark.authenticate.secret", "SECRET", "spark.conf.\"a.PassWord\""})
    void credentialNamesAreSensitive(String key) {
        assertTrue(Redaction.isSensitive(key), key);
        assertEquals(Redaction.REDACTED, Redaction.value(key, "FAKE"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"spark.master", "spark.sql.shuffle.partitions", "fs.s3a.endpoint", "fs.s3a.access.style",
        "prune.sparsity", "data.train", "teacher.model", "spark.hadoop.fs.s3a.path.style.access"})
    void otherNamesAreNot(String key) {
        assertFalse(Redaction.isSensitive(key), key);
        assertEquals("value", Redaction.value(key, "value"));
    }

    @Test
    void sparksDefaultRegexIsCovered() {
        // Spark 3.5's default spark.redaction.regex, copied: everything it hides, Pare hides too.
        Pattern spark = Pattern.compile("(?i)secret|password|token|access[.]?key");
        for (String key : List.of("a.secret", "b.password", "c.token", "d.access.key", "e.accesskey")) {
            assertTrue(spark.matcher(key).find() && Redaction.isSensitive(key), key);
        }
    }

    @Test
    void settingsKeepKeysAndOrder() {
        Map<String, String> in = new LinkedHashMap<>();
        in.put("spark.hadoop.fs.s3a.secret.key", "FAKE-SECRET");
        in.put("spark.sql.shuffle.partitions", "8");
        Map<String, String> out = Redaction.settings(in);
        assertEquals(List.of("spark.hadoop.fs.s3a.secret.key", "spark.sql.shuffle.partitions"), List.copyOf(out.keySet()));
        assertEquals(Redaction.REDACTED, out.get("spark.hadoop.fs.s3a.secret.key"));
        assertEquals("8", out.get("spark.sql.shuffle.partitions"));
    }

    @Test
    void configRedactsLeavesListsAndNestedKeysButKeepsEverythingElse() {
        Config c = ConfigFactory.parseString("spark.conf { \"spark.hadoop.fs.s3a.secret.key\" = FAKE-1,"
                + " \"spark.sql.shuffle.partitions\" = \"8\" }\n"
                + "spark.conf.spark.hadoop.fs.s3a.access.key = FAKE-2\n"
                + "other { password = [FAKE-3, FAKE-4], name = kept }\n");
        Config r = Redaction.config(c);
        String rendered = r.root().render();
        for (String fake : List.of("FAKE-1", "FAKE-2", "FAKE-3", "FAKE-4")) {
            assertFalse(rendered.contains(fake), rendered);
        }
        assertEquals(Redaction.REDACTED, r.getString("spark.conf.\"spark.hadoop.fs.s3a.secret.key\""));
        assertEquals(Redaction.REDACTED, r.getString("spark.conf.spark.hadoop.fs.s3a.access.key"));
        assertEquals(Redaction.REDACTED, r.getString("other.password"));
        assertEquals("8", r.getString("spark.conf.\"spark.sql.shuffle.partitions\""));
        assertEquals("kept", r.getString("other.name"));
        assertEquals("FAKE-1", c.getString("spark.conf.\"spark.hadoop.fs.s3a.secret.key\""), "the input is unchanged");
    }

    @Test
    void sparkRegexKeepsAUsersPatternAndAddsPares() {
        assertEquals(Redaction.KEY_REGEX, Redaction.sparkRegex(null));
        assertEquals(Redaction.KEY_REGEX, Redaction.sparkRegex(" "));
        Pattern combined = Pattern.compile(Redaction.sparkRegex("(?i)mycompany\\.apikey"));
        assertTrue(combined.matcher("spark.mycompany.ApiKey").find());
        assertTrue(combined.matcher("fs.s3a.secret.key").find());
        assertFalse(combined.matcher("spark.master").find());
    }

    @Test
    void resolvedConfigRendersAndPrintsRedacted() {
        PareConfig c = ConfigLoader.load(null, List.of("spark.conf.\"spark.hadoop.fs.s3a.secret.key\"=FAKE-SECRET-123",
                "spark.conf.\"spark.executor.memory\"=2g"));
        assertEquals("FAKE-SECRET-123", c.spark().conf().get("spark.hadoop.fs.s3a.secret.key"), "Spark gets the value");
        for (String shown : List.of(c.renderJson(), c.toString(), c.spark().toString())) {
            assertFalse(shown.contains("FAKE-SECRET-123"), shown);
            assertTrue(shown.contains("spark.hadoop.fs.s3a.secret.key"), shown);
            assertTrue(shown.contains(Redaction.REDACTED), shown);
            assertTrue(shown.contains("2g"), shown);
        }
    }

    @Test
    void configErrorsNeverShowASensitiveValue(@TempDir Path tmp) throws IOException {
        ConfigError list = assertThrows(ConfigError.class, () -> ConfigLoader.load(null,
                List.of("spark.conf.\"fs.s3a.secret.key\"=[FAKE-SECRET-123]")));
        assertTrue(list.getMessage().contains("must be a plain value"), list.getMessage());
        ConfigError parse = assertThrows(ConfigError.class, () -> ConfigLoader.load(null,
                List.of("spark.conf.\"fs.s3a.access.key\"={FAKE-SECRET-123")));
        assertTrue(parse.getMessage().contains("is not a valid key=value"), parse.getMessage());
        File file = Files.writeString(tmp.resolve("c.conf"), "spark.conf { \"x.token\" = { a = [FAKE-SECRET-123] } }\n",
                StandardCharsets.UTF_8).toFile();
        ConfigError inFile = assertThrows(ConfigError.class, () -> ConfigLoader.load(file, List.of()));
        for (ConfigError e : List.of(list, parse, inFile)) {
            assertFalse(e.getMessage().contains("FAKE-SECRET-123"), e.getMessage());
            assertTrue(e.getMessage().contains(Redaction.REDACTED), e.getMessage());
        }
        assertTrue(inFile.getMessage().contains("(in " + file.getPath() + ":1)"), inFile.getMessage());
    }
}
