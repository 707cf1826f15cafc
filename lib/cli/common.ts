/**
 * What the network commands share: option values (endpoints, identifiers,
 * policies, TLS files), logging set-up, and waiting for Ctrl-C.
 *
 * @module
 */

import net from "node:net";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { RSerPoolError } from "../errors.ts";
import { MAX_POLICY_VALUE } from "../policy/entry.ts";
import type { Identifier, PoolMemberSelectionPolicy, WireProfile } from "../protocol/types.ts";
import { type Endpoint, parseEndpoint } from "../runtime/endpoint.ts";
import { jsonLogger, type Logger, textLogger } from "../runtime/log.ts";
import { SCTP_UDP_PORT, SctpUdpTransport } from "../transport/sctp/udp.ts";
import type { TlsSettings } from "../transport/tcp.ts";
import { RSPLIB_ANNOUNCE_GROUP, type UdpChannelSettings } from "../transport/udp.ts";
import { Port } from "../protocol/constants.ts";
import { type CliIo, UsageError } from "./io.ts";

/** Options every network command takes. */
export const COMMON_OPTIONS = {
  profile: { type: "string" },
  log: { type: "string" },
  verbose: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
} as const;

/** The options of a network command (`node:util` `parseArgs` shapes). */
export type CommandOptions = NonNullable<ParseArgsConfig["options"]>;

/** The values of a command's options and {@link COMMON_OPTIONS}. */
export type CommandValues<O extends CommandOptions> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & typeof COMMON_OPTIONS; allowPositionals: true }>
>["values"];

/**
 * Parses a network command's arguments with {@link COMMON_OPTIONS} added:
 * prints `help` and returns undefined for `--help`; throws a
 * {@link UsageError} for a positional argument.
 */
