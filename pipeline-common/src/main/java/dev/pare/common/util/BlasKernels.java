package dev.pare.common.util;

import com.sun.jna.Function;
import com.sun.jna.Library;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Chooses OpenBLAS's kernels for this CPU before ND4J loads OpenBLAS.
 *
 * <p>ND4J's bundled OpenBLAS (0.3.19) picks its kernels once, when the library loads, from the
 * CPU's identity, and it knows no CPU younger than itself: on an AMD EPYC of the Zen 4 generation
 * (AVX-512) it picks {@code Barcelona}, a 2007 core without AVX, and LeNet-300-100's forward pass
 * ran 2.2x slower than with the {@code Haswell} (AVX2) kernels and 3.4x slower than with the
 * {@code SkylakeX} (AVX-512) ones (docs/performance-log.md, session 29). The library reads the
 * environment variable {@value #VARIABLE} when it loads, and a JVM cannot change its own
 * environment through Java; so {@link #choose} sets it through the C library's {@code setenv},
 * before anything loads OpenBLAS: first thing in the CLI's {@code main}, in each executor's plugin,
 * and before an executor's first network.
 *
 * <p>The rule, from the CPU flags of {@code /proc/cpuinfo}: {@code SKYLAKEX} when the CPU has
 * AVX-512 F, CD, BW, DQ and VL (what those kernels use); else {@code HASWELL} when it has AVX2 and
 * FMA; else OpenBLAS's own detection. A value the user set is kept (it is also the way to choose
 * another core, or OpenBLAS's own detection with an explicit core of its list). On machines without
 * {@code /proc/cpuinfo} (not Linux) nothing is set.
 */
public final class BlasKernels {
    /** The environment variable OpenBLAS reads when it loads. */
    public static final String VARIABLE = "OPENBLAS_CORETYPE";
    private static final List<String> AVX512 = List.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl");
    private static final List<String> AVX2 = List.of("avx2", "fma");
    /** dlopen's flags on Linux (dlfcn.h). */
    private static final int RTLD_LAZY = 0x1;
    private static final int RTLD_NOLOAD = 0x4;
    private static Choice chosen;

    private BlasKernels() {}

    /**
     * What {@link #choose} did.
     *
     * @param coreType the value of {@value #VARIABLE} OpenBLAS will see, or empty when it detects its core itself
     * @param how why, in words for logs and provenance
     */
    public record Choice(Optional<String> coreType, String how) {}

    /**
     * The core type for a CPU with these {@code /proc/cpuinfo} flags: {@code SKYLAKEX} with AVX-512
     * F, CD, BW, DQ and VL, else {@code HASWELL} with AVX2 and FMA, else empty.
     */
    static Optional<String> coreTypeFor(Set<String> flags) {
        if (flags.containsAll(AVX512)) {
            return Optional.of("SKYLAKEX");
        }
        if (flags.containsAll(AVX2)) {
            return Optional.of("HASWELL");
        }
        return Optional.empty();
    }

    /** The flags of the first processor in the lines of {@code /proc/cpuinfo} (empty when none are listed). */
    static Set<String> cpuFlags(List<String> cpuinfo) {
        for (String line : cpuinfo) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals("flags")) {
                return Arrays.stream(line.substring(colon + 1).trim().split("\\s+")).filter(f -> !f.isEmpty())
                        .collect(Collectors.toUnmodifiableSet());
            }
        }
        return Set.of();
    }

    /**
     * Sets {@value #VARIABLE} for this process when it is not set, OpenBLAS is not loaded yet and
     * the CPU's flags name a core ({@link #coreTypeFor}). The first call decides; later calls
     * return its choice. Never throws: where the C library or {@code /proc} cannot be read, OpenBLAS
     * is left to detect its core itself and the choice says why.
     */
    public static synchronized Choice choose() {
        if (chosen == null) {
            chosen = decide(Path.of("/proc/cpuinfo"), Path.of("/proc/self/maps"));
        }
        return chosen;
    }

    private static Choice decide(Path cpuinfo, Path maps) {
        if (!Files.isReadable(cpuinfo)) {
            return new Choice(Optional.empty(), "left to OpenBLAS: no " + cpuinfo);
        }
        try {
            String set = ProcessEnvironment.get(VARIABLE);
            if (set != null && !set.isBlank()) {
                return new Choice(Optional.of(set), VARIABLE + "=" + set + " as set");
            }
            if (loadedLibrary(maps).isPresent()) {
                return new Choice(Optional.empty(), "left to OpenBLAS: it was loaded before Pare could choose");
            }
            Set<String> flags = cpuFlags(Files.readAllLines(cpuinfo));
            Optional<String> type = coreTypeFor(flags);
            if (type.isEmpty()) {
                return new Choice(Optional.empty(), "left to OpenBLAS: the CPU has neither AVX-512 nor AVX2 and FMA");
            }
            // Overwrites an empty value (OpenBLAS would read "" and detect the core itself).
            if (!ProcessEnvironment.set(VARIABLE, type.get())) {
                return new Choice(Optional.empty(), "left to OpenBLAS: setenv(" + VARIABLE + ") failed");
            }
            String why = type.get().equals("SKYLAKEX") ? "AVX-512" : "AVX2 and FMA";
            return new Choice(type, VARIABLE + "=" + type.get() + " set by Pare: the CPU has " + why);
        } catch (IOException | UncheckedIOException | LinkageError e) {
            return new Choice(Optional.empty(), "left to OpenBLAS: " + e);
        }
    }

    /**
     * The kernels OpenBLAS loaded and how they were chosen, for logs: e.g. {@code OpenBLAS kernels
     * SkylakeX, OPENBLAS_CORETYPE=SKYLAKEX set by Pare: the CPU has AVX-512}.
     */
    public static String summary() {
        return "OpenBLAS kernels " + loadedCore().orElse("unknown") + ", " + choose().how();
    }

    /**
     * The core whose kernels the loaded OpenBLAS uses ({@code openblas_get_corename}, e.g.
     * {@code SkylakeX}); empty when OpenBLAS is not loaded in this process or cannot be asked.
     */
    public static Optional<String> loadedCore() {
        try {
            Optional<String> lib = loadedLibrary(Path.of("/proc/self/maps"));
            if (lib.isEmpty()) {
                return Optional.empty();
            }
            // RTLD_NOLOAD: the handle of the library as loaded, nothing more. A plain dlopen (JNA's default flags,
            // RTLD_GLOBAL) of the loaded OpenBLAS made a later multi-threaded distill fail in OpenBLAS ("Bad memory
            // unallocation", "built to support a maximum of 128 threads"; docs/performance-log.md, session 29).
            Function f = NativeLibrary.getInstance(lib.get(), Map.of(Library.OPTION_OPEN_FLAGS, RTLD_LAZY | RTLD_NOLOAD))
                    .getFunction("openblas_get_corename");
            Pointer name = (Pointer) f.invoke(Pointer.class, new Object[0]);
            return name == null ? Optional.empty() : Optional.of(name.getString(0));
        } catch (IOException | UncheckedIOException | LinkageError | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    /**
     * The path of the OpenBLAS library mapped into this process, from {@code maps} (a
     * {@code /proc/<pid>/maps} file): a file named {@code libopenblas*}, else any file with
     * {@code openblas} in its name (JavaCPP's JNI library, which links it).
     */
    static Optional<String> loadedLibrary(Path maps) throws IOException {
        List<String> paths = ProcessEnvironment.mappedFiles(maps).stream().filter(p -> p.contains("openblas")).toList();
        return paths.stream().filter(p -> Path.of(p).getFileName().toString().startsWith("libopenblas")).findFirst()
                .or(() -> paths.stream().findFirst());
    }
}
