/**
 * The registrar's HTTP API for programs in other languages (served on its
 * status endpoint; docs/runtime.md and docs/openapi.yaml describe it):
 *
 * - `GET /pools/{handle}/resolve?items=N`: a handle resolution with the
 *   pool's policy applied, as an ASAP Handle Resolution gets it;
 * - `GET /pools/{handle}/watch`: Server-Sent Events, the pool's elements
 *   first (`snapshot`), then every change (`added`, `updated`, `removed`);
 * - `POST /pools/{handle}/elements`, `PUT /pools/{handle}/elements/{id}`:
 *   registers (or renews) an element with a time-to-live that the caller
 *   refreshes; the registrar keeps it registered on the caller's behalf
 *   until the TTL lapses (writes only when enabled);
 * - `DELETE /pools/{handle}/elements/{id}`: deregisters such an element.
 *
 * Pool handles in paths are UTF-8 text (percent-encoded as URLs need), or
 * `0x` and hex digits for any bytes. Identifiers are `0x` hex or decimal.
 *
 * @module
 */

import type http from "node:http";
import { TLSSocket } from "node:tls";
import { EncodeError, ProtocolError } from "../errors.ts";
import { encodePolicyParameter, encodeTransportParameter } from "../protocol/codec.ts";
import { ERROR_CAUSE_NAMES, ErrorCauseCode, TransportUse } from "../protocol/constants.ts";
import { bytesToJson } from "../protocol/json.ts";
import type {
  Identifier,
  PoolElementParameter,
  PoolMemberSelectionPolicy,
  TransportParameter,
  WireProfile,
} from "../protocol/types.ts";
import type { PoolElementNode } from "../handlespace/node.ts";
import { poolKey } from "../handlespace/pool.ts";
import { parseHex } from "../wire/hex.ts";
import type { RegistrarEvent } from "../registrar/options.ts";
import type { Registrar } from "../registrar/registrar.ts";
import { subjectOf } from "../transport/tcp.ts";
import { formatIdentifier } from "./status.ts";

/** Options of {@link registrarApi}. */
export interface RegistrarApiOptions {
  /** Allow registrations and deregistrations (default false: read only). */
  readonly write?: boolean;
  /** Longest time-to-live a caller may ask for, ms (default 1 hour). */
  readonly maxTtl?: number;
}

/** The HTTP API of one registrar. */
export interface RegistrarApi {
  /** Serves a request if it is one of the API's; false otherwise. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): boolean;
  /** Feeds a registrar event to the watchers. */
  event(event: RegistrarEvent): void;
  /** Ends every watch stream. */
  close(): void;
}

/** An element as the API shows it. */
export interface ApiElement {
  /** PE identifier, `0x` hex. */
  readonly id: string;
  /** Its home registrar, `0x` hex. */
  readonly home: string;
  /** Transport protocol of its user transport. */
  readonly transport: TransportParameter["type"];
  /** Its addresses. */
  readonly addresses: readonly string[];
  /** Its port. */
  readonly port: number;
  /** Whether it serves plain data (Transport Use DATA ONLY; always for UDP). */
  readonly dataOnly: boolean;
  /** The selection policy and its values, as the library writes them. */
  readonly policy: PoolMemberSelectionPolicy;
  /** Registration life, ms. */
  readonly registrationLife: number;
}

/** An element parameter as JSON. */
export function apiElement(e: PoolElementParameter): ApiElement {
  const t = e.userTransport;
  return {
    id: formatIdentifier(e.identifier),
    home: formatIdentifier(e.homeRegistrarId),
    transport: t.type,
    addresses: t.addresses,
    port: t.port,
    dataOnly: !("transportUse" in t) || t.transportUse === TransportUse.DataOnly,
    policy: e.policy,
    registrationLife: e.registrationLife,
  };
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly errorCause?: number) {
    super(message);
  }
}

/** A pool handle from a path segment: `0x…` hex, else UTF-8 text. */
export function poolHandleFromPath(segment: string): Uint8Array {
  let text: string;
  try {
    text = decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, "the pool handle is not valid percent-encoding");
  }
  const bytes = /^0x([0-9a-f]{2})+$/i.test(text) ? parseHex(text) : new TextEncoder().encode(text);
  if (bytes.length === 0 || bytes.length > 32) {
    throw new HttpError(400, "a pool handle has 1 to 32 bytes");
  }
  return bytes;
}

