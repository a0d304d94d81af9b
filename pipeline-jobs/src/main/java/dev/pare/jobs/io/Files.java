package dev.pare.jobs.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ContentSummary;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.UnsupportedFileSystemException;

/**
 * Hadoop file-system access for every URI Pare reads or writes ({@code file:}, {@code hdfs:},
 * {@code s3a:}, or a plain local path, made absolute against the working directory).
 */
public final class Files {
    private final Configuration hadoop;

    public Files(Configuration hadoop) {
        this.hadoop = hadoop;
    }

    public Configuration hadoop() {
        return hadoop;
    }

    private static final java.util.regex.Pattern SCHEME = java.util.regex.Pattern.compile("^([a-zA-Z][a-zA-Z0-9+.-]+):");

    /**
     * A qualified Hadoop path; a string without a scheme ({@code file:}, {@code hdfs:}, ...) is a local path.
     * An empty string is refused: it would otherwise mean the working directory.
     */
    public Path path(String uri) {
        if (uri == null || uri.isBlank()) {
            throw new BadInputException("an empty path was given where a file or folder is expected");
        }
        if (!SCHEME.matcher(uri).find()) {
            // Not File.toURI(): it ends an existing folder's URI in '/', which Path keeps (getName() is then "").
            return new Path("file", null, new java.io.File(uri).getAbsolutePath());
        }
        return new Path(uri);
    }

    /**
     * True for a name Spark reads as data in a table's folder: not starting with '_' or '.' (Spark skips
     * {@code _SUCCESS}, {@code .crc} files and {@code _temporary/}).
     */
    public static boolean isDataName(String name) {
        return !name.startsWith("_") && !name.startsWith(".");
    }

    /** The data files ({@link #isDataName}) directly in {@code folder}, sorted by path. */
    public java.util.List<Path> dataFiles(Path folder) throws IOException {
        java.util.List<Path> out = new java.util.ArrayList<>();
        for (FileStatus f : fs(folder).listStatus(folder)) {
            if (f.isFile() && isDataName(f.getPath().getName())) {
                out.add(f.getPath());
            }
        }
        out.sort(null);
        return out;
    }

    public FileSystem fs(Path p) {
        try {
            FileSystem fs = p.getFileSystem(hadoop);
            // No .crc side files next to what Pare writes on the local file system.
            fs.setWriteChecksum(false);
            return fs;
        } catch (UnsupportedFileSystemException e) {
            throw new BadInputException(p + ": no Hadoop file system for scheme \"" + p.toUri().getScheme()
                    + "\" (a mistyped scheme, or its connector, e.g. hadoop-aws for s3a, is not on the classpath)", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the file system of " + p + ": " + e.getMessage(), e);
        }
    }

    public boolean exists(Path p) throws IOException {
        return fs(p).exists(p);
    }

    public byte[] readBytes(Path p) throws IOException {
        try (InputStream in = fs(p).open(p)) {
            return in.readAllBytes();
        }
    }

    /**
     * The bytes of an input file the user named ({@code role}: the config key or option, for
     * messages): refused as bad input when it is missing, a folder or unreadable.
     */
    public byte[] readInput(String role, Path p) throws IOException {
        checkInputFile(role, p);
        try {
            return readBytes(p);
        } catch (java.nio.file.AccessDeniedException | org.apache.hadoop.security.AccessControlException e) {
            throw new BadInputException(role + ": " + p + " is not readable: " + e.getMessage(), e);
        }
    }

    /** Refuses, as bad input, an input file that is missing or a folder ({@code role}: its key or option). */
    public void checkInputFile(String role, Path p) throws IOException {
        FileStatus status;
        try {
            status = fs(p).getFileStatus(p);
        } catch (java.io.FileNotFoundException e) {
            throw new BadInputException(role + ": " + p + " does not exist", e);
        } catch (BadInputException e) {
            throw e.in(role);
        }
        if (status.isDirectory()) {
            throw new BadInputException(role + ": " + p + " is a directory, not a file");
        }
    }

    public String readString(Path p) throws IOException {
        return new String(readBytes(p), StandardCharsets.UTF_8);
    }

    public InputStream open(Path p) throws IOException {
        return fs(p).open(p);
    }

    /** Creates (overwriting) a file; parent folders are created. */
    public OutputStream create(Path p) throws IOException {
        FSDataOutputStream out = fs(p).create(p, true);
        return out;
    }

    public void writeBytes(Path p, byte[] bytes) throws IOException {
        try (OutputStream out = create(p)) {
            out.write(bytes);
        }
    }

    public void writeString(Path p, String s) throws IOException {
        writeBytes(p, s.getBytes(StandardCharsets.UTF_8));
    }

    public void delete(Path p) throws IOException {
        FileSystem fs = fs(p);
        if (fs.exists(p) && !fs.delete(p, true)) {
            throw new IOException("could not delete " + p);
        }
    }

    /** Total bytes and file count under {@code p} (a file or a folder). */
    public ContentSummary summary(Path p) throws IOException {
        return fs(p).getContentSummary(p);
    }

    /** Latest modification time of {@code p} or of any file under it. */
    public long lastModified(Path p) throws IOException {
        FileSystem fs = fs(p);
        long latest = fs.getFileStatus(p).getModificationTime();
        if (fs.getFileStatus(p).isDirectory()) {
            var it = fs.listFiles(p, true);
            while (it.hasNext()) {
                latest = Math.max(latest, it.next().getModificationTime());
            }
        }
        return latest;
    }
}
