/**
 * SCTP over UDP (RFC 6951) on `node:dgram`: the sans-IO {@link SctpEndpoint}
 * on one UDP socket, as a {@link MessageTransport} of kind `"SCTP"`. Every
 * SCTP port of the process (ASAP 3863, ENRP 9901, elements' own ports)
 * shares the socket, as RFC 6951 §5.1 intends; Linux (5.11+) and FreeBSD
 * kernel SCTP speak the same encapsulation (`net.sctp.udp_port`,
 * `net.sctp.encap_port`).
 *
 * ```ts ignore
 * import { SctpUdpTransport } from "@rserpool/rserpool/transport";
 * import { startRegistrar } from "@rserpool/rserpool/runtime";
 *
 * const sctp = await SctpUdpTransport.open({ host: "127.0.0.1", udpPort: 9899 });
 * const pr = await startRegistrar({ transports: { SCTP: sctp } }); // SCTP and TCP
 * ```
 *
 * Messages keep their PPID; every framing maps to SCTP messages (a DATA
 * PLUS CONTROL session needs no header). Messages go on stream 0, ordered.
 *
 * @module
 */

import dgram from "node:dgram";
import net from "node:net";
import { TransportError } from "../../errors.ts";
import type { RemoteEndpoint } from "../../role/actions.ts";
import type {
  AcceptHandler,
  ConnectionHandlers,
  ConnectOptions,
  ListenOptions,
  MessageConnection,
  MessageListener,
  MessageTransport,
} from "../types.ts";
import type { Association } from "./association.ts";
import { type DatagramAddress, SctpEndpoint, type SctpEndpointOptions } from "./endpoint.ts";

/** The IANA port of SCTP over UDP (RFC 6951 §5.2). */
export const SCTP_UDP_PORT = 9899;

/** Settings of {@link SctpUdpTransport.open}. */
export interface SctpUdpSettings extends SctpEndpointOptions {
  /** Local address the UDP socket binds (default `127.0.0.1`). */
  readonly host?: string;
  /** Local UDP port (default 9899; 0 picks a free one). */
  readonly udpPort?: number;
  /** UDP port of peers until one is learned from their packets (default 9899). */
  readonly remoteUdpPort?: number;
  /**
   * Where to send the packets for an SCTP address, `address → host:udpPort`
   * (e.g. a VM behind user-mode forwarding: `{"10.0.2.15": "127.0.0.1:19899"}`).
   */
  readonly map?: Readonly<Record<string, string>>;
  /** The address peers know this end by (default: `host`, or `127.0.0.1` for a wildcard). */
  readonly advertise?: string;
  /**
   * The SCTP address of peers whose packets arrive from a UDP source
   * address, `udp source → address`, where a NAT stands between (a VM's
   * user-mode network: `{"127.0.0.1": "10.0.2.15"}`). Connections report it
   * as their remote address; replies still go where the packets came from.
   */
  readonly sources?: Readonly<Record<string, string>>;
  /** Give up a handshake after this many milliseconds (default 10,000). */
  readonly connectTimeout?: number;
  /** Largest UDP payload accepted (default 65,507); larger ones are dropped. */
  readonly maxDatagram?: number;
}

/** A listening SCTP port. */
class SctpListener implements MessageListener {
  readonly accepted: Set<SctpConnection> = new Set();
  constructor(
    readonly transport: SctpUdpTransport,
    readonly address: { readonly address: string; readonly port: number },
    readonly options: ListenOptions,
    readonly accept: AcceptHandler,
  ) {}
  get connections(): number {
    return this.accepted.size;
  }
  close(): Promise<void> {
    this.transport.unlisten(this);
    for (const c of [...this.accepted]) c.abort();
    return Promise.resolve();
  }
}