export function parseCommand<O extends CommandOptions>(
  io: CliIo,
  args: string[],
  options: O,
  help: string,
): CommandValues<O> | undefined {
  const { values, positionals } = parseArgs({
    args,
    options: { ...options, ...COMMON_OPTIONS },
    allowPositionals: true,
  });
  if ((values as { help?: boolean }).help) {
    io.out(help);
    return undefined;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  return values as CommandValues<O>;
}

/** Options of a TLS client (`--tls-*`), described by {@link TLS_CLIENT_HELP}. */
export const TLS_CLIENT_OPTIONS = {
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-ca": { type: "string" },
  "tls-server-name": { type: "string" },
} as const;

/** Help lines of {@link COMMON_OPTIONS}. */
export const COMMON_HELP =
  `  --profile rfc|nextgen  wire profile (default rfc; nextgen: 64-bit identifiers,
                         ports 3873/9911, docs/nextgen.md)
  --log text|json        log format on stderr (default text)
  -v, --verbose          log every message (debug level)
  -h, --help             this help`;

/** Options of SCTP over UDP (RFC 6951), shared by the commands. */
export const SCTP_OPTIONS = {
  sctp: { type: "boolean" },
  "sctp-udp": { type: "string" },
  "sctp-remote-udp-port": { type: "string" },
  "sctp-map": { type: "string", multiple: true },
  "sctp-source": { type: "string", multiple: true },
  "sctp-advertise": { type: "string" },
} as const;

/** Help lines of {@link SCTP_OPTIONS}. */
export const SCTP_HELP =
  `  --sctp                 SCTP (in TypeScript, over UDP, RFC 6951) besides TCP;
                         implied by any sctp://ADDR:PORT endpoint
  --sctp-udp ADDR:PORT   local UDP address of SCTP (default 127.0.0.1:9899)
  --sctp-remote-udp-port N  peers' UDP port until learned (default 9899)
  --sctp-map ADDR=HOST:PORT  send SCTP packets for ADDR to this UDP address
                         (repeatable; e.g. a VM behind a port forward)
  --sctp-source UDPADDR=ADDR  packets from UDPADDR come from the SCTP peer ADDR
                         (repeatable; a NAT in between, e.g. QEMU's user network)
  --sctp-advertise ADDR  the address peers know this host's SCTP by`;

/**
 * The SCTP/UDP transport the options ask for: opened when `--sctp` or an
 * `--sctp-*` option is given or `needed` (an sctp:// endpoint is in use);
 * undefined otherwise.
 */
export async function sctpOption(
  values: {
    sctp?: boolean;
    "sctp-udp"?: string;
    "sctp-remote-udp-port"?: string;
    "sctp-map"?: string[];
    "sctp-source"?: string[];
    "sctp-advertise"?: string;
  },
  needed: boolean,
  defaultUdpPort: number = SCTP_UDP_PORT,
): Promise<SctpUdpTransport | undefined> {
  const asked = values.sctp === true || values["sctp-udp"] !== undefined ||
    values["sctp-remote-udp-port"] !== undefined || values["sctp-map"] !== undefined ||
    values["sctp-source"] !== undefined || values["sctp-advertise"] !== undefined;
  if (!asked && !needed) return undefined;
  const udp = values["sctp-udp"] === undefined
    ? { address: "127.0.0.1", port: defaultUdpPort }
    : endpointOption("sctp-udp", values["sctp-udp"], { host: "127.0.0.1", port: defaultUdpPort });
  const map: Record<string, string> = {};
  for (const m of values["sctp-map"] ?? []) {
    const eq = m.indexOf("=");
    if (eq < 1) throw new UsageError(`--sctp-map: expected ADDR=HOST:PORT, got "${m}"`);
    const target = endpointOption("sctp-map", m.slice(eq + 1), { port: SCTP_UDP_PORT });
    map[m.slice(0, eq)] = `${target.address}:${target.port}`;
  }
  const sources: Record<string, string> = {};
  for (const m of values["sctp-source"] ?? []) {
    const [from, to] = m.split("=");
    if (!net.isIP(from ?? "") || !net.isIP(to ?? "")) {
      throw new UsageError(`--sctp-source: expected UDPADDR=ADDR (two IP addresses), got "${m}"`);
    }
    sources[from] = to;
  }
  const advertise = values["sctp-advertise"];
  if (advertise !== undefined && !net.isIP(advertise)) {
    throw new UsageError(`--sctp-advertise: "${advertise}" is not an IP address`);
  }
  try {
    return await SctpUdpTransport.open({
      host: udp.address,
      udpPort: udp.port,
      remoteUdpPort: values["sctp-remote-udp-port"] === undefined
        ? undefined
        : integerOption("sctp-remote-udp-port", values["sctp-remote-udp-port"], 1, 65535),
      map,
      sources,
      advertise,
    });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(
      `${(e as Error).message}${
        /EADDRINUSE|in use/.test((e as Error).message)
          ? " (another SCTP/UDP program on this host? choose another --sctp-udp port)"
          : ""
      }`,
    );
  }
}

/** The wire profile option. */
export function profileOption(value: string | undefined): WireProfile {
  if (value === undefined || value === "rfc") return "rfc";
  if (value === "nextgen") return "nextgen";
  throw new UsageError(`--profile: expected rfc or nextgen, got "${value}"`);
}

/** The logger the options ask for, writing to stderr. */
export function loggerOption(io: CliIo, format: string | undefined, verbose: boolean): Logger {
  const level = verbose ? "debug" : "info";
  const write = (line: string) => io.err(line + "\n");
  if (format === undefined || format === "text") return textLogger(write, level);
  if (format === "json") return jsonLogger(write, level);
  throw new UsageError(`--log: expected text or json, got "${format}"`);
}

/** An endpoint option (`host:port`, `[v6]:port`, `port`). */
export function endpointOption(
  name: string,
  value: string,
  defaults: { host?: string; port?: number },
): Endpoint {
  try {
    return parseEndpoint(value, defaults);
  } catch (e) {
    if (e instanceof RSerPoolError) throw new UsageError(`--${name}: ${e.message}`);
    throw e;
  }
}

/** `--pool`: a pool handle of 1 to 32 bytes (UTF-8). */
export function poolOption(value: string): string {
  if (value === "" || new TextEncoder().encode(value).length > 32) {
    throw new UsageError("--pool: a pool handle has 1 to 32 bytes");
  }
  return value;
}

/**
 * `--registrar ADDR:PORT` (repeatable) and `--announce GROUP:PORT`, as the
 * element, user and proxy take them: the registrars' ASAP endpoints
 * (undefined when neither option is given: the runtime's default) and the
 * announce channel.
 */
export function registrarsOption(
  values: { readonly registrar?: readonly string[]; readonly announce?: string },
  profile: WireProfile,
): { registrars: Endpoint[] | undefined; announce: UdpChannelSettings | undefined } {
  const port = profile === "nextgen" ? Port.AsapNextGen : Port.Asap;
  const registrars = (values.registrar ?? []).map((r) =>
    endpointOption("registrar", r, { host: "127.0.0.1", port })
  );
  const announce = values.announce === undefined
    ? undefined
    : channelOption("announce", values.announce, RSPLIB_ANNOUNCE_GROUP, undefined, undefined);
  return {
    registrars: registrars.length > 0 || announce !== undefined ? registrars : undefined,
    announce,
  };
}

/** A UDP channel option: `group:port` (port defaults to the channel's). */
export function channelOption(
  name: string,
  value: string,
  defaults: UdpChannelSettings,
  ttl: number | undefined,
  iface: string | undefined,
): UdpChannelSettings {
  const e = endpointOption(name, value, { port: defaults.port });
  return { group: e.address, port: e.port, ttl, interface: iface };
}

/** An integer option within bounds. */
export function integerOption(name: string, value: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name}: expected an integer ${min}…${max}, got "${value}"`);
  }
  return Number(value);
}

/** An identifier option: decimal or `0x` hex, non-zero, 32 or 64 bits by profile. */
export function identifierOption(name: string, value: string, profile: WireProfile): Identifier {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(value)) {
    throw new UsageError(`--${name}: expected a decimal or 0x-hex number, got "${value}"`);
  }
  const big = BigInt(value);
  const max = profile === "nextgen" ? 0xffffffffffffffffn : 0xffffffffn;
  if (big === 0n || big > max) {
    throw new UsageError(
      `--${name}: must be non-zero and fit in ${profile === "nextgen" ? 64 : 32} bits`,
    );
  }
  return profile === "nextgen" ? big : Number(big);
}

/** Reads a TLS PEM file named by an option. */
async function pemFile(io: CliIo, name: string, path: string): Promise<string> {
  try {
    return new TextDecoder().decode(await io.readFile(path));
  } catch (e) {
    throw new UsageError(`--${name}: cannot read "${path}": ${(e as Error).message}`);
  }
}

/** TLS settings from `--tls-cert`, `--tls-key`, `--tls-ca`; undefined when none is given. */
export async function tlsOptions(
  io: CliIo,
  values: {
    "tls-cert"?: string;
    "tls-key"?: string;
    "tls-ca"?: string;
    "tls-server-name"?: string;
    "tls-client-auth"?: boolean;
  },
  role: "server" | "client",
): Promise<TlsSettings | undefined> {
  const cert = values["tls-cert"];
  const key = values["tls-key"];
  const ca = values["tls-ca"];
  if (cert === undefined && key === undefined && ca === undefined) {
    if (values["tls-client-auth"]) throw new UsageError("--tls-client-auth needs --tls-ca");
    return undefined;
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  if (role === "server" && cert === undefined) {
    throw new UsageError("a TLS listener needs --tls-cert and --tls-key");
  }
  if (values["tls-client-auth"] && ca === undefined) {
    throw new UsageError("--tls-client-auth needs --tls-ca (the CA client certificates chain to)");
  }
  return {
    cert: cert === undefined ? undefined : await pemFile(io, "tls-cert", cert),
    key: key === undefined ? undefined : await pemFile(io, "tls-key", key),
    ca: ca === undefined ? undefined : await pemFile(io, "tls-ca", ca),
    serverName: values["tls-server-name"],
    requestClientCertificate: values["tls-client-auth"] === true,
  };
}

/** TLS options' help for a client. */
export const TLS_CLIENT_HELP =
  `  --tls-ca FILE          talk to registrars over TLS, trusting this CA (PEM)
  --tls-cert FILE        client certificate to present (PEM), with --tls-key
  --tls-key FILE         its private key (PEM)
  --tls-server-name NAME name the registrar's certificate must carry`;

const POLICY_ALIASES: Readonly<Record<string, string>> = {
  rr: "RoundRobin",
  roundrobin: "RoundRobin",
  wrr: "WeightedRoundRobin",
  weightedroundrobin: "WeightedRoundRobin",
  rand: "Random",
  random: "Random",
  wrand: "WeightedRandom",
  weightedrandom: "WeightedRandom",
  prio: "Priority",
  priority: "Priority",
  lu: "LeastUsed",
  leastused: "LeastUsed",
  lud: "LeastUsedDegradation",
  leastuseddegradation: "LeastUsedDegradation",
  plu: "PriorityLeastUsed",
  priorityleastused: "PriorityLeastUsed",
  rlu: "RandomizedLeastUsed",
  randomizedleastused: "RandomizedLeastUsed",
};

/** Policy spec help. */
export const POLICY_HELP =
  `Policies (--policy NAME[:VALUE...]; loads are fractions 0-1 or percentages):
  rr                     Round Robin (default)
  wrr:WEIGHT             Weighted Round Robin
  rand                   Random
  wrand:WEIGHT           Weighted Random
  prio:PRIORITY          Priority
  lu:LOAD                Least Used
  lud:LOAD:DEGRADATION   Least Used with Degradation
  plu:LOAD:DEGRADATION   Priority Least Used
  rlu:LOAD               Randomized Least Used`;

function loadValue(text: string, spec: string): number {
  const percent = text.endsWith("%");
  const n = Number(percent ? text.slice(0, -1) : text);
  const fraction = percent ? n / 100 : n;
  if (text === "" || !Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
    throw new UsageError(`--policy ${spec}: a load must be 0…1 or 0%…100%, got "${text}"`);
  }
  return Math.round(fraction * MAX_POLICY_VALUE);
}

function countValue(text: string, spec: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 0xffffffff) {
    throw new UsageError(`--policy ${spec}: ${what} must be an integer 0…4294967295`);
  }
  return Number(text);
}

