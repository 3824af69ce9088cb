package org.spinekit.cli;

/** The spinekit command line. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.out.println("spinekit");
  }
}