/** One SCTP association as a message connection. */
class SctpConnection implements MessageConnection {
  readonly identity: string | undefined = undefined;
  handlers: ConnectionHandlers | undefined;
  private ended = false;
  constructor(
    readonly transport: SctpUdpTransport,
    readonly association: Association,
    readonly remote: RemoteEndpoint,
    readonly local: RemoteEndpoint,
  ) {}
  get open(): boolean {
    const s = this.association.state;
    return !this.ended && (s === "established" || s === "cookie-echoed" || s === "cookie-wait");
  }
  send(ppid: number, payload: Uint8Array): void {
    if (!this.open) throw new TransportError("closed", "the SCTP association is closed");
    if (payload.length === 0) {
      throw new TransportError("empty-message", "SCTP cannot send an empty message");
    }
    if (!this.transport.send(this, ppid, payload)) {
      this.abort();
      this.end(new TransportError("congested", "SCTP send buffer full"));
    }
  }
  close(): void {
    if (this.ended) return;
    this.transport.shutdown(this);
  }
  abort(): void {
    if (this.ended) return;
    this.transport.abortAssociation(this);
  }
  /** Reports the end once. */
  end(error?: TransportError): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers?.closed(error);
  }
}

const closeErrors: Record<string, string | undefined> = {
  "shutdown": undefined,
  "abort": undefined,
  "peer-abort": "the peer aborted the association",
  "timeout": "the peer stopped answering (retransmission limit)",
  "init-failed": "no answer to INIT",
  "restart": "the peer restarted",
  "protocol-violation": "protocol violation",
  "out-of-resource": "out of resources",
};

