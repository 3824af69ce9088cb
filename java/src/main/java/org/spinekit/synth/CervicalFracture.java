package org.spinekit.synth;

import java.util.Locale;

/**
 * A fracture of one cervical vertebra of the synthetic phantom, in the vertebra's own frame ({@code
 * u} towards the patient's left, {@code v} posterior, {@code w} superior; mm, origin on the spinal
 * axis at the centre of the body, or for C1 at the level of the ring, where the dens passes through
 * it).
 *
 * <p>The plane passes through {@code (pu, pv, pw)} with unit normal {@code (nu, nv, nw)}. A {@link
 * Kind#CRACK} is a slab of soft-tissue density {@code 2 * halfWidth} thick along that plane,
 * reaching up to {@code reach} mm from that point; a {@link Kind#STEP} moves the bone on the
 * positive side of the plane by {@code (su, sv, sw)} (parallel to the plane) and leaves a lucent
 * line {@code 2 * halfWidth} thick; a {@link Kind#COLLAPSE} wedges the body so that its anterior
 * height shrinks by the fraction {@code severity} while the posterior wall keeps its height, and
 * the compacted cancellous bone is denser (+150 HU). Cracks and steps keep the vertebra's label on
 * their lucent line, as real masks do.
 *
 * @param label the vertebra, 1..7 for C1..C7
 */
public record CervicalFracture(
    int label,
    Kind kind,
    double nu,
    double nv,
    double nw,
    double pu,
    double pv,
    double pw,
    double su,
    double sv,
    double sw,
    double halfWidth,
    double reach,
    double severity) {

  /** The three fracture patterns; {@link #csvName()} is the spelling of {@code synth_truth.csv}. */
  public enum Kind {
    CRACK,
    STEP,
    COLLAPSE;

    public String csvName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The kind spelled as in {@code synth_truth.csv}; {@code "none"} gives null. */
    public static Kind parse(String s) {
      if (s.equals("none")) return null;
      for (Kind k : values()) {
        if (k.csvName().equals(s)) return k;
      }
      throw new IllegalArgumentException(
          "fracture kind: expected none, crack, step or collapse," + " got '" + s + "'");
    }
  }

  public CervicalFracture {
    if (label < 1 || label > 7) {
      throw new IllegalArgumentException("label: expected 1..7 (C1..C7), got " + label);
    }
    if (kind == null) {
      throw new IllegalArgumentException("kind: expected a fracture kind, got null");
    }
    double n = Math.sqrt(nu * nu + nv * nv + nw * nw);
    if (kind != Kind.COLLAPSE && !(Math.abs(n - 1) <= 1e-6)) {
      throw new IllegalArgumentException("normal: expected a unit vector, got length " + n);
    }
    if (kind == Kind.CRACK && !(halfWidth > 0 && reach > 0)) {
      throw new IllegalArgumentException(
          "crack: expected a positive halfWidth and reach, got " + halfWidth + " and " + reach);
    }
    if (kind == Kind.COLLAPSE && !(severity > 0 && severity < 1)) {
      throw new IllegalArgumentException(
          "severity: expected a height fraction in (0, 1), got " + severity);
    }
  }

  /** Signed distance (mm) of a point of the vertebra frame from the fracture plane. */
  double distance(double u, double v, double w) {
    return nu * (u - pu) + nv * (v - pv) + nw * (w - pw);
  }
}
