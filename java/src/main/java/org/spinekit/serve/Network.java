package org.spinekit.serve;

import java.util.Arrays;

/**
 * A network of a served model as the Open Inference Protocol describes it: one float32 input and
 * one float32 output, batch first ({@code -1} where the size is free).
 *
 * @param name the network's name within its model ({@code seg}, {@code cls}, {@code scs}, ...)
 * @param input the input's shape
 * @param output the output's shape
 * @param folds how many trained folds are averaged
 */
public record Network(String name, long[] input, long[] output, int folds) {
  public Network {
    input = input.clone();
    output = output.clone();
  }

  @Override
  public long[] input() {
    return input.clone();
  }

  @Override
  public long[] output() {
    return output.clone();
  }

  /** A network's output: its shape and values, row-major. */
  public record Output(long[] shape, float[] data) {
    public Output {
      shape = shape.clone();
      long n = 1;
      for (long s : shape) n *= s;
      if (n != data.length) {
        throw new IllegalArgumentException(
            "data: expected "
                + n
                + " values for shape "
                + Arrays.toString(shape)
                + ", got "
                + data.length);
      }
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Network n
        && name.equals(n.name)
        && Arrays.equals(input, n.input)
        && Arrays.equals(output, n.output)
        && folds == n.folds;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(input);
  }

  @Override
  public String toString() {
    return name
        + Arrays.toString(input)
        + "->"
        + Arrays.toString(output)
        + " ("
        + folds
        + " folds)";
  }
}
