package org.spinekit.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.nn.Net;
import org.spinekit.tensor.Outputs;

/**
 * PyTorch's {@code torch.optim.Adam} and {@code torch.optim.AdamW} (their single-tensor formulas:
 * bias corrections {@code 1 - beta^t}, eps added after dividing the root of the second moment by
 * {@code sqrt(1 - beta2^t)}, weight decay added to the gradient for Adam and applied to the weights
 * as {@code w *= 1 - lr * wd} for AdamW, optional AMSGrad and maximize), in parameter groups with
 * their own learning rate and weight decay.
 *
 * <p>Flat buffers: the parameters of each group are moved into one contiguous buffer and become
 * views of it (their values and autograd identity unchanged), and their gradients are views of a
 * second one, so that one optimiser step is a handful of libtorch calls per group however many
 * parameters the network has. Gradients therefore accumulate in place and {@link #zeroGrad()}
 * zeroes them (PyTorch's {@code zero_grad(set_to_none=False)}, the default of PyTorch 1.13): a
 * parameter that got no gradient in a step is still updated with a zero gradient, as there. Build
 * the optimiser after moving the network to its device and dtype, and zero gradients through it
 * only: {@code Module.to}, {@code zero_grad} or loading weights by {@code set_data} detach the
 * parameters from the buffers, which {@link #step()} detects.
 *
 * <p>State ({@link #state()}) is per parameter as PyTorch keeps it: {@code exp_avg}, {@code
 * exp_avg_sq}, {@code max_exp_avg_sq} (AMSGrad) and {@code step}. The optimiser owns its buffers;
 * {@link #close()} frees the state (the parameters keep their storage).
 */
public final class Adam implements AutoCloseable {
  /**
   * Hyper-parameters (PyTorch's names and defaults).
   *
   * @param lr learning rate of groups that do not set their own
   * @param decoupled AdamW (weight decay on the weights) instead of Adam (on the gradient)
   * @param maximize ascend instead of descend
   */
  public record Options(
      double lr,
      double beta1,
      double beta2,
      double eps,
      double weightDecay,
      boolean amsgrad,
      boolean decoupled,
      boolean maximize) {
    public Options {
      check("lr", lr, 0, Double.MAX_VALUE);
      if (!(beta1 >= 0 && beta1 < 1)) {
        throw new IllegalArgumentException("beta1: expected 0 <= beta1 < 1, got " + beta1);
      }
      if (!(beta2 >= 0 && beta2 < 1)) {
        throw new IllegalArgumentException("beta2: expected 0 <= beta2 < 1, got " + beta2);
      }
      check("eps", eps, 0, Double.MAX_VALUE);
      check("weightDecay", weightDecay, 0, Double.MAX_VALUE);
    }

    /** {@code torch.optim.Adam(lr=lr)}: betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public static Options adam(double lr) {
      return new Options(lr, 0.9, 0.999, 1e-8, 0, false, false, false);
    }

    /** {@code torch.optim.AdamW(lr=lr)}: betas (0.9, 0.999), eps 1e-8, weight decay 1e-2. */
    public static Options adamW(double lr) {
      return new Options(lr, 0.9, 0.999, 1e-8, 1e-2, false, true, false);
    }

    public Options withLr(double v) {
      return new Options(v, beta1, beta2, eps, weightDecay, amsgrad, decoupled, maximize);
    }

    public Options withBetas(double b1, double b2) {
      return new Options(lr, b1, b2, eps, weightDecay, amsgrad, decoupled, maximize);
    }

    public Options withEps(double v) {
      return new Options(lr, beta1, beta2, v, weightDecay, amsgrad, decoupled, maximize);
    }

    public Options withWeightDecay(double v) {
      return new Options(lr, beta1, beta2, eps, v, amsgrad, decoupled, maximize);
    }

    public Options withAmsgrad(boolean v) {
      return new Options(lr, beta1, beta2, eps, weightDecay, v, decoupled, maximize);
    }

    public Options withMaximize(boolean v) {
      return new Options(lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled, v);
    }
  }

  /**
   * A parameter group: state-dict keys of its parameters, its base learning rate and weight decay
   * (the schedule scales from this learning rate).
   */
  public record Group(String name, List<String> keys, double lr, double weightDecay) {
    public Group {
      if (name == null || name.isEmpty()) {
        throw new IllegalArgumentException("name: expected a group name, got " + name);
      }
      if (keys == null || keys.isEmpty()) {
        throw new IllegalArgumentException(
            "keys: expected the parameters of group " + name + ", got none");
      }
      keys = List.copyOf(keys);
      check("lr of group " + name, lr, 0, Double.MAX_VALUE);
      check("weightDecay of group " + name, weightDecay, 0, Double.MAX_VALUE);
    }
  }

