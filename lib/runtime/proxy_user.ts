/**
 * A proxy pool user: lets any TCP client use a pool. Each accepted
 * connection is forwarded to an element the pool's policy chooses (from a
 * resolution cached as a pool user caches it, RFC 5352 §3.3); an element
 * that cannot be reached is reported to the registrar (ASAP Endpoint
 * Unreachable, RFC 5352 §3.5) and the next one is tried, so new
 * connections do not see a dead element. Elements must serve plain TCP
 * (Transport Use DATA ONLY), as proxy pool elements do.
 *
 * ```ts ignore
 * import { startProxy } from "@rserpool/rserpool/runtime";
 *
 * const proxy = await startProxy({ poolHandle: "web", listen: "127.0.0.1:8080" });
 * // curl http://127.0.0.1:8080/ reaches an element of "web"
 * await proxy.close();
 * ```
 *
 * @module
 */

import net from "node:net";
import { RSerPoolError } from "../errors.ts";
import type { PoolElementParameter, WireProfile } from "../protocol/types.ts";
import type { TlsSettings } from "../transport/tcp.ts";
import type { UdpChannelSettings } from "../transport/udp.ts";
import type { PoolUserOptions } from "../user/user.ts";
import { type Endpoint, formatEndpoint, parseEndpoint } from "./endpoint.ts";
import { forwardClient } from "./forward.ts";
import { type Logger, silentLogger } from "./log.ts";
import { formatIdentifier } from "./status.ts";
import { createPoolUser, type RunningPoolUser } from "./user.ts";

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  /** The pool whose elements serve the connections (text is UTF-8 encoded). */
  readonly poolHandle: string | Uint8Array;
  /** Where clients connect. */
  readonly listen: string | Endpoint;
  /** Registrars' ASAP endpoints (default `127.0.0.1:3863` unless `announce` is given). */
  readonly registrars?: readonly (string | Endpoint)[];
  /** Hear ASAP Server Announces on this UDP channel. */
  readonly announce?: UdpChannelSettings;
  /** Wire profile. */
  readonly profile?: WireProfile;
  /** TLS on the connections to registrars. */
  readonly tls?: TlsSettings;
  /** Pool user timers (e.g. `staleCache`, how long a resolution is used). */
  readonly timers?: PoolUserOptions["timers"];
  /** How long a connect to an element may take, ms (default 3000). */
  readonly connectTimeout?: number;
  /** Elements tried per client connection before giving up (default 5). */
  readonly maxAttempts?: number;
  /** Close a connection idle for this long, ms (default 0: never). */
  readonly idleTimeout?: number;
  /** Connections at once; more are refused (default 10,000). */
  readonly maxConnections?: number;
  /** Prefix each connection to an element with a PROXY protocol v2 header. */
  readonly proxyProtocol?: boolean;
  /**
   * Share the listening port with other proxies (SO_REUSEPORT, Linux): run
   * one proxy per CPU on the same port and the kernel spreads connections
   * over them. Needs Deno, Bun or Node 22.12 or later.
   */
  readonly reusePort?: boolean;
  /** What it reports (default: nothing). */
  readonly log?: Logger;
}

/** Counters of a proxy. */
export interface ProxyCounts {
  /** Client connections accepted. */
  readonly accepted: number;
  /** Client connections forwarded to an element. */
  readonly forwarded: number;
  /** Client connections refused at the connection limit. */
  readonly refused: number;
  /** Client connections closed because no element could be reached. */
  readonly unserved: number;
  /** Connects to elements that failed (each reported as unreachable). */
  readonly unreachable: number;
  /** Bytes from clients to elements. */
  readonly bytesIn: number;
  /** Bytes from elements to clients. */
  readonly bytesOut: number;
}

/** A running proxy. */
export interface RunningProxy {
  /** Where clients connect. */
  readonly address: Endpoint;
  /** Client connections open now. */
  readonly active: number;
  /** Counters since the start. */
  readonly counts: ProxyCounts;
  /** The pool user it resolves with. */
  readonly user: RunningPoolUser;
  /** Stops accepting, closes every connection and the pool user. */
  close(): Promise<void>;
}

