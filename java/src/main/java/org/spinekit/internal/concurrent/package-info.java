/** Internal: not API, may change in any release. Thread factories for the library's own pools. */
package org.spinekit.internal.concurrent;
