package org.spinekit.io;

/**
 * Identity and description of a DICOM series: UIDs, Series Description, Modality and the transfer
 * syntax UID of its files (the first file's, when they differ).
 */
public record SeriesInfo(
    String studyInstanceUid,
    String seriesInstanceUid,
    String seriesDescription,
    String modality,
    String transferSyntaxUid) {
  /** For volumes that do not come from DICOM. */
  public static final SeriesInfo NONE = new SeriesInfo("", "", "", "", "");
}
