package org.spinekit.nn;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNorm3dImpl;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv3dImpl;
import org.bytedeco.pytorch.LayerNormImpl;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * PyTorch's {@code nn.Sequential}: children named 0, 1, 2, ... in order. A parameter-free step
 * ({@link #fn}) takes an index too, as an activation does in PyTorch, so the indices of later
 * children match PyTorch's keys.
 */
public final class Seq extends Net {
  private final List<Layer> steps = new ArrayList<>();

  /** Adds a network as the next child. */
  public Seq add(Net m) {
    return add(m, m);
  }

  public Seq add(Conv2dImpl m) {
    return add(m, m::forward);
  }

  public Seq add(Conv3dImpl m) {
    return add(m, m::forward);
  }

  public Seq add(BatchNorm2dImpl m) {
    return add(m, m::forward);
  }

  public Seq add(BatchNorm3dImpl m) {
    return add(m, m::forward);
  }

  public Seq add(LinearImpl m) {
    return add(m, m::forward);
  }

  public Seq add(LayerNormImpl m) {
    return add(m, m::forward);
  }

  /** Adds any module with the function that runs it. */
  public Seq add(Module m, Layer forward) {
    add(Integer.toString(steps.size()), m);
    steps.add(forward);
    return this;
  }

  /** Adds a parameter-free step (activation, pooling, dropout); it takes the next index. */
  public Seq fn(Layer f) {
    steps.add(f);
    return this;
  }

  /** The number of steps, parameter-free ones included. */
  public int size() {
    return steps.size();
  }

  /** Step {@code i}. */
  public Layer step(int i) {
    return steps.get(i);
  }

  @Override
  public Tensor forward(Tensor x) {
    for (Layer s : steps) x = s.forward(x);
    return x;
  }
}
