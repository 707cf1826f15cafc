/**
 * `rserpool user`: resolves a pool and talks to it: sends standard input
 * line by line and prints what comes back, failing over when an element
 * dies.
 *
 * @module
 */

import { RSerPoolError } from "../errors.ts";
import { formatEndpoint } from "../runtime/endpoint.ts";
import { formatIdentifier, formatTransport } from "../runtime/status.ts";
import { createPoolUser } from "../runtime/user.ts";
import {
  COMMON_HELP,
  integerOption,
  interrupted,
  loggerOption,
  parseCommand,
  poolOption,
  profileOption,
  registrarsOption,
  SCTP_HELP,
  SCTP_OPTIONS,
  sctpOption,
  TLS_CLIENT_HELP,
  TLS_CLIENT_OPTIONS,
  tlsOptions,
} from "./common.ts";
import { type CliIo, UsageError } from "./io.ts";

/** Help text of `rserpool user`. */
export const USER_HELP = `Usage: rserpool user [options]

Runs a Pool User: resolves the pool handle with a registrar, connects to an
element the pool's policy picks, sends each line of standard input and
prints what comes back. When the element fails, the session moves to
another one (handing it the last ASAP Cookie) and lines not yet answered
are sent again. Stops at the end of input once every line is answered, or
on Ctrl-C.

Options:
  --pool HANDLE          pool handle (default echo)
  --registrar ADDR:PORT  a registrar's ASAP endpoint (repeatable; default
                         127.0.0.1:3863 unless --announce is given);
                         sctp://ADDR:PORT over SCTP (also reaches SCTP elements)
  --announce GROUP:PORT  hear registrars' Server Announces on this UDP group
  --resolve              print the pool's elements as JSON lines and exit
  --once                 print the first answer and exit (e.g. daytime)
  --timeout MS           wait this long for a connection or an answer
                         (default 10000)
  --max-failovers N      give up after N failovers in a row (default 5)
${TLS_CLIENT_HELP}
${SCTP_HELP}
                         (a user's SCTP binds any free UDP port by default)
${COMMON_HELP}

Exit status: 0 when every line was answered, 1 when the pool could not be
reached or answers are missing, 2 on usage errors.

Examples:
  rserpool user                               (type lines; Ctrl-D ends)
  printf 'one\\ntwo\\n' | rserpool user --pool echo
  rserpool user --pool daytime --once
  rserpool user --pool echo --resolve
  rserpool user --registrar sctp://127.0.0.1:3863 --pool pingpong
`;

/** Runs `rserpool user`. */
export async function userCommand(args: string[], io: CliIo): Promise<number> {
  const values = parseCommand(io, args, {
    pool: { type: "string" },
    registrar: { type: "string", multiple: true },
    announce: { type: "string" },
    resolve: { type: "boolean" },
    once: { type: "boolean" },
    timeout: { type: "string" },
    "max-failovers": { type: "string" },
    ...TLS_CLIENT_OPTIONS,
    ...SCTP_OPTIONS,
  }, USER_HELP);
  if (values === undefined) return 0;
  const profile = profileOption(values.profile);
  const log = loggerOption(io, values.log, values.verbose === true);
  const pool = values.pool ?? "echo";
  poolOption(pool);
  const { registrars, announce } = registrarsOption(values, profile);
  const timeout = values.timeout === undefined
    ? 10_000
    : integerOption("timeout", values.timeout, 1, 86_400_000);
  const maxFailovers = values["max-failovers"] === undefined
    ? 5
    : integerOption("max-failovers", values["max-failovers"], 0, 1000);
  const tls = await tlsOptions(io, values, "client");
  if (values.resolve && values.once) {
    throw new UsageError("--resolve and --once exclude each other");
  }

  const sctp = await sctpOption(values, (registrars ?? []).some((r) => r.transport === "SCTP"), 0);
  const user = await createPoolUser({
    registrars,
    announce,
    profile,
    maxFailovers,
    tls,
    transports: sctp === undefined ? undefined : { SCTP: sctp },
    log,
  });
  try {
    if (values.resolve) {
      const elements = await user.resolve(pool, { timeout });
      for (const e of elements) {
        io.out(
          JSON.stringify({
            identifier: formatIdentifier(e.identifier),
            transport: formatTransport(e.userTransport),
            policy: e.policy.type,
            home: formatIdentifier(e.homeRegistrarId),
          }) + "\n",
        );
      }
      return 0;
    }
    return await talk(io, user, pool, timeout, values.once === true, log);
  } catch (e) {
    if (!(e instanceof RSerPoolError)) throw e;
    log.error(e.message, {
      pool,
      registrars: (registrars ?? []).map(formatEndpoint).join(",") || undefined,
    });
    return 1;
  } finally {
    await user.close();
    await sctp?.close();
  }
}

async function talk(
  io: CliIo,
  user: Awaited<ReturnType<typeof createPoolUser>>,
  pool: string,
  timeout: number,
  once: boolean,
  log: ReturnType<typeof loggerOption>,
): Promise<number> {
  const decoder = new TextDecoder();
  const unanswered: string[] = [];
  let answered = false;
  let failed: RSerPoolError | undefined;
  let wake: () => void = () => {};
  const changed = () => wake();
  const session = await user.connect(pool, {
    data: (bytes) => {
      const text = decoder.decode(bytes, { stream: true });
      io.out(text);
      answered = true;
      for (const ch of text) if (ch === "\n") unanswered.shift();
      changed();
    },
    failover: ({ element }) => {
      log.info("continuing with another element", {
        element: formatIdentifier(element.identifier),
        resent: unanswered.length,
      });
      for (const line of unanswered) session.send(line + "\n");
    },
    closed: (error) => {
      failed = error;
      changed();
    },
  }, { timeout });
  const stop = interrupted(io).then(() => "interrupted" as const);
  const waitChange = (ms: number) =>
    new Promise<"changed" | "timeout">((resolve) => {
      const timer = setTimeout(() => resolve("timeout"), ms);
      wake = () => {
        clearTimeout(timer);
        resolve("changed");
      };
    });

  if (once) {
    while (!answered && failed === undefined) {
      const why = await Promise.race([waitChange(timeout), stop]);
      if (why !== "changed") break;
    }
    session.close();
    return answered ? 0 : 1;
  }
  const lines = io.stdinLines?.();
  if (lines !== undefined) {
    const reading = (async () => {
      for await (const line of lines) {
        if (failed !== undefined) break;
        unanswered.push(line);
        // While the session fails over, the line waits: the failover handler sends it.
        if (session.up) session.send(line + "\n");
      }
      return "eof" as const;
    })();
    if (await Promise.race([reading, stop]) === "interrupted") {
      session.close();
      return 0;
    }
  }
  // End of input: wait for the answers still missing.
  while (unanswered.length > 0 && failed === undefined) {
    const why = await Promise.race([waitChange(timeout), stop]);
    if (why === "interrupted") break;
    if (why === "timeout") {
      log.error("no answer in time", { missing: unanswered.length, timeout });
      break;
    }
  }
  if (failed !== undefined) log.error(failed.message);
  session.close();
  return unanswered.length === 0 && failed === undefined ? 0 : 1;
}
