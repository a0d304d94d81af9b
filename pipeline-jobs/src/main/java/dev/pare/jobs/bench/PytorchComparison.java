package dev.pare.jobs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.jobs.io.Json;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Pare's {@link FashionMnistBenchmark} document next to the PyTorch peer's
 * ({@code shared/bench/pytorch-peer/fmnist_peer.py}) for the same protocol: examples/s per stage
 * with the ratio Pare ÷ PyTorch (above 1: Pare is faster), and the test accuracies side by side.
 *
 * <p>Pare has two rates per stage: the stage's wall time as {@code pare} measures it (Spark jobs,
 * I/O, driver work included) and the same per-batch work in a plain loop on the driver; the
 * ratio of the second isolates the model compute from Spark's overhead.
 */
final class PytorchComparison {
    /** One stage: examples/s of Pare's stage, of Pare's compute loop and of the peer; null where there is none. */
    record Throughput(String stage, String workload, Double pareStage, Double pareCompute, Double pytorch) {
        Double stageRatio() {
            return ratio(pareStage, pytorch);
        }

        Double computeRatio() {
            return ratio(pareCompute, pytorch);
        }
    }

    /** One model's test accuracy on both sides; null where a side did not run it. */
    record Accuracy(String model, Double pare, Double pytorch) {
        Double difference() {
            return pare == null || pytorch == null ? null : pare - pytorch;
        }
    }

    /** What a reader needs to know to read the numbers; part of every comparison document. */
    static final List<String> NOTES = List.of(
            "ratio = Pare examples/s / PyTorch examples/s; above 1 Pare is faster.",
            "Pare stage: a stage's wall time as pare measures it (StageRunner: Spark jobs, Parquet I/O, broadcasts,"
                    + " driver work; no JVM or Spark session start-up) on the Spark master shown. Pare compute: the same"
                    + " per-batch work in a plain loop on the driver (one JVM thread with OMP_NUM_THREADS native threads),"
                    + " no Spark. PyTorch: the peer's own timing of the phase, with its thread count shown.",
            "teacher training: pare train-teacher runs exactly the driver loop timed here, so only the compute column"
                    + " is filled.",
            "KD: the PyTorch peer runs the teacher forward on every batch (online KD); Pare's distill reads the logits"
                    + " score-data computed (offline KD), so a PyTorch KD epoch does more work. Pare's distill stage rate"
                    + " also includes loading the subset and a test evaluation and checkpoint after each epoch.",
            "calibration: both accumulate the squared input norms per column and per-weight gradient sums from one"
                    + " backward pass per batch of 128 (Pare: prune.criterion=taylor, calibration.gradient-batch-size ="
                    + " batch); Pare computes in calibration.precision (float by default: float products, summed in"
                    + " float over 16 gradient samples, then in double; the compute rates record it), the peer in"
                    + " float32. Pare's compute rate is the median of 25 passes after at least 10 untimed ones"
                    + " and 2 s, and until the last 3 were within 10% of each other (the JIT's steady state;"
                    + " score-data and forward: 5 passes after the same), the peer's its one pass. 'calibration"
                    + " forward only' is what wanda and magnitude runs compute; the peer has no such phase.",
            "score-data: Pare computes loss, EL2N, entropy, margin and GraNd and writes them with the logits to"
                    + " Parquet; the peer computes EL2N and loss in memory.",
            "forward: Pare's stage figure is the evaluate stage's Spark pass (EvaluateJob) evaluating the teacher:"
                    + " one forward pass per test example (the teacher is its own agreement reference).",
            "accuracy: each side trains its own teacher from its own initialisation and draws its own calibration"
                    + " sample, so accuracy differences include that; same data, architecture, optimiser, epochs, batch,"
                    + " criteria, sparsities, KD temperature and alpha (alpha weighs the hard-label CE on both sides).",
            "timings on a shared 2-core machine are noisy: see pare.machine.loadavg* and pytorch.phase_cpu.*"
                    + ".foreign_cpus_avg (CPU other processes used during each phase).");

    private PytorchComparison() {}

    /** {@code pare / pytorch}, or null when either is missing or not positive. */
    static Double ratio(Double pare, Double pytorch) {
        if (pare == null || pytorch == null || !(pare > 0) || !(pytorch > 0)) {
            return null;
        }
        return pare / pytorch;
    }

    /** The number at {@code pointer}, or null when absent or not a number. */
    static Double number(JsonNode doc, String pointer) {
        JsonNode n = doc.at(pointer);
        return n.isNumber() ? n.asDouble() : null;
    }

