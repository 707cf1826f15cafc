/**
 * A registrar's state as JSON (our take on RFC 5525's RSerPool MIB), and a
 * small HTTP endpoint that serves it.
 *
 * `GET /status` answers the summary: the registrar, its peers, the
 * handlespace's size and checksums, connections and counters. `GET /pools`
 * lists pools and their elements (`?limit=` elements per pool, default
 * 100). Identifiers are `0x…` hex; pool handles follow the JSON rules of
 * the decoder (text when printable, else `0x…` hex).
 *
 * @module
 */

import http from "node:http";
import https from "node:https";
import { TransportError } from "../errors.ts";
import type { Handlespace } from "../handlespace/handlespace.ts";
import { bytesToJson } from "../protocol/json.ts";
import type { Identifier, TransportParameter } from "../protocol/types.ts";
import type { RegistrarStatus } from "../registrar/registrar.ts";
import type { DriverCounters } from "./driver.ts";
import { checkTlsServer, type TlsSettings } from "../transport/tcp.ts";
import { type Endpoint, formatEndpoint } from "./endpoint.ts";

/** An identifier as `0x` and 8 (32-bit) or 16 (64-bit) hex digits. */
export function formatIdentifier(id: Identifier): string {
  return typeof id === "bigint"
    ? "0x" + id.toString(16).padStart(16, "0")
    : "0x" + (id >>> 0).toString(16).padStart(8, "0");
}

/** A transport parameter as `TCP 127.0.0.1:3863` (all addresses, comma-separated). */
export function formatTransport(t: TransportParameter): string {
  return `${t.type} ${
    t.addresses.map((a) => formatEndpoint({ address: a, port: t.port })).join(",")
  }`;
}

/** What a registrar has done since it started. */
export interface RegistrarCounters extends DriverCounters {
  /** Registrations accepted (new elements and re-registrations). */
  registrations: number;
  /** Registrations refused. */
  registrationsRefused: number;
  /** Elements removed, by reason. */
  removals: Record<string, number>;
  /** Malformed or unexpected messages answered with an error. */
  protocolErrors: number;
  /** Takeovers of failed peers completed. */
  takeovers: number;
}

/** The JSON summary of a running registrar. */
export interface RegistrarSnapshot {
  /** The registrar itself. */
  readonly registrar: {
    readonly id: string;
    readonly profile: "rfc" | "nextgen";
    readonly phase: string;
    readonly uptimeSeconds: number;
    readonly asap: string;
    readonly enrp: string;
    readonly tls: boolean;
    readonly announce: string | null;
    readonly presence: string | null;
  };
  /** The handlespace. */
  readonly handlespace: {
    readonly pools: number;
    readonly elements: number;
    readonly owned: number;
    readonly checksum: string;
  };
  /** The peers. */
  readonly peers: readonly {
    readonly id: string;
    readonly connected: boolean;
    readonly lastHeardSecondsAgo: number;
    readonly owns: number;
    readonly checksum: string;
  }[];
  /** Open connections. */
  readonly connections: number;
  /** Counters since start. */
  readonly counters: RegistrarCounters;
}

/** One pool in the `/pools` listing. */
export interface PoolSnapshot {
  /** Pool handle. */
  readonly handle: string;
  /** Policy name. */
  readonly policy: string;
  /** Number of elements. */
  readonly size: number;
  /** Elements (at most the requested number). */
  readonly elements: readonly {
    readonly id: string;
    readonly transport: string;
    readonly home: string;
    readonly lifeSeconds: number;
    readonly local: boolean;
  }[];
}

