package dev.pare.common;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test-environment helpers. */
public final class TestDirs {
    private TestDirs() {}

    /**
     * Creates {@code java.io.tmpdir} when missing. The parent POM points it at
     * {@code target/test-work/tmp}, which nothing creates after {@code mvn clean}, and
     * {@code @TempDir} fails with "Failed to create default temp directory" without it.
     */
    public static void ensureJavaTmpDir() throws IOException {
        Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir")));
    }
}
