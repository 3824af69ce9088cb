package org.spinekit.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.tensor.Outputs;

/**
 * {@code nn.GRU}: a multi-layer, optionally bidirectional gated recurrent unit, run by libtorch's
 * fused {@code torch.gru} (the op {@code nn.GRU} itself calls). Keys equal PyTorch's: {@code
 * weight_ih_l<k>} [3H, in], {@code weight_hh_l<k>} [3H, H], {@code bias_ih_l<k>}, {@code
 * bias_hh_l<k>} [3H], and the same with {@code _reverse} for the backward direction; the gate
 * blocks are stacked (reset, update, new) as in PyTorch.
 *
 * <p>Initialisation is explicit (PyTorch's default uniform one trains GRUs poorly, as the cervical
 * write-up found): each [H, H] gate block of the recurrent weights is orthogonal, the input weights
 * are xavier-uniform over the whole [3H, in] matrix, the biases zero. ({@code nn.init.orthogonal_}
 * on the whole [3H, H] matrix would only make its columns orthonormal across the stacked gates; per
 * block, each gate's recurrence preserves norms.)
 */
public final class Gru extends Net {
  /**
   * Shape of the recurrence.
   *
   * @param inputSize features per step
   * @param hiddenSize H, features of the hidden state per direction
   * @param layers stacked layers (each after the first reads the previous one's output)
   * @param bidirectional also run the sequence backwards; outputs are [forward, backward]
   * @param batchFirst inputs and outputs are [B, T, F] (else [T, B, F])
   * @param dropout dropout on the outputs of every layer but the last, in training mode
   */
  public record Config(
      long inputSize,
      long hiddenSize,
      int layers,
      boolean bidirectional,
      boolean batchFirst,
      double dropout) {
    public Config {
      if (inputSize < 1) {
        throw new IllegalArgumentException("inputSize: expected >= 1, got " + inputSize);
      }
      if (hiddenSize < 1) {
        throw new IllegalArgumentException("hiddenSize: expected >= 1, got " + hiddenSize);
      }
      if (layers < 1) throw new IllegalArgumentException("layers: expected >= 1, got " + layers);
      if (!(dropout >= 0 && dropout < 1)) {
        throw new IllegalArgumentException("dropout: expected in [0, 1), got " + dropout);
      }
    }

    /** A batch-first GRU without inter-layer dropout. */
    public static Config of(long inputSize, long hiddenSize, int layers, boolean bidirectional) {
      return new Config(inputSize, hiddenSize, layers, bidirectional, true, 0);
    }

    /** The directions: 2 when bidirectional, else 1. */
    public int directions() {
      return bidirectional ? 2 : 1;
    }

    /** Features of each output step: H times the directions. */
    public long outputSize() {
      return hiddenSize * directions();
    }
  }

  /**
   * The output sequence and the final hidden state of every layer and direction.
   *
   * @param output [B, T, D*H] (batch first; [T, B, D*H] otherwise)
   * @param hidden [layers * D, B, H], ordered layer-major (layer 0 forward, layer 0 backward, layer
   *     1 forward, ...) as PyTorch's {@code h_n}
   */
  public record Output(Tensor output, Tensor hidden) {}

  private final Config config;

  /** The flat weights in {@code torch.gru}'s order: per layer, per direction: ih, hh, bih, bhh. */
  private final List<Tensor> weights = new ArrayList<>();

  public Gru(Config c) {
    this.config = c;
    long h = c.hiddenSize();
    for (int layer = 0; layer < c.layers(); layer++) {
      long in = layer == 0 ? c.inputSize() : c.outputSize();
      for (int dir = 0; dir < c.directions(); dir++) {
        String sfx = "_l" + layer + (dir == 1 ? "_reverse" : "");
        Tensor wih = param("weight_ih" + sfx, 3 * h, in);
        Tensor whh = param("weight_hh" + sfx, 3 * h, h);
        Tensor bih = param("bias_ih" + sfx, 3 * h);
        Tensor bhh = param("bias_hh" + sfx, 3 * h);
        Init.xavierUniform(wih);
        orthogonalBlocks(whh, h);
        Init.constant(bih, 0);
        Init.constant(bhh, 0);
        weights.addAll(List.of(wih, whh, bih, bhh));
      }
    }
  }

  /** Each [h, h] block of {@code w} [3h, h] orthogonal. */
  private static void orthogonalBlocks(Tensor w, long h) {
    try (PointerScope s = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      for (long gate = 0; gate < 3; gate++) Init.orthogonal(w.narrow(0, gate * h, h));
    }
  }

  /** The configuration. */
  public Config config() {
    return config;
  }

  /** The output sequence only (see {@link #run}). */
  @Override
  public Tensor forward(Tensor x) {
    return run(x, null).output();
  }

  /**
   * Runs the recurrence.
   *
   * @param x [B, T, inputSize] (or [T, B, inputSize] when not batch first)
   * @param h0 initial hidden state [layers * D, B, H], or null for zeros
   */
  public Output run(Tensor x, Tensor h0) {
    String axes = config.batchFirst() ? "[B, T, " : "[T, B, ";
    if (x.dim() != 3 || x.size(2) != config.inputSize()) {
      throw new IllegalArgumentException(
          "Gru: input must be "
              + axes
              + config.inputSize()
              + "], got "
              + Arrays.toString(x.sizes().vec().get()));
    }
    long batch = x.size(config.batchFirst() ? 0 : 1);
    long[] hShape = {(long) config.layers() * config.directions(), batch, config.hiddenSize()};
    if (h0 != null && !Arrays.equals(h0.sizes().vec().get(), hShape)) {
      throw new IllegalArgumentException(
          "Gru: h0 must be "
              + Arrays.toString(hShape)
              + ", got "
              + Arrays.toString(h0.sizes().vec().get()));
    }
    try (PointerScope scope = new PointerScope()) {
      Tensor hx = h0 != null ? h0 : x.new_zeros(hShape);
      TensorVector params = new TensorVector(weights.toArray(new Tensor[0]));
      T_TensorTensor_T r =
          torch.gru(
              x,
              hx,
              params,
              true,
              config.layers(),
              config.dropout(),
              is_training(),
              config.bidirectional(),
              config.batchFirst());
      // Owned handles: the tuple's own elements die with it.
      return new Output(
          Outputs.handOut(scope, new Tensor(r.get0())),
          Outputs.handOut(scope, new Tensor(r.get1())));
    }
  }
}
