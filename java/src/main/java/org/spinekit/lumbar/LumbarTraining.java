package org.spinekit.lumbar;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Grade;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.loss.CrossEntropy;
import org.spinekit.lumbar.LumbarInputs.Kind;
import org.spinekit.lumbar.LumbarInputs.Series;
import org.spinekit.nn.Net;
import org.spinekit.runtime.NativeRuntime;
import org.spinekit.train.Adam;
import org.spinekit.train.Dataset;
import org.spinekit.train.Folds;
import org.spinekit.train.History;
import org.spinekit.train.Mode;
import org.spinekit.train.Recipe;
import org.spinekit.train.Step;

/**
 * Trains the lumbar system of the RSNA 2024 write-up into a {@link LumbarBundle}:
 *
 * <ol>
 *   <li>Every training study's three series are chosen, read, normalised and resampled once, and
 *       kept in the bundle's cache ({@link LumbarInputs}, {@link LumbarData}).
 *   <li>One-stage nets, per fold: {@code scs} (Sagittal T2/STIR stack, 2D decoder slice by slice,
 *       five level heatmaps with a softmax over the whole stack) and {@code nfn} (Sagittal T1
 *       stack, 3D decoder, ten heatmaps: five levels left, then right), each with a per-pixel grade
 *       map pooled by its heatmaps ({@link LumbarModels.HeatLoss}); Adam, cosine from {@code lr} to
 *       {@code finalLr}; flips swap left and right. They are also the two-stage system's sagittal
 *       locators.
 *   <li>Two-stage, per fold: {@code axial} (left and right subarticular points on the axial slice
 *       of each level and its neighbours) and the crop classifiers {@code cls_scs}, {@code
 *       cls_nfn}, {@code cls_sa} (a 2.5D CNN on crops of a fixed physical size around each true
 *       point, jittered; cross entropy weighted 1/2/4).
 * </ol>
 *
 * A bad study (a series missing or unreadable, a label point that does not fit its series) is
 * reported; what of it is usable still trains, the other studies go on.
 */
public final class LumbarTraining {
  private LumbarTraining() {}

  /** What {@code --model} trains. */
  public enum Model {
    ONE_STAGE,
    TWO_STAGE,
    ALL;

    /** {@code one-stage}, {@code two-stage} or {@code all}. */
    public static Model parse(String s) {
      for (Model m : values()) {
        if (m.name().toLowerCase(Locale.ROOT).replace('_', '-').equals(s)) return m;
      }
      throw new IllegalArgumentException("model: expected one-stage, two-stage or all, got " + s);
    }

    /** The networks: the sagittal heatmap nets always (the two-stage's locators too). */
    List<String> nets() {
      return this == ONE_STAGE ? List.of(LumbarBundle.SCS, LumbarBundle.NFN) : LumbarBundle.NETS;
    }
  }

  /**
   * What to train.
   *
   * @param data a directory in the RSNA 2024 layout
   * @param run the bundle directory (created, or continued)
   * @param config the settings
   * @param model the networks to train
   * @param folds the folds to train now (null: the configuration's)
   * @param recipe device, smoke-test step limit, loader threads, checkpoints, progress bars and the
   *     process group (its seed is replaced by the configuration's)
   * @param log one line per event (never null)
   */
  public record Options(
      Path data,
      Path run,
      LumbarConfig config,
      Model model,
      int[] folds,
      Recipe.Run recipe,
      Consumer<String> log) {
    public Options {
      if (data == null || run == null || config == null || model == null || recipe == null) {
        throw new IllegalArgumentException(
            "options: data, run, config, model and recipe are required");
      }
      if (log == null) throw new IllegalArgumentException("options: log is required");
      if (folds != null) {
        folds = folds.clone();
        for (int f : folds) {
          if (f < 0 || f >= config.folds()) {
            throw new IllegalArgumentException(
                "fold: expected 0.." + (config.folds() - 1) + ", got " + f);
          }
        }
      }
      recipe =
          new Recipe.Run(
              recipe.device(),
              recipe.maxSteps(),
              recipe.workers(),
              recipe.checkpointEvery(),
              recipe.progress(),
              recipe.dist(),
              config.seed());
    }
  }

