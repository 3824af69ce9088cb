/**
 * The cervical fracture system (RSNA 2022): per-vertebra crop data sets, the stage-2 classifier
 * (per-slice CNN, BiGRU, attention) and the augmentation presets of the write-up.
 */
package org.spinekit.cervical;
