package dev.pare.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import dev.pare.jobs.spark.JitThresholds;
import dev.pare.jobs.support.LocalSpark;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deploy/pare}'s JVM: its class-data sharing ({@code PARE_CDS}): {@code build} writes an archive of the
 * classes a command loaded, and a later command with the same classpath loads them from it; a failed
 * command writes none; a bad value or a classpath with a directory is refused. Its JIT options
 * ({@code PARE_JIT_OPTS}), as the JVM sees them. The command is a tiny main class of its own jar
 * ({@link Probe}), so that the archive is small and quick to write.
 */
class LauncherTest {
    private static final Path ROOT = LocalSpark.repoRoot();

    @TempDir
    Path tmp;

    /**
     * What the launcher runs: prints its argument, or exits with status 3 when told to fail; with a "jit"
     * argument, prints the JVM's values of the options {@link JitThresholds#FLAGS} sets, as {@code -XX:NAME=VALUE}
     * options; with a "gc" argument, the names of its collectors. Alone in its jar: it uses nothing else of the tests.
     */
    public static final class Probe {
        private static final List<String> JIT = List.of("Tier4InvocationThreshold", "Tier4MinInvocationThreshold",
                "Tier4CompileThreshold", "Tier4BackEdgeThreshold");

        public static void main(String[] args) {
            if (args.length > 0 && args[0].equals("fail")) {
                System.exit(3);
            }
            if (List.of(args).contains("gc")) {
                System.out.println("gc " + collectors());
                return;
            }
            if (List.of(args).contains("jit")) {
                HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
                System.out.println("jit " + JIT.stream().map(o -> "-XX:" + o + "=" + vm.getVMOption(o).getValue())
                        .collect(java.util.stream.Collectors.joining(" ")));
                return;
            }
            System.out.println("probe " + String.join(" ", args));
        }

        /** The names of this JVM's collectors (its garbage collector's memory managers), sorted. */
        static String collectors() {
            return ManagementFactory.getGarbageCollectorMXBeans().stream().map(b -> b.getName()).sorted()
                    .collect(java.util.stream.Collectors.joining(", "));
        }
    }

    /** Prints what provenance.json records as the class-data archive of its JVM. */
    public static final class ArchiveProbe {
        public static void main(String[] args) {
            System.out.println("archive " + dev.pare.jobs.stage.Provenance.classDataArchive());
        }
    }

    private record Result(int exit, String output) {}

