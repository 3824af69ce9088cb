package org.spinekit.train;

import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.spinekit.cervical.CervicalClassifier;
import org.spinekit.dist.DataParallel;
import org.spinekit.dist.DistEnv;
import org.spinekit.dist.DistGroup;
import org.spinekit.nn.Net;
import org.spinekit.nn.StateDict;
import org.spinekit.runtime.NativeRuntime;
import org.spinekit.tensor.Tensors;

/**
 * One process of the data-parallel tests: {@code DistChild MODEL OUT EPOCHS BATCH SYNC_BN [DIE
 * [ACCUMULATION]]}. MODEL is {@code tiny} ({@link TinyNet}, batch norm) or {@code cls} (a small
 * {@link CervicalClassifier}: ResNet per slice, BiGRU, attention). Joins the job of the environment
 * (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT; alone without them), trains EPOCHS epochs on 32
 * samples with BATCH per process, checkpoints in OUT/checkpoints (resuming from there), and rank 0
 * writes the final weights to OUT/final.safetensors. DIE: rank 1 halts (as a kill would) after that
 * many steps. Prints "step E B" after each batch and "done" at the end.
 */
public final class DistChild {
  private DistChild() {}

  static final int SAMPLES = 32;

  public static void main(String[] args) throws Exception {
    String model = args[0];
    Path out = Path.of(args[1]);
    int epochs = Integer.parseInt(args[2]);
    int batch = Integer.parseInt(args[3]);
    boolean syncBn = Boolean.parseBoolean(args[4]);
    int die = args.length > 5 ? Integer.parseInt(args[5]) : -1;
    int accumulation = args.length > 6 ? Integer.parseInt(args[6]) : 1;
    DistEnv env = DistEnv.fromEnvironment();
    DistGroup group = env.distributed() ? DistGroup.join(env, DistGroup.Options.defaults()) : null;
    NativeRuntime.seed(7);
    Net net =
        model.equals("tiny")
            ? new TinyNet(1, 8, 1, 0)
            : CervicalClassifier.create(
                "resnet10_w32",
                CervicalClassifier.Config.of(4)
                    .withGru(8, 1)
                    .withAttentionHidden(8)
                    .withDropout(0, 0));
    Dataset data = model.equals("tiny") ? new ToyData(SAMPLES) : new Crops();
    DataLoader.Options lo = DataLoader.Options.of(batch, 1, 11);
    if (group != null) lo = lo.withShard(group.rank(), group.size());
    Trainer.Builder b =
        Trainer.builder(epochs)
            // eps 1: Adam's first steps are lr x sign(g), which would turn float32 reduction-order
            // noise in near-zero gradients (the attention's last bias has none at all) into
            // +-lr; with a large eps the update follows the gradient's size, as SGD's does.
            .optimizer(Adam.Options.adamW(1e-2).withEps(1.0))
            .checkpoints(out.resolve("checkpoints"), 2, true)
            .logs(out.resolve("logs"), false)
            .seed(3)
            .threads(1)
            .accumulation(accumulation)
            .onStep(
                r -> {
                  System.out.println("step " + r.epoch() + " " + r.batch());
                  System.out.flush();
                  if (die >= 0 && group != null && group.rank() == 1 && r.step() == die) {
                    Runtime.getRuntime().halt(137);
                  }
                });
    if (group != null)
      b.distributed(group, DataParallel.Options.defaults().withSyncBatchNorm(syncBn));
    try (DataLoader loader = new DataLoader(data, lo);
        Trainer<Net> t = new Trainer<>(net, b.build())) {
      t.fit(ToyData::step, loader);
    }
    if (group == null || group.rank() == 0) {
      StateDict.save(net, out.resolve("final.safetensors"), Map.of());
    }
    if (group != null) {
      group.barrier();
      group.close();
    }
    System.out.println("done");
    System.out.flush();
    System.exit(0);
  }

  /** 32 crops of 4 slices of 16 x 16: noise, and for the positives a bright bar on slices 1-2. */
  static final class Crops implements Dataset {
    @Override
    public int size() {
      return SAMPLES;
    }

    @Override
    public Example get(int index, SplittableRandom rng) {
      int c = index % 2;
      float[] v = new float[4 * 16 * 16];
      for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextDouble() - 0.5);
      if (c == 1) {
        for (int s = 1; s <= 2; s++) for (int x = 3; x < 13; x++) v[s * 256 + 8 * 16 + x] += 2f;
      }
      return new Example(Tensors.of(v, 4, 16, 16), new float[] {c});
    }
  }
}
