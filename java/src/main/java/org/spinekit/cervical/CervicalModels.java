package org.spinekit.cervical;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Device;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.kaggle.Rsna2022;
import org.spinekit.nn.Encoders;
import org.spinekit.nn.Net;
import org.spinekit.nn.StateDict;
import org.spinekit.nn.Unet;
import org.spinekit.ops.CropSample;
import org.spinekit.ops.Window;

/**
 * What training and inference build alike from a {@link CervicalConfig}: the networks, the crop
 * options, the fold weights of a bundle, the patient rule and the submission rows.
 */
public final class CervicalModels {
  private CervicalModels() {}

  /** Crop padding: air, so a box at the edge of the field of view pads with what is around. */
  static final double PAD_HU = -1024;

  /**
   * A new stage-1 Unet of {@code c} (3-channel 2.5D stacks, {@link CervicalConfig#SEG_CLASSES}).
   */
  public static Unet unet(CervicalConfig c) {
    return new Unet(Encoders.byName(c.segEncoder(), 3), c.segDecoder(), CervicalConfig.SEG_CLASSES);
  }

  /** A new stage-2 classifier of {@code c} (one channel per slice, one logit per crop). */
  public static CervicalClassifier classifier(CervicalConfig c) {
    return CervicalClassifier.create(
        c.clsEncoder(),
        new CervicalClassifier.Config(
            c.clsSlices(),
            1,
            c.clsHidden(),
            c.clsLayers(),
            c.clsAttention(),
            1,
            c.clsSpatialDropout(),
            0));
  }

  static CropSample.Options cropOptions(CervicalConfig c) {
    return CropSample.Options.of(c.clsSize(), c.clsSize())
        .withSlices(c.clsSlices())
        .withMargin(c.clsMarginZ(), c.clsMarginXy(), c.clsMarginXy())
        .withPad(PAD_HU)
        .withWindow(new Window(c.windowCenter(), c.windowWidth()));
  }

  /** The Unets of {@code folds}, weights loaded strictly, in eval mode on {@code device}. */
  static List<Unet> segNets(CervicalBundle b, List<Integer> folds, Device device)
      throws IOException {
    List<Unet> out = new ArrayList<>();
    try {
      for (int f : folds) out.add(load(unet(b.config()), b.segWeights(f), device));
      return out;
    } catch (IOException | RuntimeException e) {
      for (Unet n : out) n.close();
      throw e;
    }
  }

  /** The classifiers of {@code folds}, as {@link #segNets}. */
  static List<CervicalClassifier> clsNets(CervicalBundle b, List<Integer> folds, Device device)
      throws IOException {
    List<CervicalClassifier> out = new ArrayList<>();
    try {
      for (int f : folds) out.add(load(classifier(b.config()), b.clsWeights(f), device));
      return out;
    } catch (IOException | RuntimeException e) {
      for (CervicalClassifier n : out) n.close();
      throw e;
    }
  }

  private static <N extends Net> N load(N net, java.nio.file.Path file, Device device)
      throws IOException {
    return StateDict.loadForInference(net, file, device);
  }

  /** The training prevalence of C1..C7 and patient_overall that training recorded. */
  static List<Double> priors(CervicalBundle b) throws IOException {
    Object p = b.get("priors");
    if (!(p instanceof List<?> l) || l.size() != 8) {
      throw new MalformedFileException(
          b.dir().resolve("bundle.json"), "priors: expected 8 prevalences (C1..C7, patient)");
    }
    List<Double> out = new ArrayList<>();
    for (Object o : l) out.add(((Number) o).doubleValue());
    return out;
  }

  /** patient_overall from the seven vertebra probabilities by {@code rule}. */
  static double patient(double[] p, String rule) {
    if (rule.equals("max")) {
      double m = 0;
      for (double v : p) m = Math.max(m, v);
      return m;
    }
    if (rule.equals("noisy_or")) {
      double none = 1;
      for (double v : p) none *= 1 - v;
      return 1 - none;
    }
    throw new IllegalArgumentException("patientRule: expected max or noisy_or, got " + rule);
  }

  /** The eight submission rows of a study: C1..C7 then patient_overall. */
  static List<Rsna2022.Prediction> rows(String uid, double[] p, String rule) {
    return rows(uid, p, patient(p, rule));
  }

  /** The eight submission rows of a study with its patient_overall given. */
  static List<Rsna2022.Prediction> rows(String uid, double[] p, double patient) {
    List<Rsna2022.Prediction> out = new ArrayList<>();
    for (int v = 0; v < 7; v++) {
      out.add(new Rsna2022.Prediction(uid, Rsna2022.VERTEBRAE.get(v), p[v]));
    }
    out.add(new Rsna2022.Prediction(uid, Rsna2022.PATIENT_OVERALL, patient));
    return out;
  }
}
