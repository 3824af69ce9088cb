package org.spinekit.nn;

/** Small networks shared by the tests of the models built on an encoder. */
public final class TinyNets {
  private TinyNets() {}

  /** A ResNet-shaped encoder 8 wide, one block per stage: fast, and not resnet18. */
  public static ResNet encoder(int inChannels) {
    return new ResNet(new ResNet.Config(new int[] {1, 1, 1, 1}, false, 8, inChannels, 0));
  }
}
