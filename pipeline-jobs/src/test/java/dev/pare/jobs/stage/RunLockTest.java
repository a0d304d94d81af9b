package dev.pare.jobs.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.jobs.io.BadInputException;
import dev.pare.jobs.io.Files;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunLockTest {
    private final Files files = new Files(new Configuration());
    private final PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    @Test
    void aSecondCommandOnTheSameRunDirectoryIsRefusedUntilTheFirstEnds(@TempDir java.nio.file.Path tmp) throws Exception {
        Path runDir = files.path(tmp.resolve("run").toString());
        RunLock first = RunLock.acquire(files, runDir, quiet);
        assertTrue(files.exists(new Path(runDir, RunLock.FILE)));
        BadInputException e = assertThrows(BadInputException.class, () -> RunLock.acquire(files, runDir, quiet));
        assertTrue(e.getMessage().contains("in use by process " + ProcessHandle.current().pid()), e.getMessage());
        assertTrue(e.getMessage().contains(RunLock.FILE), e.getMessage());
        first.close();
        assertFalse(files.exists(new Path(runDir, RunLock.FILE)));
        RunLock.acquire(files, runDir, quiet).close();
    }

    @Test
    void aLockOfADeadProcessOnThisHostIsTakenOver(@TempDir java.nio.file.Path tmp) throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        long deadPid = p.pid();
        Path runDir = files.path(tmp.resolve("run").toString());
        String host = InetAddress.getLocalHost().getHostName();
        files.writeString(new Path(runDir, RunLock.FILE),
                "{\"pid\":" + deadPid + ",\"host\":\"" + host + "\",\"started\":\"then\"}");
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        try (RunLock lock = RunLock.acquire(files, runDir, new PrintStream(warnings, true, StandardCharsets.UTF_8))) {
            assertEquals(ProcessHandle.current().pid(), dev.pare.jobs.io.Json.MAPPER
                    .readTree(files.readString(new Path(runDir, RunLock.FILE))).path("pid").asLong());
        }
        assertTrue(warnings.toString(StandardCharsets.UTF_8).contains("stale lock"), warnings.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aLockWhoseOwnerCannotBeReadIsRefusedNotTakenOver(@TempDir java.nio.file.Path tmp) throws Exception {
        // What a second command sees while the first is still writing its lock file (HDFS shows it empty).
        Path runDir = files.path(tmp.resolve("run").toString());
        files.writeString(new Path(runDir, RunLock.FILE), "");
        BadInputException e = assertThrows(BadInputException.class, () -> RunLock.acquire(files, runDir, quiet));
        assertTrue(e.getMessage().contains("owner cannot be read"), e.getMessage());
        assertEquals("", files.readString(new Path(runDir, RunLock.FILE)), "the lock file is left alone");
    }

    @Test
    void aLockFromAnotherHostIsNeverTakenOver(@TempDir java.nio.file.Path tmp) throws Exception {
        Path runDir = files.path(tmp.resolve("run").toString());
        String lock = "{\"pid\":1,\"host\":\"some-other-host\",\"started\":\"2026-11-25T10:00:00Z\"}";
        files.writeString(new Path(runDir, RunLock.FILE), lock);
        BadInputException e = assertThrows(BadInputException.class, () -> RunLock.acquire(files, runDir, quiet));
        assertTrue(e.getMessage().contains("some-other-host") && e.getMessage().contains("delete the lock file"),
                e.getMessage());
        assertEquals(lock, files.readString(new Path(runDir, RunLock.FILE)), "the other host's lock is left alone");
    }
}
