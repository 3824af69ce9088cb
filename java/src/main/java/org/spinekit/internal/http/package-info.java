/**
 * Internal: not API, may change in any release. A minimal HTTP/1.1 client for loopback: the
 * server's warm-up through its own endpoints, and the load generator of {@code bench serve}.
 */
package org.spinekit.internal.http;
