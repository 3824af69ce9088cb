package org.spinekit.nn;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.io.safetensors.SafeTensors;

/**
 * Loads and saves a network's parameters and buffers by state-dict key. Loading copies into the
 * network's own tensors (dtype converted, device kept), checks every shape, and reports or refuses
 * missing and unexpected keys.
 *
 * <p>Two shape differences are adapted (and listed in {@link Report#adapted()}); any other refuses
 * the load: a 3-channel input convolution ({@link Net#inputConvKeys()}) loaded into a network with
 * other input channels, and a tensor whose shape differs only in size-1 dimensions (the same sizes
 * above 1, in the same order), which is reshaped: the same values in the same order, e.g. timm's
 * ConvNeXt {@code gamma} [C] for torchvision's {@code layer_scale} [C, 1, 1], or a linear weight
 * [O, I] for a 1x1 conv [O, I, 1, 1].
 *
 * <p>Batch-norm counters ({@code num_batches_tracked}) may be absent, as PyTorch's strict {@code
 * load_state_dict} allows: many exported checkpoints drop these int64 buffers. They are not missing
 * keys; the network keeps its own counts and {@link Report#absentCounters()} lists them. Every
 * other key is required under strict loading.
 */
public final class StateDict {
  private StateDict() {}

  /**
   * What a load did: the network's keys the file lacked, the file's keys the network lacks, the
   * keys whose tensors were adapted (input channels, or size-1 dimensions), and the network's
   * batch-norm counters ({@code num_batches_tracked}) the file lacked, which kept their values and
   * do not count as missing.
   */
  public record Report(
      List<String> missing,
      List<String> unexpected,
      List<String> adapted,
      List<String> absentCounters) {
    public boolean complete() {
      return missing.isEmpty() && unexpected.isEmpty();
    }
  }

  /** The key of a batch-norm counter (its last segment), which a state dict may leave out. */
  static final String COUNTER = "num_batches_tracked";

  /** Whether {@code key} names a batch-norm counter of the network ({@code t} its tensor). */
  private static boolean counter(String key, Tensor t) {
    boolean named = key.equals(COUNTER) || key.endsWith("." + COUNTER);
    return named && t.dim() == 0 && t.scalar_type().value == torch.ScalarType.Long.value;
  }

  /**
   * {@code net} with every weight of {@code file} (names as saved, nothing missing or left over),
   * in eval mode, moved to {@code device} (null: stays on the CPU); closed when anything fails. On
   * the CPU its convolution weights are stored channels-last ({@link Net#channelsLast}): the eval
   * forwards of the pipelines' networks take 0.55-0.8x the time they take in NCHW.
   *
   * @throws org.spinekit.io.MalformedFileException naming the file when the weights do not fit
   */
  public static <N extends Net> N loadForInference(
      N net, Path file, org.bytedeco.pytorch.Device device) throws IOException {
    try {
      Report r = load(net, file, NameMap.identity(), true);
      if (!r.complete()) {
        throw new org.spinekit.io.MalformedFileException(
            file, "weights do not fit the network: " + r);
      }
      net.eval();
      if (device != null) net.to(device, false);
      if (device == null || device.is_cpu()) net.channelsLast();
      return net;
    } catch (IOException | RuntimeException e) {
      net.close();
      throw e;
    }
  }

  /** Loads {@code file} with keys renamed by {@code names}; strict refuses any mismatch. */
  public static Report load(Net net, Path file, NameMap names, boolean strict) throws IOException {
    try (PointerScope scope = new PointerScope()) {
      return load(net, SafeTensors.read(file), names, strict, file.toString());
    }
  }

