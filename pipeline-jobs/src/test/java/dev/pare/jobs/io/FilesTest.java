package dev.pare.jobs.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FilesTest {
    private final Files files = new Files(new Configuration());

    @Test
    void aLocalFolderThatExistsKeepsItsNameAndNoTrailingSlash(@TempDir Path tmp) throws IOException {
        Path folder = java.nio.file.Files.createDirectories(tmp.resolve("out.parquet"));
        org.apache.hadoop.fs.Path p = files.path(folder.toString());
        assertEquals("out.parquet", p.getName());
        assertEquals("file:" + folder.toAbsolutePath(), p.toString());
        assertEquals(tmp.toAbsolutePath().toString(), p.getParent().toUri().getPath());
    }

    @Test
    void aLocalPathWithSpacesAndPercentSignsRoundTrips(@TempDir Path tmp) throws IOException {
        Path file = java.nio.file.Files.writeString(tmp.resolve("a b%20c.txt"), "x");
        org.apache.hadoop.fs.Path p = files.path(file.toString());
        assertEquals("a b%20c.txt", p.getName());
        assertTrue(files.exists(p));
        assertEquals("x", files.readString(p));
        // A relative path is taken against the working directory.
        assertEquals(new java.io.File("rel/x").getAbsolutePath(), files.path("rel/x").toUri().getPath());
    }
}
