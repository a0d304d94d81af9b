package dev.pare.common.util;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Runs a main class of the test classpath in a fresh JVM, for settings native libraries read once when they load. */
final class ChildJvm {
    private ChildJvm() {}

    /**
     * Runs {@code main} with {@code args} and JVM options {@code jvm}, this JVM's environment less
     * {@code unset} plus {@code set},
     * and returns its last line of output split at {@code |}; fails the test when it exits non-zero.
     */
    static String[] lastLine(Class<?> main, List<String> jvm, List<String> unset, Map<String, String> set,
            String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx512m");
        cmd.addAll(jvm);
        String cache = System.getProperty("org.bytedeco.javacpp.cachedir");
        if (cache != null) {
            cmd.add("-Dorg.bytedeco.javacpp.cachedir=" + cache);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        unset.forEach(env::remove);
        env.putAll(set);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, p.waitFor(), out);
        String[] lines = out.split("\n");
        return lines[lines.length - 1].trim().split("\\|", -1);
    }
}
