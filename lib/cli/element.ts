/**
 * `rserpool element`: serves a pool with a built-in service until Ctrl-C,
 * then deregisters; with `--backend`, puts an existing TCP server into the
 * pool instead (a proxy pool element with health checks).
 *
 * @module
 */

import net from "node:net";
import { registerPoolElement } from "../runtime/element.ts";
import { formatEndpoint } from "../runtime/endpoint.ts";
import { parseHealthCheck } from "../runtime/health.ts";
import { startProxyElement } from "../runtime/proxy_element.ts";
import { daytimeService, echoService } from "../runtime/services.ts";
import { formatIdentifier } from "../runtime/status.ts";
import {
  COMMON_HELP,
  endpointOption,
  identifierOption,
  integerOption,
  interrupted,
  loggerOption,
  parseCommand,
  POLICY_HELP,
  policyOption,
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
import type { CommandValues } from "./common.ts";
import { type CliIo, UsageError } from "./io.ts";

/** Help text of `rserpool element`. */
export const ELEMENT_HELP = `Usage: rserpool element [options]

Runs a Pool Element: serves a pool with a built-in service, registers with a
registrar and stays registered. Ctrl-C deregisters it and stops.

With --backend it stands for an existing TCP server instead (a proxy pool
element): it registers the server as a DATA ONLY element, so any TCP client
can connect, checks its health and deregisters it after --health-threshold
failures in a row (registering it again, with the same identifier, once it
recovers). SIGTERM or Ctrl-C drains first: the load goes to 100 % (with
--listen, --max-sessions and a Least Used policy) or it deregisters, and it
waits for the forwarded connections to end (--drain-timeout).

Services:
  echo      returns every message; keeps a count per session and hands it to
            the pool user as an ASAP Cookie, so a session that fails over to
            another element continues the count there (default)
  daytime   sends the time (RFC 867) and closes the session

Options:
  --pool HANDLE          pool handle (default: the service's name)
  --service echo|daytime the service (default echo)
  --registrar ADDR:PORT  a registrar's ASAP endpoint (repeatable; default
                         127.0.0.1:3863 unless --announce is given);
                         sctp://ADDR:PORT over SCTP
  --announce GROUP:PORT  hear registrars' Server Announces on this UDP group
                         (RSPLIB's: 239.0.0.50:3863)
  --listen ADDR:PORT     where pool users connect (default 127.0.0.1, any port);
                         sctp://ADDR:PORT serves over SCTP
  --advertise ADDR       the address registered for pool users (default: the
                         listen address, or for SCTP --sctp-advertise)
  --policy SPEC          selection policy (default rr; see below)
  --id ID                PE identifier, decimal or 0x-hex (default random)
  --data-only            serve a plain TCP stream (Transport Use DATA ONLY):
                         no cookies, any TCP client can talk to it
  --reregister MS        re-registration interval (default 30000)

Proxy pool element:
  --backend ADDR:PORT    the server to put into the pool
  --listen ADDR:PORT     forward through this port instead of registering the
                         backend's own address (needed for the two below)
  --max-sessions N       load = forwarded connections / N (Least Used policies)
  --proxy-protocol       send a PROXY protocol v2 header to the backend
  --health CHECK         tcp (connect; default), http://HOST:PORT/PATH (GET,
                         2xx is healthy) or exec:COMMAND (exit status 0)
  --health-interval MS   between probes (default 2000)
  --health-threshold N   failures (successes) in a row that deregister
                         (register again) (default 3)
  --health-timeout MS    how long a probe may take (default: the interval,
                         at most 5000)
  --idle-timeout MS      close forwarded connections idle this long
                         (default: never)
  --drain-timeout MS     longest wait for connections when stopping
                         (default 30000)
${TLS_CLIENT_HELP}
${SCTP_HELP}
${COMMON_HELP}

${POLICY_HELP}

Examples:
  rserpool element
  rserpool element --pool echo --policy wrr:3 --registrar 127.0.0.1:3863
  rserpool element --service daytime --listen 0.0.0.0:1313
  rserpool element --listen sctp://127.0.0.1:0 --registrar sctp://127.0.0.1:3863
  rserpool element --pool web --backend 127.0.0.1:8000 --health http://127.0.0.1:8000/
  rserpool element --pool web --backend 127.0.0.1:8000 --listen 127.0.0.1:0 \\
      --max-sessions 100 --policy lu
`;

const ELEMENT_OPTIONS = {
  pool: { type: "string" },
  service: { type: "string" },
  registrar: { type: "string", multiple: true },
  announce: { type: "string" },
  listen: { type: "string" },
  policy: { type: "string" },
  id: { type: "string" },
  "data-only": { type: "boolean" },
  reregister: { type: "string" },
  ...TLS_CLIENT_OPTIONS,
  advertise: { type: "string" },
  backend: { type: "string" },
  "max-sessions": { type: "string" },
  "proxy-protocol": { type: "boolean" },
  health: { type: "string" },
  "health-interval": { type: "string" },
  "health-threshold": { type: "string" },
  "health-timeout": { type: "string" },
  "idle-timeout": { type: "string" },
  "drain-timeout": { type: "string" },
  ...SCTP_OPTIONS,
} as const;

type ElementValues = CommandValues<typeof ELEMENT_OPTIONS>;

/** Runs `rserpool element`. */
export async function elementCommand(args: string[], io: CliIo): Promise<number> {
  const values = parseCommand(io, args, ELEMENT_OPTIONS, ELEMENT_HELP);
  if (values === undefined) return 0;
  if (values.backend !== undefined) return await proxyElement(values, io);
  for (
    const proxyOnly of [
      "max-sessions",
      "proxy-protocol",
      "health",
      "health-interval",
      "health-threshold",
      "health-timeout",
      "idle-timeout",
      "drain-timeout",
    ] as const
  ) {
    if (values[proxyOnly] !== undefined) {
      throw new UsageError(`--${proxyOnly} goes with --backend`);
    }
  }
  const profile = profileOption(values.profile);
  const log = loggerOption(io, values.log, values.verbose === true);
  const service = values.service ?? "echo";
  if (service !== "echo" && service !== "daytime") {
    throw new UsageError(`--service: expected echo or daytime, got "${service}"`);
  }
  const pool = values.pool ?? service;
  poolOption(pool);
  const { registrars, announce } = registrarsOption(values, profile);
  const dataOnly = values["data-only"] === true;
  const listen = values.listen === undefined
    ? undefined
    : endpointOption("listen", values.listen, { host: "127.0.0.1", port: 0 });
  const policy = values.policy === undefined ? undefined : policyOption(values.policy);
  const interval = values.reregister === undefined
    ? undefined
    : integerOption("reregister", values.reregister, 100, 3_600_000);
  const tls = await tlsOptions(io, values, "client");
  const advertise = values.advertise;
  if (advertise !== undefined && !net.isIP(advertise)) {
    throw new UsageError(`--advertise: "${advertise}" is not an IP address`);
  }
  const sctp = await sctpOption(
    values,
    listen?.transport === "SCTP" || (registrars ?? []).some((r) => r.transport === "SCTP"),
  );
  const element = await registerPoolElement({
    poolHandle: pool,
    policy,
    registrars,
    announce,
    listen,
    advertise,
    transports: sctp === undefined ? undefined : { SCTP: sctp },
    controlChannel: !dataOnly,
    identifier: values.id === undefined ? undefined : identifierOption("id", values.id, profile),
    profile,
    reregistrationInterval: interval,
    tls,
    log,
    serve: service === "echo" ? echoService({ cookies: !dataOnly, log }) : daytimeService(),
  }).catch((e: Error) => {
    log.error(e.message);
    return undefined;
  });
  if (element === undefined) {
    await sctp?.close();
    return 1;
  }
  log.info("serving", {
    pool,
    service,
    element: formatIdentifier(element.identifier),
    at: formatEndpoint({ ...element.address, transport: listen?.transport }),
  });
  const signal = await interrupted(io);
  log.info("stopping: deregistering first", { signal });
  await element.close();
  await sctp?.close();
  return 0;
}

/** Runs `rserpool element --backend`: a proxy pool element. */
async function proxyElement(values: ElementValues, io: CliIo): Promise<number> {
  for (const builtIn of ["service", "data-only"] as const) {
    if (values[builtIn] !== undefined) {
      throw new UsageError(`--${builtIn} does not go with --backend (the backend is the service)`);
    }
  }
  const profile = profileOption(values.profile);
  const log = loggerOption(io, values.log, values.verbose === true);
  const pool = values.pool;
  if (pool === undefined) throw new UsageError("--backend needs --pool");
  poolOption(pool);
  const backend = endpointOption("backend", values.backend!, { host: "127.0.0.1" });
  const { registrars, announce } = registrarsOption(values, profile);
  const listen = values.listen === undefined
    ? undefined
    : endpointOption("listen", values.listen, { host: "127.0.0.1", port: 0 });
  if (listen?.transport === "SCTP") {
    throw new UsageError("--listen: a proxy pool element forwards over TCP only");
  }
  const maxSessions = values["max-sessions"] === undefined
    ? undefined
    : integerOption("max-sessions", values["max-sessions"], 1, 1_000_000);
  if (listen === undefined && (maxSessions !== undefined || values["proxy-protocol"])) {
    throw new UsageError("--max-sessions and --proxy-protocol need --listen (a forwarding port)");
  }
  const ms = (name: keyof ElementValues, min: number, max: number) => {
    const v = values[name];
    return typeof v === "string" ? integerOption(name, v, min, max) : undefined;
  };
  let health;
  try {
    health = values.health === undefined ? undefined : parseHealthCheck(values.health, backend);
  } catch (e) {
    throw new UsageError(`--health: ${(e as Error).message}`);
  }
  const advertise = values.advertise;
  if (advertise !== undefined && !net.isIP(advertise)) {
    throw new UsageError(`--advertise: "${advertise}" is not an IP address`);
  }
  const drainTimeout = ms("drain-timeout", 0, 3_600_000) ?? 30_000;
  const pe = await startProxyElement({
    poolHandle: pool,
    backend,
    listen,
    advertise,
    health,
    healthInterval: ms("health-interval", 10, 3_600_000),
    healthThreshold: ms("health-threshold", 1, 1000),
    healthTimeout: ms("health-timeout", 10, 3_600_000),
    maxSessions,
    proxyProtocol: values["proxy-protocol"] === true,
    idleTimeout: ms("idle-timeout", 0, 86_400_000),
    policy: values.policy === undefined ? undefined : policyOption(values.policy),
    registrars,
    announce,
    identifier: values.id === undefined ? undefined : identifierOption("id", values.id, profile),
    profile,
    reregistrationInterval: ms("reregister", 100, 3_600_000),
    tls: await tlsOptions(io, values, "client"),
    log,
  }).catch((e: Error) => {
    log.error(e.message);
    return undefined;
  });
  if (pe === undefined) return 1;
  const signal = await interrupted(io);
  log.info("stopping: draining first", { signal, sessions: pe.activeSessions });
  await pe.drain(drainTimeout);
  log.info("stopped", { ...pe.counts });
  return 0;
}
