/**
 * Small helpers on libtorch tensors used across packages: handing results to the caller's scope,
 * Java arrays to and from tensors, and argument checks that name the argument.
 */
package org.spinekit.tensor;
