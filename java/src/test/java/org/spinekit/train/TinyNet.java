package org.spinekit.train;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.nn.BatchNorm;
import org.spinekit.nn.Conv2d;
import org.spinekit.nn.Linear;
import org.spinekit.nn.Net;

/**
 * A small classifier for the training tests: conv 3x3 - batch norm - ReLU - conv 3x3 stride 2 -
 * batch norm - ReLU - dropout (drawn from libtorch's generator) - global average pool - linear.
 */
final class TinyNet extends Net {
  final Conv2d conv1;
  final BatchNorm bn1;
  final Conv2d conv2;
  final BatchNorm bn2;
  final Linear fc;
  final double dropout;

  TinyNet(int in, int width, int classes, double dropout) {
    conv1 = add("conv1", Conv2d.of(in, width, 3, 1, 1, 1, false));
    bn1 = add("bn1", new BatchNorm(width));
    conv2 = add("conv2", Conv2d.of(width, width, 3, 2, 1, 1, false));
    bn2 = add("bn2", new BatchNorm(width));
    fc = add("fc", new Linear(width, classes));
    this.dropout = dropout;
  }

  @Override
  public Tensor forward(Tensor x) {
    x = torch.relu(bn1.forward(conv1.forward(x)));
    x = torch.relu(bn2.forward(conv2.forward(x)));
    if (dropout > 0) x = torch.dropout(x, dropout, is_training());
    x = torch.flatten(torch.adaptive_avg_pool2d(x, 1, 1), 1, -1);
    return fc.forward(x);
  }
}
