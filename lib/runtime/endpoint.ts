/**
 * Endpoints as people write them (`host:port`, `[v6]:port`, `port`) and
 * as the protocols carry them (transport parameters).
 *
 * @module
 */

import net from "node:net";
import os from "node:os";
import { RSerPoolError } from "../errors.ts";
import { TransportUse } from "../protocol/constants.ts";
import type { TransportParameter } from "../protocol/types.ts";

/** An IP address and port, and the transport to reach it by. */
export interface Endpoint {
  /** IP address (or host name, where the runtime resolves it). */
  readonly address: string;
  /** Port. */
  readonly port: number;
  /** `"SCTP"` for an `sctp://` endpoint; TCP when absent. */
  readonly transport?: "TCP" | "SCTP";
}

function port(text: string, original: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new RSerPoolError("bad-endpoint", `"${original}": port must be a number 0…65535`);
  }
  return Number(text);
}

/**
 * Parses `host:port`, `[ipv6]:port`, `:port` or a bare `port` (on the
 * default host), or a bare host (on the default port), each optionally
 * prefixed `tcp://` or `sctp://` (SCTP, over UDP here). Throws {@link RSerPoolError} `bad-endpoint`.
 */
export function parseEndpoint(
  text: string,
  defaults: { host?: string; port?: number } = {},
): Endpoint {
  const scheme = /^(tcp|sctp):\/\//i.exec(text.trim());
  if (scheme !== null) {
    const e = parseEndpoint(text.trim().slice(scheme[0].length), defaults);
    return scheme[1].toLowerCase() === "sctp" ? { ...e, transport: "SCTP" } : e;
  }
  const t = text.trim();
  if (t === "") throw new RSerPoolError("bad-endpoint", "empty endpoint");
  let host: string | undefined;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(t);
  if (v6 !== null) {
    host = v6[1];
    portText = v6[2];
    if (!net.isIPv6(host)) {
      throw new RSerPoolError("bad-endpoint", `"${text}": not an IPv6 address`);
    }
  } else if (/^\d+$/.test(t)) {
    portText = t;
  } else if (net.isIPv6(t)) {
    host = t;
  } else {
    const colon = t.lastIndexOf(":");
    if (colon >= 0) {
      host = t.slice(0, colon);
      portText = t.slice(colon + 1);
    } else {
      host = t;
    }
  }
  if (host === "") host = undefined; // ":port"
  if (host !== undefined && !net.isIP(host) && !/^[A-Za-z0-9.-]+$/.test(host)) {
    throw new RSerPoolError("bad-endpoint", `"${text}": "${host}" is not an address or host name`);
  }
  const address = host ?? defaults.host;
  if (address === undefined) throw new RSerPoolError("bad-endpoint", `"${text}": no address`);
  if (portText === undefined) {
    if (defaults.port === undefined) throw new RSerPoolError("bad-endpoint", `"${text}": no port`);
    return { address, port: defaults.port };
  }
  return { address, port: port(portText, text) };
}

/** An endpoint as text: `1.2.3.4:5`, `[::1]:5`, `sctp://1.2.3.4:5`. */
export function formatEndpoint(endpoint: Endpoint): string {
  const text = net.isIPv6(endpoint.address)
    ? `[${endpoint.address}]:${endpoint.port}`
    : `${endpoint.address}:${endpoint.port}`;
  return endpoint.transport === "SCTP" ? `sctp://${text}` : text;
}

/** Whether an address is a wildcard (`0.0.0.0`, `::`). */
export function isWildcard(address: string): boolean {
  return address === "0.0.0.0" || address === "::" || address === "";
}

/**
 * The addresses to tell others for a local address: itself, or for a
 * wildcard the host's non-internal addresses of that family (loopback when
 * it has none).
 */
export function advertisedAddresses(address: string): string[] {
  if (!isWildcard(address)) return [address];
  const v6 = address === "::";
  const found: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === "IPv4" || (v6 && a.family === "IPv6" && !a.address.startsWith("fe80"))) {
        found.push(a.address);
      }
    }
  }
  return found.length > 0 ? found : [v6 ? "::1" : "127.0.0.1"];
}

/** A TCP Transport parameter (RFC 5354 §3.5: exactly one address). */
export function tcpTransport(
  address: string,
  portNumber: number,
  transportUse: number = TransportUse.DataOnly,
): TransportParameter {
  if (!net.isIP(address)) {
    throw new RSerPoolError("bad-endpoint", `"${address}" is not an IP address`);
  }
  return { type: "TCP", port: portNumber, transportUse, addresses: [address] };
}

/** An SCTP Transport parameter (RFC 5354 §3.4: one or more addresses). */
export function sctpTransport(
  addresses: readonly string[],
  portNumber: number,
  transportUse: number = TransportUse.DataOnly,
): TransportParameter {
  for (const address of addresses) {
    if (!net.isIP(address)) {
      throw new RSerPoolError("bad-endpoint", `"${address}" is not an IP address`);
    }
  }
  if (addresses.length === 0) throw new RSerPoolError("bad-endpoint", "no address");
  return { type: "SCTP", port: portNumber, transportUse, addresses: [...addresses] };
}

/** The transport parameter of an endpoint: SCTP for `sctp://` endpoints, TCP otherwise. */
export function transportParameter(
  endpoint: Endpoint,
  transportUse: number = TransportUse.DataOnly,
): TransportParameter {
  return endpoint.transport === "SCTP"
    ? sctpTransport([endpoint.address], endpoint.port, transportUse)
    : tcpTransport(endpoint.address, endpoint.port, transportUse);
}
