/**
 * A running Pool Registrar: the sans-IO {@link Registrar} on real sockets.
 *
 * ```ts ignore
 * import { startRegistrar } from "@rserpool/rserpool/runtime";
 *
 * const pr = await startRegistrar({ asap: "127.0.0.1:3863", enrp: "127.0.0.1:9901" });
 * console.log(pr.status().handlespace);
 * await pr.stop();
 * ```
 *
 * @module
 */

import { RSerPoolError } from "../errors.ts";
import { Port, TransportUse } from "../protocol/constants.ts";
import { bytesToJson } from "../protocol/json.ts";
import type { Identifier, TransportParameter, WireProfile } from "../protocol/types.ts";
import type { RegistrarEvent, RegistrarOptions } from "../registrar/options.ts";
import { Registrar } from "../registrar/registrar.ts";
import type { MulticastChannel } from "../role/actions.ts";
import { type StreamSettings, StreamTransport, type TlsSettings } from "../transport/tcp.ts";
import type { MessageListener, MessageTransport } from "../transport/types.ts";
import { UdpChannel, type UdpChannelSettings } from "../transport/udp.ts";
import { type RegistrarApi, registrarApi, type RegistrarApiOptions } from "./api.ts";
import { profilePpids, RoleDriver } from "./driver.ts";
import {
  advertisedAddresses,
  type Endpoint,
  formatEndpoint,
  parseEndpoint,
  sctpTransport,
  tcpTransport,
  transportParameter,
} from "./endpoint.ts";
import { type Logger, silentLogger } from "./log.ts";
import {
  formatIdentifier,
  type PoolSnapshot,
  poolSnapshots,
  type RegistrarCounters,
  type RegistrarSnapshot,
  registrarSnapshot,
  serveStatus,
  type StatusServer,
} from "./status.ts";

/** Options of {@link startRegistrar}. */
export interface StartRegistrarOptions extends
  Omit<
    RegistrarOptions,
    "enrpTransport" | "asapTransports" | "peers" | "announce" | "multicastPresence"
  > {
  /** ASAP listener, `host:port` (default `127.0.0.1:3863`, next-generation profile 3873; port 0 picks one). */
  readonly asap?: string | Endpoint;
  /** ENRP listener, `host:port` (default `127.0.0.1:9901`, next-generation 9911). */
  readonly enrp?: string | Endpoint;
  /** Peers' ENRP endpoints: `host:port` over TCP, `sctp://host:port` over SCTP. */
  readonly peers?: readonly (string | Endpoint)[];
  /** Send ASAP Server Announces to this UDP channel (default: none). */
  readonly announce?: UdpChannelSettings;
  /** Send and hear ENRP Presences on this UDP channel (default: none). */
  readonly presence?: UdpChannelSettings;
  /** Serve the JSON status, and the HTTP API, on this HTTP endpoint (default: none). */
  readonly statusEndpoint?: string | Endpoint;
  /** The HTTP API on the status endpoint (resolve and watch; registration with `write`). */
  readonly api?: RegistrarApiOptions;
  /** TLS on the ASAP and ENRP connections (both directions). */
  readonly tls?: TlsSettings;
  /** Limits and timeouts of the TCP connections. */
  readonly stream?: Partial<StreamSettings>;
  /**
   * Transports by transport parameter type. With an `SCTP` transport (e.g.
   * `SctpUdpTransport`) the registrar listens for ASAP and ENRP on
   * SCTP as well, at the same port numbers, and tells both.
   */
  readonly transports?: Readonly<Partial<Record<"TCP" | "SCTP", MessageTransport>>>;
  /**
   * The transport of the ENRP endpoint this registrar tells its peers
   * (Server Information): default SCTP when it has an SCTP transport, which
   * RSPLIB's registrars need.
   */
  readonly enrpTransport?: "TCP" | "SCTP";
  /** What the registrar reports (default: nothing). */
  readonly log?: Logger;
  /** Every registrar event, as it happens. */
  readonly onEvent?: (event: RegistrarEvent) => void;
}

/** A registrar running on the network. */
export interface RunningRegistrar {
  /** Its identifier. */
  readonly id: Identifier;
  /** Where ASAP listens. */
  readonly asap: Endpoint;
  /** Where ENRP listens. */
  readonly enrp: Endpoint;
  /** Where ASAP and ENRP listen on SCTP, when they do. */
  readonly sctp: { readonly asap: Endpoint; readonly enrp: Endpoint } | undefined;
  /** Where the status endpoint listens, if it does. */
  readonly statusEndpoint: Endpoint | undefined;
  /** The sans-IO registrar (read its state; change it only through the protocols). */
  readonly registrar: Registrar;
  /** A JSON-ready summary of its state. */
  status(): RegistrarSnapshot;
  /** Pools and up to `limit` elements each. */
  pools(limit?: number): PoolSnapshot[];
  /** Stops: closes listeners, channels and connections. Elements stay with the peers until taken over. */
  stop(): Promise<void>;
}

