package dev.pare.jobs.stage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.util.BlasKernels;
import dev.pare.common.util.OpenMp;
import dev.pare.jobs.io.Json;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Properties;

/**
 * {@code provenance.json}, written into every stage folder: versions, git revision if known,
 * seed, the fully resolved config, the stage hash, its inputs and stage-specific details.
 */
public final class Provenance {
    private Provenance() {}

    public static ObjectNode build(RunContext ctx, Stage stage, String hash, List<String> identity, ObjectNode details,
                                   double seconds) throws IOException {
        ObjectNode p = Json.object();
        p.put("stage", stage.name());
        p.put("hash", hash);
        p.put("seconds", seconds);
        p.put("finishedAt", java.time.Instant.now().toString());
        ObjectNode v = p.putObject("versions");
        v.put("pare", version("dev.pare", "pipeline-jobs"));
        v.put("deeplearning4j", version("org.deeplearning4j", "deeplearning4j-nn"));
        v.put("nd4j", version("org.nd4j", "nd4j-api"));
        v.put("spark", org.apache.spark.package$.MODULE$.SPARK_VERSION());
        v.put("java", System.getProperty("java.version"));
        p.put("nd4jBackend", dev.pare.jobs.spark.GpuBinding.backendName());
        ObjectNode blas = p.putObject("openblas");
        blas.put("kernels", BlasKernels.loadedCore().orElse(null));
        blas.put("choice", BlasKernels.choose().how());
        ObjectNode omp = p.putObject("openmp");
        omp.put("threads", OpenMp.get(OpenMp.THREADS));
        omp.put("waitPolicy", OpenMp.get(OpenMp.WAIT_POLICY));
        omp.put("choice", OpenMp.chosen().map(OpenMp.Choice::how).orElse("not chosen by Pare in this JVM"));
        p.put("classDataArchive", classDataArchive());
        String git = System.getenv("PARE_GIT_REVISION");
        p.put("gitRevision", git == null || git.isBlank() ? null : git);
        p.put("seed", ctx.config().seed());
        p.put("runDir", ctx.runDir().toString());
        ArrayNode in = p.putArray("inputs");
        for (String id : identity) {
            in.add(id);
        }
        p.set("details", details);
        JsonNode config = Json.MAPPER.readTree(ctx.config().renderJson());
        p.set("config", config);
        return p;
    }

    /**
     * The class-data-sharing archive this JVM mapped ({@code -XX:SharedArchiveFile}, what
     * {@code deploy/pare}'s {@code PARE_CDS} passes), or null: with one, start-up and every first use of
     * a code path are faster, so a stage's seconds are only comparable with the same setting. Null also
     * when the JVM refused the archive (another JDK, a changed jar) and runs without class-data sharing.
     */
    public static String classDataArchive() {
        try {
            var vm = java.lang.management.ManagementFactory.getPlatformMXBean(
                    com.sun.management.HotSpotDiagnosticMXBean.class);
            String file = vm.getVMOption("SharedArchiveFile").getValue();
            boolean mapped = Boolean.parseBoolean(vm.getVMOption("UseSharedSpaces").getValue());
            return mapped && file != null && !file.isEmpty() ? file : null;
        } catch (RuntimeException e) {
            return null;  // not a HotSpot JVM, or one without these options
        }
    }

    /**
     * The version in a dependency's Maven metadata on the classpath, or "unknown". Pare's own comes
     * from {@code dev/pare/jobs/version.properties} (the build writes the project version into it),
     * which is there when Pare runs from its compiled classes too.
     */
    public static String version(String group, String artifact) {
        String res = group.equals("dev.pare") ? "/dev/pare/jobs/version.properties"
                : "/META-INF/maven/" + group + "/" + artifact + "/pom.properties";
        try (InputStream in = Provenance.class.getResourceAsStream(res)) {
            if (in == null) {
                String impl = Provenance.class.getPackage().getImplementationVersion();
                return impl != null && group.equals("dev.pare") ? impl : "unknown";
            }
            Properties props = new Properties();
            props.load(in);
            return props.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
