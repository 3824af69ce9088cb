package org.spinekit.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.spinekit.io.MalformedFileException;
import org.spinekit.runtime.NativeRuntime;
import picocli.CommandLine;
import picocli.CommandLine.ExecutionException;
import picocli.CommandLine.Help.Ansi.Text;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * What the SpineKit command lines ({@code spinekit} here, {@code spinekit bench} in the benchmarks
 * jar) share: picocli set up with one exit-code policy, the {@link RuntimeOptions} applied once
 * before the command runs, and the version.
 *
 * <p>Exit codes: {@value #OK} success; {@value #BAD_INPUT} a usage error (unknown option or
 * subcommand, a missing or malformed value: picocli's message naming the option, then the synopsis)
 * or bad input found while running ({@link IllegalArgumentException}, {@link
 * MalformedFileException}: "spinekit: message"); {@value #FAILED} an I/O failure (any other {@link
 * IOException}, the JDK's file exceptions spelled out) or a state the command cannot work in
 * ({@link IllegalStateException}, e.g. the runtime refusing its settings), both as "spinekit:
 * message", or any other error inside SpineKit (with its stack trace).
 */
public final class Cli {
  private Cli() {}

  /** Exit code of a command that did what it was asked. */
  public static final int OK = 0;

  /** Exit code of an I/O failure or an internal error. */
  public static final int FAILED = 1;

  /** Exit code of a usage error or of bad input. */
  public static final int BAD_INPUT = 2;

  /**
   * A command that loads neither libtorch nor the kernels (it reads and writes files, or is a group
   * that only prints its usage): the native runtime is left unconfigured, so it starts in a
   * fraction of a second. The common options are still checked, and {@code --threads} still sizes
   * the command's own worker pool.
   */
  public interface NoLibtorch {}

  /** {@code root} on picocli, with the exit codes, error messages and runtime set-up above. */
  public static CommandLine commandLine(Object root) {
    CommandLine cl = new CommandLine(root);
    cl.setParameterExceptionHandler(Cli::usageError);
    cl.setExecutionExceptionHandler(Cli::failure);
    cl.setExecutionStrategy(Cli::run);
    cl.setHelpFactory(Help::new);
    style(cl);
    return cl;
  }

  /**
   * The help of every command alike: 90 columns, options in declared order, its own options then
   * the common ones, the commands and the exit codes under headings.
   */
  private static void style(CommandLine cl) {
    Map<String, String> codes = new LinkedHashMap<>();
    codes.put(Integer.toString(OK), "success");
    codes.put(Integer.toString(FAILED), "an I/O failure (or an error inside SpineKit)");
    codes.put(Integer.toString(BAD_INPUT), "a usage error or bad input");
    cl.getCommandSpec()
        .usageMessage()
        .width(90)
        .sortOptions(false)
        .sortSynopsis(false)
        .commandListHeading("%nCommands:%n")
        .exitCodeListHeading("%nExit codes:%n")
        .exitCodeList(codes);
    cl.getHelpSectionMap()
        .put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_OPTION_LIST, Help::optionLists);
    for (CommandLine sub : cl.getSubcommands().values()) style(sub);
  }

  /** Parses and runs {@code args} on {@code root}; returns the exit code. */
  public static int execute(Object root, String... args) {
    return commandLine(root).execute(args);
  }

  /**
   * For a group run without its subcommand: names what was expected, prints the usage to stderr and
   * returns {@link #BAD_INPUT}.
   */
  public static int missingSubcommand(CommandSpec spec) {
    CommandLine cl = spec.commandLine();
    PrintWriter err = cl.getErr();
    err.println(
        spec.qualifiedName()
            + ": expected a command: "
            + String.join(", ", cl.getSubcommands().keySet()));
    err.println();
    cl.usage(err);
    err.flush();
    return BAD_INPUT;
  }

  /**
   * {@code path}, which must exist: a file or directory named on the command line.
   *
   * @throws IllegalArgumentException naming the argument and the path when it does not
   */
  public static Path existing(String what, Path path) {
    if (!Files.exists(path)) {
      throw new IllegalArgumentException(what + ": no such file or directory: '" + path + "'");
    }
    return path;
  }

  /** Help and version requests, then the runtime set-up, then the command (picocli's RunLast). */
  private static int run(ParseResult parsed) {
    Integer help = CommandLine.executeHelpRequest(parsed);
    if (help != null) return help;
    List<CommandLine> chain = parsed.asCommandLineList();
    CommandLine leaf = chain.get(chain.size() - 1);
    try {
      NativeRuntime.Settings settings = RuntimeOptions.of(parsed.commandSpec()).settings();
      if (!(leaf.getCommand() instanceof NoLibtorch)) NativeRuntime.configure(settings);
    } catch (RuntimeException e) {
      throw new ExecutionException(leaf, String.valueOf(e.getMessage()), e);
    }
    return new CommandLine.RunLast().execute(parsed);
  }

  /** A usage error: the message naming the option, suggestions, the synopsis; exit 2. */
  private static int usageError(ParameterException e, String[] args) {
    CommandLine cl = e.getCommandLine();
    CommandSpec spec = cl.getCommandSpec();
    PrintWriter err = cl.getErr();
    err.println(spec.qualifiedName() + ": " + e.getMessage());
    UnmatchedArgumentException.printSuggestions(e, err);
    err.print(cl.getHelp().fullSynopsis());
    err.println("Try '" + spec.qualifiedName() + " --help' for more information.");
    err.flush();
    return BAD_INPUT;
  }

  /** An exception out of a command: bad input 2, I/O 1, anything else 1 with its trace. */
  private static int failure(Exception e, CommandLine cl, ParseResult parsed) {
    PrintWriter err = cl.getErr();
    String program = cl.getCommandSpec().root().name();
    Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
    int rc;
    if (t instanceof IllegalArgumentException || t instanceof MalformedFileException) {
      err.println(program + ": " + t.getMessage());
      rc = BAD_INPUT;
    } else if (t instanceof IOException io) {
      err.println(program + ": " + describe(io));
      rc = FAILED;
    } else if (t instanceof IllegalStateException) {
      err.println(program + ": " + t.getMessage());
      rc = FAILED;
    } else {
      err.println(program + ": internal error: " + t);
      t.printStackTrace(err);
      rc = FAILED;
    }
    err.flush();
    return rc;
  }

  /** An I/O exception as a sentence: the JDK's file exceptions carry only the path. */
  static String describe(IOException e) {
    if (e instanceof FileSystemException f && f.getReason() == null && f.getFile() != null) {
      String what =
          f instanceof NoSuchFileException
              ? "no such file or directory"
              : f instanceof AccessDeniedException
                  ? "permission denied"
                  : f instanceof FileAlreadyExistsException
                      ? "already exists"
                      : f instanceof NotDirectoryException
                          ? "not a directory"
                          : f.getClass().getSimpleName();
      return f.getFile()
          + (f.getOtherFile() != null ? " -> " + f.getOtherFile() : "")
          + ": "
          + what;
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  /**
   * picocli's help with the common options (those inherited by every subcommand, {@link
   * RuntimeOptions}) set apart: the synopsis shows them as {@code [COMMON-OPTIONS]}, the option
   * list under a heading of their own after the command's options.
   */
  static final class Help extends CommandLine.Help {
    static final String COMMON = "[COMMON-OPTIONS]";

    Help(CommandSpec spec, CommandLine.Help.ColorScheme scheme) {
      super(spec, scheme);
    }

    private static boolean common(OptionSpec o) {
      return o.scopeType() == ScopeType.INHERIT;
    }

    private List<OptionSpec> options(boolean common) {
      List<OptionSpec> l = new ArrayList<>();
      for (OptionSpec o : commandSpec().options()) {
        if (!o.hidden() && common(o) == common) l.add(o);
      }
      return l;
    }

    @Override
    protected Text createDetailedSynopsisOptionsText(
        Collection<ArgSpec> done, Comparator<OptionSpec> sort, boolean cluster) {
      Text own = createDetailedSynopsisOptionsText(done, options(false), sort, cluster);
      return options(true).isEmpty() ? own : own.concat(" " + COMMON);
    }

    static String optionLists(CommandLine.Help h) {
      Help help = (Help) h;
      List<OptionSpec> own = help.options(false);
      List<OptionSpec> common = help.options(true);
      List<OptionSpec> all = new ArrayList<>(own);
      all.addAll(common);
      // Declared order (or order = n), the help and version options last.
      Comparator<OptionSpec> order =
          Comparator.comparing((OptionSpec o) -> o.usageHelp() || o.versionHelp())
              .thenComparingInt(OptionSpec::order);
      CommandLine.Help.Layout layout =
          help.createDefaultLayout(
              all, help.commandSpec().positionalParameters(), help.colorScheme());
      String text =
          help.optionListExcludingGroups(own, layout, order, help.parameterLabelRenderer());
      if (common.isEmpty()) return text;
      // A layout keeps the rows it rendered: a fresh one, aligned the same, for the second list.
      layout =
          help.createDefaultLayout(
              all, help.commandSpec().positionalParameters(), help.colorScheme());
      return text
          + String.format(
              "%nCommon options, before or after the command (they override"
                  + " the SPINEKIT_* variables):%n")
          + help.optionListExcludingGroups(common, layout, order, help.parameterLabelRenderer());
    }
  }

  /**
   * A picocli converter from a parse function that throws {@link IllegalArgumentException} naming
   * what is wrong: the message becomes picocli's "Invalid value for option ...".
   */
  public abstract static class Converter<T> implements ITypeConverter<T> {
    /** {@code text} as a value; throws {@link IllegalArgumentException} when malformed. */
    protected abstract T parse(String text);

    @Override
    public final T convert(String text) {
      try {
        return parse(text);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** {@code --version}: SpineKit's version, libtorch's preset, the JVM. */
  public static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      List<String> lines = new ArrayList<>();
      String spineKit = maven("org.spinekit", "spinekit", Cli.class);
      lines.add(
          "spinekit " + (spineKit != null ? spineKit : "(development build: not run from a jar)"));
      // The class is loaded, not initialised: no native library is loaded here.
      String torch = maven("org.bytedeco", "pytorch", org.bytedeco.pytorch.Tensor.class);
      if (torch != null) lines.add("JavaCPP Presets for PyTorch " + torch);
      lines.add(
          "Java "
              + System.getProperty("java.vm.name")
              + " "
              + System.getProperty("java.runtime.version"));
      return lines.toArray(String[]::new);
    }

    /**
     * The version of a jar on the class path: its Maven properties (kept in the shaded benchmarks
     * jar too), else the manifest of the jar {@code cls} came from; null if neither.
     */
    static String maven(String group, String artifact, Class<?> cls) {
      try (InputStream in =
          Cli.class.getResourceAsStream(
              "/META-INF/maven/" + group + "/" + artifact + "/pom.properties")) {
        if (in != null) {
          Properties p = new Properties();
          p.load(in);
          String v = p.getProperty("version");
          if (v != null) return v;
        }
      } catch (IOException e) {
        // fall through to the manifest
      }
      return cls.getPackage().getImplementationVersion();
    }
  }
}
