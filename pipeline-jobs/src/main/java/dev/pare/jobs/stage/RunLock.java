package dev.pare.jobs.stage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.jobs.io.BadInputException;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.io.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.ParentNotDirectoryException;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.security.AccessControlException;

/**
 * One Pare command at a time per run directory: {@code <run-dir>/_LOCK} names the owner (process
 * id, host, start time) and is created with {@code overwrite = false}, which HDFS and S3A's
 * conditional create do atomically (the local file system checks, then creates). A second command
 * on the same run directory is refused with the owner's name. A lock left by a process that died on
 * this host is stale: it is taken over with a warning. A lock from another host cannot be checked
 * from here; the message says how to remove it when that run is known to be dead.
 *
 * <p>A create that loses the race is not always a {@link FileAlreadyExistsException}: while the
 * winner's lock file is still open, HDFS refuses the loser with {@code AlreadyBeingCreatedException}
 * (wrapped in a {@code RemoteException}), and the owner cannot be read yet (HDFS shows an open file
 * as empty). So any failed create is a refusal when the lock file exists afterwards.
 */
public final class RunLock implements AutoCloseable {
    public static final String FILE = "_LOCK";
    private final Files files;
    private final Path path;
    private final String content;
    private boolean released;

    private RunLock(Files files, Path path, String content) {
        this.files = files;
        this.path = path;
        this.content = content;
    }

    /** Takes the lock of {@code runDir} or throws {@link BadInputException} naming its owner. */
    public static RunLock acquire(Files files, Path runDir, PrintStream warnings) throws IOException {
        Path path = new Path(runDir, FILE);
        String host = host();
        long pid = ProcessHandle.current().pid();
        ObjectNode me = Json.object();
        me.put("pid", pid);
        me.put("host", host);
        me.put("started", java.time.Instant.now().toString());
        String content = Json.MAPPER.writeValueAsString(me);
        FileSystem fs;
        try {
            fs = files.fs(runDir);
        } catch (BadInputException e) {
            throw e.in("--run-dir");
        }
        makeRunDir(fs, runDir);
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                try (OutputStream out = fs.create(path, false)) {
                    out.write(content.getBytes(StandardCharsets.UTF_8));
                }
                return new RunLock(files, path, content);
            } catch (AccessDeniedException | AccessControlException e) {
                throw new BadInputException("--run-dir " + runDir + " is not writable: " + e.getMessage(), e);
            } catch (IOException e) {
                // HDFS answers a lost race with AlreadyBeingCreatedException and shows the lock file empty.
                if (!(e instanceof FileAlreadyExistsException) && !files.exists(path)) {
                    throw e;
                }
                JsonNode owner = owner(files, path);
                long ownerPid = owner.path("pid").asLong(-1);
                if (ownerPid <= 0) {
                    throw new BadInputException("run directory " + runDir + " is locked (lock file " + path
                            + ") and its owner cannot be read: another command is taking the lock right now, or one"
                            + " died while writing it; delete the lock file if no command is running there");
                }
                String ownerHost = owner.path("host").asText("unknown host");
                boolean sameHost = host.equals(ownerHost);
                if (attempt == 0 && sameHost && ownerPid != pid
                        && ProcessHandle.of(ownerPid).map(p -> !p.isAlive()).orElse(true)) {
                    warnings.printf("pare: taking over the stale lock %s of process %d, which is no longer running%n",
                            path, ownerPid);
                    files.delete(path);
                    continue;
                }
                throw new BadInputException("run directory " + runDir + " is in use by process " + ownerPid + " on "
                        + ownerHost + " since " + owner.path("started").asText("?") + " (lock file " + path + ");"
                        + " wait for that command to finish"
                        + (sameHost ? "" : ", or delete the lock file if that run is known to be dead"));
            }
        }
        throw new BadInputException("could not take the lock " + path);
    }

    /** Creates the run directory, or refuses one that is a file, lies under a file or may not be created. */
    private static void makeRunDir(FileSystem fs, Path runDir) throws IOException {
        if (fs.exists(runDir) && !fs.getFileStatus(runDir).isDirectory()) {
            throw new BadInputException("--run-dir " + runDir + " exists and is not a directory");
        }
        boolean made;
        try {
            made = fs.mkdirs(runDir);
        } catch (ParentNotDirectoryException | FileAlreadyExistsException | AccessDeniedException
                 | AccessControlException e) {
            throw new BadInputException("--run-dir " + runDir + " cannot be created: " + e.getMessage(), e);
        }
        if (!made) {
            throw new BadInputException("--run-dir " + runDir + " cannot be created (a read-only parent folder?)");
        }
    }

    private static JsonNode owner(Files files, Path path) {
        try {
            return Json.MAPPER.readTree(files.readString(path));
        } catch (IOException | RuntimeException e) {
            return Json.object();
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }

    /** Removes the lock file if it is still this lock. */
    @Override
    public void close() throws IOException {
        if (released) {
            return;
        }
        released = true;
        if (files.exists(path) && content.equals(files.readString(path))) {
            files.delete(path);
        }
    }
}
