/**
 * `rserpool proxy`: a proxy pool user. Lets any TCP client use a pool: each
 * connection is forwarded to an element the pool's policy chooses.
 *
 * @module
 */

import { formatEndpoint } from "../runtime/endpoint.ts";
import { startProxy } from "../runtime/proxy_user.ts";
import {
  COMMON_HELP,
  endpointOption,
  integerOption,
  interrupted,
  loggerOption,
  parseCommand,
  poolOption,
  profileOption,
  registrarsOption,
  TLS_CLIENT_HELP,
  TLS_CLIENT_OPTIONS,
  tlsOptions,
} from "./common.ts";
import { type CliIo, UsageError } from "./io.ts";

/** Help text of `rserpool proxy`. */
export const PROXY_HELP = `Usage: rserpool proxy --pool HANDLE --listen ADDR:PORT [options]

Runs a proxy pool user: accepts TCP connections and forwards each to an
element of the pool, chosen by the pool's policy from a resolution cached as
a pool user caches it. An element that cannot be reached is reported to the
registrar (ASAP Endpoint Unreachable) and the next one is tried, so new
connections do not see a dead element. The elements must serve plain TCP
(Transport Use DATA ONLY), as \`rserpool element --backend\` registers them.
Ctrl-C or SIGTERM stops it and prints its counters.

Options:
  --pool HANDLE            pool handle (required)
  --listen ADDR:PORT       where clients connect (required; port 0: any)
  --registrar ADDR:PORT    a registrar's ASAP endpoint (repeatable; default
                           127.0.0.1:3863 unless --announce is given)
  --announce GROUP:PORT    hear registrars' Server Announces on this UDP group
  --connect-timeout MS     longest connect to an element (default 3000)
  --attempts N             elements tried per connection (default 5)
  --idle-timeout MS        close connections idle this long (default: never)
  --max-connections N      connections at once; more are refused (default 10000)
  --stale-cache MS         how long a resolution is used (default 30000)
  --proxy-protocol         send a PROXY protocol v2 header to the element
  --reuse-port             share the --listen port with other rserpool proxy
                           processes (SO_REUSEPORT; one per CPU scales the
                           connection path)
${TLS_CLIENT_HELP}
${COMMON_HELP}

Examples:
  rserpool proxy --pool web --listen 127.0.0.1:8080
  rserpool proxy --pool web --listen 0.0.0.0:80 --registrar 10.0.0.1:3863 --registrar 10.0.0.2:3863
`;

/** Runs `rserpool proxy`. */
export async function proxyCommand(args: string[], io: CliIo): Promise<number> {
  const values = parseCommand(io, args, {
    pool: { type: "string" },
    listen: { type: "string" },
    registrar: { type: "string", multiple: true },
    announce: { type: "string" },
    "connect-timeout": { type: "string" },
    attempts: { type: "string" },
    "idle-timeout": { type: "string" },
    "max-connections": { type: "string" },
    "stale-cache": { type: "string" },
    "proxy-protocol": { type: "boolean" },
    "reuse-port": { type: "boolean" },
    ...TLS_CLIENT_OPTIONS,
  }, PROXY_HELP);
  if (values === undefined) return 0;
  const profile = profileOption(values.profile);
  const log = loggerOption(io, values.log, values.verbose === true);
  if (values.pool === undefined) throw new UsageError("--pool is required");
  poolOption(values.pool);
  if (values.listen === undefined) throw new UsageError("--listen is required");
  const listen = endpointOption("listen", values.listen, { host: "127.0.0.1" });
  if (listen.transport === "SCTP") throw new UsageError("--listen: the proxy listens on TCP");
  const { registrars, announce } = registrarsOption(values, profile);
  const int = (name: keyof typeof values, min: number, max: number) => {
    const v = values[name];
    return typeof v === "string" ? integerOption(name, v, min, max) : undefined;
  };
  const staleCache = int("stale-cache", 0, 86_400_000);
  const proxy = await startProxy({
    poolHandle: values.pool,
    listen,
    registrars,
    announce,
    profile,
    tls: await tlsOptions(io, values, "client"),
    timers: staleCache === undefined ? undefined : { staleCache },
    connectTimeout: int("connect-timeout", 1, 600_000),
    maxAttempts: int("attempts", 1, 100),
    idleTimeout: int("idle-timeout", 0, 86_400_000),
    maxConnections: int("max-connections", 1, 10_000_000),
    proxyProtocol: values["proxy-protocol"] === true,
    reusePort: values["reuse-port"] === true,
    log,
  }).catch((e: Error) => {
    log.error(e.message);
    return undefined;
  });
  if (proxy === undefined) return 1;
  log.info("proxying", { pool: values.pool, at: formatEndpoint(proxy.address) });
  const signal = await interrupted(io);
  log.info("stopping", { signal, ...proxy.counts });
  await proxy.close();
  return 0;
}
