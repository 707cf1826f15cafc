/**
 * `rserpool registrar`: runs a Pool Registrar until Ctrl-C.
 *
 * @module
 */

import { Port } from "../protocol/constants.ts";
import { RFC_REGISTRAR_TIMERS, RSPLIB_REGISTRAR_TIMERS } from "../registrar/options.ts";
import { type AuthorizationPolicy, authorizeRegistrations } from "../runtime/authorize.ts";
import { startRegistrar } from "../runtime/registrar.ts";
import { RSPLIB_ANNOUNCE_GROUP, RSPLIB_PRESENCE_GROUP } from "../transport/udp.ts";
import {
  channelOption,
  COMMON_HELP,
  endpointOption,
  identifierOption,
  integerOption,
  interrupted,
  loggerOption,
  parseCommand,
  profileOption,
  SCTP_HELP,
  SCTP_OPTIONS,
  sctpOption,
  tlsOptions,
} from "./common.ts";
import { type CliIo, UsageError } from "./io.ts";

/** Help text of `rserpool registrar`. */
export const REGISTRAR_HELP = `Usage: rserpool registrar [options]

Runs a Pool Registrar (RFC 5353's ENRP server): pool elements register with
it over ASAP, pool users resolve pool handles with it, and it shares its
handlespace with peer registrars over ENRP. Both run over TCP, and with
--sctp over SCTP as well (SCTP in TypeScript carried over UDP, RFC 6951, as
Linux and FreeBSD kernel SCTP speak it; docs/transports.md). Runs until Ctrl-C.

Options:
  --asap ADDR:PORT       ASAP listener (default 127.0.0.1:3863)
  --enrp ADDR:PORT       ENRP listener (default 127.0.0.1:9901)
  --peer ADDR:PORT       a peer registrar's ENRP endpoint (repeatable);
                         sctp://ADDR:PORT over SCTP
  --id ID                registrar identifier, decimal or 0x-hex (default random)
  --multicast            send ASAP Server Announces to 239.0.0.50:3863 and ENRP
                         Presences to 239.0.0.51:9901, as RSPLIB does
  --announce GROUP:PORT  announce to this group (or unicast address) instead
  --presence GROUP:PORT  exchange Presences on this group instead
  --multicast-ttl N      multicast TTL (default 1: this link only)
  --multicast-interface ADDR  local address of the interface to use
  --status ADDR:PORT     serve the state as JSON over HTTP (GET /status, /pools),
                         and the HTTP API for programs without ASAP: resolve
                         (GET /pools/HANDLE/resolve) and watch a pool (GET
                         /pools/HANDLE/watch, Server-Sent Events); see
                         docs/runtime.md
  --api-write            let the HTTP API register and deregister elements with
                         a time-to-live (POST/PUT/DELETE /pools/HANDLE/elements;
                         --authorize applies); off by default
  --distance-step MS     measure the distances of elements with delay-sensitive
                         (DPF) policies as RSPLIB does, rounded to this step
                         (RSPLIB: 50); default: keep the registered distances
  --timers rfc|rsplib    timer defaults: RFC 5353's (default) or RSPLIB's
  --timer NAME=MS        set one timer (repeatable): serverAnnounceCycle,
                         keepAliveInterval, keepAliveTimeout, peerHeartbeatCycle,
                         maxTimeLastHeard, maxTimeNoResponse, mentorHuntTimeout,
                         takeoverExpiry
  --tls-cert FILE        serve ASAP and ENRP over TLS with this certificate (PEM)
  --tls-key FILE         and its private key (PEM)
  --tls-ca FILE          CA for peers' certificates (and clients', see below)
  --tls-client-auth      require client certificates chained to --tls-ca
                         (mutual TLS; Node only, Deno cannot request them)
  --authorize FILE       registration rules, JSON: {"rules": [{"pools": ["echo"],
                         "identities": ["CN=pe-alpha"], "addresses": ["10.0.0.0/8"]}],
                         "ownAddressOnly": true}
${SCTP_HELP}
${COMMON_HELP}

Examples:
  rserpool registrar
  rserpool registrar --asap 0.0.0.0:3863 --enrp 0.0.0.0:9901 --multicast
  rserpool registrar --asap :3864 --enrp :9902 --peer 127.0.0.1:9901 --status :8863
  rserpool registrar --sctp --peer sctp://10.0.2.15:9901 --sctp-advertise 10.0.2.2 \
    --sctp-map 10.0.2.15=127.0.0.1:19899 --sctp-source 127.0.0.1=10.0.2.15   # RSPLIB in a VM
`;

/** Reads and checks an authorization rules file. */
async function authorizationFile(io: CliIo, path: string): Promise<AuthorizationPolicy> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(await io.readFile(path)));
  } catch (e) {
    throw new UsageError(`--authorize: cannot read "${path}": ${(e as Error).message}`);
  }
  const bad = (what: string) => new UsageError(`--authorize ${path}: ${what}`);
  if (
    value === null || typeof value !== "object" ||
    !Array.isArray((value as { rules?: unknown }).rules)
  ) {
    throw bad(`expected {"rules": [...]}`);
  }
  const policy = value as { rules: unknown[]; ownAddressOnly?: unknown };
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");
  policy.rules.forEach((rule, i) => {
    const r = rule as Record<string, unknown>;
    if (r === null || typeof r !== "object") throw bad(`rule ${i + 1} is not an object`);
    if (r.pools !== "*" && !strings(r.pools)) {
      throw bad(`rule ${i + 1}: "pools" must be "*" or a list of strings`);
    }
    if (r.identities !== undefined && !strings(r.identities)) {
      throw bad(`rule ${i + 1}: "identities" must be a list of strings`);
    }
    if (r.addresses !== undefined && !strings(r.addresses)) {
      throw bad(`rule ${i + 1}: "addresses" must be a list of strings`);
    }
  });
  if (policy.ownAddressOnly !== undefined && typeof policy.ownAddressOnly !== "boolean") {
    throw bad(`"ownAddressOnly" must be true or false`);
  }
  return policy as unknown as AuthorizationPolicy;
}

