package org.spinekit.io.dicom;

/**
 * One decoded DICOM file: its header and the stored pixel values of all frames, {@code
 * [frame][row][column]} flattened, as 16-bit integers (signed or unsigned as {@code
 * header().signed()} says; 8-bit data is widened).
 */
public record DicomImage(DicomHeader header, short[] pixels) {
  /** The stored value at (frame, row, column) as an int (sign or zero extended). */
  public int stored(int frame, int row, int column) {
    DicomHeader h = header;
    short v = pixels[(frame * h.rows() + row) * h.columns() + column];
    return h.signed() ? v : v & 0xffff;
  }
}
