/**
 * The Kaggle CSV layouts of RSNA 2022 (cervical fracture) and RSNA 2024 (lumbar degenerative
 * grading): typed rows, validating readers that name file, line and column, and writers.
 */
package org.spinekit.io.kaggle;
