/**
 * Data-parallel training on PyTorch's c10d: process groups from the torchrun (or Slurm) environment
 * over Gloo (CPU) or NCCL (GPU), and {@link org.spinekit.dist.DataParallel}, c10d's bucketed
 * gradient reducer with synchronised batch norm as an option.
 */
package org.spinekit.dist;
