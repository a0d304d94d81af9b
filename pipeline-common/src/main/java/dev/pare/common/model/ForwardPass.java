package dev.pare.common.model;

import java.lang.ref.Reference;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One inference pass of a network that keeps what Pare needs: the input every layer consumed
 * (after its input pre-processor, e.g. {@code [batch, 800]} for a dense layer after a convolution
 * block, {@code [batch, C, H, W]} for a convolution layer), the output of every layer (after its
 * activation) and the output layer's pre-softmax logits {@code z = h W + b}.
 *
 * <p>A network of dense layers ({@link Networks#notDenseChain}) is run here with one GEMM per
 * layer, the products DL4J's layers compute ({@code z = a W + b} into an 'f'-ordered {@code z},
 * then the activation; the bias enters the GEMM, {@link StepLayer#affine}, so that the sums are
 * DL4J's up to rounding), without DL4J's per-layer workspace and bookkeeping; its pre-activations
 * are kept ({@link #preActivations}), the logits among them.
 * Any other network runs layer by layer as {@code MultiLayerNetwork.feedForward} does, float
 * convolutions through {@link ConvColumns#convolve}.
 *
 * @param layerInputs {@code layerInputs.get(i)} is the input of layer i
 * @param layerOutputs {@code layerOutputs.get(i)} is the activation output of layer i; a pass
 *     {@link #toLogits} holds the hidden layers' only (the output layer's softmax is not computed)
 * @param logits {@code [batch, numClasses]}
 * @param preActivations {@code z_i = a_i W_i + b_i} of every layer of a dense network; empty for others
 */
public record ForwardPass(List<INDArray> layerInputs, List<INDArray> layerOutputs, INDArray logits,
                          List<INDArray> preActivations) {

    /**
     * Arrays reused by one thread's consecutive passes of one network (native allocations of a
     * few MB per batch were a quarter of a scoring pass): a pass run with them, and its feature
     * batch, hold valid values until the next call on the same buffers. Each role (the features, a
     * layer's pre-activation, output or working arrays) has one native buffer that batches of every
     * size use ({@link ReusedMemory}); the layers' prepared products are kept for two batch sizes.
     */
    public static final class Buffers {
        private final ReusedMemory features = new ReusedMemory();
        private ReusedMemory[] pre = new ReusedMemory[0];
        private ReusedMemory[] post = new ReusedMemory[0];
        /** Convolution and pooling layers' outputs and working arrays, by layer (layer by layer passes). */
        private ConvColumns.Scratch[] scratch = new ConvColumns.Scratch[0];
        private final long[] productRows = {-1, -1};
        private final PreparedProduct[][] products = new PreparedProduct[2][];
        private int nextSlot;

        /** Rows {@code [0, batch.size())} of {@code batch} as a {@code [n, width]} float array of these buffers. */
        public INDArray features(dev.pare.common.data.ExampleArrays batch) {
            return batch.featureRange(0, batch.size(), featureArray(batch.size(), batch.width()));
        }

        /** Rows {@code [from, to)} of {@code data} as a {@code [to - from, width]} float array of these buffers. */
        public INDArray features(dev.pare.common.data.ExampleArrays data, int from, int to) {
            return data.featureRange(from, to, featureArray(to - from, data.width()));
        }

        /**
         * Rows {@code rows[from, to)} of {@code data} (in that order) as a {@code [to - from, width]}
         * float array of these buffers: a minibatch without a native allocation (a 128-row batch of
         * 784 floats is 400 KB, which the C allocator may serve with a fresh mmap every time).
         */
        public INDArray features(dev.pare.common.data.ExampleArrays data, int[] rows, int from, int to) {
            return data.featureBatch(rows, from, to, featureArray(to - from, data.width()));
        }

        private INDArray featureArray(int rows, int width) {
            return features.array(DataType.FLOAT, 'c', rows, width);
        }

        /** Holds the arrays of a network of {@code layers} layers (new ones for another depth). */
        private void depth(int layers) {
            if (pre.length != layers) {
                pre = new ReusedMemory[layers];
                post = new ReusedMemory[layers];
                scratch = new ConvColumns.Scratch[layers];
                for (int i = 0; i < layers; i++) {
                    pre[i] = new ReusedMemory();
                    post[i] = new ReusedMemory();
                    scratch[i] = new ConvColumns.Scratch();
                }
                Arrays.fill(productRows, -1);
            }
        }

        /** The layers' prepared products for batches of {@code rows} rows (after {@link #depth}). */
        private PreparedProduct[] products(long rows) {
            for (int slot = 0; slot < products.length; slot++) {
                if (productRows[slot] == rows) {
                    return products[slot];
                }
            }
            PreparedProduct[] made = new PreparedProduct[pre.length];
            for (int i = 0; i < made.length; i++) {
                made[i] = new PreparedProduct();
            }
            productRows[nextSlot] = rows;
            products[nextSlot] = made;
            nextSlot = (nextSlot + 1) % products.length;
            return made;
        }
    }

    /** Runs {@code net} in inference mode on {@code features} ({@code [batch, inputSize]}). */
    public static ForwardPass run(MultiLayerNetwork net, INDArray features) {
        return run(net, features, null);
    }

    /**
     * {@link #run(MultiLayerNetwork, INDArray)} into {@code buffers} (null: fresh arrays) when
     * {@code net} is a dense network; the pass is valid until the next use of {@code buffers}.
     */
    public static ForwardPass run(MultiLayerNetwork net, INDArray features, Buffers buffers) {
        return run(net, features, buffers, true);
    }

    /**
     * {@link #run(MultiLayerNetwork, INDArray, Buffers)} up to the logits: the same arithmetic, without
     * the output layer's activation (its softmax, about 1% of a LeNet-300-100 scoring pass, which no
     * user of the logits reads); {@link #layerOutputs} holds the hidden layers' outputs.
     */
    public static ForwardPass toLogits(MultiLayerNetwork net, INDArray features, Buffers buffers) {
        return run(net, features, buffers, false);
    }

    private static ForwardPass run(MultiLayerNetwork net, INDArray features, Buffers buffers,
                                   boolean outputActivation) {
        if (buffers != null) {
            buffers.depth(net.getnLayers());
        }
        return Networks.notDenseChain(net).isEmpty() ? dense(net, features, buffers, outputActivation)
                : layerByLayer(net, features, outputActivation, buffers);
    }

    /** A plain NCHW 2-D convolution of a float network: {@link ConvColumns#convolve} computes it. */
    private static boolean fastConvolution(org.deeplearning4j.nn.conf.layers.Layer l, DataType type) {
        return type == DataType.FLOAT && l.getClass() == ConvolutionLayer.class
                && ((ConvolutionLayer) l).getCnn2dDataFormat() != CNN2DFormat.NHWC;
    }

    /**
     * The pass one layer at a time, as DL4J's {@code feedForward} runs it (each layer's input
     * pre-processor, then its {@code activate}), except float convolutions: those go through
     * {@link ConvColumns#convolve} (oneDNN's convolution, or an im2col of Pare's and one GEMM) and their
     * activation, in a oneDNN build max pooling (libnd4j's own op: {@link MaxPooling}), and plain
     * dense layers and the logits ({@link StepLayer#affine}). With {@code buffers} those layers write
     * into arrays reused from batch to batch; other layers allocate as DL4J's do.
     */
    private static ForwardPass layerByLayer(MultiLayerNetwork net, INDArray features, boolean outputActivation,
                                            Buffers buffers) {
        int depth = net.getnLayers();
        long batch = features.size(0);
        List<INDArray> inputs = new ArrayList<>(depth);
        List<INDArray> outputs = new ArrayList<>(depth);
        DataType type = net.params().dataType();
        INDArray a = features.castTo(type);
        for (int i = 0; i < depth; i++) {
            InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(i);
            INDArray in = pre == null ? a : pre.preProcess(a, (int) batch, LayerWorkspaceMgr.noWorkspaces());
            inputs.add(in);
            if (i == depth - 1 && !outputActivation) {
                break;
            }
            Layer layer = net.getLayer(i);
            org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            if (fastConvolution(conf, type)) {
                a = ConvColumns.of((ConvolutionLayer) conf).convolve(in, layer.getParam("W"), layer.paramTable().get("b"),
                        buffers == null ? null : buffers.scratch[i], ((BaseLayer) conf).getActivationFn());
            } else if (ConvColumns.oneDnn() && MaxPooling.handles(conf, type)) {
                a = MaxPooling.forward((SubsamplingLayer) conf, in, buffers == null ? null : buffers.scratch[i]);
            } else if (plainDense(conf) && in.rank() == 2 && in.dataType() == type) {
                a = affineLayer(layer, i, in, buffers, true, null);
            } else {
                a = layer.activate(in, false, LayerWorkspaceMgr.noWorkspaces());
            }
            outputs.add(a);
        }
        // The output layer's own output is softmax-ed: the logits are recomputed from its input.
        INDArray logits = affineLayer(net.getLayer(depth - 1), depth - 1, inputs.get(depth - 1), buffers, false, null);
        return new ForwardPass(List.copyOf(inputs), List.copyOf(outputs), logits, List.of());
    }

    /** A {@code DenseLayer} that is its product, bias and activation only (no layer normalization, no weight noise). */
    private static boolean plainDense(org.deeplearning4j.nn.conf.layers.Layer conf) {
        return conf.getClass() == org.deeplearning4j.nn.conf.layers.DenseLayer.class
                && !((org.deeplearning4j.nn.conf.layers.DenseLayer) conf).hasLayerNorm()
                && ((BaseLayer) conf).getWeightNoise() == null;
    }

    /**
     * Layer {@code i} ({@code z = a W + b} with DL4J's parameters) computed by {@link StepLayer#affine}
     * into {@code buffers}' arrays for the layer (null: fresh ones), then, when {@code activation}, its
     * activation into a second array; returns the activation's array, or {@code z}. {@code z} is added
     * to {@code preActivations} unless that is null.
     */
    private static INDArray affineLayer(Layer layer, int i, INDArray a, Buffers buffers, boolean activation,
                                        List<INDArray> preActivations) {
        INDArray w = layer.getParam("W");
        DataType type = w.dataType();
        long rows = a.size(0);
        long out = w.size(1);
        INDArray z = buffers == null ? Nd4j.createUninitialized(type, new long[] {rows, out}, 'f')
                : buffers.pre[i].array(type, 'f', rows, out);
        INDArray b = layer.paramTable().get("b");
        PreparedProduct product = buffers == null ? null : buffers.products(rows)[i];
        if (preActivations != null) {
            preActivations.add(z);
        }
        if (!activation) {
            return StepLayer.affine(product, a, w, b, z, null, null, false);
        }
        INDArray h = buffers == null ? Nd4j.createUninitialized(type, new long[] {rows, out}, 'f')
                : buffers.post[i].array(type, 'f', rows, out);
        IActivation act = ((BaseLayer) layer.conf().getLayer()).getActivationFn();
        return StepLayer.affine(product, a, w, b, z, act, h, false);
    }

    private static ForwardPass dense(MultiLayerNetwork net, INDArray features, Buffers buffers,
                                     boolean outputActivation) {
        int depth = net.getnLayers();
        DataType type = net.params().dataType();
        List<INDArray> inputs = new ArrayList<>(depth);
        List<INDArray> outputs = new ArrayList<>(depth);
        List<INDArray> pre = new ArrayList<>(depth);
        INDArray a = features.dataType() == type ? features : features.castTo(type);
        for (int i = 0; i < depth; i++) {
            inputs.add(a);
            boolean activation = i < depth - 1 || outputActivation;
            a = affineLayer(net.getLayer(i), i, a, buffers, activation, pre);
            if (activation) {
                outputs.add(a);
            }
        }
        return new ForwardPass(List.copyOf(inputs), List.copyOf(outputs), pre.get(depth - 1), List.copyOf(pre));
    }

    /** Only the logits; the same arithmetic as {@link #run}. */
    public static INDArray logits(MultiLayerNetwork net, INDArray features) {
        return toLogits(net, features, null).logits();
    }

    /** The logits of every row of {@code data}, in batches of {@code batchSize}, row-major. */
    public static float[] logitsRowMajor(MultiLayerNetwork net, dev.pare.common.data.ExampleArrays data,
                                         int batchSize) {
        int classes = (int) Networks.outputSize(net);
        float[] z = new float[data.size() * classes];
        Buffers buffers = new Buffers();
        for (int from = 0; from < data.size(); from += batchSize) {
            int to = Math.min(data.size(), from + batchSize);
            float[] part = logitsRowMajor(net, buffers.features(data, from, to), buffers);
            System.arraycopy(part, 0, z, from * classes, part.length);
        }
        return z;
    }

    /** The logits as a row-major float array {@code [batch · numClasses]}. */
    public static float[] logitsRowMajor(MultiLayerNetwork net, INDArray features) {
        return logitsRowMajor(net, features, null);
    }

    /** {@link #logitsRowMajor(MultiLayerNetwork, INDArray)} through {@code buffers} (may be null). */
    public static float[] logitsRowMajor(MultiLayerNetwork net, INDArray features, Buffers buffers) {
        return rowMajor(toLogits(net, features, buffers).logits());
    }

    /**
     * The values of a matrix {@code [rows, columns]} as a row-major float array: {@link #columnMajor},
     * transposed in Java (a native transposing copy and a second copy out, as before, took 1% of a
     * scoring pass).
     */
    public static float[] rowMajor(INDArray a) {
        float[] columnMajor = columnMajor(a);
        int rows = (int) a.rows();
        int columns = (int) a.columns();
        float[] out = new float[columnMajor.length];
        for (int c = 0; c < columns; c++) {
            for (int r = 0, i = c * rows; r < rows; r++, i++) {
                out[r * columns + c] = columnMajor[i];
            }
        }
        return out;
    }

    /**
     * The columns of a matrix {@code [rows, columns]} in order, each copied into {@code column} (at least
     * {@code rows} long) before {@code each} is called with its index: a column-major read that copies no
     * more than a column at a time out of a packed 'f'-ordered float matrix (others are copied to one first).
     */
    public static void columns(INDArray a, float[] column, IntConsumer each) {
        int rows = Math.toIntExact(a.rows());
        int columns = Math.toIntExact(a.columns());
        if (column.length < rows) {
            throw new IllegalArgumentException("a column of " + rows + " values does not fit " + column.length);
        }
        boolean packed = StepLayer.packedColumns(a);
        INDArray wide = packed ? a : a.castTo(DataType.FLOAT);
        INDArray f = packed ? a : wide.dup('f');
        Nd4j.getAffinityManager().ensureLocation(f, AffinityManager.Location.HOST);
        FloatBuffer values = f.data().asNioFloat();
        for (int k = 0; k < columns; k++) {
            values.get(k * rows, column, 0, rows);
            each.accept(k);
        }
        // The buffer is a view of f's memory: f stays reachable until read, and a copy is freed now.
        Reference.reachabilityFence(f);
        if (!packed) {
            ConvColumns.free(f);
            if (wide != a) {
                ConvColumns.free(wide);
            }
        }
    }

    /**
     * The values of a matrix {@code [rows, columns]} as a column-major float array. A packed 'f'-ordered
     * float matrix (what the passes above produce) is read in one copy; others are copied to one first.
     */
    public static float[] columnMajor(INDArray a) {
        INDArray f = StepLayer.packedColumns(a) ? a : a.castTo(DataType.FLOAT).dup('f');
        float[] values = new float[Math.toIntExact(f.length())];
        Nd4j.getAffinityManager().ensureLocation(f, AffinityManager.Location.HOST);
        f.data().asNioFloat().get(0, values, 0, values.length);
        return values;
    }
}
