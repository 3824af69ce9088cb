package org.spinekit.io.dicom;

import java.nio.file.Path;
import java.util.List;

/**
 * What SpineKit reads from one DICOM file besides its pixels. Geometry comes from the top-level
 * tags, or for enhanced multi-frame files from the shared and per-frame functional groups.
 *
 * @param pixelSpacing (row, column) spacing in mm, or null when absent
 * @param imagePosition Image Position (Patient) of the first frame, or null
 * @param imageOrientation the six direction cosines (row direction, column direction), or null
 * @param framePositions per-frame positions of multi-frame files (one per frame), else empty
 * @param warnings what was odd but readable
 */
public record DicomHeader(
    Path file,
    String transferSyntaxUid,
    String transferSyntaxName,
    String studyInstanceUid,
    String seriesInstanceUid,
    String sopInstanceUid,
    String frameOfReferenceUid,
    String seriesDescription,
    String modality,
    String patientId,
    int seriesNumber,
    int instanceNumber,
    int rows,
    int columns,
    int frames,
    int samplesPerPixel,
    String photometricInterpretation,
    int bitsAllocated,
    int bitsStored,
    int highBit,
    boolean signed,
    double slope,
    double intercept,
    double[] pixelSpacing,
    double[] imagePosition,
    double[] imageOrientation,
    double sliceThickness,
    double spacingBetweenSlices,
    List<double[]> framePositions,
    boolean compressed,
    List<String> warnings) {}
