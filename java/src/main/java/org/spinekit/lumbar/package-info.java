/**
 * The lumbar grading system (RSNA 2024): the one-stage net with its 2D and 3D heads that give level
 * heatmaps and per-pixel grade logits for DSNT and heatmap pooling, and the competition's metric.
 */
package org.spinekit.lumbar;
