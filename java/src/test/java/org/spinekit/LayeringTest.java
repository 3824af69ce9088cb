package org.spinekit;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.ArrayList;
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
 *   generic                  augment, nn, loss, train, dist, metrics, ops, io.*, tensor, runtime,
 *                            internal.jni
 * </pre>
 *
 * No package cycles; generic packages never name a system, the generator or the command line;
 * nothing but the command line uses the generator; the native peers ({@code internal.jni}) are
 * reached through {@code ops}, {@code augment}, {@code io} and {@code runtime} only; process-wide
 * settings (threads, seeds, oneDNN) are made by {@code runtime} alone; the libtorch-composite
 * references of the kernels ({@code ops.Composite}, {@code ops.StackComposite}) are for tests,
 * benchmarks and the demo, not for library code; the public API (public classes outside {@code
 * org.spinekit.internal}) names no internal type, so applications cannot come to depend on one.
 */
class LayeringTest {
  static final String ROOT = "org.spinekit";
  static final String[] GENERIC = {
    "org.spinekit.augment..",
    "org.spinekit.nn..",
    "org.spinekit.loss..",
    "org.spinekit.train..",
    "org.spinekit.dist..",
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
            .as("library code does not call the kernels' test references"),
        classes()
            .that()
            .resideOutsideOfPackage(INTERNAL)
            .should(exposeNoInternalType())
            .as("the public API shows no internal type (org.spinekit.internal is not API)"),
        noClasses()
            .that()
            .resideOutsideOfPackage("org.spinekit.cli..")
            .and()
            .doNotHaveFullyQualifiedName("org.spinekit.train.ProgressBar")
            .should()
            .accessField(System.class, "out")
            .orShould()
            .accessField(System.class, "err")
            .orShould()
            .callMethod(Throwable.class, "printStackTrace")
            .as(
                "library code never prints (System.Logger or returned warnings; the progress bar"
                    + " only on the stream it is given)"));
  }

  static final String INTERNAL = "org.spinekit.internal..";

  /**
   * Public classes outside {@code internal} name no internal type in what an application sees:
   * supertypes, and the types of public or protected fields, methods and constructors (return,
   * parameters, exceptions). Applications then cannot come to depend on internal classes.
   */
  static ArchCondition<JavaClass> exposeNoInternalType() {
    return new ArchCondition<>("expose no internal type") {
      @Override
      public void check(JavaClass c, ConditionEvents events) {
        if (!c.getModifiers().contains(JavaModifier.PUBLIC)) return;
        List<String> leaks = new ArrayList<>();
        c.getRawSuperclass().ifPresent(t -> leak(leaks, c.getName() + " extends", t));
        for (JavaClass i : c.getRawInterfaces()) leak(leaks, c.getName() + " implements", i);
        for (JavaField f : c.getFields()) {
          if (visible(f.getModifiers())) leak(leaks, f.getFullName(), f.getRawType());
        }
        for (JavaCodeUnit m : c.getCodeUnits()) {
          if (!visible(m.getModifiers())) continue;
          leak(leaks, m.getFullName() + " returns", m.getRawReturnType());
          for (JavaClass p : m.getRawParameterTypes()) leak(leaks, m.getFullName() + " takes", p);
          for (JavaClass t : m.getExceptionTypes()) leak(leaks, m.getFullName() + " throws", t);
        }
        for (String l : leaks) events.add(SimpleConditionEvent.violated(c, l));
      }
    };
  }

  private static boolean visible(Set<JavaModifier> m) {
    return m.contains(JavaModifier.PUBLIC) || m.contains(JavaModifier.PROTECTED);
  }

  private static void leak(List<String> leaks, String where, JavaClass type) {
    JavaClass t = type.isArray() ? type.getBaseComponentType() : type;
    if (t.getPackageName().startsWith("org.spinekit.internal")) {
      leaks.add(where + " " + t.getName() + ", an internal type");
    }
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

  /** The rules see violations: classes of the test tree that break four of them. */
  @Test
  void theRulesCatchAViolation() {
    JavaClasses bad = new ClassFileImporter().importClasses(org.spinekit.nn.ViolationAccess.type());
    for (int i : new int[] {2, 8, 11}) {
      ArchRule rule = rules().get(i);
      assertThrows(AssertionError.class, () -> rule.check(bad), rule.getDescription());
    }
    ArchRule api = rules().get(10);
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () -> api.check(new ClassFileImporter().importClasses(org.spinekit.nn.LeakyApi.class)));
    assertTrue(
        e.getMessage().contains("LeakyApi.leak(org.spinekit.internal.jni.Kernels) takes"),
        e.getMessage());
    assertTrue(
        e.getMessage().contains("1 times"),
        "the package-private method is not API: " + e.getMessage());
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
