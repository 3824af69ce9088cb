package org.spinekit.nn;

/**
 * Breaks the layering on purpose, for LayeringTest to catch: a generic package using the generator,
 * setting libtorch's threads and printing. Test code only; never called.
 */
final class Violation {
  private Violation() {}

  static Object breakLayers() {
    org.bytedeco.pytorch.global.torch.set_num_threads(1);
    System.err.println("library code printing");
    return org.spinekit.synth.CervicalSynth.class;
  }
}
