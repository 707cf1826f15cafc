/**
 * A proxy pool element: puts an existing TCP server, which knows nothing of
 * RSerPool, into a pool. It registers the server (or a port that forwards
 * to it) as a DATA ONLY pool element, so any TCP client can connect; checks
 * the server's health and deregisters it after repeated failures
 * (registering it again, with the same identifier, once it recovers);
 * reports its load as sessions in use out of a maximum; and drains before
 * it stops.
 *
 * ```ts ignore
 * import { startProxyElement } from "@rserpool/rserpool/runtime";
 *
 * const pe = await startProxyElement({
 *   poolHandle: "web",
 *   backend: "127.0.0.1:8000",
 *   health: { kind: "http", url: "http://127.0.0.1:8000/" },
 * });
 * // ...
 * await pe.drain(10_000);
 * ```
 *
 * @module
 */

import net from "node:net";
import { RSerPoolError } from "../errors.ts";
import type { Identifier, PoolMemberSelectionPolicy, WireProfile } from "../protocol/types.ts";
import type { TlsSettings } from "../transport/tcp.ts";
import type { MessageTransport } from "../transport/types.ts";
import type { UdpChannelSettings } from "../transport/udp.ts";
import type { PoolElementEvent } from "../element/element.ts";
import { registerPoolElement, type RunningPoolElement } from "./element.ts";
import { type Endpoint, formatEndpoint, parseEndpoint } from "./endpoint.ts";
import { forwardClient } from "./forward.ts";
import {
  formatHealthCheck,
  type HealthCheck,
  type HealthWatch,
  probeHealth,
  watchHealth,
} from "./health.ts";
import { type Logger, silentLogger } from "./log.ts";
import { formatIdentifier } from "./status.ts";

/** Options of {@link startProxyElement}. */
export interface ProxyElementOptions {
  /** The pool to join (text is UTF-8 encoded). */
  readonly poolHandle: string | Uint8Array;
  /** The server to put into the pool. */
  readonly backend: string | Endpoint;
  /**
   * Forward through this port instead of registering the backend's own
   * address: needed for `maxSessions` and `proxyProtocol`.
   */
  readonly listen?: string | Endpoint;
  /** Address registered for pool users (default: the backend's, or the listen address). */
  readonly advertise?: string;
  /** How to check the backend (default: a TCP connect to it). */
  readonly health?: HealthCheck;
  /** Between health probes, ms (default 2000). */
  readonly healthInterval?: number;
  /** Failed probes in a row that deregister it, and good ones that register it again (default 3). */
  readonly healthThreshold?: number;
  /** How long a probe may take, ms (default: the interval, at most 5 s). */
  readonly healthTimeout?: number;
  /**
   * Sessions at full load (with `listen`): the load of a load-based policy
   * is sessions in use / this (capped at 100 %), updated by re-registration.
   */
  readonly maxSessions?: number;
  /** Prefix every forwarded connection with a PROXY protocol v2 header (with `listen`). */
  readonly proxyProtocol?: boolean;
  /** Close a forwarded connection idle for this long, ms (default 0: never). */
  readonly idleTimeout?: number;
  /** Selection policy (default Round Robin). */
  readonly policy?: PoolMemberSelectionPolicy;
  /** Registrars' ASAP endpoints (default `127.0.0.1:3863` unless `announce` is given). */
  readonly registrars?: readonly (string | Endpoint)[];
  /** Hear ASAP Server Announces on this UDP channel. */
  readonly announce?: UdpChannelSettings;
  /** PE identifier (default random), kept across deregistration and registration. */
  readonly identifier?: Identifier;
  /** Wire profile. */
  readonly profile?: WireProfile;
  /** Between re-registrations, ms (default 30 s). */
  readonly reregistrationInterval?: number;
  /** TLS on the connections to registrars. */
  readonly tls?: TlsSettings;
  /** Transports to use instead of TCP for the registrars. */
  readonly transports?: Readonly<Partial<Record<"TCP" | "SCTP", MessageTransport>>>;
  /** What it reports (default: nothing). */
  readonly log?: Logger;
  /** Every pool element event. */
  readonly onEvent?: (event: PoolElementEvent) => void;
}

