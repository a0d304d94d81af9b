package dev.pare.jobs.spark;

import java.util.Locale;

/**
 * Turns off JavaCPP's check of the process's physical memory, which reads
 * {@code /proc/self/statm} on every native allocation, unless the user configured it.
 *
 * <p>Every ND4J op allocates small native buffers through JavaCPP (mostly {@code LongPointer}s of
 * one element for the op's arguments): about 150 per training step of LeNet-300-100 at batch 128
 * (counted with {@code -Dorg.bytedeco.javacpp.logger.debug=true} and {@code strace}). With
 * {@code maxPhysicalBytes} > 0, JavaCPP 1.5.7 reads the resident set size of the process from
 * {@code /proc/self/statm} before each (a {@code pread}, in the kernel's text formatting), to run
 * the garbage collector when it exceeds the limit. Its default limit is 4 × {@code -Xmx} (JavaCPP's
 * {@code maxBytes}, which defaults to {@code -Xmx}, plus 3 × {@code -Xmx}): more than the machine's
 * memory for the usual heap sizes, so the check costs on every op and almost never acts. The
 * teacher-training loop ran 5-9% faster without it (three alternating pairs of JVMs).
 *
 * <p>JavaCPP's own accounting of the native memory it allocated ({@code maxBytes}) stays as it is:
 * it counts without a system call. A user who set either spelling of the property
 * ({@code org.bytedeco.javacpp.maxPhysicalBytes} or {@code ...maxphysicalbytes}) keeps the value.
 * JavaCPP reads it once, when its {@code Pointer} class initializes, so {@link #disableUnlessSet}
 * must run before the first ND4J array: {@code PareCli.main} calls it first thing, and
 * {@link Sessions} passes {@link #FLAG} to executor JVMs.
 */
public final class PhysicalMemoryCheck {
    /** The property as JavaCPP reads it last (it wins over the lower-case spelling). */
    public static final String PROPERTY = "org.bytedeco.javacpp.maxPhysicalBytes";
    /** The JVM option that turns the check off. */
    public static final String FLAG = "-D" + PROPERTY + "=0";
    private static final String LOWER = PROPERTY.toLowerCase(Locale.ROOT);

    private PhysicalMemoryCheck() {}

    /**
     * Sets {@value #PROPERTY} to 0 unless a system property of either spelling is set.
     *
     * @return whether it set it
     */
    public static boolean disableUnlessSet() {
        if (System.getProperty(PROPERTY) != null || System.getProperty(LOWER) != null) {
            return false;
        }
        System.setProperty(PROPERTY, "0");
        return true;
    }

    /**
     * Executor JVM options: {@code current} (may be null or empty) with {@link #FLAG} appended,
     * unless they already name the property in either spelling.
     */
    static String executorJavaOptions(String current) {
        String options = current == null ? "" : current.trim();
        if (options.toLowerCase(Locale.ROOT).contains(LOWER)) {
            return options;
        }
        return options.isEmpty() ? FLAG : options + " " + FLAG;
    }
}
