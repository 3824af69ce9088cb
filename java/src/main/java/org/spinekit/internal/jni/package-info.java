/**
 * Internal: not API, may change in any release. The JavaCPP peers of the native kernel library and
 * their one public facade, {@link org.spinekit.internal.jni.Kernels}; nothing else in SpineKit
 * calls native code of its own.
 */
package org.spinekit.internal.jni;
