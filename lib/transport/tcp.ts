/**
 * TCP (and TLS over TCP) as a {@link MessageTransport}, on `node:net` and
 * `node:tls`, which Deno, Node and Bun all provide.
 *
 * Each connection cuts its byte stream into messages (see
 * {@link Framing}), coalesces the writes of one turn of the event loop into
 * one segment, stops reading from a peer whose output it cannot get rid of
 * (backpressure) and aborts it beyond a buffer limit, and notices dead or
 * misbehaving peers: TCP keep-alive probes, an idle timeout, and a timeout
 * on a frame that starts but never completes (docs/transports.md).
 *
 * MPTCP needs nothing here: `mptcpize run` makes the process's TCP sockets
 * MPTCP sockets.
 *
 * @module
 */

import net from "node:net";
import tls from "node:tls";
import { TransportError } from "../errors.ts";
import type { RemoteEndpoint } from "../role/actions.ts";
import {
  DEFAULT_MAX_SESSION_PAYLOAD,
  type Frame,
  MessageDeframer,
  SessionDeframer,
  sessionFrameHeader,
} from "./framing.ts";
import type {
  AcceptHandler,
  ConnectionHandlers,
  ConnectOptions,
  Framing,
  ListenOptions,
  MessageConnection,
  MessageListener,
  MessageTransport,
} from "./types.ts";

/** Limits and timeouts of stream connections (milliseconds, bytes). */
export interface StreamSettings {
  /** Largest ASAP/ENRP message accepted (at most 65535, the Length field's range). */
  readonly maxMessageSize: number;
  /** Largest session frame payload accepted. */
  readonly maxSessionPayload: number;
  /** Output queued on one connection beyond which it is aborted as congested. */
  readonly maxBufferedBytes: number;
  /** Connections one listener keeps open at most; more are refused at once. */
  readonly maxConnections: number;
  /** How long one connection attempt to one address may take. */
  readonly connectTimeout: number;
  /** Close a connection without traffic either way for this long (0: never). */
  readonly idleTimeout: number;
  /** Abort a connection whose started frame does not complete in this time (0: never). */
  readonly frameTimeout: number;
  /** Delay before the first TCP keep-alive probe on a quiet connection (0: no probes). */
  readonly keepAliveDelay: number;
}

/** The defaults: see docs/transports.md for the reasoning. */
export const DEFAULT_STREAM_SETTINGS: StreamSettings = Object.freeze({
  maxMessageSize: 0xffff,
  maxSessionPayload: DEFAULT_MAX_SESSION_PAYLOAD,
  maxBufferedBytes: 4 << 20,
  maxConnections: 4096,
  connectTimeout: 5000,
  idleTimeout: 300_000,
  frameTimeout: 10_000,
  keepAliveDelay: 15_000,
});

/** TLS settings (certificates and keys as PEM text). */
export interface TlsSettings {
  /** Own certificate chain. Required to listen; optional to connect (client certificate). */
  readonly cert?: string;
  /** Own private key. */
  readonly key?: string;
  /** Trusted certificate authorities (default: the runtime's). */
  readonly ca?: string | readonly string[];
  /**
   * When listening: ask clients for a certificate and refuse those without
   * a valid one (mutual authentication, RFC 5355 §4). Not available on
   * Deno, whose TLS server cannot request client certificates
   * (denoland/deno#26825): listening then fails with `unsupported` rather
   * than silently accepting everyone.
   */
  readonly requestClientCertificate?: boolean;
  /** When connecting: the name the server's certificate must carry (default: the address). */
  readonly serverName?: string;
  /** Verify the peer's certificate (default true; false only for tests). */
  readonly verify?: boolean;
}

/** Options of a {@link StreamTransport}. */
export interface StreamTransportOptions extends Partial<StreamSettings> {
  /** Run TLS over the TCP connections. */
  readonly tls?: TlsSettings;
}

