/** safetensors weights read straight into libtorch tensors and written atomically. */
package org.spinekit.io.safetensors;
