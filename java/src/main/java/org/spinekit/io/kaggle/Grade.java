package org.spinekit.io.kaggle;

/** RSNA 2024 severity grades; the metric weighs them 1, 2 and 4. */
public enum Grade {
  NORMAL_MILD("Normal/Mild", "normal_mild", 1),
  MODERATE("Moderate", "moderate", 2),
  SEVERE("Severe", "severe", 4);

  /** As in train.csv ("Normal/Mild"). */
  public final String label;

  /** As in the submission header ("normal_mild"). */
  public final String key;

  /** Row weight of the competition metric. */
  public final int weight;

  Grade(String label, String key, int weight) {
    this.label = label;
    this.key = key;
    this.weight = weight;
  }

  /** By either spelling, or null. */
  public static Grade parse(String s) {
    for (Grade g : values()) {
      if (g.label.equals(s) || g.key.equals(s)) return g;
    }
    return null;
  }
}
