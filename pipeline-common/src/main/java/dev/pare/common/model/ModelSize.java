package dev.pare.common.model;

import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How much a model weighs: as DL4J saves it (a dense zip, zeros included) and in a compressed
 * sparse form.
 *
 * <p>The compressed sparse form is what a sparse storage format would take, computed exactly
 * rather than written: every weight matrix (matrix view {@code [nIn, nOut]}, see
 * {@link PrunableLayer}) in CSR by output unit, i.e. per non-zero its value in the parameter's
 * data type plus its input index (2 bytes when {@code nIn ≤ 65536}, else 4), plus one 4-byte
 * offset per output unit and one more; or dense, when that is smaller. Every other parameter
 * (biases, batch-norm) is counted dense. No container overhead is counted.
 */
public final class ModelSize {
    private ModelSize() {}

    /** Bytes of the ModelSerializer zip without updater state. */
    public static long serializedBytes(MultiLayerNetwork net) {
        return Networks.toBytes(net, false).length;
    }

    /** Bytes of the compressed sparse form described in the class comment. */
    public static long sparseBytes(MultiLayerNetwork net) {
        java.util.Set<Integer> matrices = new java.util.HashSet<>();
        java.util.Map<Integer, PrunableLayer> prunable = new java.util.HashMap<>();
        for (PrunableLayer p : Networks.prunableLayers(net, true).prunable()) {
            matrices.add(p.index());
            prunable.put(p.index(), p);
        }
        long total = 0;
        for (int i = 0; i < net.getnLayers(); i++) {
            Layer layer = net.getLayer(i);
            for (Map.Entry<String, INDArray> e : layer.paramTable().entrySet()) {
                INDArray a = e.getValue();
                long element = a.dataType().width();
                long dense = a.length() * element;
                if (matrices.contains(i) && e.getKey().equals("W")) {
                    PrunableLayer p = prunable.get(i);
                    long nonZero = a.neq(0).castTo(DataType.INT64).sumNumber().longValue();
                    long indexBytes = p.nIn() <= 65536 ? 2 : 4;
                    long csr = nonZero * (element + indexBytes) + 4 * (p.nOut() + 1);
                    total += Math.min(dense, csr);
                } else {
                    total += dense;
                }
            }
        }
        return total;
    }
}
