/**
 * Serving: thread-safe predictors of the trained systems, loaded from a run's bundle, and the HTTP
 * server ({@code spinekit serve}) that speaks the Open Inference Protocol v2 in front of them.
 */
package org.spinekit.serve;
