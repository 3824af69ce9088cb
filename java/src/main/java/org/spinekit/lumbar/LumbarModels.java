package org.spinekit.lumbar;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.loss.CrossEntropy;
import org.spinekit.loss.FusedHeadLoss;
import org.spinekit.loss.Reduction;
import org.spinekit.nn.Net;
import org.spinekit.nn.StateDict;
import org.spinekit.nn.Zoo;
import org.spinekit.ops.GaussianTargets;
import org.spinekit.ops.HeadLoss;
import org.spinekit.tensor.Outputs;

/**
 * What training and inference build alike from a {@link LumbarConfig}: the networks of {@link
 * LumbarBundle#NETS}, the heatmap nets' loss, and the fold weights of a bundle.
 */
public final class LumbarModels {
  private LumbarModels() {}

  /** Grade classes: Normal/Mild, Moderate, Severe. */
  public static final int GRADES = 3;

  /** The metric's class weights, used by every grade loss. */
  public static final float[] CLASS_WEIGHTS = {1f, 2f, 4f};

  /** A new network {@code name} of {@link LumbarBundle#NETS}. */
  public static Net create(LumbarConfig c, String name) {
    int[] dec = c.decoder();
    return switch (name) {
      case LumbarBundle.SCS -> LumbarNet.create2d(c.scsEncoder(), 1, 5, GRADES, dec);
      case LumbarBundle.NFN -> LumbarNet.create3d(c.nfnEncoder(), 1, 10, GRADES, dec);
      case LumbarBundle.AXIAL -> LumbarNet.create2d(c.axialEncoder(), 3, 2, GRADES, dec);
      case LumbarBundle.CLS_SCS, LumbarBundle.CLS_NFN, LumbarBundle.CLS_SA ->
          Zoo.create(c.clsEncoder(), c.cropSlices(), GRADES);
      default ->
          throw new IllegalArgumentException(
              "net: expected one of " + LumbarBundle.NETS + ", got " + name);
    };
  }

  /** The arch name of network {@code name}. */
  static String arch(LumbarConfig c, String name) {
    return switch (name) {
      case LumbarBundle.SCS -> c.scsEncoder();
      case LumbarBundle.NFN -> c.nfnEncoder();
      case LumbarBundle.AXIAL -> c.axialEncoder();
      default -> c.clsEncoder();
    };
  }

  /** The networks {@code name} of {@code folds}, weights loaded strictly, in eval mode. */
  static List<Net> load(LumbarBundle b, String name, List<Integer> folds, Device device)
      throws IOException {
    List<Net> out = new ArrayList<>();
    try {
      for (int f : folds) {
        out.add(StateDict.loadForInference(create(b.config(), name), b.weights(name, f), device));
      }
      return out;
    } catch (IOException | RuntimeException e) {
      for (Net n : out) n.close();
      throw e;
    }
  }

  /**
   * The loss of a heatmap net: the fused kernel's Jensen-Shannon divergence of the level heatmaps
   * and weighted NLL (1/2/4) of the heatmap-pooled grades, plus {@code pixelCeWeight} x the pixel
   * cross entropy of the grade map, whose targets are painted where a level's Gaussian target is
   * above half its peak (other pixels ignored). With {@code gtHeatmaps} the heatmaps are the
   * targets themselves: only the grade map learns (the write-up's upper bound).
   */
  public static final class HeatLoss {
    private final FusedHeadLoss fused;
    private final double sigma;
    private final double pixelCeWeight;
    private final boolean gtHeatmaps;
    private final CrossEntropy ce = new CrossEntropy().withReduction(Reduction.SUM);

    public HeatLoss(double sigma, double pixelCeWeight, boolean gtHeatmaps) {
      this.fused = new FusedHeadLoss(new HeadLoss(sigma, 1.0, 1.0, CLASS_WEIGHTS));
      this.sigma = sigma;
      this.pixelCeWeight = pixelCeWeight;
      this.gtHeatmaps = gtHeatmaps;
    }

    /**
     * @param o the net's logits, heat [B, K, ...spatial], grade [B, 3, ...spatial]
     * @param targets [B, K * 4]: x, y, z, grade per point (z unused on 2D maps)
     */
    public Tensor apply(LumbarNet.Output o, Tensor targets) {
      try (PointerScope scope = new PointerScope()) {
        Tensor heat = o.heat();
        long b = heat.size(0), k = heat.size(1);
        int nd = (int) heat.dim() - 2;
        Tensor t = targets.reshape(b, k, 4);
        Tensor pts = t.narrow(2, 0, nd).contiguous();
        Tensor grades = t.select(2, 3).to(ScalarType.Long).contiguous();
        long[] spatial = new long[nd];
        for (int i = 0; i < nd; i++) spatial[i] = heat.size(2 + i);
        if (gtHeatmaps) heat = truthLogits(pts, spatial);
        Tensor loss = fused.apply(heat, o.grade(), pts, grades);
        if (pixelCeWeight > 0)
          loss = loss.add(pixelCe(o.grade(), pts, grades, spatial).mul(new Scalar(pixelCeWeight)));
        return Outputs.handOut(scope, loss);
      }
    }

    /** log of the normalised Gaussian targets (a constant: no gradient reaches the heat head). */
    Tensor truthLogits(Tensor pts, long[] spatial) {
      Tensor g = GaussianTargets.render(pts, spatial, sigma, true);
      return g.add(new Scalar(1e-8)).log().contiguous();
    }

    private Tensor pixelCe(Tensor grade, Tensor pts, Tensor grades, long[] spatial) {
      Tensor g = GaussianTargets.render(pts, spatial, sigma, false); // [B, K, ...], peak 1
      long b = g.size(0), k = g.size(1);
      Tensor target = torch.full_like(g.select(1, 0), new Scalar(-100)).to(ScalarType.Long);
      for (long i = 0; i < k; i++) {
        Tensor gi = grades.select(1, i); // [B]
        Tensor view = gi.reshape(viewShape(b, spatial.length));
        Tensor mask = g.select(1, i).gt(new Scalar(0.5)).logical_and(view.ge(new Scalar(0)));
        target = torch.where(mask, view.expand_as(target), target);
      }
      long painted = target.ge(new Scalar(0)).sum().item_long();
      if (painted == 0) return grade.sum().mul(new Scalar(0));
      return ce.withIgnoreIndex(-100).apply(grade, target).div(new Scalar((double) painted));
    }

    private static long[] viewShape(long b, int nd) {
      long[] s = new long[nd + 1];
      java.util.Arrays.fill(s, 1);
      s[0] = b;
      return s;
    }
  }
}
