package dev.pare.common.model;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.impl.layers.convolution.MaxPooling2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Pooling2DConfig;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The output of a DL4J max-pooling layer ({@link SubsamplingLayer}, {@code MAX}, NCHW), computed by
 * libnd4j's own {@code maxpool2d} op with platform helpers disallowed for that one call. In a oneDNN
 * build of ND4J (see {@link ConvColumns#oneDnn}) DL4J's layer runs the op in oneDNN, which took LeNet-5's
 * first pooling at batch 1000 from 232-299 to 1346-1646 ms per 10k examples (one thread, AVX2 EPYC);
 * a maximum is exact either way, so the values are DL4J's.
 */
final class MaxPooling {
    private MaxPooling() {}

    /**
     * Whether {@link #forward} computes {@code layer}: undilated 2-D max pooling of float NCHW input.
     * (Dilated pooling is left to DL4J's layer: with dilation 2, libnd4j's op without oneDNN and
     * DL4J's layer with it disagreed on a 9×8 input.)
     */
    static boolean handles(org.deeplearning4j.nn.conf.layers.Layer layer, DataType type) {
        if (type != DataType.FLOAT || layer.getClass() != SubsamplingLayer.class) {
            return false;
        }
        SubsamplingLayer pooling = (SubsamplingLayer) layer;
        return pooling.getPoolingType() == org.deeplearning4j.nn.conf.layers.PoolingType.MAX
                && pooling.getCnn2dDataFormat() != CNN2DFormat.NHWC
                && pooling.getDilation()[0] == 1 && pooling.getDilation()[1] == 1;
    }

    /** The pooled {@code [n, C, outH, outW]} of {@code input} ({@code [n, C, H, W]}). */
    static INDArray forward(SubsamplingLayer conf, INDArray input) {
        return forward(conf, input, null);
    }

    /**
     * {@link #forward(SubsamplingLayer, INDArray)} into {@code scratch}'s output (null: a fresh
     * array), valid until the next call with the same scratch.
     */
    static INDArray forward(SubsamplingLayer conf, INDArray input, ConvColumns.Scratch scratch) {
        int[] k = conf.getKernelSize();
        int[] s = conf.getStride();
        int[] p = conf.getPadding();
        int[] d = conf.getDilation();
        boolean same = conf.getConvolutionMode() == ConvolutionMode.Same;
        Pooling2DConfig config = Pooling2DConfig.builder().kH(k[0]).kW(k[1]).sH(s[0]).sW(s[1]).pH(p[0]).pW(p[1])
                .dH(d[0]).dW(d[1]).paddingMode(same ? PaddingMode.SAME : PaddingMode.VALID).isNHWC(false).build();
        // The geometry of DL4J's convolutions (max pooling reads the same windows): one channel per plane.
        long[] shape = input.shape();
        int[] out = new ConvColumns(1, k, s, p, d, conf.getConvolutionMode(), CNN2DFormat.NCHW)
                .outputSize(Math.toIntExact(shape[2]), Math.toIntExact(shape[3]));
        INDArray result = ConvColumns.Scratch.output(scratch, input.dataType(),
                new long[] {shape[0], shape[1], out[0], out[1]});
        if (shape[0] == 0) {
            return result;
        }
        MaxPooling2D op = new MaxPooling2D(input, result, config);
        try (OpContext context = Nd4j.getExecutioner().buildContext()) {
            context.allowHelpers(false);
            context.setInputArrays(input);
            context.setOutputArrays(result);
            context.setIArguments(op.iArgs());
            Nd4j.exec(op, context);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("closing the maxpool2d op context failed", e);
        }
        return result;
    }
}