function identifierFrom(text: string, profile: WireProfile): Identifier {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) {
    throw new HttpError(400, `"${text}" is not an identifier (0x hex or decimal)`);
  }
  const big = BigInt(text);
  const max = profile === "nextgen" ? 0xffffffffffffffffn : 0xffffffffn;
  if (big === 0n || big > max) throw new HttpError(400, "the identifier is 0 or too large");
  return profile === "nextgen" ? big : Number(big);
}

function randomIdentifier(profile: WireProfile): Identifier {
  const words = crypto.getRandomValues(new Uint32Array(2));
  if (profile === "nextgen") return ((BigInt(words[0]) << 32n) | BigInt(words[1])) || 1n;
  return words[0] || 1;
}

/** The element a registration body describes (see docs/runtime.md). */
function elementFromBody(
  body: unknown,
  identifier: Identifier,
  profile: WireProfile,
  maxTtl: number,
): PoolElementParameter {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new HttpError(400, "expected a JSON object");
  }
  const b = body as Record<string, unknown>;
  const addresses = b.addresses ?? (b.address === undefined ? undefined : [b.address]);
  if (
    !Array.isArray(addresses) || addresses.length === 0 ||
    !addresses.every((a) => typeof a === "string")
  ) {
    throw new HttpError(400, `"address" (or "addresses"): the element's IP address(es)`);
  }
  const port = b.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new HttpError(400, `"port": 1 to 65535`);
  }
  const type = b.transport ?? "TCP";
  if (type !== "TCP" && type !== "UDP" && type !== "SCTP") {
    throw new HttpError(400, `"transport": TCP, UDP or SCTP`);
  }
  const ttl = b.ttl;
  if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 1000 || ttl > maxTtl) {
    throw new HttpError(400, `"ttl": the time-to-live in ms, 1000 to ${maxTtl}`);
  }
  const userTransport =
    (type === "UDP"
      ? { type, addresses, port }
      : { type, addresses, port, transportUse: TransportUse.DataOnly }) as TransportParameter;
  const policy = (b.policy ?? { type: "RoundRobin" }) as PoolMemberSelectionPolicy;
  try {
    encodeTransportParameter(userTransport);
  } catch (e) {
    if (e instanceof EncodeError) throw new HttpError(400, `bad transport: ${e.message}`);
    throw e;
  }
  try {
    encodePolicyParameter(policy);
  } catch (e) {
    if (e instanceof EncodeError) throw new HttpError(400, `bad "policy": ${e.message}`);
    throw e;
  }
  return {
    identifier,
    homeRegistrarId: profile === "nextgen" ? 0n : 0,
    registrationLife: ttl,
    userTransport,
    policy,
  };
}

async function readJson(req: http.IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Uint8Array).length;
    if (size > limit) throw new HttpError(413, `a body of at most ${limit} bytes`);
    chunks.push(chunk as Uint8Array);
  }
  const all = new Uint8Array(size);
  let p = 0;
  for (const c of chunks) {
    all.set(c, p);
    p += c.length;
  }
  try {
    return JSON.parse(new TextDecoder().decode(all));
  } catch {
    throw new HttpError(400, "the body is not JSON");
  }
}

function send(res: http.ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { "content-type": "application/json" })
    .end(JSON.stringify(body, null, 2) + "\n");
}

interface Watcher {
  /** The watched pool's key (the handlespace's `Pool.key`). */
  readonly key: string;
  readonly res: http.ServerResponse;
}

function nodeElement(node: PoolElementNode): ApiElement {
  return apiElement(node.toPoolElement());
}

/**
 * The HTTP API of a registrar. `run` must be the driver's way to act on
 * the registrar (it flushes the messages a call produces).
 */
