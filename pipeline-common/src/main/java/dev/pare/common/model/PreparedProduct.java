package dev.pare.common.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code z = alpha · op(a) · op(b) + beta · z} as one prepared libnd4j {@code matmul} op, kept for
 * as long as it is called with the same arrays (the same objects: a pass's reused buffers and a
 * network's parameter views) and rebuilt when one of them changes.
 *
 * <p>{@code Nd4j.gemm} builds its op, checks its arrays and computes its output shape anew on every
 * call: with the op prepared once, a LeNet-300-100 forward pass at batch 1000 (one thread, its three
 * products) took 2-4% less time, the same bits. Not thread-safe: one per layer of one thread's passes.
 */
final class PreparedProduct {
    private INDArray a;
    private INDArray b;
    private INDArray z;
    private boolean transposeA;
    private boolean transposeB;
    private double alpha;
    private double beta;
    private DynamicCustomOp op;

    /** Computes the product into {@code z} and returns {@code z}. */
    INDArray run(INDArray a, INDArray b, INDArray z, boolean transposeA, boolean transposeB, double alpha,
                 double beta) {
        if (op == null || a != this.a || b != this.b || z != this.z || transposeA != this.transposeA
                || transposeB != this.transposeB || alpha != this.alpha || beta != this.beta) {
            op = DynamicCustomOp.builder("matmul").addInputs(a, b).addOutputs(z)
                    .addFloatingPointArguments(alpha, beta)
                    .addIntegerArguments(transposeA ? 1 : 0, transposeB ? 1 : 0).build();
            this.a = a;
            this.b = b;
            this.z = z;
            this.transposeA = transposeA;
            this.transposeB = transposeB;
            this.alpha = alpha;
            this.beta = beta;
        }
        Nd4j.exec(op);
        return z;
    }

    /** {@link #run} through {@code product}, or through {@code Nd4j.gemm} when it is null. */
    static INDArray gemm(PreparedProduct product, INDArray a, INDArray b, INDArray z, boolean transposeA,
                         boolean transposeB, double alpha, double beta) {
        if (product == null) {
            return Nd4j.gemm(a, b, z, transposeA, transposeB, alpha, beta);
        }
        return product.run(a, b, z, transposeA, transposeB, alpha, beta);
    }
}
