/**
 * Process-wide native state in one place: libtorch, OpenBLAS and kernel thread counts, the
 * allocator, seeds, and the self-check that guards convolutions on CPUs where libtorch's oneDNN
 * gives wrong results. An application or a command configures it once; libraries never do.
 */
package org.spinekit.runtime;
