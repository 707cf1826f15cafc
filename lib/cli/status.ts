/**
 * `rserpool status`: asks a registrar's status endpoint for its state.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { formatEndpoint } from "../runtime/endpoint.ts";
import type { PoolSnapshot, RegistrarSnapshot } from "../runtime/status.ts";
import { endpointOption, integerOption } from "./common.ts";
import { type CliIo, UsageError } from "./io.ts";

/** Default status endpoint (what the README's examples use with `--status`). */
export const DEFAULT_STATUS_ENDPOINT = "127.0.0.1:8863";

/** Help text of `rserpool status`. */
export const STATUS_HELP = `Usage: rserpool status [options] [ADDR:PORT | https://ADDR:PORT]

Prints the state of a registrar started with --status ADDR:PORT: its
identifier, peers, handlespace size and checksums, connections, counters, and
with --pools its pools and elements. ADDR:PORT defaults to ${DEFAULT_STATUS_ENDPOINT};
https://ADDR:PORT reaches a registrar that serves it over TLS (one started with
--tls-cert; its CA must be trusted by the runtime, e.g. DENO_CERT or
NODE_EXTRA_CA_CERTS).

Options:
  --pools                also list pools and their elements
  --limit N              elements listed per pool (default 100)
  --json                 print the JSON as served
  --timeout MS           give up after this long (default 5000)
  -h, --help             this help

Exit status: 0 on success, 1 when the registrar cannot be reached.
`;

function line(key: string, value: unknown): string {
  return `${(key + ":").padEnd(14)}${value}\n`;
}

function render(s: RegistrarSnapshot, pools: PoolSnapshot[] | undefined): string {
  let out = "";
  const r = s.registrar;
  out += line("registrar", `${r.id} (${r.profile} profile, ${r.phase}, up ${r.uptimeSeconds} s)`);
  out += line("asap", `${r.asap}${r.tls ? " TLS" : ""}`);
  out += line("enrp", r.enrp);
  if (r.announce) out += line("announce", r.announce);
  if (r.presence) out += line("presence", r.presence);
  const h = s.handlespace;
  out += line(
    "handlespace",
    `${h.pools} pool(s), ${h.elements} element(s), ${h.owned} owned here, checksum ${h.checksum}`,
  );
  out += line("connections", s.connections);
  if (s.peers.length === 0) out += line("peers", "none");
  for (const p of s.peers) {
    out += line(
      "peer",
      `${p.id} ${
        p.connected ? "connected" : "not connected"
      }, heard ${p.lastHeardSecondsAgo} s ago, owns ${p.owns}, checksum ${p.checksum}`,
    );
  }
  const c = s.counters;
  out += line(
    "messages",
    `${c.messagesIn} in, ${c.messagesOut} out, ${c.decodeErrors} undecodable`,
  );
  out += line(
    "registrations",
    `${c.registrations} accepted, ${c.registrationsRefused} refused; removed: ${
      Object.entries(c.removals).map(([k, v]) => `${k} ${v}`).join(", ") || "none"
    }`,
  );
  for (const pool of pools ?? []) {
    out += `\npool "${pool.handle}" (${pool.policy}, ${pool.size} element(s))\n`;
    for (const e of pool.elements) {
      out += `  ${e.id}  ${e.transport}  home ${e.home}${
        e.local ? " (here)" : ""
      }  life ${e.lifeSeconds} s\n`;
    }
    if (pool.elements.length < pool.size) out += `  … ${pool.size - pool.elements.length} more\n`;
  }
  return out;
}

async function getJson(url: string, timeout: number): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeout) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return await response.json();
}

/** Runs `rserpool status`. */
export async function statusCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      pools: { type: "boolean" },
      limit: { type: "string" },
      json: { type: "boolean" },
      timeout: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
  });
  if (values.help) {
    io.out(STATUS_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError("give one status endpoint");
  const given = positionals[0] ?? DEFAULT_STATUS_ENDPOINT;
  // https://ADDR:PORT for a registrar serving its status over TLS (its CA trusted by the runtime).
  const secure = given.startsWith("https://");
  const target = endpointOption("status", secure ? given.slice("https://".length) : given, {
    host: "127.0.0.1",
  });
  const limit = values.limit === undefined ? 100 : integerOption("limit", values.limit, 0, 100_000);
  const timeout = values.timeout === undefined
    ? 5000
    : integerOption("timeout", values.timeout, 1, 600_000);
  const base = `${secure ? "https" : "http"}://${formatEndpoint(target)}`;
  let summary: RegistrarSnapshot;
  let pools: PoolSnapshot[] | undefined;
  try {
    summary = await getJson(`${base}/status`, timeout) as RegistrarSnapshot;
    if (values.pools) {
      pools = await getJson(`${base}/pools?limit=${limit}`, timeout) as PoolSnapshot[];
    }
  } catch (e) {
    io.err(`rserpool status: cannot reach ${base}: ${(e as Error).message}\n`);
    return 1;
  }
  if (values.json) {
    io.out(JSON.stringify(values.pools ? { ...summary, pools } : summary, null, 2) + "\n");
  } else {
    io.out(render(summary, pools));
  }
  return 0;
}