  /** Loads tensors already in memory ({@code source} names them in errors). */
  public static Report load(
      Net net, Map<String, Tensor> tensors, NameMap names, boolean strict, String source) {
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      Map<String, Tensor> own = net.stateDict();
      Set<String> inputConvs = net.inputConvKeys();
      Map<String, Tensor> mapped = new LinkedHashMap<>();
      Map<String, String> origin = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
        String k = names.apply(e.getKey());
        if (k == null) continue;
        if (mapped.containsKey(k)) {
          throw new IllegalArgumentException(
              source
                  + ": keys '"
                  + origin.get(k)
                  + "' and '"
                  + e.getKey()
                  + "' both map to '"
                  + k
                  + "'");
        }
        mapped.put(k, e.getValue());
        origin.put(k, e.getKey());
      }
      List<String> missing = new ArrayList<>();
      List<String> unexpected = new ArrayList<>();
      List<String> adapted = new ArrayList<>();
      List<String> absentCounters = new ArrayList<>();
      for (Map.Entry<String, Tensor> e : own.entrySet()) {
        if (mapped.containsKey(e.getKey())) continue;
        (counter(e.getKey(), e.getValue()) ? absentCounters : missing).add(e.getKey());
      }
      for (String k : mapped.keySet()) if (!own.containsKey(k)) unexpected.add(k);
      if (strict && (!missing.isEmpty() || !unexpected.isEmpty())) {
        throw new IllegalArgumentException(
            source
                + ": state dict does not match "
                + net.getClass().getSimpleName()
                + ": missing "
                + head(missing)
                + ", unexpected "
                + head(unexpected));
      }
      // Check every shape before copying anything, so a refused load changes nothing.
      Map<String, Tensor> values = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : own.entrySet()) {
        Tensor src = mapped.get(e.getKey());
        if (src == null) continue;
        Tensor dst = e.getValue();
        long[] want = dst.sizes().vec().get();
        long[] got = src.sizes().vec().get();
        if (!java.util.Arrays.equals(want, got)) {
          if (inputConvs.contains(e.getKey()) && adaptable(want, got)) {
            src = adaptInputConv(src, want[1]);
            adapted.add(e.getKey());
          } else if (java.util.Arrays.equals(withoutOnes(want), withoutOnes(got))) {
            src = src.reshape(want);
            adapted.add(e.getKey());
          } else {
            throw new IllegalArgumentException(
                source
                    + ": '"
                    + origin.get(e.getKey())
                    + "' has shape "
                    + java.util.Arrays.toString(got)
                    + ", "
                    + net.getClass().getSimpleName()
                    + "."
                    + e.getKey()
                    + " needs "
                    + java.util.Arrays.toString(want));
          }
        }
        if (src.is_floating_point() != dst.is_floating_point()) {
          throw new IllegalArgumentException(
              source
                  + ": '"
                  + origin.get(e.getKey())
                  + "' is "
                  + src.scalar_type()
                  + ", "
                  + e.getKey()
                  + " needs "
                  + dst.scalar_type());
        }
        values.put(e.getKey(), src);
      }
      for (Map.Entry<String, Tensor> e : values.entrySet()) {
        own.get(e.getKey()).copy_(e.getValue());
      }
      return new Report(
          List.copyOf(missing),
          List.copyOf(unexpected),
          List.copyOf(adapted),
          List.copyOf(absentCounters));
    }
  }

  /** The sizes other than 1, in order. */
  private static long[] withoutOnes(long[] shape) {
    return java.util.Arrays.stream(shape).filter(d -> d != 1).toArray();
  }

  private static boolean adaptable(long[] want, long[] got) {
    if (want.length != got.length || want.length < 3) return false;
    for (int d = 0; d < want.length; d++) if (d != 1 && want[d] != got[d]) return false;
    return got[1] == 3;
  }

  /**
   * A 3-channel input convolution adapted to {@code channels} inputs as timm does: summed over RGB
   * for one channel; else RGB repeated and scaled by 3/channels.
   */
  static Tensor adaptInputConv(Tensor w, long channels) {
    Tensor f = w.to(torch.ScalarType.Float);
    if (channels == 1)
      return f.sum(new long[] {1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
    long reps = (channels + 2) / 3;
    long[] rep = new long[(int) w.dim()];
    java.util.Arrays.fill(rep, 1);
    rep[1] = reps;
    Tensor r = f.repeat(rep).narrow(1, 0, channels);
    return r.mul(new org.bytedeco.pytorch.Scalar(3.0 / channels));
  }

  /** Writes the network's state dict as safetensors, atomically. */
  public static void save(Net net, Path file, Map<String, String> metadata) throws IOException {
    try (PointerScope scope = new PointerScope()) {
      Map<String, Tensor> out = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : net.stateDict().entrySet()) {
        out.put(e.getKey(), e.getValue().detach().cpu().contiguous());
      }
      SafeTensors.write(file, out, metadata);
    }
  }

  private static String head(List<String> keys) {
    if (keys.isEmpty()) return "none";
    List<String> h = keys.subList(0, Math.min(5, keys.size()));
    return keys.size() + " " + h + (keys.size() > 5 ? "..." : "");
  }
}