/** Strips the IPv4-mapped prefix Node puts on IPv4 peers of dual-stack sockets. */
function plainAddress(address: string | undefined): string {
  if (address === undefined) return "";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/**
 * A peer certificate's subject as `CN=…,O=…,…`: the common name first, the
 * other attributes in alphabetical order (runtimes disagree on the order).
 */
/** The subject of a TLS peer's certificate as `CN=…,O=…` (CN first), if it sent one. */
export function subjectOf(socket: tls.TLSSocket): string | undefined {
  const cert = socket.getPeerCertificate();
  if (cert === null || typeof cert !== "object" || cert.subject === undefined) return undefined;
  const parts = Object.entries(cert.subject as unknown as Record<string, string | string[]>)
    .sort(([a], [b]) => a === "CN" ? -1 : b === "CN" ? 1 : a < b ? -1 : a > b ? 1 : 0)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : v}`);
  return parts.length > 0 ? parts.join(",") : undefined;
}

const IS_DENO = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/**
 * Checks TLS settings for a server: a certificate and a key, and client
 * certificates only where the runtime's TLS server can ask for them.
 * Throws {@link TransportError} (`bad-options`, `unsupported`).
 */
export function checkTlsServer(t: TlsSettings): void {
  if (t.cert === undefined || t.key === undefined) {
    throw new TransportError("bad-options", "a TLS listener needs a certificate and a key");
  }
  if (t.requestClientCertificate && IS_DENO) {
    throw new TransportError(
      "unsupported",
      "Deno's TLS server cannot request client certificates (denoland/deno#26825); " +
        "run under Node for mutual TLS, or authorize by source address",
    );
  }
}

/** One TCP or TLS connection carrying framed messages. */
class StreamConnection implements MessageConnection {
  readonly remote: RemoteEndpoint;
  readonly local: RemoteEndpoint;
  readonly identity: string | undefined;
  private handlers: ConnectionHandlers | undefined;
  private readonly deframer: MessageDeframer | SessionDeframer | undefined;
  private corked = false;
  private paused = false;
  private ended = false;
  private done = false;
  private error: TransportError | undefined;
  private frameTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly framing: Framing,
    private readonly ppid: number,
    private readonly settings: StreamSettings,
    identity: string | undefined,
  ) {
    this.remote = {
      address: plainAddress(socket.remoteAddress),
      port: socket.remotePort ?? 0,
      transport: "TCP",
    };
    this.local = {
      address: plainAddress(socket.localAddress),
      port: socket.localPort ?? 0,
      transport: "TCP",
    };
    this.identity = identity;
    this.deframer = framing === "message"
      ? new MessageDeframer(ppid, settings.maxMessageSize)
      : framing === "session"
      ? new SessionDeframer(settings.maxSessionPayload)
      : undefined;
    socket.setNoDelay(true);
    if (settings.keepAliveDelay > 0) socket.setKeepAlive(true, settings.keepAliveDelay);
    if (settings.idleTimeout > 0) {
      socket.setTimeout(settings.idleTimeout);
      socket.on("timeout", () => this.fail(new TransportError("idle", "connection idle"), false));
    }
    socket.on("data", (chunk: Uint8Array) => this.received(chunk));
    socket.on("drain", () => this.drained());
    socket.on("end", () => {
      // The peer finished sending: finish too (no half-open connections).
      if (!this.ended) {
        this.ended = true;
        socket.end();
      }
    });
    socket.on("error", (e: Error & { code?: string }) => {
      this.error ??= new TransportError("connection-failed", `${e.code ?? e.message}`, {
        cause: e,
      });
    });
    socket.on("close", () => this.finished());
  }

  /** Sets the handlers and starts reading. */
  attach(handlers: ConnectionHandlers): void {
    this.handlers = handlers;
    this.socket.resume();
  }

  get open(): boolean {
    return !this.ended && !this.done && !this.socket.destroyed;
  }

  send(ppid: number, payload: Uint8Array): void {
    if (!this.open) throw new TransportError("closed", "send on a closed connection");
    const socket = this.socket;
    if (!this.corked) {
      // Coalesce everything sent in this turn of the event loop into one write.
      this.corked = true;
      socket.cork();
      queueMicrotask(() => {
        this.corked = false;
        if (!socket.destroyed) socket.uncork();
      });
    }
    if (this.framing === "session") socket.write(sessionFrameHeader(ppid, payload.length));
    const flowing = socket.write(payload);
    if (socket.writableLength > this.settings.maxBufferedBytes) {
      this.fail(
        new TransportError(
          "congested",
          `more than ${this.settings.maxBufferedBytes} bytes queued for a peer that does not read`,
        ),
        true,
      );
      return;
    }
    if (!flowing && !this.paused) {
      // Backpressure: read nothing more from a peer we cannot answer.
      this.paused = true;
      socket.pause();
    }
  }

  close(): void {
    if (this.ended || this.done) return;
    this.ended = true;
    this.clearFrameTimer();
    this.socket.end();
  }

  abort(): void {
    if (this.done) return;
    this.ended = true;
    this.clearFrameTimer();
    try {
      this.socket.resetAndDestroy(); // RST
    } catch {
      this.socket.destroy(); // TLS sockets on Node have no TCP handle to reset
    }
  }

  private received(chunk: Uint8Array): void {
    if (this.done || this.handlers === undefined) return;
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.deframer === undefined) {
      this.handlers.message(0, bytes);
      return;
    }
    const frames: Frame[] = this.deframer.push(bytes);
    for (const frame of frames) {
      if (this.done) return;
      this.handlers.message(frame.ppid, frame.payload);
    }
    const failure = this.deframer.failure;
    if (failure !== undefined) {
      this.fail(failure, true);
      return;
    }
    if (this.deframer.buffered > 0) this.armFrameTimer();
    else this.clearFrameTimer();
  }

  private armFrameTimer(): void {
    if (this.frameTimer !== undefined || this.settings.frameTimeout <= 0) return;
    this.frameTimer = setTimeout(() => {
      this.frameTimer = undefined;
      this.fail(
        new TransportError(
          "stalled",
          `a frame did not complete in ${this.settings.frameTimeout} ms`,
        ),
        true,
      );
    }, this.settings.frameTimeout);
  }

  private clearFrameTimer(): void {
    if (this.frameTimer !== undefined) clearTimeout(this.frameTimer);
    this.frameTimer = undefined;
  }

  private drained(): void {
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Ends the connection for a reason: with an abort (RST) or a plain close (FIN). */
  private fail(error: TransportError, abort: boolean): void {
    this.error ??= error;
    this.ended = true;
    this.clearFrameTimer();
    if (abort) this.abort();
    else this.socket.destroy();
  }

  private finished(): void {
    if (this.done) return;
    this.done = true;
    this.clearFrameTimer();
    this.handlers?.closed(this.error);
  }
}

/** TCP, or TLS over TCP, as a message transport. */
export class StreamTransport implements MessageTransport {
  readonly kind = "TCP" as const;
  /** The limits and timeouts in effect. */
  readonly settings: StreamSettings;
  private readonly tls: TlsSettings | undefined;

  /**
   * Creates the transport; it opens nothing until asked to listen or connect.
   *
   * @param options limits, timeouts and TLS
   */
  constructor(options: StreamTransportOptions = {}) {
    const { tls: tlsSettings, ...rest } = options;
    this.settings = { ...DEFAULT_STREAM_SETTINGS, ...rest };
    if (this.settings.maxMessageSize > 0xffff || this.settings.maxMessageSize < 4) {
      throw new RangeError("maxMessageSize must be within 4…65535 (the Length field's range)");
    }
    this.tls = tlsSettings;
  }

  /** Whether connections are TLS. */
  get secure(): boolean {
    return this.tls !== undefined;
  }

  listen(options: ListenOptions, accept: AcceptHandler): Promise<MessageListener> {
    const settings = this.settings;
    const t = this.tls;
    if (t !== undefined) {
      try {
        checkTlsServer(t);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const open = new Set<StreamConnection>();
    const onSocket = (socket: net.Socket, identity: string | undefined) => {
      if (open.size >= settings.maxConnections) {
        socket.destroy();
        return;
      }
      socket.pause();
      const connection = new StreamConnection(
        socket,
        options.framing,
        options.ppid ?? 0,
        settings,
        identity,
      );
      open.add(connection);
      socket.once("close", () => open.delete(connection));
      const handlers = accept(connection);
      if (handlers === undefined) connection.abort();
      else connection.attach(handlers);
    };
    const server = t === undefined
      ? net.createServer({ pauseOnConnect: true }, (s) => onSocket(s, undefined))
      : tls.createServer({
        cert: t.cert,
        key: t.key,
        ca: t.ca as string | string[] | undefined,
        requestCert: t.requestClientCertificate === true,
        rejectUnauthorized: t.requestClientCertificate === true && t.verify !== false,
      }, (s) => onSocket(s, t.requestClientCertificate ? subjectOf(s) : undefined));
    // A failed handshake or a reset before accept must not take the server down.
    server.on("tlsClientError", () => {});
    return new Promise((resolve, reject) => {
      const failed = (e: Error & { code?: string }) =>
        reject(
          new TransportError(
            "listen-failed",
            `cannot listen on ${options.host ?? "127.0.0.1"}:${options.port}: ${
              e.code ?? e.message
            }`,
            { cause: e },
          ),
        );
      server.once("error", failed);
      server.listen(options.port, options.host ?? "127.0.0.1", () => {
        server.off("error", failed);
        server.on("error", () => {});
        const bound = server.address() as net.AddressInfo;
        resolve({
          address: { address: plainAddress(bound.address), port: bound.port },
          get connections() {
            return open.size;
          },
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              for (const c of open) if (c.open) c.abort(); // those closing may finish
            }),
        });
      });
    });
  }

  async connect(options: ConnectOptions, handlers: ConnectionHandlers): Promise<MessageConnection> {
    const failures: string[] = [];
    for (const address of options.addresses) {
      try {
        const { socket, identity } = await this.open(address, options.port, options.timeout);
        const connection = new StreamConnection(
          socket,
          options.framing,
          options.ppid ?? 0,
          this.settings,
          identity,
        );
        connection.attach(handlers);
        return connection;
      } catch (e) {
        failures.push(`${address}:${options.port} ${(e as Error).message}`);
      }
    }
    throw new TransportError(
      "connect-failed",
      failures.length === 0 ? "no address to connect to" : failures.join("; "),
    );
  }

  /** Opens a socket to one address, with a timeout. */
  private open(
    address: string,
    port: number,
    timeout = this.settings.connectTimeout,
  ): Promise<{ socket: net.Socket; identity: string | undefined }> {
    const t = this.tls;
    return new Promise((resolve, reject) => {
      const socket: net.Socket = t === undefined
        ? net.connect({ host: address, port })
        : tls.connect({
          host: address,
          port,
          cert: t.cert,
          key: t.key,
          ca: t.ca as string | string[] | undefined,
          servername: t.serverName ?? (net.isIP(address) ? undefined : address),
          rejectUnauthorized: t.verify !== false,
          checkServerIdentity: t.serverName === undefined && net.isIP(address)
            ? () => undefined // an address has no name to check; the chain is still verified
            : undefined,
        });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer in ${timeout} ms`));
      }, timeout);
      socket.once("error", (e: Error & { code?: string }) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new Error(e.code ?? e.message));
      });
      socket.once(t === undefined ? "connect" : "secureConnect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        socket.pause();
        resolve({
          socket,
          identity: t === undefined ? undefined : subjectOf(socket as tls.TLSSocket),
        });
      });
    });
  }
}
