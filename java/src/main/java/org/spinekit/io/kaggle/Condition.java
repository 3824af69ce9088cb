package org.spinekit.io.kaggle;

/** The five RSNA 2024 conditions, with their spellings in the CSV files. */
public enum Condition {
  SPINAL_CANAL_STENOSIS("Spinal Canal Stenosis", "spinal_canal_stenosis"),
  LEFT_NEURAL_FORAMINAL_NARROWING(
      "Left Neural Foraminal Narrowing", "left_neural_foraminal_narrowing"),
  RIGHT_NEURAL_FORAMINAL_NARROWING(
      "Right Neural Foraminal Narrowing", "right_neural_foraminal_narrowing"),
  LEFT_SUBARTICULAR_STENOSIS("Left Subarticular Stenosis", "left_subarticular_stenosis"),
  RIGHT_SUBARTICULAR_STENOSIS("Right Subarticular Stenosis", "right_subarticular_stenosis");

  /** As in train_label_coordinates.csv ("Spinal Canal Stenosis"). */
  public final String label;

  /** As in train.csv column names and submission row ids ("spinal_canal_stenosis"). */
  public final String key;

  Condition(String label, String key) {
    this.label = label;
    this.key = key;
  }

  /** The same condition on the other side (left and right swap; the spinal canal stays). */
  public Condition mirrored() {
    return switch (this) {
      case LEFT_NEURAL_FORAMINAL_NARROWING -> RIGHT_NEURAL_FORAMINAL_NARROWING;
      case RIGHT_NEURAL_FORAMINAL_NARROWING -> LEFT_NEURAL_FORAMINAL_NARROWING;
      case LEFT_SUBARTICULAR_STENOSIS -> RIGHT_SUBARTICULAR_STENOSIS;
      case RIGHT_SUBARTICULAR_STENOSIS -> LEFT_SUBARTICULAR_STENOSIS;
      default -> this;
    };
  }

  /** By either spelling, or null. */
  public static Condition parse(String s) {
    for (Condition c : values()) {
      if (c.label.equals(s) || c.key.equals(s)) return c;
    }
    return null;
  }
}
