package dev.pare.common.model;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Model zips whose entry names escape their folder ("zip slip") are refused before any entry is read. */
class NetworksZipTest {
    @ParameterizedTest
    @ValueSource(strings = {"../evil", "../../etc/cron.d/x", "a/../../evil", "a/..", "..", "/etc/passwd",
        "\\evil", "..\\..\\evil.bat", "a\\..\\..\\b", "C:/Windows/evil", "c:evil"})
    void escapingNamesAreRefused(String name) throws IOException {
        assertTrue(Networks.escapesFolder(name), name);
        byte[] zip = zip(name, "configuration.json", "coefficients.bin");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Networks.read(zip, "model.zip", false));
        assertTrue(e.getMessage().startsWith("model.zip has a zip entry escaping its folder: '" + name + "'"),
                e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"configuration.json", "coefficients.bin", "updaterState.bin", "a/b/c.bin", "my..file",
        "..hidden", "a/...", "dir/"})
    void ordinaryNamesPass(String name) {
        assertFalse(Networks.escapesFolder(name), name);
    }

    /** The escaping entry comes last, after a real-looking configuration: the check covers every entry. */
    private static byte[] zip(String escaping, String... ordinary) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            for (String n : ordinary) {
                z.putNextEntry(new ZipEntry(n));
                z.write("{}".getBytes(StandardCharsets.UTF_8));
                z.closeEntry();
            }
            z.putNextEntry(new ZipEntry(escaping));
            z.write(1);
            z.closeEntry();
        }
        return bytes.toByteArray();
    }
}
