/**
 * The cervical fracture system (RSNA 2022): per-vertebra boxes from label volumes and their
 * overlays, crop data sets, the stage-2 classifier (per-slice CNN, BiGRU, attention) and the
 * augmentation presets of the write-up.
 */
package org.spinekit.cervical;
