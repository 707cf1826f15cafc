/**
 * The `rserpool` command line: one program, several subcommands.
 *
 * ```ts
 * import { main, processIo } from "@rserpool/rserpool/cli";
 *
 * const status = await main(["decode", "capture.pcap", "--pretty"], processIo());
 * ```
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import process from "node:process";
import { createInterface } from "node:readline";
import { CONFORMANCE_HELP, conformanceCommand } from "./conformance.ts";
import { DECODE_HELP, decodeCommand } from "./decode.ts";
import { ELEMENT_HELP, elementCommand } from "./element.ts";
import { PROXY_HELP, proxyCommand } from "./proxy.ts";
import { REGISTRAR_HELP, registrarCommand } from "./registrar.ts";
import { STATUS_HELP, statusCommand } from "./status.ts";
import { USER_HELP, userCommand } from "./user.ts";
import { type CliIo, UsageError } from "./io.ts";

export { type CliIo, UsageError } from "./io.ts";

interface Command {
  readonly summary: string;
  readonly help: string;
  readonly run: (args: string[], io: CliIo) => Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  registrar: {
    summary: "run a Pool Registrar (ASAP on TCP 3863, ENRP on TCP 9901)",
    help: REGISTRAR_HELP,
    run: registrarCommand,
  },
  element: {
    summary: "serve a pool with a built-in service, or put a TCP server into it (--backend)",
    help: ELEMENT_HELP,
    run: elementCommand,
  },
  user: {
    summary: "resolve a pool and talk to it (send lines to the echo pool)",
    help: USER_HELP,
    run: userCommand,
  },
  proxy: {
    summary: "forward TCP connections to the elements of a pool (a proxy pool user)",
    help: PROXY_HELP,
    run: proxyCommand,
  },
  status: {
    summary: "print a registrar's state from its status endpoint",
    help: STATUS_HELP,
    run: statusCommand,
  },
  conformance: {
    summary: "test an RSerPool implementation (or this one) for conformance",
    help: CONFORMANCE_HELP,
    run: conformanceCommand,
  },
  decode: {
    summary: "print the ASAP/ENRP messages of a pcap/pcapng capture or of hex input",
    help: DECODE_HELP,
    run: decodeCommand,
  },
};

/** Help text of `rserpool` itself. */
export function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) =>
    `  ${name.padEnd(width)}  ${c.summary}`
  );
  return `Usage: rserpool COMMAND [options]

Reliable Server Pooling (RSerPool, RFC 5351-5356) tools.

Commands:
${lines.join("\n")}

Run "rserpool COMMAND --help" for a command's options.
`;
}

/**
 * Runs the CLI with `args` (without the program name); returns the exit
 * status: 0 success, 1 failure of the work itself, 2 usage error.
 */
export async function main(args: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    io.out(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined || !Object.hasOwn(COMMANDS, name)) {
    io.err(`rserpool: unknown command "${name}"\n\n${mainHelp()}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.err(
        `rserpool ${name}: ${(e as Error).message}\nRun "rserpool ${name} --help" for usage.\n`,
      );
      return 2;
    }
    throw e;
  }
}

/** The CLI's I/O on the running process (Deno, Node or Bun). */
export function processIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    readFile: async (path) => new Uint8Array(await readFile(path)),
    readStdin: async () => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Uint8Array);
      return new TextDecoder().decode(concatChunks(chunks));
    },
    stdinLines: () => createInterface({ input: process.stdin, crlfDelay: Infinity }),
    interrupted: () =>
      new Promise((resolve) => {
        const stop = (signal: string) => {
          process.off("SIGINT", onInt);
          process.off("SIGTERM", onTerm);
          resolve(signal);
        };
        const onInt = () => stop("SIGINT");
        const onTerm = () => stop("SIGTERM");
        process.on("SIGINT", onInt);
        process.on("SIGTERM", onTerm);
      }),
  };
}

function concatChunks(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}
