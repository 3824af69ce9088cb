/**
 * The cervical fracture system (RSNA 2022), end to end: its settings and presets, the stage-1 slice
 * data set and segmenter, per-vertebra boxes from label volumes and their overlays, crop data sets,
 * the stage-2 classifier (per-slice CNN, BiGRU, attention), training into a model bundle, the
 * predictor that loads it, and the competition's metric.
 */
package org.spinekit.cervical;