function endpointOf(
  value: string | Endpoint | undefined,
  defaults: { host: string; port: number },
): Endpoint {
  if (value === undefined) return { address: defaults.host, port: defaults.port };
  return typeof value === "string" ? parseEndpoint(value, defaults) : value;
}

/** Starts a Pool Registrar listening for ASAP and ENRP over TCP. */
export async function startRegistrar(
  options: StartRegistrarOptions = {},
): Promise<RunningRegistrar> {
  const profile: WireProfile = options.profile ?? "rfc";
  const nextgen = profile === "nextgen";
  const log = options.log ?? silentLogger;
  const asapWanted = endpointOf(options.asap, {
    host: "127.0.0.1",
    port: nextgen ? Port.AsapNextGen : Port.Asap,
  });
  const enrpWanted = endpointOf(options.enrp, {
    host: asapWanted.address,
    port: nextgen ? Port.EnrpNextGen : Port.Enrp,
  });
  const peers = (options.peers ?? []).map((p) =>
    endpointOf(p, { host: "127.0.0.1", port: nextgen ? Port.EnrpNextGen : Port.Enrp })
  );
  const tcp = options.transports?.TCP ??
    new StreamTransport({ ...options.stream, tls: options.tls });
  const transports = { ...options.transports, TCP: tcp };
  const ppids = profilePpids(profile);

  // Listen first: the registrar must announce the ports actually bound.
  const listeners: MessageListener[] = [];
  const channels: Partial<Record<MulticastChannel, UdpChannel>> = {};
  let status: StatusServer | undefined;
  let driver: RoleDriver<RegistrarEvent> | undefined;
  const cleanup = async () => {
    driver?.stop(true);
    await Promise.all(listeners.map((l) => l.close()));
    await Promise.all(Object.values(channels).map((c) => c.close()));
    await status?.close();
  };
  try {
    const asapListener = await tcp.listen(
      { host: asapWanted.address, port: asapWanted.port, framing: "message", ppid: ppids.asap },
      (c) => driver?.accept(c, "asap")?.handlers,
    );
    listeners.push(asapListener);
    const enrpListener = await tcp.listen(
      { host: enrpWanted.address, port: enrpWanted.port, framing: "message", ppid: ppids.enrp },
      (c) => driver?.accept(c, "enrp")?.handlers,
    );
    listeners.push(enrpListener);
    const asap = asapListener.address;
    const enrp = enrpListener.address;
    const transportsOf = (e: Endpoint): TransportParameter[] =>
      advertisedAddresses(e.address).map((a) => tcpTransport(a, e.port, TransportUse.DataOnly));
    let sctp: { asap: Endpoint; enrp: Endpoint } | undefined;
    if (transports.SCTP !== undefined) {
      const sctpAsap = await transports.SCTP.listen(
        { host: asapWanted.address, port: asap.port, framing: "message", ppid: ppids.asap },
        (c) => driver?.accept(c, "asap")?.handlers,
      );
      listeners.push(sctpAsap);
      const sctpEnrp = await transports.SCTP.listen(
        { host: enrpWanted.address, port: enrp.port, framing: "message", ppid: ppids.enrp },
        (c) => driver?.accept(c, "enrp")?.handlers,
      );
      listeners.push(sctpEnrp);
      sctp = {
        asap: { ...sctpAsap.address, transport: "SCTP" },
        enrp: { ...sctpEnrp.address, transport: "SCTP" },
      };
    }
    const enrpOverSctp = sctp !== undefined && options.enrpTransport !== "TCP";
    if (options.enrpTransport === "SCTP" && sctp === undefined) {
      throw new RSerPoolError("bad-option", "enrpTransport SCTP needs an SCTP transport");
    }

    const counters: RegistrarCounters = {
      messagesIn: 0,
      messagesOut: 0,
      bytesIn: 0,
      bytesOut: 0,
      decodeErrors: 0,
      accepted: 0,
      connected: 0,
      connectFailures: 0,
      connectionErrors: 0,
      registrations: 0,
      registrationsRefused: 0,
      removals: {},
      protocolErrors: 0,
      takeovers: 0,
    };
    const registrar = new Registrar({
      ...options,
      profile,
      enrpTransport: enrpOverSctp
        ? sctpTransport([sctp!.enrp.address], sctp!.enrp.port)
        : transportsOf(enrp)[0],
      asapTransports: [
        ...transportsOf(asap),
        ...(sctp === undefined ? [] : [sctpTransport([sctp.asap.address], sctp.asap.port)]),
      ],
      peers: peers.map((p) => transportParameter(p)),
      announce: options.announce !== undefined,
      multicastPresence: options.presence !== undefined,
    });
    const id = formatIdentifier(registrar.id);
    let api: RegistrarApi | undefined;
    const onEvent = (event: RegistrarEvent) => {
      count(counters, event);
      logEvent(log, event);
      api?.event(event);
      options.onEvent?.(event);
    };
    driver = new RoleDriver<RegistrarEvent>({
      role: registrar,
      profile,
      transports,
      sctpLocalPorts: sctp === undefined ? undefined : { enrp: sctp.enrp.port },
      channels,
      onEvent,
      log,
    });
    const d = driver;
    if (options.announce !== undefined) {
      channels["asap-announce"] = await UdpChannel.open(
        options.announce,
        (bytes, source) => d.receiveDatagram("asap-announce", bytes, source),
      );
    }
    if (options.presence !== undefined) {
      channels["enrp-presence"] = await UdpChannel.open(
        options.presence,
        (bytes, source) => d.receiveDatagram("enrp-presence", bytes, source),
      );
    }
    const startedAt = d.now();
    const snapshot = (): RegistrarSnapshot => {
      Object.assign(counters, d.counters);
      return registrarSnapshot(registrar.status(), {
        profile,
        startedAt,
        now: d.now(),
        asap,
        enrp,
        tls: options.tls !== undefined,
        announce: options.announce &&
          { address: options.announce.group, port: options.announce.port },
        presence: options.presence &&
          { address: options.presence.group, port: options.presence.port },
        connections: d.connections,
        counters,
      });
    };
    const pools = (limit = 100) =>
      poolSnapshots(registrar.handlespace, registrar.id, d.now(), limit);
    if (options.statusEndpoint !== undefined) {
      api = registrarApi(registrar, (step) => d.run(step), profile, options.api);
      const served = api;
      status = await serveStatus(
        endpointOf(options.statusEndpoint, { host: "127.0.0.1", port: 0 }),
        snapshot,
        pools,
        (req, res, url) => served.handle(req, res, url),
        options.tls,
      );
    }
    d.run((now) => registrar.start(now));
    log.info("registrar started", {
      id,
      profile,
      asap: formatEndpoint(asap),
      tls: options.tls === undefined ? undefined : true,
      enrp: formatEndpoint(enrp),
      sctp: sctp && `${formatEndpoint(sctp.asap)},${formatEndpoint(sctp.enrp)}`,
      peers: peers.length > 0 ? peers.map(formatEndpoint).join(",") : undefined,
      announce: options.announce && formatEndpoint({
        address: options.announce.group,
        port: options.announce.port,
      }),
      presence: options.presence && formatEndpoint({
        address: options.presence.group,
        port: options.presence.port,
      }),
      status: status && `http://${formatEndpoint(status.address)}/status`,
    });
    let stopped = false;
    return {
      id: registrar.id,
      asap,
      enrp,
      sctp,
      statusEndpoint: status?.address,
      registrar,
      status: snapshot,
      pools,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        d.run((now) => registrar.stop(now));
        await cleanup();
        log.info("registrar stopped", { id });
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

function count(c: RegistrarCounters, event: RegistrarEvent): void {
  switch (event.kind) {
    case "registered":
      c.registrations++;
      return;
    case "registration-refused":
      c.registrationsRefused++;
      return;
    case "removed":
      c.removals[event.reason] = (c.removals[event.reason] ?? 0) + 1;
      return;
    case "protocol-error":
      c.protocolErrors++;
      return;
    case "takeover-done":
      c.takeovers++;
      return;
  }
}

function logEvent(log: Logger, event: RegistrarEvent): void {
  switch (event.kind) {
    case "registered":
      if (event.added) {
        log.info("element registered", {
          pool: bytesToJson(event.node.pool.handle),
          element: formatIdentifier(event.node.identifier),
          transport: event.node.userTransport.addresses.join(",") + ":" +
            event.node.userTransport.port,
        });
      } else {
        log.debug("element re-registered", { element: formatIdentifier(event.node.identifier) });
      }
      return;
    case "registration-refused":
      log.warn("registration refused", {
        connection: event.connection,
        cause: event.error.message,
      });
      return;
    case "learnt":
      if (event.added) {
        log.debug("element learnt from a peer", {
          pool: bytesToJson(event.node.pool.handle),
          element: formatIdentifier(event.node.identifier),
          home: formatIdentifier(event.node.homeRegistrarId),
        });
      }
      return;
    case "removed":
      log.info("element removed", {
        pool: bytesToJson(event.node.pool.handle),
        element: formatIdentifier(event.node.identifier),
        reason: event.reason,
      });
      return;
    case "peer-up":
    case "peer-down":
      log.info(event.kind, { peer: formatIdentifier(event.peer) });
      return;
    case "mentor":
      log.info(event.peer === undefined ? "no mentor found, starting alone" : "mentor found", {
        peer: event.peer === undefined ? undefined : formatIdentifier(event.peer),
      });
      return;
    case "synchronised":
      log.info("synchronised", { peer: formatIdentifier(event.peer), elements: event.elements });
      return;
    case "takeover-started":
    case "takeover-abandoned":
      log.info(event.kind, { target: formatIdentifier(event.target) });
      return;
    case "takeover-done":
      log.info("takeover done", {
        target: formatIdentifier(event.target),
        elements: event.elements,
      });
      return;
    case "taken-over":
      log.info("peer taken over", {
        target: formatIdentifier(event.target),
        by: formatIdentifier(event.by),
      });
      return;
    case "protocol-error":
      log.warn("protocol error", { connection: event.connection, detail: event.detail });
      return;
    case "rate-limited":
      log.warn("rate limited", { connection: event.connection, what: event.what });
      return;
  }
}
