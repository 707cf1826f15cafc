/**
 * What the CLI needs from its surroundings, so that commands can be run in
 * tests with captured output, and on Deno, Node and Bun alike.
 *
 * @module
 */

/** Input and output of a CLI run. */
export interface CliIo {
  /** Writes to standard output. */
  readonly out: (text: string) => void;
  /** Writes to standard error. */
  readonly err: (text: string) => void;
  /** Reads a whole file. */
  readonly readFile: (path: string) => Promise<Uint8Array>;
  /** Reads all of standard input as text. */
  readonly readStdin: () => Promise<string>;
  /** Standard input line by line, as it arrives (interactive commands). */
  readonly stdinLines?: () => AsyncIterable<string>;
  /**
   * Resolves with the signal's name when the user asks the program to stop
   * (Ctrl-C, SIGTERM). Long-running commands stop cleanly then.
   */
  readonly interrupted?: () => Promise<string>;
}

/** A usage error: the command line is wrong. Reported with exit code 2. */
export class UsageError extends Error {
  /**
   * Creates a usage error.
   *
   * @param message what is wrong, for the user
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
