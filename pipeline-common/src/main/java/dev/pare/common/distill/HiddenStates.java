package dev.pare.common.distill;

import dev.pare.common.model.Networks;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Hidden-state distillation ({@code distill.hidden.*}; FitNets, Romero et al., ICLR 2015, with
 * identity regressors): the student's hidden layer outputs are pulled towards the teacher's by
 *
 * <pre>L_hidden = β · Σ_l (1/d_l) · ‖h_s^l − h_t^l[K_l]‖²</pre>
 *
 * per example, added to the KD loss (and averaged over the minibatch like it), where h^l is layer
 * l's output (after its activation), d_l the student's width and K_l the teacher units the student
 * kept (all of them unless structured pruning cut the layer). Its gradient with respect to
 * {@code h_s^l} is {@code 2β/d_l · (h_s^l − h_t^l[K_l])}. Layers are paired by index, so the
 * student must have the teacher's layers ({@code prune.pattern = layers} removes some).
 *
 * @param teacher runs forward on each minibatch (on the driver, alongside the student)
 * @param pairs the student layers with a target, in increasing index order
 */
public record HiddenStates(MultiLayerNetwork teacher, double weight, List<Pair> pairs) {

    /** Student layer {@code layer} is pulled towards teacher layer {@code layer}'s units {@code units} (null: all). */
    public record Pair(int layer, int[] units) {}

    public HiddenStates {
        if (!(weight > 0) || !Double.isFinite(weight)) {
            throw new IllegalArgumentException("the hidden-state weight must be > 0, was " + weight);
        }
        pairs = List.copyOf(pairs);
    }

    /**
     * The pairs for {@code layers} (names or indices of hidden dense layers; empty: every hidden dense
     * layer of the student).
     *
     * @param keptUnits for structurally pruned layers, the teacher units the student kept
     * @throws IllegalArgumentException naming the layer that cannot be paired, and why
     */
    public static HiddenStates of(MultiLayerNetwork teacher, MultiLayerNetwork student, double weight,
                                  List<String> layers, Map<Integer, int[]> keptUnits) {
        int n = student.getnLayers();
        if (teacher.getnLayers() != n) {
            throw new IllegalArgumentException("hidden-state KD pairs layers by index, but the student has " + n
                    + " layers and the teacher " + teacher.getnLayers() + " (prune.pattern = layers removes layers)");
        }
        Set<Integer> chosen = new LinkedHashSet<>();
        if (layers.isEmpty()) {
            for (int i = 0; i < n - 1; i++) {
                if (student.getLayer(i).conf().getLayer() instanceof DenseLayer) {
                    chosen.add(i);
                }
            }
            if (chosen.isEmpty()) {
                throw new IllegalArgumentException("the student has no hidden dense layer to match");
            }
        } else {
            for (String l : layers) {
                chosen.add(resolve(student, l));
            }
        }
        List<Pair> pairs = new ArrayList<>();
        for (int i : chosen.stream().sorted().toList()) {
            String name = "layer " + i + " (" + Networks.name(student, i) + ")";
            if (i == n - 1) {
                throw new IllegalArgumentException(name + " is the output layer; the KD loss already matches its"
                        + " logits. Choose hidden layers");
            }
            if (!(student.getLayer(i).conf().getLayer() instanceof DenseLayer)
                    || !(teacher.getLayer(i).conf().getLayer() instanceof DenseLayer)) {
                throw new IllegalArgumentException(name + " is not a dense layer in both networks");
            }
            long studentWidth = student.getLayer(i).getParam("W").size(1);
            long teacherWidth = teacher.getLayer(i).getParam("W").size(1);
            int[] units = keptUnits.get(i);
            if (units != null) {
                for (int u : units) {
                    if (u < 0 || u >= teacherWidth) {
                        throw new IllegalArgumentException(name + ": kept unit " + u + " is outside the teacher's "
                                + teacherWidth + " units");
                    }
                }
            }
            long target = units == null ? teacherWidth : units.length;
            if (target != studentWidth) {
                throw new IllegalArgumentException(name + " has " + studentWidth + " units in the student but "
                        + target + " matching units in the teacher");
            }
            pairs.add(new Pair(i, units));
        }
        return new HiddenStates(teacher, weight, pairs);
    }

    private static int resolve(MultiLayerNetwork net, String layer) {
        for (int i = 0; i < net.getnLayers(); i++) {
            if (Networks.name(net, i).equals(layer) || String.valueOf(i).equals(layer.trim())) {
                return i;
            }
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < net.getnLayers(); i++) {
            names.add(i + " (" + Networks.name(net, i) + ")");
        }
        throw new IllegalArgumentException("no layer '" + layer + "' in the student; its layers are " + names);
    }

    /** The teacher's targets for the pairs on {@code features}: outputs of the paired layers, on the kept units. */
    INDArray[] targets(INDArray features) {
        List<INDArray> acts = teacher.feedForward(features, false);
        INDArray[] t = new INDArray[pairs.size()];
        for (int k = 0; k < t.length; k++) {
            Pair p = pairs.get(k);
            INDArray h = acts.get(p.layer() + 1);
            t[k] = p.units() == null ? h : h.getColumns(p.units());
        }
        return t;
    }
}
