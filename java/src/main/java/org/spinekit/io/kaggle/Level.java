package org.spinekit.io.kaggle;

/** The five lumbar levels, with their spellings in the CSV files. */
public enum Level {
  L1_L2("L1/L2", "l1_l2"),
  L2_L3("L2/L3", "l2_l3"),
  L3_L4("L3/L4", "l3_l4"),
  L4_L5("L4/L5", "l4_l5"),
  L5_S1("L5/S1", "l5_s1");

  /** As in train_label_coordinates.csv ("L1/L2"). */
  public final String label;

  /** As in train.csv column names and submission row ids ("l1_l2"). */
  public final String key;

  Level(String label, String key) {
    this.label = label;
    this.key = key;
  }

  /** By either spelling, or null. */
  public static Level parse(String s) {
    for (Level l : values()) {
      if (l.label.equals(s) || l.key.equals(s)) return l;
    }
    return null;
  }
}
