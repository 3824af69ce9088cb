package org.spinekit.io.safetensors;

import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The safetensors dtypes read and written, with their element sizes and libtorch types, in the
 * order the reference implementation lays tensors out (its dtype order, descending), so that every
 * tensor of a written file starts at a multiple of its element size.
 */
enum SafeTensorsDtype {
  I64(8, ScalarType.Long),
  F64(8, ScalarType.Double),
  F32(4, ScalarType.Float),
  I32(4, ScalarType.Int),
  BF16(2, ScalarType.BFloat16),
  F16(2, ScalarType.Half),
  I16(2, ScalarType.Short),
  I8(1, ScalarType.Char),
  U8(1, ScalarType.Byte),
  BOOL(1, ScalarType.Bool);

  final int size;
  final ScalarType torch;

  SafeTensorsDtype(int size, ScalarType torch) {
    this.size = size;
    this.torch = torch;
  }

  /** The one named {@code name} in a header, or null. */
  static SafeTensorsDtype of(String name) {
    for (SafeTensorsDtype d : values()) {
      if (d.name().equals(name)) return d;
    }
    return null;
  }

  /** The one holding libtorch's {@code t}, or null. */
  static SafeTensorsDtype of(ScalarType t) {
    // ScalarType values from native calls are not the enum's constants: compare the codes.
    for (SafeTensorsDtype d : values()) {
      if (d.torch.value == t.value) return d;
    }
    return null;
  }
}
