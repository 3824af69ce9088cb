/** NumPy .npy arrays: written atomically, read with headers checked against the file. */
package org.spinekit.io.npy;
