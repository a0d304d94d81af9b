package dev.pare.common.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

/**
 * OpenBLAS reads {@value BlasKernels#VARIABLE} once, when it loads, so the choices that matter run
 * in fresh JVMs ({@link Probe}) and read back the kernels the loaded library reports.
 */
class BlasKernelsTest {

    /** Zen 4 (AVX-512 with BW, DQ, VL), Zen 3 (AVX2 and FMA only), Knights Landing (AVX-512 without BW, DQ, VL). */
    private static final String ZEN4 = "fpu sse sse2 avx fma avx2 avx512f avx512dq avx512ifma avx512cd avx512bw avx512vl";
    private static final String ZEN3 = "fpu sse sse2 ssse3 sse4_1 sse4_2 avx fma avx2 bmi2";
    private static final String KNL = "fpu sse sse2 avx fma avx2 avx512f avx512pf avx512er avx512cd";

    private static Set<String> flags(String line) {
        return Set.of(line.split(" "));
    }

    @Test
    void theCoreFollowsTheVectorExtensionsTheKernelsUse() {
        assertEquals(Optional.of("SKYLAKEX"), BlasKernels.coreTypeFor(flags(ZEN4)));
        assertEquals(Optional.of("HASWELL"), BlasKernels.coreTypeFor(flags(ZEN3)));
        // SKYLAKEX kernels use AVX-512 BW/DQ/VL instructions: a CPU without them gets the AVX2 ones.
        assertEquals(Optional.of("HASWELL"), BlasKernels.coreTypeFor(flags(KNL)));
        assertEquals(Optional.empty(), BlasKernels.coreTypeFor(flags("fpu sse sse2 sse4_2 avx")));
        assertEquals(Optional.empty(), BlasKernels.coreTypeFor(flags("fpu avx avx2")), "AVX2 without FMA");
        assertEquals(Optional.empty(), BlasKernels.coreTypeFor(Set.of()));
    }

    @Test
    void flagsAreTheFirstProcessorsFlagsLine() {
        List<String> cpuinfo = List.of("processor\t: 0", "vendor_id\t: AuthenticAMD", "vmx flags\t: avx512f avx512bw",
                "flags\t\t: fpu  avx2 fma ", "bugs\t\t: sysret_ss_attrs", "", "processor\t: 1",
                "flags\t\t: fpu avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl");
        assertEquals(Set.of("fpu", "avx2", "fma"), BlasKernels.cpuFlags(cpuinfo));
        assertEquals(Set.of(), BlasKernels.cpuFlags(List.of("processor\t: 0", "Features\t: fp asimd")));
    }

    @Test
    void theLibraryIsOpenBlasItselfBeforeTheJniLibraryThatLinksIt(@TempDir Path dir) throws IOException {
        String jni = "/cache/openblas-0.3.19-1.5.7-linux-x86_64.jar/org/bytedeco/openblas/linux-x86_64/libjniopenblas.so";
        String lib = "/cache/openblas-0.3.19-1.5.7-linux-x86_64.jar/org/bytedeco/openblas/linux-x86_64/"
                + "libopenblas_nolapack.so.0";
        Path maps = dir.resolve("maps");
        Files.write(maps, List.of("7f00-7f01 r--p 00000000 08:01 11 /usr/lib/x86_64-linux-gnu/libc.so.6",
                "7f02-7f03 r-xp 00000000 08:01 12 " + jni, "7f04-7f05 r-xp 00000000 08:01 13 " + lib,
                "7f06-7f07 r--p 00001000 08:01 13 " + lib, "7f08-7f09 rw-p 00000000 00:00 0 [heap]"));
        assertEquals(Optional.of(lib), BlasKernels.loadedLibrary(maps));
        Files.write(maps, List.of("7f02-7f03 r-xp 00000000 08:01 12 " + jni));
        assertEquals(Optional.of(jni), BlasKernels.loadedLibrary(maps));
        Files.write(maps, List.of("7f00-7f01 r--p 00000000 08:01 11 /usr/lib/x86_64-linux-gnu/libc.so.6"));
        assertEquals(Optional.empty(), BlasKernels.loadedLibrary(maps));
        assertEquals(Optional.empty(), BlasKernels.loadedLibrary(dir.resolve("absent")));
    }

