/**
 * The lumbar grading system (RSNA 2024): series chosen and prepared per study ({@link
 * org.spinekit.lumbar.LumbarInputs}), the one-stage net with its 2D and 3D heads that give level
 * heatmaps and per-pixel grade logits for DSNT and heatmap pooling, the two-stage baseline (axial
 * points, crop classifiers), training ({@link org.spinekit.lumbar.LumbarTraining}) into a bundle,
 * the predictor and its blend, the competition's metric, the accuracy of label points, the geometry
 * that carries a point from one series to another, and the per-study overlay picture a person
 * checks.
 */
package org.spinekit.lumbar;
