package org.spinekit;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layering of the library, checked on its compiled classes (tests excluded), so that it holds
 * as the code grows:
 *
 * <pre>
 *   cli                      the command line: may use everything
 *   synth                    the generator: generic packages only
 *   cervical, lumbar, serve  one system each (serve: the server), on the generic packages
 *   generic                  augment, nn, loss, train, metrics, ops, io.*, tensor, runtime, internal.jni
 * </pre>
 *
 * No package cycles; generic packages never name a system, the generator or the command line;
 * nothing but the command line uses the generator; the native peers ({@code internal.jni}) are
 * reached through {@code ops}, {@code augment}, {@code io} and {@code runtime} only; process-wide
 * settings (threads, seeds, oneDNN) are made by {@code runtime} alone; the libtorch-composite
 * references of the kernels ({@code ops.Composite}, {@code ops.StackComposite}) are for tests,
 * benchmarks and the demo, not for library code.
 */
class LayeringTest {
  static final String ROOT = "org.spinekit";
  static final String[] GENERIC = {
    "org.spinekit.augment..",
    "org.spinekit.nn..",
    "org.spinekit.loss..",
    "org.spinekit.train..",
    "org.spinekit.metrics..",
    "org.spinekit.ops..",
    "org.spinekit.io..",
    "org.spinekit.tensor..",
    "org.spinekit.runtime..",
    "org.spinekit.internal.jni.."
  };
  static final String[] SYSTEMS = {
    "org.spinekit.cervical..", "org.spinekit.lumbar..", "org.spinekit.serve.."
  };

  static JavaClasses classes;

  @BeforeAll
  static void importClasses() {
    classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages(ROOT);
  }

  static List<ArchRule> rules() {
    return List.of(
        slices()
            .matching("org.spinekit.(**)")
            .should()
            .beFreeOfCycles()
            .as("no cycles between packages"),
        noClasses()
            .that()
            .resideInAnyPackage(GENERIC)
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(concat(SYSTEMS, "org.spinekit.synth..", "org.spinekit.cli.."))
            .as("generic packages name no system, generator or command line"),
        noClasses()
            .that()
            .resideOutsideOfPackages("org.spinekit.synth..", "org.spinekit.cli..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("org.spinekit.synth..")
            .as("only the command line uses the generator"),
        noClasses()
            .that()
            .resideInAPackage("org.spinekit.synth..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(concat(SYSTEMS, "org.spinekit.cli.."))
            .as("the generator builds on generic packages only"),
        noClasses()
            .that()
            .resideInAPackage("org.spinekit.cervical..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("org.spinekit.lumbar..")
            .as("the cervical system does not use the lumbar one"),
        noClasses()
            .that()
            .resideInAPackage("org.spinekit.lumbar..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("org.spinekit.cervical..")
            .as("the lumbar system does not use the cervical one"),
        noClasses()
            .that()
            .resideInAPackage("org.spinekit.serve..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("org.spinekit.train..", "org.spinekit.synth..")
            .allowEmptyShould(true)
            .as("the server never trains nor generates"),
        classes()
            .that()
            .resideInAPackage("org.spinekit.internal.jni..")
            .should()
            .onlyBeAccessed()
            .byAnyPackage(
                "org.spinekit.internal.jni..",
                "org.spinekit.ops..",
                "org.spinekit.augment..",
                "org.spinekit.io..",
                "org.spinekit.runtime..")
            .as("the native peers are reached through ops, augment, io and runtime only"),
        noClasses()
            .that()
            .resideOutsideOfPackage("org.spinekit.runtime..")
            .should()
            .callMethodWhere(processWideSetter())
            .as("process-wide settings are made by the runtime only"),
        noClasses()
            .that()
            .resideOutsideOfPackages("org.spinekit.ops", "org.spinekit.cli..")
            .should()
            .dependOnClassesThat()
            .haveFullyQualifiedName("org.spinekit.ops.Composite")
            .orShould()
            .dependOnClassesThat()
            .haveFullyQualifiedName("org.spinekit.ops.StackComposite")
            .as("library code does not call the kernels' test references"));
  }

  /** Calls that change state every user of the process shares. */
  static DescribedPredicate<JavaCall<?>> processWideSetter() {
    Set<String> targets =
        Set.of(
            "org.bytedeco.pytorch.global.torch.set_num_threads",
            "org.bytedeco.pytorch.global.torch.set_num_interop_threads",
            "org.bytedeco.pytorch.global.torch.manual_seed",
            "org.bytedeco.pytorch.Context.setUserEnabledMkldnn",
            "org.bytedeco.openblas.global.openblas_full.openblas_set_num_threads",
            "org.bytedeco.openblas.global.openblas.openblas_set_num_threads",
            "org.spinekit.internal.jni.Kernels.setNumThreads",
            "org.spinekit.internal.jni.Kernels.keepAllocatorWarm");
    return DescribedPredicate.describe(
        "a process-wide setter (" + targets + ")",
        call ->
            targets.contains(
                call.getTargetOwner().getFullName() + "." + call.getTarget().getName()));
  }

  @Test
  void theLibraryKeepsItsLayers() {
    StringBuilder failures = new StringBuilder();
    for (ArchRule rule : rules()) {
      try {
        rule.check(classes);
      } catch (AssertionError e) {
        failures.append(e.getMessage()).append("\n\n");
      }
    }
    assertTrue(failures.length() == 0, failures.toString());
  }

  /** The rules see violations: a class of the test tree that breaks two of them. */
  @Test
  void theRulesCatchAViolation() {
    JavaClasses bad = new ClassFileImporter().importClasses(org.spinekit.nn.ViolationAccess.type());
    for (int i : new int[] {2, 8}) {
      ArchRule rule = rules().get(i);
      assertThrows(AssertionError.class, () -> rule.check(bad), rule.getDescription());
    }
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
