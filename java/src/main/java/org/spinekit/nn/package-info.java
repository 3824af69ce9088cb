/**
 * The networks of both systems as libtorch modules built in Java: encoders, decoders, heads, whose
 * registered names equal PyTorch's state-dict keys so published weights load by name.
 */
package org.spinekit.nn;
