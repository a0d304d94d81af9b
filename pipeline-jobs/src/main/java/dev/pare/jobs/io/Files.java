package dev.pare.jobs.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
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

    /**
     * What a command needs to know of an input table's path, from one status call and, for a folder, one
     * recursive listing (a round trip per page on object stores, where the checks that need it used to list
     * the folder three times): whether Spark would find data in it, its first data file, its size and file
     * count, and its latest modification. Empty when {@code p} does not exist.
     */
    public java.util.Optional<Listing> listing(Path p) throws IOException {
        FileSystem fs = fs(p);
        FileStatus root;
        try {
            root = fs.getFileStatus(p);
        } catch (java.io.FileNotFoundException e) {
            return java.util.Optional.empty();
        }
        if (root.isFile()) {
            return java.util.Optional.of(new Listing(p, root, true, root, false, root.getLen(), 1,
                    root.getModificationTime()));
        }
        String prefix = fs.makeQualified(root.getPath()).toUri().getPath();
        prefix = prefix.endsWith("/") ? prefix : prefix + "/";
        long bytes = 0;
        long count = 0;
        long latest = root.getModificationTime();
        boolean hasData = false;
        FileStatus first = null;
        boolean nested = false;
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(p, true);
        while (it.hasNext()) {
            LocatedFileStatus f = it.next();
            bytes += f.getLen();
            count++;
            latest = Math.max(latest, f.getModificationTime());
            String below = f.getPath().toUri().getPath();
            below = below.startsWith(prefix) ? below.substring(prefix.length()) : f.getPath().getName();
            String[] names = below.split("/");
            hasData |= java.util.Arrays.stream(names).allMatch(n -> n.isEmpty() || isDataName(n));
            String top = names[0];
            if (top.startsWith("_metadata") || top.startsWith("_common_metadata")) {
                nested = true;
            } else if (!skippedBySpark(top)) {
                if (names.length > 1) {
                    nested = true;
                } else if (first == null) {
                    first = f;
                }
            }
        }
        return java.util.Optional.of(new Listing(p, root, hasData, first, nested, bytes, count, latest));
    }

    /** Names Spark's file listing leaves out ({@code HadoopFSUtils.shouldFilterOutPathName}), summary files aside. */
    static boolean skippedBySpark(String name) {
        return (name.startsWith("_") && !name.contains("=")) || name.startsWith(".") || name.endsWith("._COPYING_");
    }

    /**
     * An input path as {@link #listing} found it.
     *
     * @param hasDataFile the path is a file, or a folder holding a file none of whose names below the folder
     *     starts with '_' or '.' ({@link #isDataName})
     * @param firstDataFile the path itself when it is a file, else the first file directly in the folder, in
     *     listing order, that Spark's listing keeps; null when there is none
     * @param nested the folder holds what makes Spark's schema inference look further than one file: data
     *     below a subfolder (partitions), or summary files ({@code _metadata}, {@code _common_metadata})
     * @param bytes the size of every file under the path, hidden ones included
     * @param files the number of those files
     * @param lastModified the latest modification time of the path and of the files under it
     */
    public record Listing(Path path, FileStatus status, boolean hasDataFile, FileStatus firstDataFile, boolean nested,
                          long bytes, long files, long lastModified) {
        /** {@code path|bytes|files|lastModified}: the table as the records of its checks and the stages' identities name it. */
        public String describe() {
            return path + "|" + bytes + "|" + files + "|" + lastModified;
        }
    }
}
