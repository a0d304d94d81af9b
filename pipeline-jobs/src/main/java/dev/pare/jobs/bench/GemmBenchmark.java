package dev.pare.jobs.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.jobs.io.Json;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The machine's float GEMM rate through ND4J ({@code Nd4j.gemm}, the call Pare's forward passes
 * make), in the JVM's speed environment ({@code OMP_NUM_THREADS}: one thread per Spark task in
 * Pare's launchers): the peak a stage's forward pass is measured against. Prints one JSON document
 * with the median GFLOP/s of each shape: 2048³ (the peak) and LeNet-300-100's first layer at
 * batch 1000 and 128.
 *
 * <p>Usage: {@code PARE_MAIN=dev.pare.jobs.bench.GemmBenchmark deploy/pare [--repeats N]}
 */
@Command(name = "GemmBenchmark", mixinStandardHelpOptions = true,
        description = "Float GEMM GFLOP/s through ND4J (the peak forward passes are compared with).")
public final class GemmBenchmark implements Callable<Integer> {
    @Option(names = "--repeats", defaultValue = "9", description = "Timed products per shape (default ${DEFAULT-VALUE}).")
    int repeats;

    private static final int[][] SHAPES = {{2048, 2048, 2048}, {1000, 784, 300}, {128, 784, 300}};

    public static void main(String[] args) {
        Bench.main(new GemmBenchmark(), args);
    }

    @Override
    public Integer call() {
        ObjectNode doc = Json.object();
        doc.put("benchmark", "gemm");
        ObjectNode machine = Bench.machine(doc, null);
        ArrayNode results = doc.putArray("products");
        for (int[] s : SHAPES) {
            ObjectNode r = results.addObject();
            r.put("m", s[0]);
            r.put("k", s[1]);
            r.put("n", s[2]);
            r.put("gflops", gflops(s[0], s[1], s[2], repeats));
        }
        doc.put("what", "median GFLOP/s (2mkn / seconds) of Nd4j.gemm on float 'c' [m,k] x 'f' [k,n] into 'f' [m,n],"
                + " after 3 untimed products");
        Bench.finish(machine);
        System.out.println(doc.toPrettyString());
        return 0;
    }

    static double gflops(int m, int k, int n, int repeats) {
        INDArray a = Nd4j.rand(DataType.FLOAT, m, k);
        INDArray b = Nd4j.rand(DataType.FLOAT, k, n).dup('f');
        INDArray c = Nd4j.createUninitialized(DataType.FLOAT, new long[] {m, n}, 'f');
        for (int i = 0; i < 3; i++) {
            Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
        }
        double[] seconds = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
            seconds[i] = Bench.secondsSince(t0);
        }
        return 2.0 * m * k * n / Bench.median(seconds) / 1e9;
    }
}
