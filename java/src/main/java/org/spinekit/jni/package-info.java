/**
 * The JavaCPP peers of the native kernel library and their one public facade, {@link
 * org.spinekit.jni.Kernels}; nothing else in SpineKit calls native code of its own.
 */
package org.spinekit.jni;
