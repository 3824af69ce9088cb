/**
 * Support shared by the tests: measuring native memory once garbage has settled, and running child
 * processes with a timeout that fires.
 */
package org.spinekit.testing;