/** Runs `rserpool registrar`. */
export async function registrarCommand(args: string[], io: CliIo): Promise<number> {
  const values = parseCommand(io, args, {
    asap: { type: "string" },
    enrp: { type: "string" },
    peer: { type: "string", multiple: true },
    id: { type: "string" },
    multicast: { type: "boolean" },
    announce: { type: "string" },
    presence: { type: "string" },
    "multicast-ttl": { type: "string" },
    "multicast-interface": { type: "string" },
    status: { type: "string" },
    "api-write": { type: "boolean" },
    "distance-step": { type: "string" },
    timers: { type: "string" },
    timer: { type: "string", multiple: true },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "tls-ca": { type: "string" },
    "tls-client-auth": { type: "boolean" },
    authorize: { type: "string" },
    ...SCTP_OPTIONS,
  }, REGISTRAR_HELP);
  if (values === undefined) return 0;
  const profile = profileOption(values.profile);
  const nextgen = profile === "nextgen";
  const log = loggerOption(io, values.log, values.verbose === true);
  const asapPort = nextgen ? Port.AsapNextGen : Port.Asap;
  const enrpPort = nextgen ? Port.EnrpNextGen : Port.Enrp;
  const asap = values.asap === undefined
    ? { address: "127.0.0.1", port: asapPort }
    : endpointOption("asap", values.asap, { host: "127.0.0.1", port: asapPort });
  const enrp = values.enrp === undefined
    ? { address: asap.address, port: enrpPort }
    : endpointOption("enrp", values.enrp, { host: asap.address, port: enrpPort });
  const peers = (values.peer ?? []).map((p) =>
    endpointOption("peer", p, { host: "127.0.0.1", port: nextgen ? Port.EnrpNextGen : Port.Enrp })
  );
  const ttl = values["multicast-ttl"] === undefined
    ? undefined
    : integerOption("multicast-ttl", values["multicast-ttl"], 1, 255);
  const iface = values["multicast-interface"];
  const announce = values.announce !== undefined
    ? channelOption("announce", values.announce, RSPLIB_ANNOUNCE_GROUP, ttl, iface)
    : values.multicast
    ? { ...RSPLIB_ANNOUNCE_GROUP, ttl, interface: iface }
    : undefined;
  const presence = values.presence !== undefined
    ? channelOption("presence", values.presence, RSPLIB_PRESENCE_GROUP, ttl, iface)
    : values.multicast
    ? { ...RSPLIB_PRESENCE_GROUP, ttl, interface: iface }
    : undefined;
  const timers = values.timers === undefined || values.timers === "rfc"
    ? RFC_REGISTRAR_TIMERS
    : values.timers === "rsplib"
    ? RSPLIB_REGISTRAR_TIMERS
    : (() => {
      throw new UsageError(`--timers: expected rfc or rsplib, got "${values.timers}"`);
    })();
  const timerValues: Record<string, number> = { ...timers };
  for (const t of values.timer ?? []) {
    const [name, ms] = t.split("=");
    if (!(name in RFC_REGISTRAR_TIMERS) || ms === undefined) {
      throw new UsageError(
        `--timer: expected NAME=MS with NAME one of ${
          Object.keys(RFC_REGISTRAR_TIMERS).join(", ")
        }`,
      );
    }
    timerValues[name] = integerOption("timer", ms, 1, 86_400_000);
  }
  const tls = await tlsOptions(io, values, "server");
  let authorize;
  if (values.authorize !== undefined) {
    try {
      authorize = authorizeRegistrations(await authorizationFile(io, values.authorize));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`--authorize: ${(e as Error).message}`);
    }
  }
  const sctp = await sctpOption(values, peers.some((p) => p.transport === "SCTP"));
  if (values["api-write"] === true && values.status === undefined) {
    throw new UsageError("--api-write needs --status (the API is served there)");
  }
  const registrar = await startRegistrar({
    id: values.id === undefined ? undefined : identifierOption("id", values.id, profile),
    profile,
    asap,
    enrp,
    peers,
    announce,
    presence,
    statusEndpoint: values.status === undefined
      ? undefined
      : endpointOption("status", values.status, { host: "127.0.0.1" }),
    api: { write: values["api-write"] === true },
    distanceStep: values["distance-step"] === undefined
      ? undefined
      : integerOption("distance-step", values["distance-step"], 1, 60_000),
    timers: timerValues,
    tls,
    authorize,
    transports: sctp === undefined ? undefined : { SCTP: sctp },
    log,
  }).catch((e: Error) => {
    const hint = /EADDRINUSE/.test(e.message)
      ? " (another registrar running? choose other ports with --asap and --enrp)"
      : "";
    log.error(e.message + hint);
    return undefined;
  });
  if (registrar === undefined) {
    await sctp?.close();
    return 1;
  }
  const signal = await interrupted(io);
  log.info("stopping", { signal });
  await registrar.stop();
  await sctp?.close();
  return 0;
}
