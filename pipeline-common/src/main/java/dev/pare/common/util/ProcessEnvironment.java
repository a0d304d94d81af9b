package dev.pare.common.util;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * This process's own environment, through the C library (JNA): what native libraries read when they
 * load. A native library that reads a variable when it loads sees a value set here before it loads.
 * Java reads a copy taken when the JVM started ({@link System#getenv}), which {@link #set} leaves as
 * it was and {@link #setEverywhere} changes too.
 */
final class ProcessEnvironment {
    private ProcessEnvironment() {}

    /** The C library's environment functions. */
    private interface CLibrary extends Library {
        String getenv(String name);

        int setenv(String name, String value, int overwrite);
    }

    private static CLibrary c() {
        return Native.loadLibrary("c", CLibrary.class);
    }

    /** The variable's value now (null when unset); throws {@link LinkageError} where the C library cannot be loaded. */
    static String get(String name) {
        return c().getenv(name);
    }

    /**
     * Sets the variable, replacing any value; false when {@code setenv} failed. glibc's setenv gives
     * the environment a new array and leaves the old one in place, so a thread reading it meanwhile is
     * safe.
     */
    static boolean set(String name, String value) {
        return c().setenv(name, value, 1) == 0;
    }

    /**
     * Sets the variable for native code and for Java: the C library's environment as {@link #set},
     * and the copy {@link System#getenv} reads (ND4J's Java side reads {@code OMP_NUM_THREADS} there
     * when it loads, and would otherwise override the native libraries' thread count with the core
     * count). Changing that copy takes reflection into {@code java.lang} and {@code java.util}, which
     * the JVM must open ({@code --add-opens java.base/java.lang=ALL-UNNAMED}, {@code java.util} alike:
     * {@code spark-submit} and {@code deploy/pare} open both); false, with nothing set, when it does
     * not or {@code setenv} fails.
     */
    static boolean setEverywhere(String name, String value) {
        Map<String, String> javaView = javaView();
        if (javaView == null) {
            return false;
        }
        String before = javaView.put(name, value);
        if (!set(name, value)) {
            if (before == null) {
                javaView.remove(name);
            } else {
                javaView.put(name, before);
            }
            return false;
        }
        return true;
    }

    /** The map behind {@link System#getenv} (JDK 17 on Linux), or null where the JVM does not open it to Pare. */
    @SuppressWarnings("unchecked")
    private static Map<String, String> javaView() {
        try {
            Field unmodifiable = Class.forName("java.lang.ProcessEnvironment")
                    .getDeclaredField("theUnmodifiableEnvironment");
            unmodifiable.setAccessible(true);
            Object view = unmodifiable.get(null);
            Field inner = Class.forName("java.util.Collections$UnmodifiableMap").getDeclaredField("m");
            inner.setAccessible(true);
            return (Map<String, String>) inner.get(view);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // InaccessibleObjectException (a RuntimeException) where java.lang or java.util is not opened
            return null;
        }
    }

    /**
     * The paths of the files mapped into a process, from {@code maps} (a {@code /proc/<pid>/maps}
     * file), in order, each once; empty when it cannot be read.
     */
    static List<String> mappedFiles(Path maps) throws IOException {
        if (!Files.isReadable(maps)) {
            return List.of();
        }
        return Files.readAllLines(maps).stream().filter(l -> l.indexOf('/') >= 0).map(l -> l.substring(l.indexOf('/')))
                .distinct().toList();
    }

    /** Whether a file whose name (last path element) passes {@code name} is mapped into this process. */
    static boolean loaded(Predicate<String> name) throws IOException {
        return mappedFiles(Path.of("/proc/self/maps")).stream().map(p -> Path.of(p).getFileName().toString())
                .anyMatch(name);
    }
}