/** Counters of a proxy pool element. */
export interface ProxyElementCounts {
  /** Forwarded connections accepted. */
  readonly sessions: number;
  /** Forwarded connections the backend refused. */
  readonly backendFailures: number;
  /** Bytes from clients to the backend. */
  readonly bytesIn: number;
  /** Bytes from the backend to clients. */
  readonly bytesOut: number;
  /** Times the backend was found unhealthy. */
  readonly unhealthy: number;
}

/** A running proxy pool element. */
export interface RunningProxyElement {
  /** Its PE identifier (chosen at its first registration unless given). */
  readonly identifier: Identifier | undefined;
  /** Where pool users connect (the backend, or the forwarding port). */
  readonly address: Endpoint;
  /** Whether the backend counts as healthy now. */
  readonly healthy: boolean;
  /** Whether it is registered now. */
  readonly isRegistered: boolean;
  /** Forwarded connections open now. */
  readonly activeSessions: number;
  /** Counters since the start. */
  readonly counts: ProxyElementCounts;
  /**
   * Stops taking new pool users (the load raised to 100 % for a load-based
   * policy with `maxSessions`, else deregistered), waits for the forwarded
   * connections to end (at most `timeout` ms, default 30 s), then stops.
   */
  drain(timeout?: number): Promise<void>;
  /** Deregisters and stops at once (open forwarded connections are closed). */
  close(): Promise<void>;
}

const FULL_LOAD = 0xffffffff;

/** Whether a policy carries a load (the Least Used family). */
function hasLoad(
  policy: PoolMemberSelectionPolicy,
): policy is Extract<PoolMemberSelectionPolicy, { load: number }> {
  return "load" in policy && typeof (policy as { load?: unknown }).load === "number";
}

