/**
 * Synthetic spine studies with known ground truth, written in the RSNA 2022 (cervical CT) and RSNA
 * 2024 (lumbar MR) Kaggle layouts: the default data set of the demo, tests and benchmarks.
 */
package org.spinekit.synth;