/** Where to connect to an element: its user transport's first address, over TCP. */
function tcpEndpointOf(element: PoolElementParameter): Endpoint | undefined {
  const t = element.userTransport;
  if (t.type !== "TCP" || t.addresses.length === 0) return undefined;
  return { address: t.addresses[0], port: t.port };
}

function connectTcp(to: Endpoint, timeout: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: to.address, port: to.port, allowHalfOpen: true });
    socket.pause();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection within ${timeout} ms`));
    }, timeout);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    });
  });
}

/** Starts a proxy: forwards each TCP connection to an element of the pool. */
export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const log = options.log ?? silentLogger;
  const listenAt = typeof options.listen === "string"
    ? parseEndpoint(options.listen, { host: "127.0.0.1" })
    : options.listen;
  const poolHandle = options.poolHandle;
  const connectTimeout = options.connectTimeout ?? 3000;
  const maxAttempts = options.maxAttempts ?? 5;
  const maxConnections = options.maxConnections ?? 10_000;
  if (!(Number.isInteger(maxAttempts) && maxAttempts >= 1)) {
    throw new RSerPoolError("bad-option", "maxAttempts must be an integer >= 1");
  }
  const user = await createPoolUser({
    registrars: options.registrars,
    announce: options.announce,
    profile: options.profile,
    tls: options.tls,
    timers: options.timers,
    log,
  });
  const counts = {
    accepted: 0,
    forwarded: 0,
    refused: 0,
    unserved: 0,
    unreachable: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
  /** Every socket open (clients and elements), to close on close(). */
  const open = new Set<net.Socket>();
  const clients = new Set<net.Socket>();
  let closing = false;

  /** Connects to an element the policy chooses, reporting the ones that fail. */
  const reachElement = async (): Promise<net.Socket | undefined> => {
    for (let attempt = 1; attempt <= maxAttempts && !closing; attempt++) {
      let element: PoolElementParameter;
      try {
        element = await user.select(poolHandle, { timeout: connectTimeout });
      } catch (e) {
        log.warn("no element to forward to", { error: e as Error });
        return undefined;
      }
      const to = tcpEndpointOf(element);
      if (to === undefined) {
        log.warn("element without a TCP transport skipped", {
          element: formatIdentifier(element.identifier),
        });
        user.reportUnreachable(poolHandle, element.identifier);
        continue;
      }
      try {
        return await connectTcp(to, connectTimeout);
      } catch (e) {
        counts.unreachable++;
        log.warn("element unreachable: reported, trying another", {
          element: formatIdentifier(element.identifier),
          at: formatEndpoint(to),
          error: e as Error,
        });
        user.reportUnreachable(poolHandle, element.identifier);
      }
    }
    return undefined;
  };

  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    counts.accepted++;
    if (clients.size >= maxConnections || closing) {
      counts.refused++;
      client.destroy();
      return;
    }
    open.add(client);
    clients.add(client);
    client.on("error", () => {}); // until forwarding takes over; a reset client is just closed
    reachElement().then((upstream) => {
      if (upstream === undefined || client.destroyed) {
        if (upstream === undefined) counts.unserved++;
        upstream?.destroy();
        client.destroy();
        open.delete(client);
        clients.delete(client);
        return;
      }
      counts.forwarded++;
      open.add(upstream);
      forwardClient(client, upstream, {
        proxyProtocol: options.proxyProtocol,
        idleTimeout: options.idleTimeout,
        closed: (c) => {
          counts.bytesIn += c.forward;
          counts.bytesOut += c.backward;
          open.delete(client);
          open.delete(upstream);
          clients.delete(client);
        },
      });
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({
        host: listenAt.address,
        port: listenAt.port,
        ...(options.reusePort ? { reusePort: true } : {}),
      }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    await user.close();
    throw e;
  }
  const address: Endpoint = {
    address: listenAt.address,
    port: (server.address() as net.AddressInfo).port,
  };
  log.info("proxy listening", { at: formatEndpoint(address) });
  return {
    address,
    get active() {
      return clients.size;
    },
    get counts() {
      return { ...counts };
    },
    user,
    async close() {
      if (closing) return;
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of open) s.destroy();
      await closed;
      await user.close();
    },
  };
}