/** Builds the summary. */
export function registrarSnapshot(
  status: RegistrarStatus,
  info: {
    profile: "rfc" | "nextgen";
    startedAt: number;
    now: number;
    asap: Endpoint;
    enrp: Endpoint;
    tls: boolean;
    announce?: Endpoint;
    presence?: Endpoint;
    connections: number;
    counters: RegistrarCounters;
  },
): RegistrarSnapshot {
  const checksumDigits = info.profile === "nextgen" ? 8 : 4;
  const hex = (n: number) => "0x" + (n >>> 0).toString(16).padStart(checksumDigits, "0");
  return {
    registrar: {
      id: formatIdentifier(status.id),
      profile: info.profile,
      phase: status.phase,
      uptimeSeconds: Math.round((info.now - info.startedAt) / 1000),
      asap: formatEndpoint(info.asap),
      enrp: formatEndpoint(info.enrp),
      tls: info.tls,
      announce: info.announce ? formatEndpoint(info.announce) : null,
      presence: info.presence ? formatEndpoint(info.presence) : null,
    },
    handlespace: {
      pools: status.pools,
      elements: status.elements,
      owned: status.owned,
      checksum: hex(status.checksum),
    },
    peers: status.peers.map((p) => ({
      id: formatIdentifier(p.id),
      connected: p.connected,
      lastHeardSecondsAgo: Math.max(0, Math.round((info.now - p.lastHeard) / 1000)),
      owns: p.owns,
      checksum: hex(p.checksum),
    })),
    connections: info.connections,
    counters: structuredClone(info.counters),
  };
}

/** Lists pools with up to `limit` elements each. */
export function poolSnapshots(
  handlespace: Handlespace,
  ownId: Identifier,
  now: number,
  limit = 100,
): PoolSnapshot[] {
  const out: PoolSnapshot[] = [];
  for (const pool of handlespace.allPools()) {
    const elements: PoolSnapshot["elements"][number][] = [];
    for (const id of pool.identifiers()) {
      if (elements.length >= limit) break;
      const node = pool.elements.get(id);
      if (node === undefined) continue;
      elements.push({
        id: formatIdentifier(node.identifier),
        transport: formatTransport(node.userTransport),
        home: formatIdentifier(node.homeRegistrarId),
        lifeSeconds: Math.max(0, Math.round((node.expiresAt - now) / 1000)),
        local: node.homeRegistrarId === ownId,
      });
    }
    out.push({
      handle: bytesToJson(pool.handle),
      policy: pool.policyName,
      size: pool.size,
      elements,
    });
  }
  return out;
}

/** A running status endpoint. */
export interface StatusServer {
  /** Where it listens. */
  readonly address: Endpoint;
  /** Stops it. */
  close(): Promise<void>;
}

/**
 * Serves `GET /status` and `GET /pools` as JSON on `host:port` (loopback
 * by default: the status tells the handlespace to whoever asks), and what
 * `api` takes (the registrar's HTTP API, `./api.ts`). With `tls`, over
 * HTTPS, with client certificates when `tls.requestClientCertificate`.
 */
export function serveStatus(
  endpoint: Endpoint,
  summary: () => unknown,
  pools: (limit: number) => unknown,
  api?: (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => boolean,
  tls?: TlsSettings,
): Promise<StatusServer> {
  if (tls !== undefined) {
    try {
      checkTlsServer(tls);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://status");
    if (api?.(req, res, url)) return;
    let body: unknown;
    if (req.method !== "GET") {
      res.writeHead(405, { allow: "GET" }).end();
      return;
    }
    if (url.pathname === "/status" || url.pathname === "/") body = summary();
    else if (url.pathname === "/pools") {
      const limit = Number(url.searchParams.get("limit") ?? 100);
      body = pools(Number.isInteger(limit) && limit >= 0 ? Math.min(limit, 100_000) : 100);
    } else {
      res.writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ error: "not found; try /status or /pools" }));
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify(body, null, 2) + "\n",
    );
  };
  const server = tls === undefined ? http.createServer(handler) : https.createServer({
    cert: tls.cert,
    key: tls.key,
    ca: tls.ca as string | string[] | undefined,
    requestCert: tls.requestClientCertificate === true,
    rejectUnauthorized: tls.requestClientCertificate === true,
  }, handler);
  return new Promise((resolve, reject) => {
    server.once("error", (e: Error & { code?: string }) =>
      reject(
        new TransportError(
          "listen-failed",
          `cannot serve status on ${formatEndpoint(endpoint)}: ${e.code ?? e.message}`,
          { cause: e },
        ),
      ));
    server.listen(endpoint.port, endpoint.address, () => {
      const a = server.address() as { address: string; port: number };
      resolve({
        address: { address: a.address, port: a.port },
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}
