package org.spinekit.nn;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.runtime.NativeRuntime;

/**
 * Base of every SpineKit network: a libtorch {@link Module} built in Java whose registered names
 * are the PyTorch state-dict keys of the same network (torchvision's naming where torchvision has
 * the network), so {@link StateDict} loads published weights by name.
 *
 * <p>A network is a long-lived native owner: build it outside any {@link PointerScope} (or it is
 * freed when that scope closes) and close it when done. Forward passes belong inside a scope: every
 * tensor they make is attached to the caller's innermost scope.
 */
public abstract class Net extends Module implements Layer {
  protected Net() {
    super();
    NativeRuntime.ensureConfigured();
    if (PointerScope.getInnerScope() != null) {
      // The scope would free the module while its parent still uses it; keep our own claim.
      retainReference();
    }
  }

  /** Registers {@code m} under {@code name} (a state-dict key segment) and returns it. */
  protected final <M extends Module> M add(String name, M m) {
    M r = register_module(name, m);
    if (m instanceof Net n) children.add(n);
    return r;
  }

  private final java.util.List<Net> children = new java.util.ArrayList<>();

  /** This network and every Java network under it, depth first, parents before children. */
  public final java.util.List<Net> descendants() {
    java.util.List<Net> out = new java.util.ArrayList<>();
    java.util.ArrayDeque<Net> todo = new java.util.ArrayDeque<>();
    todo.push(this);
    while (!todo.isEmpty()) {
      Net n = todo.pop();
      out.add(n);
      for (int i = n.children.size() - 1; i >= 0; i--) todo.push(n.children.get(i));
    }
    return out;
  }

  /** The Java networks registered directly under this one, in order. */
  public final java.util.List<Net> childNets() {
    return java.util.Collections.unmodifiableList(children);
  }

  /** Registers a new float32 parameter of the given shape (uninitialised) and returns it. */
  protected final Tensor param(String name, long... shape) {
    // register_parameter returns a reference into the module's table, which moves when the
    // table grows; keep our own handle on the same storage instead.
    try (PointerScope scope = new PointerScope()) {
      Tensor t = torch.empty(shape);
      register_parameter(name, t, true);
      t.retainReference();
      return t;
    }
  }

  /**
   * Registers a buffer (saved in the state dict, not trained) holding {@code init}, which the
   * network keeps (the caller must not close it).
   */
  protected final Tensor buffer(String name, Tensor init) {
    try (PointerScope scope = new PointerScope()) {
      register_buffer(name, init);
      init.retainReference();
      return init;
    }
  }

  /** The forward pass. */
  @Override
  public abstract Tensor forward(Tensor x);

  /**
   * Parameters and buffers by state-dict key, in registration order. Each is a new handle on the
   * network's own tensor (same storage, same autograd identity), attached to the caller's scope.
   */
  public Map<String, Tensor> stateDict() {
    Map<String, Tensor> out = namedParameters();
    out.putAll(namedBuffers());
    return out;
  }

  /** Trainable parameters by key (handles as in {@link #stateDict()}). */
  public Map<String, Tensor> namedParameters() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    try (PointerScope scope = new PointerScope()) {
      StringTensorDict p = named_parameters(true);
      for (long i = 0; i < p.size(); i++) {
        var item = p.get(i);
        out.put(
            item.key().getString(),
            org.spinekit.tensor.Outputs.handOut(scope, new Tensor(item.value())));
      }
    }
    return out;
  }

  /** Buffers by key (batch-norm statistics and counters). */
  public Map<String, Tensor> namedBuffers() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    try (PointerScope scope = new PointerScope()) {
      StringTensorDict b = named_buffers(true);
      for (long i = 0; i < b.size(); i++) {
        var item = b.get(i);
        out.put(
            item.key().getString(),
            org.spinekit.tensor.Outputs.handOut(scope, new Tensor(item.value())));
      }
    }
    return out;
  }

  /** The number of trainable parameters (the figure torchvision's model cards give). */
  public long parameterCount() {
    try (PointerScope scope = new PointerScope()) {
      TensorVector ps = parameters(true);
      long n = 0;
      for (long i = 0; i < ps.size(); i++) n += ps.get(i).numel();
      return n;
    }
  }

  /**
   * Keys of input convolutions whose 3-channel published weights may be adapted to this network's
   * input channels on load (summed for 1 channel, as timm does).
   */
  public java.util.Set<String> inputConvKeys() {
    return java.util.Set.of();
  }

  /**
   * Stores the weights of every 2D convolution under this network in channels-last order (NHWC, as
   * PyTorch's {@code model.to(memory_format=torch.channels_last)}), in place; returns this. The
   * values, the state-dict keys and what {@link StateDict} saves are unchanged (it writes
   * contiguous copies). libtorch's CPU convolution then runs in NHWC, so its outputs, and the batch
   * norms, activations, poolings, upsamplings and concatenations that follow, are channels-last
   * too, without the reorders to and from oneDNN's blocked layout that NCHW costs on every
   * convolution; the outputs are the same numbers up to float rounding. Callers that need a
   * contiguous result call {@code contiguous()} on the output (SpineKit's kernels require it and
   * say so). The predictors use it for inference; see {@code benchmarks/README.md}, "Forward
   * passes".
   */
  public Net channelsLast() {
    try (PointerScope scope = new PointerScope();
        org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
      for (Net n : descendants()) {
        if (n instanceof Conv2d c && c.weight.dim() == 4) {
          // clone, not contiguous(ChannelsLast): a weight of one input channel is already
          // "channels-last contiguous" in NCHW strides, which contiguous() keeps, and libtorch
          // then reads it as NCHW; clone gives it NHWC strides, as PyTorch's module.to() does.
          c.weight.set_data(
              c.weight.clone(
                  new org.bytedeco.pytorch.MemoryFormatOptional(torch.MemoryFormat.ChannelsLast)));
        }
      }
    }
    return this;
  }

  /** Eval mode (batch norm uses running statistics, dropout is off); returns this. */
  public Net evalMode() {
    eval();
    return this;
  }
}