/** Starts a proxy pool element for a server that knows nothing of RSerPool. */
export async function startProxyElement(
  options: ProxyElementOptions,
): Promise<RunningProxyElement> {
  const log = options.log ?? silentLogger;
  const backend = typeof options.backend === "string"
    ? parseEndpoint(options.backend, { host: "127.0.0.1" })
    : options.backend;
  const listenAt = typeof options.listen === "string"
    ? parseEndpoint(options.listen, { host: "127.0.0.1", port: 0 })
    : options.listen;
  if (listenAt === undefined && (options.maxSessions !== undefined || options.proxyProtocol)) {
    throw new RSerPoolError(
      "bad-option",
      "maxSessions and proxyProtocol need a forwarding port (listen)",
    );
  }
  const maxSessions = options.maxSessions;
  if (maxSessions !== undefined && !(Number.isInteger(maxSessions) && maxSessions >= 1)) {
    throw new RSerPoolError("bad-option", "maxSessions must be an integer >= 1");
  }
  const basePolicy: PoolMemberSelectionPolicy = options.policy ?? { type: "RoundRobin" };
  const check: HealthCheck = options.health ??
    { kind: "tcp", address: backend.address, port: backend.port };
  const interval = options.healthInterval ?? 2000;
  const timeout = options.healthTimeout ?? Math.min(interval, 5000);

  let active = 0;
  const counts = { sessions: 0, backendFailures: 0, bytesIn: 0, bytesOut: 0, unhealthy: 0 };
  const open = new Set<net.Socket>();
  let idleWaiter: (() => void) | undefined;

  const server = listenAt === undefined ? undefined : net.createServer(
    { allowHalfOpen: true, pauseOnConnect: true },
    (client) => forward(client),
  );
  if (server !== undefined) {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: listenAt!.address, port: listenAt!.port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  }
  const served: Endpoint = server === undefined ? backend : {
    address: listenAt!.address,
    port: (server.address() as net.AddressInfo).port,
  };

  let element: RunningPoolElement | undefined;
  let identifier = options.identifier;
  let draining = false;
  let stopped = false;
  let loadTimer: ReturnType<typeof setTimeout> | undefined;

  const currentPolicy = (): PoolMemberSelectionPolicy => {
    if (!hasLoad(basePolicy) || maxSessions === undefined) return basePolicy;
    const load = draining ? FULL_LOAD : Math.round(Math.min(1, active / maxSessions) * FULL_LOAD);
    return { ...basePolicy, load };
  };
  /** Re-registers with the current load, at most every 100 ms. */
  const loadChanged = () => {
    if (!hasLoad(basePolicy) || maxSessions === undefined || loadTimer !== undefined) return;
    loadTimer = setTimeout(() => {
      loadTimer = undefined;
      element?.updatePolicy(currentPolicy());
    }, 100);
  };

  function forward(client: net.Socket) {
    counts.sessions++;
    active++;
    open.add(client);
    loadChanged();
    const upstream = net.connect({
      host: backend.address,
      port: backend.port,
      allowHalfOpen: true,
    });
    upstream.pause();
    const done = () => {
      open.delete(client);
      open.delete(upstream);
      active--;
      loadChanged();
      if (active === 0) idleWaiter?.();
    };
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      open.add(upstream);
      forwardClient(client, upstream, {
        proxyProtocol: options.proxyProtocol,
        idleTimeout: options.idleTimeout,
        closed: (c) => {
          counts.bytesIn += c.forward;
          counts.bytesOut += c.backward;
          done();
        },
      });
    });
    upstream.once("error", (e) => {
      if (connected) return; // forwardClient handles it
      counts.backendFailures++;
      log.warn("backend refused a connection", { backend: formatEndpoint(backend), error: e });
      client.destroy();
      upstream.destroy();
      done();
    });
  }

  const register = async () => {
    if (element !== undefined || stopped) return;
    element = await registerPoolElement({
      poolHandle: options.poolHandle,
      external: { ...served, address: options.advertise ?? served.address },
      policy: currentPolicy(),
      registrars: options.registrars,
      announce: options.announce,
      identifier,
      profile: options.profile,
      reregistrationInterval: options.reregistrationInterval,
      tls: options.tls,
      transports: options.transports,
      log,
      onEvent: options.onEvent,
    });
    identifier = element.identifier;
  };
  const deregister = async () => {
    const e = element;
    element = undefined;
    await e?.close();
  };

  // The first probe decides at once; later verdicts need the threshold in a row.
  const first = await probeHealth(check, timeout);
  if (first === undefined) await register();
  else {
    counts.unhealthy++;
    log.warn("backend unhealthy: not registered", {
      check: formatHealthCheck(check),
      reason: first,
    });
  }
  // Chained so that a registration and a deregistration never overlap.
  let transitions = Promise.resolve();
  const watch: HealthWatch = watchHealth(check, {
    interval,
    threshold: options.healthThreshold ?? 3,
    timeout,
    initiallyHealthy: first === undefined,
    onChange: (healthy, reason) => {
      if (draining || stopped) return;
      if (healthy) {
        log.info("backend healthy again: registering", { check: formatHealthCheck(check) });
      } else {
        counts.unhealthy++;
        log.warn("backend unhealthy: deregistering", { check: formatHealthCheck(check), reason });
      }
      transitions = transitions.then(healthy ? register : deregister).catch((e: Error) =>
        log.error("registration change failed", { error: e })
      );
    },
  });

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    watch.stop();
    clearTimeout(loadTimer);
    await transitions;
    await deregister();
    for (const s of open) s.destroy();
    await new Promise<void>((resolve) =>
      server === undefined ? resolve() : server.close(() => resolve())
    );
  };

  log.info("proxy element started", {
    backend: formatEndpoint(backend),
    serving: formatEndpoint(served),
    element: identifier === undefined ? undefined : formatIdentifier(identifier),
  });
  return {
    get identifier() {
      return identifier;
    },
    address: served,
    get healthy() {
      return watch.healthy;
    },
    get isRegistered() {
      return element?.isRegistered ?? false;
    },
    get activeSessions() {
      return active;
    },
    get counts() {
      return { ...counts };
    },
    async drain(drainTimeout = 30_000) {
      if (stopped || draining) return;
      draining = true;
      if (server !== undefined && hasLoad(basePolicy) && maxSessions !== undefined) {
        element?.updatePolicy(currentPolicy());
        log.info("draining: load raised to 100 %", { sessions: active });
      } else {
        await element?.deregister();
        log.info("draining: deregistered", { sessions: active });
      }
      server?.close(); // no new connections; open ones go on
      if (server !== undefined && active > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, drainTimeout);
          idleWaiter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      if (active > 0) log.warn("drain timed out: closing", { sessions: active });
      await stop();
    },
    close: stop,
  };
}