/** SCTP over UDP as a message transport. */
export class SctpUdpTransport implements MessageTransport {
  /** Serves SCTP transport parameters. */
  readonly kind = "SCTP" as const;
  /** The sans-IO endpoint (its counters, associations). */
  readonly endpoint: SctpEndpoint;
  private readonly listeners = new Map<number, SctpListener>();
  private readonly connections = new Map<Association, SctpConnection>();
  private readonly pending = new Map<
    Association,
    { resolve: (c: SctpConnection) => void; reject: (e: TransportError) => void }
  >();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  private closed = false;
  private sending = 0;
  private drained: (() => void) | undefined;
  private readonly sent = () => {
    if (--this.sending === 0) this.drained?.();
  };
  private readonly map = new Map<string, DatagramAddress>();
  private readonly advertised: string;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly settings: SctpUdpSettings,
    /** The bound UDP address and port. */
    readonly udpAddress: { readonly address: string; readonly port: number },
  ) {
    this.endpoint = new SctpEndpoint(settings);
    for (const [from, to] of Object.entries(settings.map ?? {})) {
      this.map.set(from, parseUdpTarget(to, settings.remoteUdpPort ?? SCTP_UDP_PORT));
    }
    const host = udpAddress.address;
    this.advertised = settings.advertise ??
      (host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host);
    socket.on("message", (bytes, info) => {
      if (this.closed || bytes.length > (settings.maxDatagram ?? 65507)) return;
      this.endpoint.receive(
        new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length),
        { address: info.address, port: info.port },
        performance.now(),
      );
      this.pump();
    });
    // A UDP error (ICMP unreachable on a connected socket, …) is not fatal.
    socket.on("error", () => {});
  }

  /** Binds the UDP socket. Rejects with a {@link TransportError} (`bind-failed`). */
  static open(settings: SctpUdpSettings = {}): Promise<SctpUdpTransport> {
    const host = settings.host ?? "127.0.0.1";
    const socket = dgram.createSocket({ type: net.isIPv6(host) ? "udp6" : "udp4" });
    return new Promise((resolve, reject) => {
      const fail = (e: Error) =>
        reject(
          new TransportError(
            "bind-failed",
            `cannot bind SCTP/UDP ${host}:${settings.udpPort ?? SCTP_UDP_PORT}: ${e.message}`,
            { cause: e },
          ),
        );
      socket.once("error", fail);
      socket.bind(settings.udpPort ?? SCTP_UDP_PORT, host, () => {
        socket.off("error", fail);
        const a = socket.address();
        resolve(new SctpUdpTransport(socket, settings, { address: a.address, port: a.port }));
      });
    });
  }

  /** Listens on an SCTP port (the UDP socket is shared; `host` must be this transport's or a wildcard). */
  listen(options: ListenOptions, accept: AcceptHandler): Promise<MessageListener> {
    if (this.closed) return Promise.reject(new TransportError("closed", "transport closed"));
    let port = options.port;
    if (port === 0) port = this.freePort();
    if (this.listeners.has(port)) {
      return Promise.reject(
        new TransportError("bind-failed", `SCTP port ${port} is in use already`),
      );
    }
    const listener = new SctpListener(
      this,
      { address: this.advertised, port },
      options,
      accept,
    );
    this.listeners.set(port, listener);
    this.endpoint.listen(port);
    return Promise.resolve(listener);
  }

  /** @internal */
  unlisten(listener: SctpListener): void {
    if (this.listeners.get(listener.address.port) !== listener) return;
    this.listeners.delete(listener.address.port);
    this.endpoint.unlisten(listener.address.port);
  }

  /** Opens an association; tries the addresses in order. */
  async connect(
    options: ConnectOptions,
    handlers: ConnectionHandlers,
  ): Promise<MessageConnection> {
    let last: TransportError | undefined;
    for (const address of options.addresses) {
      if (this.closed) break;
      try {
        const c = await this.connectOne(address, options);
        c.handlers = handlers;
        return c;
      } catch (e) {
        last = e instanceof TransportError
          ? e
          : new TransportError("connect-failed", String(e), { cause: e });
      }
    }
    throw new TransportError(
      "connect-failed",
      `no SCTP association to ${options.addresses.join(", ")} port ${options.port}: ${
        last?.message ?? "transport closed"
      }`,
      { cause: last },
    );
  }

  /** Opens an association to one address; resolves when it is up. */
  private connectOne(address: string, options: ConnectOptions): Promise<SctpConnection> {
    const to = this.udpTarget(address);
    const now = performance.now();
    const a = this.endpoint.connect(to, options.port, options.localPort ?? this.freePort(), now);
    const c = new SctpConnection(
      this,
      a,
      { address, port: options.port, transport: "SCTP" },
      { address: this.advertised, port: a.localPort, transport: "SCTP" },
    );
    this.connections.set(a, c);
    return new Promise<SctpConnection>((resolve, reject) => {
      const timeout = setTimeout(() => {
        if (!this.pending.has(a)) return;
        this.pending.delete(a);
        a.abort(performance.now(), "connect timeout");
        this.pump();
        reject(new TransportError("connect-failed", `${address}: handshake timed out`));
      }, options.timeout ?? this.settings.connectTimeout ?? 10_000);
      this.pending.set(a, {
        resolve: (x) => {
          clearTimeout(timeout);
          resolve(x);
        },
        reject: (e) => {
          clearTimeout(timeout);
          reject(e);
        },
      });
      this.pump();
    });
  }

  /** Where packets for an SCTP address go. */
  private udpTarget(address: string): DatagramAddress {
    return this.map.get(address) ??
      { address, port: this.settings.remoteUdpPort ?? SCTP_UDP_PORT };
  }

  /** Picks an unused ephemeral SCTP port. */
  private freePort(): number {
    for (let i = 0; i < 1000; i++) {
      const p = 49152 + Math.floor(Math.random() * 16384);
      if (!this.endpoint.portInUse(p) && !this.listeners.has(p)) return p;
    }
    throw new TransportError("bind-failed", "no free SCTP port");
  }

  /** @internal */
  send(c: SctpConnection, ppid: number, payload: Uint8Array): boolean {
    const ok = c.association.send(0, ppid, payload, false, performance.now());
    // Everything sent in this turn of the event loop leaves together, bundled into as few
    // packets as fit (as TCP's cork does for the stream transport).
    this.unsent.add(c.association);
    if (this.unsent.size === 1) {
      queueMicrotask(() => {
        const now = performance.now();
        for (const a of this.unsent) this.endpoint.flush(now, a);
        this.unsent.clear();
        this.pump();
      });
    }
    return ok;
  }

  private readonly unsent = new Set<Association>();

  /** @internal */
  shutdown(c: SctpConnection): void {
    c.association.shutdown(performance.now());
    this.endpoint.flush(performance.now(), c.association);
    this.pump();
  }

  /** @internal */
  abortAssociation(c: SctpConnection): void {
    if (c.association.state !== "closed") c.association.abort(performance.now(), "aborted");
    this.endpoint.flush(performance.now(), c.association);
    this.pump();
  }

  /** Sends what the endpoint produced, hands out events, re-arms the timer. */
  private pump(): void {
    for (;;) {
      const datagrams = this.endpoint.drainDatagrams();
      const events = this.endpoint.drainEvents();
      if (datagrams.length === 0 && events.length === 0) break;
      if (!this.closed) {
        for (const d of datagrams) {
          this.sending++;
          this.socket.send(d.bytes, d.to.port, d.to.address, this.sent);
        }
      }
      for (const e of events) this.dispatch(e);
    }
    this.arm();
  }

  /** Turns an endpoint event into connection callbacks. */
  private dispatch(e: ReturnType<SctpEndpoint["drainEvents"]>[number]): void {
    if (e.kind === "accepted") {
      const a = e.association;
      const listener = this.listeners.get(a.localPort);
      if (listener === undefined) {
        a.abort(performance.now(), "not listening");
        this.endpoint.flush(performance.now(), a);
        return;
      }
      const c = new SctpConnection(
        this,
        a,
        {
          address: this.settings.sources?.[e.remote.address] ?? e.remote.address,
          port: a.remotePort,
          transport: "SCTP",
        },
        { address: this.advertised, port: a.localPort, transport: "SCTP" },
      );
      this.connections.set(a, c);
      listener.accepted.add(c);
      const handlers = listener.accept(c);
      if (handlers === undefined) {
        c.abort();
        return;
      }
      c.handlers = handlers;
      return;
    }
    const a = e.association;
    const c = this.connections.get(a);
    const ev = e.event;
    switch (ev.kind) {
      case "up": {
        const p = this.pending.get(a);
        if (p !== undefined && c !== undefined) {
          this.pending.delete(a);
          p.resolve(c);
        }
        return;
      }
      case "message":
        c?.handlers?.message(ev.ppid, ev.data);
        return;
      case "writable":
        return;
      case "closed": {
        this.connections.delete(a);
        for (const l of this.listeners.values()) if (c !== undefined) l.accepted.delete(c);
        const text = closeErrors[ev.reason];
        const error = text === undefined ? undefined : new TransportError(
          ev.reason === "timeout" ? "timeout" : "connection-failed",
          `SCTP association ${c?.remote.address ?? "?"}:${a.remotePort}: ${text}${
            ev.detail ? ` (${ev.detail})` : ""
          }`,
        );
        const p = this.pending.get(a);
        if (p !== undefined) {
          this.pending.delete(a);
          p.reject(error ?? new TransportError("connect-failed", "association closed"));
          return;
        }
        c?.end(error);
        return;
      }
    }
  }

  /** Re-arms the one timer for the endpoint's next deadline. */
  private arm(): void {
    if (this.closed) return;
    const next = this.endpoint.nextDeadline();
    if (next === undefined) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
      return;
    }
    if (this.timer !== undefined && this.timerAt <= next) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.endpoint.advanceTime(performance.now());
      this.pump();
    }, Math.max(0, Math.ceil(next - performance.now())));
    // Timers alone do not keep a process alive; open listeners and sockets do.
    (this.timer as { unref?: () => void }).unref?.();
  }

  /**
   * Stops listening, lets associations already shutting down finish (up to
   * `linger` ms, default 1,000), aborts the rest and closes the UDP socket.
   */
  close(linger = 1000): Promise<void> {
    this.closing ??= this.shutDown(linger);
    return this.closing;
  }

  private closing: Promise<void> | undefined;

  /** Closes: lingers for shutdowns in progress, aborts the rest, closes the socket. */
  private async shutDown(linger: number): Promise<void> {
    for (const l of [...this.listeners.values()]) this.unlisten(l);
    const closing = () => [...this.connections.keys()].some((a) => a.state.startsWith("shutdown"));
    const end = performance.now() + linger;
    while (closing() && performance.now() < end) {
      await new Promise((r) => setTimeout(r, 10));
    }
    if (this.closed) return;
    for (const c of [...this.connections.values()]) c.abort();
    for (const l of [...this.listeners.values()]) this.unlisten(l);
    this.pump();
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    // The ABORTs just queued go out before the socket closes.
    const flushed = this.sending === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => this.drained = resolve);
    await flushed;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

/** Parses `host:port` / `[v6]:port` / `host` of a map entry. */
function parseUdpTarget(text: string, defaultPort: number): DatagramAddress {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  if (m === null || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))) {
    throw new TransportError("bad-options", `bad SCTP/UDP map target ${text}`);
  }
  return { address: m[1], port: m[2] === undefined ? defaultPort : Number(m[2]) };
}