    private Result launch(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", ROOT.resolve("deploy/pare").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().put("PARE_WORK", tmp.resolve("work").toString());
        pb.environment().put("PARE_MAIN", Probe.class.getName());
        pb.environment().remove("PARE_JAVA_OPTS");
        pb.environment().remove("PARE_JIT_OPTS");
        pb.environment().remove("PARE_GC_OPTS");
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().remove("JDK_JAVA_OPTIONS");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "deploy/pare did not finish: " + out);
        return new Result(p.exitValue(), out);
    }

    private static String java(List<String> options) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(options);
        cmd.add(ArchiveProbe.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), out);
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    private Path probeJar() throws IOException {
        Path jar = tmp.resolve("probe.jar");
        String name = Probe.class.getName().replace('.', '/') + ".class";
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file);
             InputStream in = Probe.class.getClassLoader().getResourceAsStream(name)) {
            out.putNextEntry(new JarEntry(name));
            in.transferTo(out);
            out.closeEntry();
        }
        return jar;
    }

    private List<Path> archives() throws IOException {
        Path cds = tmp.resolve("work/cds");
        if (!Files.isDirectory(cds)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(cds)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jsa")).toList();
        }
    }

    @Test
    void buildWritesAnArchiveThatLaterCommandsLoadTheirClassesFrom() throws Exception {
        String jar = probeJar().toString();
        Result built = launch(Map.of("PARE_JAR", jar, "PARE_CDS", "build"), "one");
        assertEquals(0, built.exit(), built.output());
        assertTrue(built.output().contains("probe one"), built.output());
        assertEquals(1, archives().size(), built.output());

        Path log = tmp.resolve("classes.log");
        Result shared = launch(Map.of("PARE_JAR", jar, "PARE_JAVA_OPTS", "-Xlog:class+load:file=" + log), "two");
        assertEquals(0, shared.exit(), shared.output());
        assertTrue(shared.output().contains("probe two"), shared.output());
        String loaded = Files.readString(log);
        assertTrue(loaded.contains(Probe.class.getName() + " source: shared objects file"), loaded);

        // With a JFR recording in the options, the archive is not used (this JDK 17 crashes with both).
        Files.delete(log);
        Result recording = launch(Map.of("PARE_JAR", jar, "PARE_JAVA_OPTS", "-XX:StartFlightRecording=filename="
                + tmp.resolve("r.jfr") + " -Xlog:class+load:file=" + log), "jfr");
        assertEquals(0, recording.exit(), recording.output());
        assertTrue(recording.output().contains("with Java Flight Recorder, the class-data archive is not used"),
                recording.output());
        assertTrue(Files.readString(log).contains(Probe.class.getName() + " source: file:"), Files.readString(log));

        // What provenance.json records: the archive when the JVM maps it (the archive's classpath, then this
        // test's), null without one.
        String archive = archives().get(0).toString();
        String classpath = jar + java.io.File.pathSeparator + System.getProperty("java.class.path");
        assertEquals("archive " + archive, java(List.of("-XX:SharedArchiveFile=" + archive, "-cp", classpath)));
        assertEquals("archive null", java(List.of("-cp", classpath)));

        // PARE_CDS=off, and a changed jar (another archive name): the class comes from the jar.
        Files.delete(log);
        Result off = launch(Map.of("PARE_JAR", jar, "PARE_CDS", "off", "PARE_JAVA_OPTS",
                "-Xlog:class+load:file=" + log), "three");
        assertEquals(0, off.exit(), off.output());
        assertTrue(Files.readString(log).contains(Probe.class.getName() + " source: file:"), Files.readString(log));
        Files.delete(log);
        Files.setLastModifiedTime(Path.of(jar), java.nio.file.attribute.FileTime.fromMillis(
                Files.getLastModifiedTime(Path.of(jar)).toMillis() - 60_000));
        Result changed = launch(Map.of("PARE_JAR", jar, "PARE_JAVA_OPTS", "-Xlog:class+load:file=" + log), "four");
        assertEquals(0, changed.exit(), changed.output());
        assertFalse(Files.readString(log).contains(Probe.class.getName() + " source: shared objects file"));

        // Builds for two more versions of the jar: the newest archive and the one before it are kept.
        assertEquals(0, launch(Map.of("PARE_JAR", jar, "PARE_CDS", "build"), "five").exit());
        List<Path> second = archives();
        assertEquals(2, second.size());
        Files.setLastModifiedTime(Path.of(jar), java.nio.file.attribute.FileTime.fromMillis(
                Files.getLastModifiedTime(Path.of(jar)).toMillis() - 60_000));
        Result third = launch(Map.of("PARE_JAR", jar, "PARE_CDS", "build"), "six");
        assertEquals(0, third.exit(), third.output());
        List<Path> kept = archives();
        assertEquals(2, kept.size(), kept.toString());
        assertFalse(kept.contains(Path.of(archive)), "the oldest archive is removed: " + kept);
        assertTrue(third.output().contains("class-data archive "), third.output());
    }

    @Test
    void shortStageCommandsTakeC2LaterUnlessPareJitOptsOrPareJavaOptsSayOtherwise() throws Exception {
        String jar = probeJar().toString();
        String defaults = "jit -XX:Tier4InvocationThreshold=5000 -XX:Tier4MinInvocationThreshold=600"
                + " -XX:Tier4CompileThreshold=15000 -XX:Tier4BackEdgeThreshold=40000";
        // The commands of stages that do not train get the executors' options (JitThresholds), 10x HotSpot's own:
        // deploy/pare's list of them is the CLI's stage commands whose Stage#trains is false.
        List<String> shortStages = PareCli.commandLine().getSubcommands().entrySet().stream()
                .filter(e -> e.getValue().getCommand() instanceof StageCommand c && !c.stage().trains())
                .map(java.util.Map.Entry::getKey).sorted().toList();
        assertEquals(List.of("calibrate", "evaluate", "prune", "report", "score-data", "select-data"), shortStages);
        for (String command : shortStages) {
            Result r = launch(Map.of("PARE_JAR", jar, "PARE_CDS", "off"), command, "jit");
            assertEquals(0, r.exit(), r.output());
            assertEquals("jit " + JitThresholds.FLAGS, r.output().strip(), command);
        }
        assertEquals("jit -XX:Tier4InvocationThreshold=50000 -XX:Tier4MinInvocationThreshold=6000"
                + " -XX:Tier4CompileThreshold=150000 -XX:Tier4BackEdgeThreshold=400000", "jit " + JitThresholds.FLAGS);
        // Training commands, and anything else (a benchmark's arguments), keep HotSpot's.
        for (String command : List.of("run", "distill", "train-teacher", "--help", "jit")) {
            assertEquals(defaults, launch(Map.of("PARE_JAR", jar, "PARE_CDS", "off"), command, "jit").output().strip(),
                    command);
        }
        // PARE_JIT_OPTS, when set, is every command's: empty for HotSpot's, or options of one's own.
        assertEquals(defaults, launch(Map.of("PARE_JAR", jar, "PARE_CDS", "off", "PARE_JIT_OPTS", ""), "calibrate",
                "jit").output().strip());
        assertEquals("jit -XX:Tier4InvocationThreshold=9000 -XX:Tier4MinInvocationThreshold=600"
                + " -XX:Tier4CompileThreshold=15000 -XX:Tier4BackEdgeThreshold=40000", launch(Map.of("PARE_JAR", jar,
                "PARE_CDS", "off", "PARE_JIT_OPTS", "-XX:Tier4InvocationThreshold=9000"), "distill", "jit").output().strip());
        // PARE_JAVA_OPTS comes after them: a value there wins.
        Result own = launch(Map.of("PARE_JAR", jar, "PARE_CDS", "off", "PARE_JAVA_OPTS",
                "-Xmx1g -XX:Tier4InvocationThreshold=7000"), "score-data", "jit");
        assertEquals("jit -XX:Tier4InvocationThreshold=7000 -XX:Tier4MinInvocationThreshold=6000"
                + " -XX:Tier4CompileThreshold=150000 -XX:Tier4BackEdgeThreshold=400000", own.output().strip());
    }

    @Test
    void shortStageCommandsCollectWithTheParallelCollectorUnlessOptionsChooseOne() throws Exception {
        String jar = probeJar().toString();
        // The parallel collector's memory managers; the JVM's own choice is this test JVM's (no option sets one).
        String parallel = "gc PS MarkSweep, PS Scavenge";
        String own = "gc " + Probe.collectors();
        for (String command : List.of("calibrate", "evaluate", "prune", "report", "score-data", "select-data")) {
            Result r = launch(Map.of("PARE_JAR", jar, "PARE_CDS", "off"), command, "gc");
            assertEquals(0, r.exit(), r.output());
            assertEquals(parallel, r.output().strip(), command);
        }
        for (String command : List.of("run", "distill", "train-teacher", "--help", "gc")) {
            assertEquals(own, launch(Map.of("PARE_JAR", jar, "PARE_CDS", "off"), command, "gc").output().strip(),
                    command);
        }
        // A collector of one's own, in any of the JVM's option variables, is the only one (two would be refused).
        assertEquals("gc Copy, MarkSweepCompact", launch(Map.of("PARE_JAR", jar, "PARE_CDS", "off", "PARE_JAVA_OPTS",
                "-Xmx1g -XX:+UseSerialGC"), "score-data", "gc").output().strip());
        Result tool = launch(Map.of("PARE_JAR", jar, "PARE_CDS", "off", "JAVA_TOOL_OPTIONS", "-XX:+UseSerialGC"),
                "calibrate", "gc");
        assertEquals(0, tool.exit(), tool.output());
        assertTrue(tool.output().strip().endsWith("gc Copy, MarkSweepCompact"), tool.output());
        // PARE_GC_OPTS, when set, is every command's: empty for the JVM's own.
        assertEquals(own, launch(Map.of("PARE_JAR", jar, "PARE_CDS", "off", "PARE_GC_OPTS", ""), "calibrate", "gc")
                .output().strip());
        assertEquals(parallel, launch(Map.of("PARE_JAR", jar, "PARE_CDS", "off", "PARE_GC_OPTS",
                "-XX:+UseParallelGC"), "distill", "gc").output().strip());
    }

    @Test
    void aFailedCommandWritesNoArchiveAndKeepsItsStatus() throws Exception {
        Result failed = launch(Map.of("PARE_JAR", probeJar().toString(), "PARE_CDS", "build"), "fail");
        assertEquals(3, failed.exit(), failed.output());
        assertTrue(failed.output().contains("the command failed (3): no class-data archive written"), failed.output());
        assertEquals(List.of(), archives());
    }

    @Test
    void badSettingsAreRefusedBeforeAnythingRuns() throws Exception {
        Result bad = launch(Map.of("PARE_JAR", probeJar().toString(), "PARE_CDS", "yes"), "x");
        assertEquals(2, bad.exit(), bad.output());
        assertTrue(bad.output().contains("PARE_CDS must be auto, build or off, was 'yes'"), bad.output());
        assertFalse(bad.output().contains("probe"), bad.output());

        Result dir = launch(Map.of("PARE_JAR", probeJar() + ":" + tmp, "PARE_CDS", "build"), "x");
        assertEquals(2, dir.exit(), dir.output());
        assertTrue(dir.output().contains("PARE_CDS=build needs a classpath of jars only; it has a directory"), dir.output());
        assertEquals(List.of(), archives());
    }
}