/** Parses a policy spec such as `rr`, `wrr:3`, `lu:30%`, `lud:0.5:0.01`. */
export function policyOption(spec: string): PoolMemberSelectionPolicy {
  const [rawName, ...values] = spec.split(":");
  const name = POLICY_ALIASES[rawName.toLowerCase()];
  if (name === undefined) {
    throw new UsageError(`--policy: unknown policy "${rawName}"\n${POLICY_HELP}`);
  }
  const want = (n: number) => {
    if (values.length !== n) {
      throw new UsageError(`--policy ${spec}: ${name} takes ${n} value(s)\n${POLICY_HELP}`);
    }
  };
  switch (name) {
    case "RoundRobin":
    case "Random":
      want(0);
      return { type: name };
    case "WeightedRoundRobin":
    case "WeightedRandom":
      want(1);
      return { type: name, weight: countValue(values[0], spec, "the weight") };
    case "Priority":
      want(1);
      return { type: name, priority: countValue(values[0], spec, "the priority") };
    case "LeastUsed":
    case "RandomizedLeastUsed":
      want(1);
      return { type: name, load: loadValue(values[0], spec) };
    default:
      want(2);
      return {
        type: name as "LeastUsedDegradation" | "PriorityLeastUsed",
        load: loadValue(values[0], spec),
        loadDegradation: loadValue(values[1], spec),
      };
  }
}

/** Waits for Ctrl-C (or SIGTERM), or forever when the I/O cannot tell. */
export function interrupted(io: CliIo): Promise<string> {
  return io.interrupted?.() ?? new Promise(() => {});
}