    static List<Throughput> throughput(JsonNode pare, JsonNode torch) {
        String thr = "/throughput_examples_per_second/";
        List<Throughput> rows = new ArrayList<>();
        rows.add(new Throughput("teacher training epoch", workload(pare, "/compute/teacherTrainEpoch"), null,
                number(pare, "/compute/teacherTrainEpoch/examplesPerSecond"),
                number(torch, "/teacher_epoch_timing/examples_per_second_median")));
        rows.add(new Throughput("calibration fwd+bwd", workload(pare, "/compute/calibrationForwardBackward"),
                number(pare, "/stages/calibrateForwardBackward/examplesPerSecond"),
                number(pare, "/compute/calibrationForwardBackward/examplesPerSecond"),
                number(torch, thr + "calibration_stats")));
        rows.add(new Throughput("calibration forward only", workload(pare, "/compute/calibrationForward"),
                number(pare, "/stages/calibrateForward/examplesPerSecond"),
                number(pare, "/compute/calibrationForward/examplesPerSecond"), null));
        rows.add(new Throughput("score-data (per-example scores)", workload(pare, "/compute/score"),
                number(pare, "/stages/scoreData/examplesPerSecond"), number(pare, "/compute/score/examplesPerSecond"),
                number(torch, thr + "data_scoring_pass")));
        rows.add(new Throughput("KD epoch", workload(pare, "/compute/kdEpoch"),
                number(pare, "/stages/distill/examplesPerSecond"), number(pare, "/compute/kdEpoch/examplesPerSecond"),
                number(torch, "/kd_epoch_timing/examples_per_second_median")));
        rows.add(new Throughput("forward (inference)", workload(pare, "/compute/forwardBs1000"),
                number(pare, "/stages/evaluateForward/examplesPerSecond"),
                number(pare, "/compute/forwardBs1000/examplesPerSecond"), number(torch, thr + "teacher_forward_bs1000")));
        rows.add(new Throughput("forward (inference)", workload(pare, "/compute/forwardBs128"), null,
                number(pare, "/compute/forwardBs128/examplesPerSecond"), number(torch, thr + "teacher_forward_bs128")));
        return rows;
    }

    private static String workload(JsonNode pare, String pointer) {
        JsonNode n = pare.at(pointer);
        return n.path("examples").asText("?") + " ex, batch " + n.path("batchSize").asText("?");
    }

    /** Teacher, then one-shot and KD accuracy of every configuration either side ran (Pare's order first). */
    static List<Accuracy> accuracies(JsonNode pare, JsonNode torch) {
        List<Accuracy> rows = new ArrayList<>();
        rows.add(new Accuracy("teacher", number(pare, "/teacher/accuracy"), number(torch, "/teacher/test_acc")));
        Set<String> names = new LinkedHashSet<>();
        pare.path("runs").forEach(r -> names.add(r.path("name").asText()));
        torch.path("oneshot").fieldNames().forEachRemaining(n -> {
            if (!n.equals("dense")) {
                names.add(n);
            }
        });
        for (String name : names) {
            JsonNode run = run(pare, name);
            rows.add(new Accuracy("one-shot " + name, run == null ? null : number(run, "/oneShotAccuracy"),
                    number(torch.path("oneshot").path(name), "/test_acc")));
        }
        for (String name : names) {
            JsonNode run = run(pare, name);
            Double p = run == null ? null : number(run, "/studentAccuracy");
            Double t = number(torch.path("kd").path(name), "/test_acc");
            if (p != null || t != null) {
                rows.add(new Accuracy("after KD " + name, p, t));
            }
        }
        return rows;
    }

    private static JsonNode run(JsonNode pare, String name) {
        for (JsonNode r : pare.path("runs")) {
            if (r.path("name").asText().equals(name)) {
                return r;
            }
        }
        return null;
    }

    /**
     * The comparison document: environment (what both sides were given and what each saw),
     * hyper-parameters, throughput rows, accuracy rows, notes, then both source documents whole.
     *
     * @param environment the speed variables the caller set for both runs (name → value, "" for unset)
     */
    static ObjectNode document(String model, JsonNode pare, JsonNode torch, Map<String, String> environment,
                               List<String> notes) {
        ObjectNode doc = Json.object();
        doc.put("benchmark", "compare-pytorch");
        doc.put("model", model);
        doc.put("ratio", "Pare examples/s divided by PyTorch examples/s (above 1: Pare is faster)");
        ObjectNode env = doc.putObject("environment");
        ObjectNode given = env.putObject("givenToBoth");
        environment.forEach(given::put);
        ObjectNode pareSaw = env.putObject("pareSaw");
        for (String name : Bench.SPEED_ENVIRONMENT) {
            pareSaw.put(name, pare.at("/machine/" + name).asText(""));
        }
        pareSaw.put("master", pare.at("/machine/master").asText(""));
        pareSaw.put("openblasKernels", pare.at("/machine/openblasKernels").asText(""));
        ObjectNode torchSaw = env.putObject("pytorchSaw");
        torchSaw.put("OMP_NUM_THREADS", torch.at("/env/OMP_NUM_THREADS").asText(""));
        torchSaw.put("torchNumThreads", torch.at("/env/torch_num_threads").asInt());
        torchSaw.put("torch", torch.at("/env/torch").asText(""));
        torchSaw.set("blasLibraries", torch.at("/env/blas_and_dnn_libraries_loaded"));
        env.put("pareMatches", environment.entrySet().stream().allMatch(e ->
                e.getValue().equals(pare.at("/machine/" + e.getKey()).asText(""))));
        ObjectNode hyper = doc.putObject("hyperparameters");
        hyper.set("pare", pare.path("settings"));
        hyper.set("pytorch", torch.path("hyperparameters"));
        ArrayNode thr = doc.putArray("throughput");
        for (Throughput t : throughput(pare, torch)) {
            ObjectNode r = thr.addObject();
            r.put("stage", t.stage());
            r.put("workload", t.workload());
            r.put("pareStageExamplesPerSecond", t.pareStage());
            r.put("pareComputeExamplesPerSecond", t.pareCompute());
            r.put("pytorchExamplesPerSecond", t.pytorch());
            r.put("stageRatio", t.stageRatio());
            r.put("computeRatio", t.computeRatio());
        }
        ArrayNode acc = doc.putArray("accuracy");
        for (Accuracy a : accuracies(pare, torch)) {
            ObjectNode r = acc.addObject();
            r.put("model", a.model());
            r.put("pare", a.pare());
            r.put("pytorch", a.pytorch());
            r.put("difference", a.difference());
        }
        ArrayNode n = doc.putArray("notes");
        notes.forEach(n::add);
        doc.set("pare", pare);
        doc.set("pytorch", torch);
        return doc;
    }

