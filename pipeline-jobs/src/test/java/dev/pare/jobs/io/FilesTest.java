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

    private static Path file(Path folder, String name, String text, long modified) throws IOException {
        Path f = folder.resolve(name);
        java.nio.file.Files.createDirectories(f.getParent());
        java.nio.file.Files.writeString(f, text);
        java.nio.file.Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.fromMillis(modified));
        return f;
    }

    @Test
    void oneListingDescribesAFolderAsItsContentSummaryAndFilesDo(@TempDir Path tmp) throws IOException {
        Path t = java.nio.file.Files.createDirectories(tmp.resolve("a table"));
        file(t, "part-1.parquet", "one", 1_000_000_000_000L);
        file(t, "part-0.parquet", "zero!", 1_000_000_001_000L);
        file(t, ".part-0.parquet.crc", "c", 1_000_000_002_000L); // Hadoop's local file system hides checksums
        file(t, ".hidden", "h", 1_000_000_002_000L);
        file(t, "_SUCCESS", "", 1_000_000_003_000L);
        file(t, "_temporary/0/part-9.parquet", "temporary", 1_000_000_004_000L);
        file(t, "x=1/part-2.parquet", "partition", 1_000_000_009_000L);
        java.nio.file.Files.setLastModifiedTime(t, java.nio.file.attribute.FileTime.fromMillis(1_000_000_005_000L));
        org.apache.hadoop.fs.Path p = files.path(t.toString());
        Files.Listing l = files.listing(p).orElseThrow();

        // The describe() of earlier versions: the content summary, then the latest of the folder's and files' times.
        org.apache.hadoop.fs.ContentSummary summary = files.fs(p).getContentSummary(p);
        assertEquals(3 + 5 + 1 + 0 + 9 + 9, summary.getLength());
        assertEquals(6, summary.getFileCount());
        assertEquals(p + "|" + summary.getLength() + "|" + summary.getFileCount() + "|" + 1_000_000_009_000L,
                l.describe());
        assertEquals(6, l.files());
        assertTrue(l.hasDataFile());
        assertTrue(l.nested(), "data below x=1/");
        // The first data file in the folder's listing order, as Spark's listing returns it.
        org.apache.hadoop.fs.Path first = java.util.Arrays.stream(files.fs(p).listStatus(p))
                .filter(f -> f.isFile() && Files.isDataName(f.getPath().getName())).findFirst().orElseThrow().getPath();
        assertEquals(first, l.firstDataFile().getPath());
    }

    @Test
    void aFolderOfHiddenAndUnderscoreFilesHasNoData(@TempDir Path tmp) throws IOException {
        Path t = java.nio.file.Files.createDirectories(tmp.resolve("failed"));
        file(t, "_SUCCESS", "", 1_000_000_000_000L);
        file(t, ".x", "c", 1_000_000_000_000L);
        file(t, "_temporary/0/task/part-0.parquet", "p", 1_000_000_000_000L);
        Files.Listing l = files.listing(files.path(t.toString())).orElseThrow();
        assertTrue(!l.hasDataFile());
        assertEquals(null, l.firstDataFile());
        assertTrue(!l.nested(), "Spark's listing skips _temporary");
        assertEquals(3, l.files());
        assertEquals(2, l.bytes());
    }

    @Test
    void aFileIsItsOwnListingAndAMissingPathHasNone(@TempDir Path tmp) throws IOException {
        Path f = file(tmp, "one.parquet", "four", 1_000_000_000_000L);
        org.apache.hadoop.fs.Path p = files.path(f.toString());
        Files.Listing l = files.listing(p).orElseThrow();
        assertEquals(p + "|4|1|1000000000000", l.describe());
        assertTrue(l.hasDataFile());
        assertEquals(p, l.firstDataFile().getPath());
        assertTrue(files.listing(files.path(tmp.resolve("missing").toString())).isEmpty());
    }
}