export function registrarApi(
  registrar: Registrar,
  run: (step: (now: number) => void) => void,
  profile: WireProfile,
  options: RegistrarApiOptions = {},
): RegistrarApi {
  const maxTtl = options.maxTtl ?? 3_600_000;
  const watchers = new Set<Watcher>();

  const resolve = (handle: Uint8Array, url: URL) => {
    const items = Number(url.searchParams.get("items") ?? 0);
    if (!Number.isInteger(items) || items < 0) throw new HttpError(400, "items: an integer >= 0");
    let found: PoolElementParameter[] | undefined;
    run((now) => {
      found = registrar.resolve(handle, items, now);
    });
    if (found === undefined) throw new HttpError(404, `no pool "${bytesToJson(handle)}"`);
    return { pool: bytesToJson(handle), elements: found.map(apiElement) };
  };

  const register = async (
    req: http.IncomingMessage,
    handle: Uint8Array,
    identifier: Identifier,
  ) => {
    const element = elementFromBody(await readJson(req), identifier, profile, maxTtl);
    let node: PoolElementNode | undefined;
    let refusal: ProtocolError | undefined;
    run((now) => {
      try {
        node = registrar.registerOnBehalf(handle, element, now, {
          remote: req.socket.remoteAddress === undefined ? undefined : {
            address: req.socket.remoteAddress,
            port: req.socket.remotePort ?? 0,
            transport: "TCP",
          },
          identity: req.socket instanceof TLSSocket ? subjectOf(req.socket) : undefined,
        });
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        refusal = e;
      }
    });
    if (refusal !== undefined) {
      const cause = refusal.errorCause;
      throw new HttpError(
        cause === ErrorCauseCode.RejectedDueToSecurity
          ? 403
          : cause === ErrorCauseCode.LackOfResources
          ? 503
          : cause === ErrorCauseCode.InvalidValues
          ? 400
          : 409,
        `refused: ${
          ERROR_CAUSE_NAMES.get(cause) ?? `cause 0x${cause.toString(16)}`
        } (${refusal.message})`,
        cause,
      );
    }
    return {
      pool: bytesToJson(handle),
      element: nodeElement(node!),
      ttl: element.registrationLife,
    };
  };

  const watch = (req: http.IncomingMessage, res: http.ServerResponse, handle: Uint8Array) => {
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    const pool = registrar.handlespace.pool(handle);
    const elements = pool === undefined
      ? []
      : pool.identifiers().map((id) => nodeElement(pool.elements.get(id)!));
    res.write(
      `event: snapshot\ndata: ${JSON.stringify({ pool: bytesToJson(handle), elements })}\n\n`,
    );
    const watcher = { key: poolKey(handle), res };
    watchers.add(watcher);
    req.on("close", () => watchers.delete(watcher));
  };

  const tell = (node: PoolElementNode, kind: "added" | "updated" | "removed") => {
    if (watchers.size === 0) return;
    let data: string | undefined;
    for (const w of watchers) {
      if (w.key !== node.pool.key) continue;
      data ??= JSON.stringify(
        kind === "removed" ? { id: formatIdentifier(node.identifier) } : nodeElement(node),
      );
      w.res.write(`event: ${kind}\ndata: ${data}\n\n`);
    }
  };

  const route = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    const parts = url.pathname.split("/").slice(1);
    // ["pools", handle, action, id?]
    const handle = poolHandleFromPath(parts[1]);
    const action = parts[2];
    const method = req.method ?? "GET";
    const write = method === "POST" || method === "PUT" || method === "DELETE";
    if (write && options.write !== true) {
      throw new HttpError(403, "this registrar's API is read-only (start it with --api-write)");
    }
    if (action === "resolve" && parts.length === 3 && method === "GET") {
      return send(res, 200, resolve(handle, url));
    }
    if (action === "watch" && parts.length === 3 && method === "GET") {
      return watch(req, res, handle);
    }
    if (action === "elements" && parts.length === 3 && method === "POST") {
      const body = await register(req, handle, randomIdentifier(profile));
      return send(res, 201, body);
    }
    if (action === "elements" && parts.length === 4 && method === "PUT") {
      return send(res, 200, await register(req, handle, identifierFrom(parts[3], profile)));
    }
    if (action === "elements" && parts.length === 4 && method === "DELETE") {
      const id = identifierFrom(parts[3], profile);
      let done = false;
      run((now) => {
        done = registrar.deregisterOnBehalf(handle, id, now);
      });
      if (!done) {
        throw new HttpError(404, "no element registered through the API with that identifier");
      }
      return send(res, 204);
    }
    throw new HttpError(405, `${method} ${url.pathname} is not part of the API (docs/runtime.md)`);
  };

  return {
    handle(req, res, url) {
      const parts = url.pathname.split("/");
      if (parts[1] !== "pools" || parts.length < 4 || parts[3] === "") return false;
      route(req, res, url).catch((e) => {
        if (!(e instanceof HttpError)) throw e;
        send(res, e.status, {
          error: e.message,
          ...(e.errorCause === undefined ? {} : { cause: e.errorCause }),
        });
      }).catch((e: Error) => {
        if (!res.headersSent) send(res, 500, { error: e.message });
        else res.end();
      });
      return true;
    },
    event(event) {
      switch (event.kind) {
        case "registered":
        case "learnt":
          return tell(event.node, event.added ? "added" : "updated");
        case "removed":
          return tell(event.node, "removed");
      }
    },
    close() {
      for (const w of watchers) w.res.end();
      watchers.clear();
    },
  };
}
