package org.spinekit.serve;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A trained system loaded from a run's bundle for serving. One instance is safe to call from many
 * threads; it has run every network once when {@link Predictors#load} returns; each call runs in
 * its own native-memory scope, so nothing native outlives it but the returned Java values.
 *
 * @param <R> what a study gets
 */
public interface Predictor<R extends Predictor.Result> extends AutoCloseable {
  /** What a study gets: plain Java values, the same numbers as the command line's predict. */
  interface Result {
    /** The study's id as given (the study folder's name where none was). */
    String studyId();

    /** Seconds per phase, and {@code total}. */
    Map<String, Double> seconds();

    /** What was missing, skipped or refused on the way (the rows that got the prior say so). */
    List<String> notes();

    /** The result as the JSON object of {@code predict --report} and the server's answer. */
    Map<String, Object> toJson();
  }

  /** The served model's name (the run directory's name unless given). */
  String name();

  /** {@code cervical} or {@code lumbar}. */
  String system();

  /**
   * The prediction of the study whose DICOM files are under {@code studyDir} (the layout of the
   * system's Kaggle images folder: the slices of the one series for cervical, one folder per series
   * named by its numeric id for lumbar).
   *
   * @param studyId the id to report (null: the folder's name)
   * @throws BadStudyException when the study cannot be predicted (naming the file or folder)
   */
  R predict(String studyId, Path studyDir) throws IOException;

  /**
   * As {@link #predict(String, Path)} on files held in memory: relative names ({@code a/b.dcm}, '/'
   * separated, no {@code ..}) to their bytes, laid out as a study folder. A single top folder
   * holding everything is the study folder.
   */
  R predict(String studyId, Map<String, byte[]> files) throws IOException;

  /** The networks that {@link #infer} runs, in a fixed order. */
  List<Network> networks();

  /**
   * Runs one network on a float32 input: the mean of its folds' outputs (raw logits, what the net's
   * forward returns), row-major. Thread-safe.
   *
   * @throws IllegalArgumentException for an unknown network or an input of the wrong shape, naming
   *     the expected one
   */
  Network.Output infer(String network, long[] shape, float[] data);

  /** The bundle's configuration, versions and training records, as JSON values. */
  Map<String, Object> metadata();

  /** Waits for calls in flight, then frees the networks; later calls throw. */
  @Override
  void close();
}