  /** Runs {@code o}; returns the bundle. */
  public static LumbarBundle run(Options o) throws IOException {
    LumbarConfig c = o.config();
    Rsna2024.Dataset d = Rsna2024.open(o.data());
    for (String w : d.warnings()) o.log().accept(w);
    List<Rsna2024.LumbarLabel> labels = d.train();
    if (labels.size() < c.folds()) {
      throw new IllegalArgumentException(
          o.data()
              + ": "
              + labels.size()
              + " training studies, fewer than the "
              + c.folds()
              + " folds");
    }
    String[] ids = labels.stream().map(l -> Long.toString(l.studyId())).toArray(String[]::new);
    Folds f = Folds.byGroup(ids, c.folds(), c.seed());
    Map<String, Integer> split = new LinkedHashMap<>();
    for (int i = 0; i < ids.length; i++) split.put(ids[i], f.fold(i));
    Recipe.Run r = o.recipe();
    LumbarBundle b =
        r.openBundle(() -> LumbarBundle.openForTraining(o.run(), c, Map.of("studies", split)));
    b.put("priors", priors(labels));
    Map<Kind, Map<Long, Path>> caches = prepare(o, d, b);
    int[] folds = o.folds() != null ? o.folds() : c.foldsToTrain();
    for (String net : o.model().nets()) {
      for (int fold : folds) train(o, d, b, caches, net, fold);
    }
    return b;
  }

