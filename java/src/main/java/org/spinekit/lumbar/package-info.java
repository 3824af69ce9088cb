/**
 * The lumbar grading system (RSNA 2024): the one-stage net with its 2D and 3D heads that give level
 * heatmaps and per-pixel grade logits for DSNT and heatmap pooling, the competition's metric, the
 * accuracy of label points and the geometry that carries a point from one series to another.
 */
package org.spinekit.lumbar;