    /** The readable form of {@link #document}: environment, throughput table, accuracy table, notes. */
    static String table(JsonNode doc) {
        StringBuilder b = new StringBuilder();
        JsonNode env = doc.path("environment");
        b.append("Pare vs PyTorch, Fashion-MNIST ").append(doc.path("model").asText()).append('\n');
        b.append("environment given to both:");
        env.path("givenToBoth").fields().forEachRemaining(e -> b.append(' ').append(e.getKey()).append('=')
                .append(e.getValue().asText().isEmpty() ? "(unset)" : e.getValue().asText()));
        b.append('\n');
        String kernels = env.at("/pareSaw/openblasKernels").asText("");
        b.append(String.format(Locale.ROOT, "Pare: Spark master %s, saw the same: %s, OpenBLAS kernels %s; PyTorch %s,"
                        + " threads: %d%n", env.at("/pareSaw/master").asText(),
                env.path("pareMatches").asBoolean() ? "yes" : "NO", kernels.isEmpty() ? "unknown" : kernels,
                env.at("/pytorchSaw/torch").asText(), env.at("/pytorchSaw/torchNumThreads").asInt()));
        b.append('\n').append("examples/s; ratio = Pare / PyTorch (above 1: Pare faster)\n");
        String f = "%-32s %-22s %11s %13s %10s %12s %14s%n";
        b.append(String.format(Locale.ROOT, f, "stage", "workload", "Pare stage", "Pare compute", "PyTorch",
                "stage ratio", "compute ratio"));
        for (JsonNode r : doc.path("throughput")) {
            b.append(String.format(Locale.ROOT, f, r.path("stage").asText(), r.path("workload").asText(),
                    rate(r.get("pareStageExamplesPerSecond")), rate(r.get("pareComputeExamplesPerSecond")),
                    rate(r.get("pytorchExamplesPerSecond")), ratio(r.get("stageRatio")), ratio(r.get("computeRatio"))));
        }
        b.append('\n').append("test accuracy\n");
        String g = "%-28s %8s %8s %15s%n";
        b.append(String.format(Locale.ROOT, g, "model", "Pare", "PyTorch", "Pare - PyTorch"));
        for (JsonNode r : doc.path("accuracy")) {
            b.append(String.format(Locale.ROOT, g, r.path("model").asText(), fixed(r.get("pare"), "%.4f"),
                    fixed(r.get("pytorch"), "%.4f"), fixed(r.get("difference"), "%+.4f")));
        }
        b.append('\n').append("notes\n");
        doc.path("notes").forEach(n -> b.append("- ").append(n.asText()).append('\n'));
        return b.toString();
    }

    /** Examples/s as 950, 21.3k or 1.25M; "-" for none. */
    static String rate(JsonNode v) {
        if (v == null || !v.isNumber()) {
            return "-";
        }
        double x = v.asDouble();
        if (x >= 1e6) {
            return String.format(Locale.ROOT, "%.2fM", x / 1e6);
        }
        if (x >= 1e3) {
            return String.format(Locale.ROOT, "%.1fk", x / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", x);
    }

    private static String ratio(JsonNode v) {
        return v == null || !v.isNumber() ? "-" : String.format(Locale.ROOT, v.asDouble() < 0.1 ? "%.3f" : "%.2f",
                v.asDouble());
    }

    private static String fixed(JsonNode v, String format) {
        return v == null || !v.isNumber() ? "-" : String.format(Locale.ROOT, format, v.asDouble());
    }
}
