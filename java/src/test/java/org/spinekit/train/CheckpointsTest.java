package org.spinekit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.MalformedFileException;

/** Checkpoints in one JVM: resumption after a failure, leftovers of killed saves, last + best. */
class CheckpointsTest {
  @BeforeAll
  static void setUp() {
    torch.set_num_threads(2);
  }

  static List<String> ckptFiles(Path dir) throws IOException {
    try (var s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("ckpt-"))
          .sorted()
          .collect(Collectors.toList());
    }
  }

  @Test
  void aRunThatFailedMidEpochResumesToTheSameLosses(@TempDir Path tmp) throws IOException {
    // Two libtorch threads here (one in the other resumption tests).
    History want = ResumeFixture.run(tmp.resolve("ref"), 0, null, 2);
    Path dir = tmp.resolve("failed");
    RuntimeException boom =
        assertThrows(
            RuntimeException.class,
            () ->
                ResumeFixture.run(
                    dir,
                    0,
                    r -> {
                      if (r.epoch() == 1 && r.batch() == 7) throw new RuntimeException("power cut");
                    },
                    2));
    assertEquals("power cut", boom.getMessage());
    // Rows up to epoch 1 batch 7 were logged; the last checkpoint is at batch 6 (step 9).
    assertEquals(12 + 8, Files.readAllLines(dir.resolve("logs/steps.csv")).size() - 1);
    // A kill in the middle of writing rows leaves cut lines; resuming removes them.
    Files.writeString(dir.resolve("logs/steps.csv"), "1,8,10,0.69", StandardOpenOption.APPEND);
    Files.writeString(
        dir.resolve("logs/steps.jsonl"), "{\"epoch\":1,\"ba", StandardOpenOption.APPEND);
    History got = ResumeFixture.run(dir, 0, null, 2);
    assertArrayEquals(
        want.losses(),
        got.losses(),
        0,
        "losses, resumed runs's history" + " including the rows read back from the logs");
    assertEquals(36, got.steps().size());
    assertEquals(
        Files.readString(tmp.resolve("ref/logs/steps.csv")),
        Files.readString(dir.resolve("logs/steps.csv")),
        "steps.csv, no duplicated rows");
    assertEquals(
        Files.readString(tmp.resolve("ref/logs/steps.jsonl")),
        Files.readString(dir.resolve("logs/steps.jsonl")),
        "steps.jsonl");
    for (int e = 0; e < 3; e++) {
      assertEquals(want.epochs().get(e).metrics(), got.epochs().get(e).metrics(), "epoch " + e);
    }
    // Resuming a finished run trains no more and returns the same history.
    History again =
        ResumeFixture.run(
            dir,
            0,
            r -> {
              throw new AssertionError("a finished run trained again");
            },
            2);
    assertArrayEquals(want.losses(), again.losses(), 0);
  }

  @Test
  void leftoversOfKilledSavesAreRemovedAndLastPlusBestKept(@TempDir Path tmp) throws IOException {
    Path dir = tmp.resolve("run");
    ResumeFixture.run(dir, 0, null);
    Path ck = dir.resolve("ckpt");
    var last = new Checkpoints(ck).read(Checkpoints.LAST).orElseThrow();
    var best = new Checkpoints(ck).read(Checkpoints.BEST).orElseThrow();
    assertEquals(ResumeFixture.EPOCHS, ((Number) last.meta().get("epoch")).intValue());
    List<String> kept = ckptFiles(ck);
    assertTrue(kept.size() <= 2, "only last and best: " + kept);
    assertTrue(kept.contains(last.tensors().getFileName().toString()));
    assertTrue(kept.contains(best.tensors().getFileName().toString()));
    // What a kill can leave: an orphan tensors file, temporary files of both kinds.
    Files.write(ck.resolve("ckpt-999999.safetensors"), new byte[] {1, 2, 3});
    Files.write(ck.resolve(".ckpt-001000.safetensors.123.tmp"), new byte[10]);
    Files.write(ck.resolve(".last.json.456.tmp"), "{\"format\"".getBytes(StandardCharsets.UTF_8));
    Checkpoints c = new Checkpoints(ck);
    assertEquals(kept, ckptFiles(ck));
    try (var s = Files.list(ck)) {
      assertFalse(s.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temp files");
    }
    assertEquals(last.tensors(), c.read(Checkpoints.LAST).orElseThrow().tensors());
    // A new save takes a number past every file seen, even the orphan's.
    assertNotEquals(last.tensors(), c.save(Map.of(), Map.of("x", 1L), false).tensors());
  }

  @Test
  void brokenRecordsNameTheFile(@TempDir Path tmp) throws IOException {
    Path ck = tmp.resolve("ckpt");
    Checkpoints c = new Checkpoints(ck);
    var r = c.save(Map.of(), Map.of("epoch", 1L), true);
    assertEquals(r.tensors(), c.read(Checkpoints.BEST).orElseThrow().tensors());
    Files.write(r.tensors(), new byte[] {0}, StandardOpenOption.APPEND);
    MalformedFileException e =
        assertThrows(MalformedFileException.class, () -> c.read(Checkpoints.LAST));
    assertTrue(
        e.getMessage().contains("last.json") && e.getMessage().contains("bytes"), e.getMessage());
    Files.delete(r.tensors());
    e = assertThrows(MalformedFileException.class, () -> c.read(Checkpoints.LAST));
    assertTrue(e.getMessage().contains("missing"), e.getMessage());
    Files.writeString(ck.resolve(Checkpoints.LAST), "{\"format\": 3}");
    e = assertThrows(MalformedFileException.class, () -> c.read(Checkpoints.LAST));
    assertTrue(e.getMessage().contains("not a checkpoint record"), e.getMessage());
  }

  @Test
  void resumingWithAnotherLoaderIsRefused(@TempDir Path tmp) throws IOException {
    Path dir = tmp.resolve("run");
    assertThrows(
        RuntimeException.class,
        () ->
            ResumeFixture.run(
                dir,
                0,
                r -> {
                  if (r.batch() == 5) throw new RuntimeException("stop");
                }));
    torch.manual_seed(11);
    TinyNet net = new TinyNet(1, 6, 1, 0.2);
    try (DataLoader train = new DataLoader(new ToyData(24), DataLoader.Options.of(4, 1, 21));
        Trainer<TinyNet> t = new Trainer<>(net, ResumeFixture.config(dir, null))) {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> t.fit(ToyData::step, train));
      assertTrue(
          e.getMessage().contains("12 batches per epoch") && e.getMessage().contains("has 6"),
          e.getMessage());
    }
    net.close();
  }
}