  /** Per column of the submission, the training prevalence of the three grades. */
  static Map<String, Object> priors(List<Rsna2024.LumbarLabel> labels) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Rsna2024.ConditionLevel cl : Rsna2024.ConditionLevel.ALL) {
      double[] n = new double[3];
      double total = 0;
      for (Rsna2024.LumbarLabel l : labels) {
        Grade g = l.grades().get(cl);
        if (g == null) continue;
        n[g.ordinal()]++;
        total++;
      }
      List<Double> p = new ArrayList<>();
      for (double v : n) p.add(total == 0 ? 1.0 / 3 : v / total);
      out.put(cl.column(), p);
    }
    return out;
  }

  // ----------------------------------------------------------------- preparation

  private static Map<Kind, Map<Long, Path>> prepare(Options o, Rsna2024.Dataset d, LumbarBundle b)
      throws IOException {
    LumbarConfig c = o.config();
    Recipe.Run r = o.recipe();
    Map<Kind, Map<Long, Path>> out = new LinkedHashMap<>();
    for (Kind k : Kind.values()) out.put(k, new LinkedHashMap<>());
    List<Rsna2024.LumbarLabel> labels = d.train();
    if (r.progress() != null) r.progress().start("prepare series", labels.size());
    for (int pass = 0; pass < 2; pass++) {
      // Pass 0: each rank prepares its share; pass 1: every rank opens them all.
      for (int i = 0; i < labels.size(); i++) {
        long id = labels.get(i).studyId();
        if (pass == 0 && !r.mine(i)) continue;
        Path studyDir = d.studyDirs().get(id);
        LumbarInputs.Selection sel = LumbarInputs.select(id, studyDir, d.series());
        if (pass == 1) sel.notes().forEach(o.log());
        for (Kind k : Kind.values()) {
          Long series = sel.series().get(k);
          if (series == null) continue;
          Path file = b.cacheDir(k).resolve(id + ".safetensors");
          if (!Files.isRegularFile(file)) {
            try {
              Series s =
                  LumbarInputs.prepare(
                      k,
                      series,
                      LumbarInputs.read(
                          studyDir.resolve(Long.toString(series)), id, series, o.log()),
                      k == Kind.T1 ? c.t1Slices() : c.t2Slices(),
                      k == Kind.AXIAL ? c.axialSize() : c.size(),
                      c.lowPercentile(),
                      c.highPercentile());
              LumbarData.save(file, s);
            } catch (IOException | IllegalArgumentException e) {
              if (pass == 1) {
                o.log()
                    .accept(
                        LumbarInputs.where(id, series)
                            + " ("
                            + k.description
                            + ") left out: "
                            + e.getMessage());
              }
              continue;
            }
          }
          if (pass == 1) out.get(k).put(id, file);
        }
        if (pass == 1 && r.progress() != null) r.progress().update(i + 1, Double.NaN);
      }
      r.barrier();
    }
    if (r.progress() != null) r.progress().end("prepared " + labels.size() + " studies");
    return out;
  }

  // ------------------------------------------------------------------- networks

  private static void train(
      Options o,
      Rsna2024.Dataset d,
      LumbarBundle b,
      Map<Kind, Map<Long, Path>> caches,
      String name,
      int fold)
      throws IOException {
    LumbarConfig c = o.config();
    Path weights = b.weights(name, fold);
    if (Files.isRegularFile(weights)) {
      o.log().accept(name + " fold " + fold + ": done (" + weights + ")");
      return;
    }
    Map<String, Integer> split = b.folds();
    Map<Long, Rsna2024.LumbarLabel> labels = new LinkedHashMap<>();
    for (Rsna2024.LumbarLabel l : d.train()) labels.put(l.studyId(), l);
    Kind kind =
        switch (name) {
          case LumbarBundle.SCS, LumbarBundle.CLS_SCS -> Kind.T2;
          case LumbarBundle.NFN, LumbarBundle.CLS_NFN -> Kind.T1;
          default -> Kind.AXIAL;
        };
    boolean heat = name.equals(LumbarBundle.SCS) || name.equals(LumbarBundle.NFN);
    boolean axial = name.equals(LumbarBundle.AXIAL);
    int grid = kind == Kind.AXIAL ? c.axialGrid() : c.grid();
    List<Object> train = new ArrayList<>(), valid = new ArrayList<>();
    // Messages about label points are given once, while the first network reads them.
    Consumer<String> log =
        name.equals(LumbarBundle.SCS) || name.equals(LumbarBundle.NFN) || axial ? o.log() : s -> {};
    for (var e : caches.get(kind).entrySet()) {
      long id = e.getKey();
      Integer f = split.get(Long.toString(id));
      if (f == null) continue;
      Series s = LumbarData.load(e.getValue());
      Path dir = d.studyDirs().get(id).resolve(Long.toString(s.seriesId()));
      List<Object> to = f == fold ? valid : train;
      Rsna2024.LumbarLabel label = labels.get(id);
      if (heat) {
        float[] t = LumbarData.sagittalTargets(id, s, d.coordinates(), label, grid, dir, log);
        to.add(new LumbarData.SagittalItem(id, e.getValue(), t));
      } else if (axial) {
        for (LumbarData.AxialLevel a :
            LumbarData.axialTargets(id, s, d.coordinates(), label, grid, dir, log)) {
          to.add(new LumbarData.AxialItem(id, e.getValue(), a.slice(), a.target()));
        }
      } else {
        to.addAll(cropItems(id, s, e.getValue(), d.coordinates(), label, dir));
      }
    }
    if (train.isEmpty() || valid.isEmpty()) {
      throw new IllegalArgumentException(
          name
              + " fold "
              + fold
              + ": no "
              + (train.isEmpty() ? "training" : "validation")
              + " sample");
    }
    long t0 = System.nanoTime();
    NativeRuntime.seed(c.seed() * 1000 + 100L * LumbarBundle.NETS.indexOf(name) + fold);
    Net net = LumbarModels.create(c, name);
    Recipe.Run r = o.recipe();
    History h;
    if (heat || axial) {
      Dataset tr =
          heat
              ? LumbarData.sagittal(cast(train), true, c.flip())
              : LumbarData.axial(cast(train), true, c.flip(), grid);
      Dataset va =
          heat
              ? LumbarData.sagittal(cast(valid), false, false)
              : LumbarData.axial(cast(valid), false, false, grid);
      LumbarModels.HeatLoss loss =
          new LumbarModels.HeatLoss(c.sigma(), c.pixelCeWeight(), c.gtHeatmaps() && heat);
      Step<LumbarNet> step =
          (m, batch) ->
              Step.Result.of(loss.apply(m.heads(r.on(batch.inputs())), r.on(batch.targets())));
      Recipe.Plan plan =
          new Recipe.Plan(
              c.batch(),
              c.epochs(),
              Adam.Options.adam(c.lr()),
              c.finalLr() / c.lr(),
              0,
              null,
              5.0,
              true);
      h =
          Recipe.fit(
              r,
              b.work(name, fold),
              (LumbarNet) net,
              step,
              tr,
              va,
              plan,
              null,
              "valid_loss",
              Mode.MIN);
    } else {
      List<LumbarData.CropItem> ti = cast(train), vi = cast(valid);
      Dataset tr =
          LumbarData.crops(ti, c.cropSlices(), c.cropMm(), c.cropSize(), c.cropJitterMm(), true);
      Dataset va = LumbarData.crops(vi, c.cropSlices(), c.cropMm(), c.cropSize(), 0, false);
      CrossEntropy ce = new CrossEntropy().withClassWeights(1, 2, 4);
      Step<Net> step =
          (m, batch) -> {
            Tensor y = r.on(batch.targets()).reshape(batch.size()).to(ScalarType.Long);
            return Step.Result.of(ce.apply(m.forward(r.on(batch.inputs())), y));
          };
      Recipe.Plan plan =
          new Recipe.Plan(
              c.clsBatch(), c.clsEpochs(), Adam.Options.adamW(c.clsLr()), 0.01, 0, null, 5.0, true);
      h = Recipe.fit(r, b.work(name, fold), net, step, tr, va, plan, null, "valid_loss", Mode.MIN);
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("net", name);
    meta.put("fold", Integer.toString(fold));
    meta.put("arch", LumbarModels.arch(c, name));
    Recipe.saveWeights(r, net, weights, meta);
    Map<String, Object> rec = new LinkedHashMap<>();
    rec.put("train_samples", train.size());
    rec.put("valid_samples", valid.size());
    rec.put("epochs", h.epochs().size());
    if (!h.epochs().isEmpty()) rec.putAll(h.epochs().get(h.epochs().size() - 1).metrics());
    rec.put("seconds", (System.nanoTime() - t0) / 1e9);
    b.putIn(name, Integer.toString(fold), rec);
    net.close();
    o.log().accept(String.format(Locale.ROOT, "%s fold %d: %s", name, fold, rec));
  }

  @SuppressWarnings("unchecked")
  private static <T> List<T> cast(List<Object> l) {
    return (List<T>) (List<?>) l;
  }

  /** The crops of the true points of a prepared series (points that do not fit are skipped). */
  static List<LumbarData.CropItem> cropItems(
      long id,
      Series s,
      Path cache,
      List<Rsna2024.LabelCoordinate> coordinates,
      Rsna2024.LumbarLabel label,
      Path dir) {
    List<LumbarData.CropItem> out = new ArrayList<>();
    if (label == null) return out;
    List<Condition> conds = LumbarData.conditions(s.kind());
    for (Rsna2024.LabelCoordinate co : coordinates) {
      if (co.studyId() != id || !conds.contains(co.condition())) continue;
      Grade g = label.grade(co.condition(), co.level());
      if (g == null) continue;
      double[] p = LumbarData.point(s, co, dir, m -> {});
      if (p == null) continue;
      int slice = s.kind() == Kind.AXIAL ? (int) p[2] : (int) Math.round(s.toStackZ(p[2]));
      out.add(
          new LumbarData.CropItem(
              id, cache, s.toGridX(p[0], s.size()), s.toGridY(p[1], s.size()), slice, g.ordinal()));
    }
    return out;
  }
}
