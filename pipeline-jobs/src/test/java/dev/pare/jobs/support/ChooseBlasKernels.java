package dev.pare.jobs.support;

import dev.pare.common.util.BlasKernels;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Makes the test JVM choose OpenBLAS's kernels as Pare's own JVMs do ({@link BlasKernels#choose}), before a
 * test loads ND4J: tests then run the kernels of `pare` and of cluster executors, and results a test
 * compares bit for bit with theirs come from the same kernels. Registered in META-INF/services.
 */
public final class ChooseBlasKernels implements LauncherSessionListener {
    @Override
    public void launcherSessionOpened(LauncherSession session) {
        BlasKernels.choose();
    }
}