  /** How the trainable parameters of a network are split into groups. */
  @FunctionalInterface
  public interface Grouping {
    /** The groups for {@code params} (trainable parameters by key, in network order). */
    List<Group> groups(Map<String, Tensor> params, Options options);

    /** One group of every trainable parameter with the options' lr and weight decay. */
    static Grouping single() {
      return (params, o) ->
          List.of(new Group("all", new ArrayList<>(params.keySet()), o.lr(), o.weightDecay()));
    }

    /**
     * timm's rule: biases and every parameter of fewer than 2 dimensions (norm weights) in a group
     * without weight decay, the rest decayed.
     */
    static Grouping noDecayForNormsAndBiases() {
      return (params, o) -> {
        List<String> decay = new ArrayList<>();
        List<String> none = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
          boolean nd = e.getValue().dim() <= 1 || e.getKey().endsWith(".bias");
          (nd ? none : decay).add(e.getKey());
        }
        List<Group> g = new ArrayList<>();
        if (!decay.isEmpty()) g.add(new Group("decay", decay, o.lr(), o.weightDecay()));
        if (!none.isEmpty()) g.add(new Group("no_decay", none, o.lr(), 0));
        return g;
      };
    }
  }

  /** One group's flat buffers. */
  static final class Flat {
    final Group group;
    final String[] keys;
    final long[] offsets;
    final long[][] shapes;
    final long total;
    final Tensor[] params;
    final Tensor values;
    final Tensor grads;
    final Tensor expAvg;
    final Tensor expAvgSq;
    final Tensor maxExpAvgSq;
    final Tensor denom;
    Tensor scratch;
    double lr;
    long step;

    Flat(
        Group group,
        String[] keys,
        long[] offsets,
        long[][] shapes,
        long total,
        Tensor[] params,
        Tensor values,
        Tensor grads,
        Tensor expAvg,
        Tensor expAvgSq,
        Tensor maxExpAvgSq,
        Tensor denom) {
      this.group = group;
      this.keys = keys;
      this.offsets = offsets;
      this.shapes = shapes;
      this.total = total;
      this.params = params;
      this.values = values;
      this.grads = grads;
      this.expAvg = expAvg;
      this.expAvgSq = expAvgSq;
      this.maxExpAvgSq = maxExpAvgSq;
      this.denom = denom;
      this.lr = group.lr();
    }

    /** The view of {@code flat} holding parameter {@code i}. */
    Tensor view(Tensor flat, int i) {
      long n = 1;
      for (long s : shapes[i]) n *= s;
      return flat.narrow(0, offsets[i], n).view(shapes[i]);
    }
  }

  private final Options options;
  private final List<Flat> flats = new ArrayList<>();
  private final List<Tensor> owned = new ArrayList<>();
  private final long elementSize;
  private final TensorVector allParams;
  private boolean closed;

  /** All trainable parameters of {@code model} in one group. */
  public Adam(Net model, Options options) {
    this(model, options, Grouping.single());
  }

  /**
   * The trainable parameters of {@code model} (those that require gradients) in the groups {@code
   * grouping} makes; every trainable parameter must be in exactly one group, and all must share one
   * floating dtype and device.
   */
  public Adam(Net model, Options options, Grouping grouping) {
    if (model == null) throw new IllegalArgumentException("model: expected a network, got null");
    if (options == null) {
      throw new IllegalArgumentException("options: expected Adam options, got null");
    }
    if (grouping == null) {
      throw new IllegalArgumentException("grouping: expected a grouping, got null");
    }
    this.options = options;
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      Map<String, Tensor> params = new LinkedHashMap<>();
      Set<Long> impls = new HashSet<>();
      for (Map.Entry<String, Tensor> e : model.namedParameters().entrySet()) {
        Tensor p = e.getValue();
        if (!p.requires_grad()) continue;
        if (!impls.add(p.unsafeGetTensorImpl().address())) continue; // tied: trained once
        params.put(e.getKey(), p);
      }
      if (params.isEmpty()) {
        throw new IllegalArgumentException(
            "model: expected trainable parameters, "
                + model.getClass().getSimpleName()
                + " has none");
      }
      List<Group> groups = grouping.groups(Collections.unmodifiableMap(params), options);
      Map<String, String> seen = new HashMap<>();
      Set<String> names = new HashSet<>();
      for (Group gr : groups) {
        if (!names.add(gr.name())) {
          throw new IllegalArgumentException(
              "groups: expected distinct names, \"" + gr.name() + "\" repeats");
        }
        for (String k : gr.keys()) {
          if (!params.containsKey(k)) {
            throw new IllegalArgumentException(
                "groups: group "
                    + gr.name()
                    + " names \""
                    + k
                    + "\", which is not a trainable parameter of the model");
          }
          String other = seen.put(k, gr.name());
          if (other != null) {
            throw new IllegalArgumentException(
                "groups: \""
                    + k
                    + "\" is in groups "
                    + other
                    + " and "
                    + gr.name()
                    + ", expected one");
          }
        }
      }
      for (String k : params.keySet()) {
        if (!seen.containsKey(k)) {
          throw new IllegalArgumentException(
              "groups: trainable parameter \""
                  + k
                  + "\" is in"
                  + " no group (freeze it with requires_grad false instead)");
        }
      }
      Tensor first = params.values().iterator().next();
      if (!first.is_floating_point()) {
        throw new IllegalArgumentException(
            "model: expected floating-point parameters, got " + first.scalar_type());
      }
      String device = first.device().str().getString();
      for (Map.Entry<String, Tensor> e : params.entrySet()) {
        Tensor p = e.getValue();
        if (p.scalar_type().value != first.scalar_type().value
            || !p.device().str().getString().equals(device)) {
          throw new IllegalArgumentException(
              "model: parameter \""
                  + e.getKey()
                  + "\" is "
                  + p.scalar_type()
                  + " on "
                  + p.device().str().getString()
                  + ", expected "
                  + first.scalar_type()
                  + " on "
                  + device
                  + " as the others");
        }
      }
      this.elementSize = first.element_size();
      TensorOptions to = first.options();
      for (Group gr : groups) flats.add(flatten(gr, params, to));
      TensorVector all = new TensorVector();
      for (Flat f : flats) for (Tensor p : f.params) all.push_back(p);
      all.retainReference();
      this.allParams = all;
    }
  }

  private Flat flatten(Group gr, Map<String, Tensor> params, TensorOptions to) {
    int n = gr.keys().size();
    String[] keys = gr.keys().toArray(new String[0]);
    long[] offsets = new long[n];
    long[][] shapes = new long[n][];
    long total = 0;
    for (int i = 0; i < n; i++) {
      Tensor p = params.get(keys[i]);
      offsets[i] = total;
      shapes[i] = p.sizes().vec().get();
      total += p.numel();
    }
    Tensor values = keep(torch.empty(new long[] {total}, to, null));
    Tensor grads = keep(torch.zeros(new long[] {total}, to));
    Tensor expAvg = keep(torch.zeros(new long[] {total}, to));
    Tensor expAvgSq = keep(torch.zeros(new long[] {total}, to));
    Tensor maxSq = options.amsgrad() ? keep(torch.zeros(new long[] {total}, to)) : null;
    Tensor denom = keep(torch.empty(new long[] {total}, to, null));
    Tensor[] handles = new Tensor[n];
    Flat f =
        new Flat(
            gr, keys, offsets, shapes, total, handles, values, grads, expAvg, expAvgSq, maxSq,
            denom);
    for (int i = 0; i < n; i++) {
      Tensor p = params.get(keys[i]);
      Tensor v = f.view(values, i);
      v.copy_(p);
      p.set_data(v);
      p.mutable_grad().put(f.view(grads, i));
      handles[i] = keep(p);
    }
    return f;
  }

  private Tensor keep(Tensor t) {
    t.retainReference();
    owned.add(t);
    return t;
  }

  public Options options() {
    return options;
  }

  /** Number of parameter groups. */
  public int groupCount() {
    return flats.size();
  }

  /** Group {@code i} as configured (its base learning rate). */
  public Group group(int i) {
    return flats.get(checkGroup(i)).group;
  }

  /** The learning rate group {@code i} uses now. */
  public double lr(int i) {
    return flats.get(checkGroup(i)).lr;
  }

  /** Sets the learning rate of group {@code i} (what a schedule does). */
  public void setLr(int i, double lr) {
    check("lr", lr, 0, Double.MAX_VALUE);
    flats.get(checkGroup(i)).lr = lr;
  }

  /** Optimiser steps taken by group {@code i}. */
  public long steps(int i) {
    return flats.get(checkGroup(i)).step;
  }

  /** Base learning rates of the groups. */
  public double[] baseLrs() {
    double[] out = new double[flats.size()];
    for (int i = 0; i < out.length; i++) out[i] = flats.get(i).group.lr();
    return out;
  }

  private int checkGroup(int i) {
    if (i < 0 || i >= flats.size()) {
      throw new IllegalArgumentException("group: expected 0.." + (flats.size() - 1) + ", got " + i);
    }
    return i;
  }

  List<Flat> flats() {
    return flats;
  }

  /** Zeroes every gradient (one call per group). */
  public void zeroGrad() {
    checkOpen();
    try (PointerScope scope = new PointerScope()) {
      for (Flat f : flats) f.grads.zero_();
    }
  }

  /**
   * Scales the gradients so that their global 2-norm is at most {@code maxNorm}: libtorch's {@code
   * clip_grad_norm_} (as PyTorch's: each parameter's gradient norm, the norm of those, coefficient
   * {@code maxNorm / (norm + 1e-6)} clamped at 1), one call. Returns the norm before clipping.
   */
  public double clipGradNorm(double maxNorm) {
    check("maxNorm", maxNorm, 0, Double.MAX_VALUE);
    checkOpen();
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      return torch.clip_grad_norm_(allParams, maxNorm, 2.0, false);
    }
  }

  /** Clamps every gradient element to [-value, value], as {@code clip_grad_value_}. */
  public void clipGradValue(double value) {
    check("value", value, 0, Double.MAX_VALUE);
    checkOpen();
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      ScalarOptional lo = new ScalarOptional(new Scalar(-value));
      ScalarOptional hi = new ScalarOptional(new Scalar(value));
      for (Flat f : flats) f.grads.clamp_(lo, hi);
    }
  }

  /** One optimiser step of every group with the gradients accumulated so far. */
  public void step() {
    checkOpen();
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      verify();
      double b1 = options.beta1();
      double b2 = options.beta2();
      Scalar oneMinusB1 = new Scalar(1 - b1);
      Scalar oneMinusB2 = new Scalar(1 - b2);
      Scalar sb1 = new Scalar(b1);
      Scalar sb2 = new Scalar(b2);
      Scalar eps = new Scalar(options.eps());
      for (Flat f : flats) {
        f.step++;
        double lr = f.lr;
        double wd = f.group.weightDecay();
        Tensor grad = f.grads;
        if (options.maximize()) {
          grad = torch.neg_out(scratch(f), grad);
        }
        if (options.decoupled()) {
          // PyTorch multiplies by 1 - lr * wd even when that is 1; skipping it changes no bit.
          if (lr * wd != 0) f.values.mul_(new Scalar(1 - lr * wd));
        } else if (wd != 0) {
          grad = torch.add_out(scratch(f), grad, f.values, new Scalar(wd));
        }
        f.expAvg.mul_(sb1).add_(grad, oneMinusB1);
        f.expAvgSq.mul_(sb2).addcmul_(grad, grad, oneMinusB2);
        double bc1 = 1 - Math.pow(b1, f.step);
        double bc2 = 1 - Math.pow(b2, f.step);
        double stepSize = lr / bc1;
        Tensor second = f.expAvgSq;
        if (options.amsgrad()) {
          torch.maximum_out(f.maxExpAvgSq, f.maxExpAvgSq, f.expAvgSq);
          second = f.maxExpAvgSq;
        }
        torch.sqrt_out(f.denom, second).div_(new Scalar(Math.sqrt(bc2))).add_(eps);
        f.values.addcdiv_(f.expAvg, f.denom, new Scalar(-stepSize));
      }
    }
  }

  private Tensor scratch(Flat f) {
    if (f.scratch == null) {
      try (PointerScope s = new PointerScope()) {
        f.scratch = keep(torch.empty_like(f.values));
      }
    }
    return f.scratch;
  }

  /** Checks that every parameter and gradient is still a view of the group's buffers. */
  private void verify() {
    for (Flat f : flats) {
      long base = f.values.data_ptr().address();
      long gbase = f.grads.data_ptr().address();
      for (int i = 0; i < f.params.length; i++) {
        Tensor p = f.params[i];
        long want = base + f.offsets[i] * elementSize;
        if (p.data_ptr().address() != want) {
          throw new IllegalStateException(
              "parameter \""
                  + f.keys[i]
                  + "\" no longer lives in"
                  + " the optimiser's buffer (the network was moved or its weights replaced after"
                  + " the optimiser was built)");
        }
        Tensor gr = p.grad();
        if (!gr.defined() || gr.data_ptr().address() != gbase + f.offsets[i] * elementSize) {
          throw new IllegalStateException(
              "the gradient of \""
                  + f.keys[i]
                  + "\" is not the"
                  + " optimiser's (gradients were reset outside Adam.zeroGrad)");
        }
      }
    }
  }

  /**
   * The state by {@code <parameter key>.<name>}: {@code exp_avg}, {@code exp_avg_sq}, {@code
   * max_exp_avg_sq} (AMSGrad) as views of the optimiser's buffers, and {@code step} as a new
   * float32 scalar, as PyTorch stores it. The tensors are attached to the caller's scope.
   */
  public Map<String, Tensor> state() {
    checkOpen();
    Map<String, Tensor> out = new LinkedHashMap<>();
    try (PointerScope scope = new PointerScope()) {
      for (Flat f : flats) {
        for (int i = 0; i < f.keys.length; i++) {
          String k = f.keys[i];
          out.put(k + ".exp_avg", Outputs.handOut(scope, f.view(f.expAvg, i)));
          out.put(k + ".exp_avg_sq", Outputs.handOut(scope, f.view(f.expAvgSq, i)));
          if (f.maxExpAvgSq != null) {
            out.put(k + ".max_exp_avg_sq", Outputs.handOut(scope, f.view(f.maxExpAvgSq, i)));
          }
          out.put(
              k + ".step",
              Outputs.handOut(
                  scope,
                  torch.scalar_tensor(
                      new Scalar((double) f.step), new TensorOptions(torch.ScalarType.Float))));
        }
      }
    }
    return out;
  }

  /**
   * Restores {@link #state()} (e.g. read from a checkpoint): every entry must be there with its
   * shape, and the parameters of a group must share one step count. Checks everything before
   * copying anything.
   */
  public void loadState(Map<String, Tensor> state) {
    checkOpen();
    if (state == null) throw new IllegalArgumentException("state: expected a map, got null");
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      Map<String, Tensor> own = state();
      for (Map.Entry<String, Tensor> e : own.entrySet()) {
        Tensor src = state.get(e.getKey());
        if (src == null) {
          throw new IllegalArgumentException("state: expected \"" + e.getKey() + "\", missing");
        }
        long[] want = e.getValue().sizes().vec().get();
        long[] got = src.sizes().vec().get();
        if (!java.util.Arrays.equals(want, got)) {
          throw new IllegalArgumentException(
              "state: \""
                  + e.getKey()
                  + "\" has shape "
                  + java.util.Arrays.toString(got)
                  + ", expected "
                  + java.util.Arrays.toString(want));
        }
      }
      long[] steps = new long[flats.size()];
      for (int gi = 0; gi < flats.size(); gi++) {
        Flat f = flats.get(gi);
        steps[gi] = -1;
        for (String k : f.keys) {
          double s = state.get(k + ".step").item_double();
          if (!(s >= 0) || s != Math.rint(s)) {
            throw new IllegalArgumentException(
                "state: \"" + k + ".step\" is " + s + ", expected a whole number >= 0");
          }
          if (steps[gi] >= 0 && steps[gi] != (long) s) {
            throw new IllegalArgumentException(
                "state: parameters of group "
                    + f.group.name()
                    + " have steps "
                    + steps[gi]
                    + " and "
                    + (long) s
                    + ", expected one count");
          }
          steps[gi] = (long) s;
        }
      }
      for (Map.Entry<String, Tensor> e : own.entrySet()) {
        if (!e.getKey().endsWith(".step")) e.getValue().copy_(state.get(e.getKey()));
      }
      for (int gi = 0; gi < flats.size(); gi++) flats.get(gi).step = steps[gi];
    }
  }

  private void checkOpen() {
    if (closed) throw new IllegalStateException("the optimiser is closed");
  }

  /** Frees the optimiser's state and its handles on the parameters; idempotent. */
  @Override
  public void close() {
    if (closed) return;
    closed = true;
    for (Tensor t : owned) t.releaseReference();
    owned.clear();
    allParams.releaseReference();
  }

  static void check(String name, double v, double lo, double hi) {
    if (!(v >= lo && v <= hi)) {
      throw new IllegalArgumentException(
          name + ": expected a finite value >= " + lo + ", got " + v);
    }
  }
}
