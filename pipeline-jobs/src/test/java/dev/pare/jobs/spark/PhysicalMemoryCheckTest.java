package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/**
 * JavaCPP reads its limits once, when {@code Pointer} initializes, so each case runs in a fresh JVM
 * ({@link Probe}) and reads back the limit JavaCPP took.
 */
class PhysicalMemoryCheckTest {
    private static final long GIB = 1L << 30;

    /** Prints JavaCPP's maxPhysicalBytes after {@link PhysicalMemoryCheck#disableUnlessSet} ("skip") or without it. */
    public static final class Probe {
        public static void main(String[] args) {
            boolean set = args[0].equals("skip") && PhysicalMemoryCheck.disableUnlessSet();
            System.out.println(set + " " + Pointer.maxPhysicalBytes() + " " + Pointer.maxBytes() + " "
                    + Runtime.getRuntime().maxMemory());
        }
    }

    private static String[] probe(String mode, String... jvmOptions) throws IOException, InterruptedException {
        String[] lines = ChildJvm.output(Probe.class, List.of(jvmOptions), mode).split("\n");
        return lines[lines.length - 1].trim().split(" ");
    }

    @Test
    void aFreshJvmSkipsTheCheckWhileAUsersLimitIsKept() throws Exception {
        // JavaCPP's default: maxBytes (-Xmx) + 3 x -Xmx, checked on every allocation.
        String[] plain = probe("leave");
        long heap = Long.parseLong(plain[3]);
        assertEquals("false", plain[0]);
        assertEquals(heap, Long.parseLong(plain[2]), "maxBytes defaults to the heap");
        assertEquals(4 * heap, Long.parseLong(plain[1]));

        String[] skipped = probe("skip");
        assertEquals("true", skipped[0]);
        assertEquals(0, Long.parseLong(skipped[1]), "0 turns the check off");
        assertEquals(heap, Long.parseLong(skipped[2]), "JavaCPP's own accounting stays");

        // Either spelling of the user's setting wins.
        String[] lower = probe("skip", "-Dorg.bytedeco.javacpp.maxphysicalbytes=5g");
        assertEquals("false", lower[0]);
        assertEquals(5 * GIB, Long.parseLong(lower[1]));
        String[] camel = probe("skip", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=7g");
        assertEquals("false", camel[0]);
        assertEquals(7 * GIB, Long.parseLong(camel[1]));
    }

    @Test
    void executorOptionsGetTheFlagOnce() {
        assertEquals(PhysicalMemoryCheck.FLAG, PhysicalMemoryCheck.executorJavaOptions(null));
        assertEquals(PhysicalMemoryCheck.FLAG, PhysicalMemoryCheck.executorJavaOptions("  "));
        String once = PhysicalMemoryCheck.executorJavaOptions("-Xss4m");
        assertEquals("-Xss4m " + PhysicalMemoryCheck.FLAG, once);
        assertEquals(once, PhysicalMemoryCheck.executorJavaOptions(once), "a second pass adds nothing");
        assertTrue(PhysicalMemoryCheck.FLAG.startsWith("-D" + PhysicalMemoryCheck.PROPERTY + "="));
    }
}
