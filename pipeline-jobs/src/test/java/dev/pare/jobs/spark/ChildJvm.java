package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a main class of the test classpath in a fresh JVM (512 MB heap, this JVM's JavaCPP cache folder), for
 * what native libraries and JavaCPP read once, when they load.
 */
final class ChildJvm {
    private ChildJvm() {}

    /** The output (stdout and stderr) of {@code main} with {@code args} and JVM options {@code jvm}; fails the test on a non-zero exit. */
    static String output(Class<?> main, List<String> jvm, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m"));
        String cache = System.getProperty("org.bytedeco.javacpp.cachedir");
        if (cache != null) {
            cmd.add("-Dorg.bytedeco.javacpp.cachedir=" + cache);
        }
        cmd.addAll(jvm);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, p.waitFor(), out);
        return out;
    }
}
