package dev.pare.common.model;

import java.util.Arrays;
import org.deeplearning4j.nn.api.Layer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Converts between a prunable layer's DL4J weight parameter and its matrix view
 * {@code [nIn, nOut]} (see {@link PrunableLayer}). For a convolution layer,
 * {@code view[(c·kH + kh)·kW + kw][o] = W[o][c][kh][kw]}.
 */
public final class LayerWeights {
    private LayerWeights() {}

    /** The layer's weights as a {@code [nIn][nOut]} double matrix (a copy). */
    public static double[][] matrix(Layer layer, PrunableLayer p) {
        return toMatrixView(weightParam(layer, p), p).toDoubleMatrix();
    }

    /** The weight parameter {@code W} of the layer, checked against {@code p}'s shape. */
    public static INDArray weightParam(Layer layer, PrunableLayer p) {
        INDArray w = layer.getParam("W");
        if (w == null || !Arrays.equals(w.shape(), p.weightShape())) {
            throw new IllegalArgumentException("layer " + p.name() + ": expected weights of shape "
                    + Arrays.toString(p.weightShape()) + " but found " + (w == null ? "none" : Arrays.toString(w.shape())));
        }
        return w;
    }

    /** A {@code [nIn, nOut]} double array viewing the parameter in the matrix layout. */
    public static INDArray toMatrixView(INDArray w, PrunableLayer p) {
        INDArray d = w.castTo(DataType.DOUBLE);
        if (p.kind() == PrunableLayer.Kind.DENSE) {
            return d;
        }
        return d.dup('c').reshape('c', new long[] {p.nOut(), p.nIn()}).transpose();
    }

    /** The inverse of {@link #toMatrixView}: a {@code [nIn, nOut]} matrix in the parameter's shape and type. */
    public static INDArray fromMatrixView(INDArray view, PrunableLayer p, DataType dataType) {
        if (view.rows() != p.nIn() || view.columns() != p.nOut()) {
            throw new IllegalArgumentException("layer " + p.name() + ": matrix view must be " + p.nIn() + "x" + p.nOut()
                    + ", was " + Arrays.toString(view.shape()));
        }
        INDArray typed = view.castTo(dataType);
        if (p.kind() == PrunableLayer.Kind.DENSE) {
            return typed.dup('c');
        }
        return typed.transpose().dup('c').reshape('c', p.weightShape());
    }

    /** Overwrites the layer's weights (in place) from a {@code [nIn][nOut]} matrix. */
    public static void setMatrixInPlace(Layer layer, PrunableLayer p, double[][] matrix) {
        INDArray w = weightParam(layer, p);
        w.assign(fromMatrixView(Nd4j.createFromArray(matrix), p, w.dataType()));
    }
}