    @Test
    void theTestJvmChoseBeforeAnyTestLoadedNd4j() {
        Nd4j.create(2, 2).mmul(Nd4j.create(2, 2));
        // ChooseBlasKernels (META-INF/services) chose when the test session opened; a choice made only now
        // would find OpenBLAS loaded.
        BlasKernels.Choice c = BlasKernels.choose();
        assertFalse(c.how().contains("loaded before"), c.how());
        if (c.coreType().isPresent()) {
            assertTrue(c.coreType().get().equalsIgnoreCase(BlasKernels.loadedCore().orElse("")),
                    c + " but OpenBLAS runs " + BlasKernels.loadedCore());
        }
    }

    /** Prints the choice, then (after ND4J loads) the kernels; "late" loads ND4J before choosing. */
    public static final class Probe {
        public static void main(String[] args) {
            boolean late = args.length > 0 && args[0].equals("late");
            if (late) {
                Nd4j.create(2, 2);
            }
            BlasKernels.Choice c = BlasKernels.choose();
            Nd4j.create(2, 2).mmul(Nd4j.create(2, 2));
            String kernels = BlasKernels.loadedCore().orElse("-");
            // Asking OpenBLAS must leave it as ND4J loaded it, private to its dependents: opened again with JNA's
            // default flags it became global, and a later multi-threaded distill failed inside OpenBLAS.
            String scope;
            try {
                com.sun.jna.NativeLibrary.getProcess().getFunction("openblas_get_corename");
                scope = "global";
            } catch (UnsatisfiedLinkError e) {
                scope = "local";
            }
            System.out.println(c.coreType().orElse("-") + "|" + kernels + "|" + c.how() + "|" + scope);
        }
    }

    private static String[] probe(String coreType, String... args) throws IOException, InterruptedException {
        return ChildJvm.lastLine(Probe.class, List.of(), List.of(BlasKernels.VARIABLE),
                coreType == null ? Map.of() : Map.of(BlasKernels.VARIABLE, coreType), args);
    }

    @Test
    void aFreshJvmLoadsTheKernelsOfItsCpuAndKeepsAUsersChoice() throws Exception {
        Optional<String> expected = BlasKernels.coreTypeFor(BlasKernels.cpuFlags(Files.readAllLines(Path.of("/proc/cpuinfo"))));
        String[] chosen = probe(null);
        assertEquals(expected.orElse("-"), chosen[0], String.join("|", chosen));
        assertEquals("local", chosen[3], "OpenBLAS's symbols after loadedCore");
        if (expected.isPresent()) {
            // openblas_get_corename spells the cores its own way.
            assertEquals(expected.get().equals("SKYLAKEX") ? "SkylakeX" : "Haswell", chosen[1]);
            assertTrue(chosen[2].contains("set by Pare"), chosen[2]);
        }

        // An empty value is no choice: the CPU's kernels, as unset.
        String[] empty = probe("");
        assertEquals(chosen[0], empty[0]);
        assertEquals(chosen[1], empty[1]);

        // PRESCOTT (SSE3) runs on every x86-64 CPU: a value the user set is what OpenBLAS gets.
        String[] kept = probe("PRESCOTT");
        assertEquals("PRESCOTT", kept[0]);
        assertEquals("Prescott", kept[1]);
        assertEquals("OPENBLAS_CORETYPE=PRESCOTT as set", kept[2]);

        // Once OpenBLAS is loaded, setting the variable would change nothing: it is left alone and the choice says so.
        String[] late = probe(null, "late");
        assertEquals("-", late[0]);
        assertEquals("left to OpenBLAS: it was loaded before Pare could choose", late[2]);
    }
}
