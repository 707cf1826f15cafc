/**
 * The transport interface the runtime drives roles through.
 *
 * A transport turns a network protocol into **message connections**: each
 * message travels with a payload protocol identifier (PPID), as on an SCTP
 * association. SCTP provides that natively; TCP and TLS provide it through
 * a framing (docs/transports.md). An adapter for a new transport (kernel
 * SCTP through FFI, QUIC, …) implements {@link MessageTransport} and plugs
 * in without the roles or the runtime changing.
 *
 * @module
 */

import type { TransportError } from "../errors.ts";
import type { RemoteEndpoint } from "../role/actions.ts";

/**
 * How messages are delimited on a byte stream.
 *
 * - `"message"`: ASAP or ENRP messages back to back, each delimited by its
 *   own Length field; every message has the connection's one PPID.
 * - `"session"`: a pool user session carrying application data and ASAP
 *   control messages (Transport Use DATA PLUS CONTROL): each frame has an
 *   8-byte header, PPID and payload length.
 * - `"raw"`: a plain byte stream of application data (Transport Use DATA
 *   ONLY); chunks arrive as they come, with PPID 0.
 */
export type Framing = "message" | "session" | "raw";

/** What a connection tells its owner. */
export interface ConnectionHandlers {
  /** A message (or, with `"raw"` framing, a chunk of bytes) arrived. */
  readonly message: (ppid: number, payload: Uint8Array) => void;
  /**
   * The connection is gone: closed by either side (`error` undefined), or
   * failed (a {@link TransportError} saying why). Called exactly once.
   */
  readonly closed: (error?: TransportError) => void;
}

/** A message connection (TCP connection with framing, TLS, SCTP association). */
export interface MessageConnection {
  /** The remote end. */
  readonly remote: RemoteEndpoint;
  /** The local end (e.g. the address a registrar sees this side as). */
  readonly local: RemoteEndpoint;
  /**
   * The peer's authenticated identity, when the transport has one (a TLS
   * client certificate's subject, e.g. `"CN=pe-alpha,O=Example"`).
   */
  readonly identity: string | undefined;
  /** Whether the connection is still open for sending. */
  readonly open: boolean;
  /**
   * Sends one message. Throws {@link TransportError} `closed` on a closed
   * connection; output beyond the transport's buffer limit aborts the
   * connection (its `closed` handler gets `congested`).
   */
  send(ppid: number, payload: Uint8Array): void;
  /** Closes gracefully after the queued output. */
  close(): void;
  /** Closes at once, discarding queued output (TCP RST, SCTP ABORT). */
  abort(): void;
}

/** Where to listen. */
export interface ListenOptions {
  /** Local address (default `127.0.0.1`). */
  readonly host?: string;
  /** Local port; 0 picks a free one. */
  readonly port: number;
  /** Framing of the connections. */
  readonly framing: Framing;
  /** PPID of every message with `"message"` framing (ASAP 11, ENRP 12, …). */
  readonly ppid?: number;
}

/** Where to connect. */
export interface ConnectOptions {
  /** The peer's addresses, tried in order until one answers. */
  readonly addresses: readonly string[];
  /** The peer's port. */
  readonly port: number;
  /** Framing of the connection. */
  readonly framing: Framing;
  /** PPID of every message with `"message"` framing. */
  readonly ppid?: number;
  /** Give up an address after this many milliseconds (default: the transport's). */
  readonly timeout?: number;
  /**
   * Connect from this local port, where the transport can share it with a
   * listener (SCTP: a pool element's associations to registrars start at
   * its user transport port, so registrars taking it over reach it there).
   */
  readonly localPort?: number;
}

/** A listening socket. */
export interface MessageListener {
  /** The address and port it listens on. */
  readonly address: { readonly address: string; readonly port: number };
  /** Connections accepted and still open. */
  readonly connections: number;
  /** Stops listening and aborts the accepted connections still open (not those closing). */
  close(): Promise<void>;
}

/**
 * Decides what to do with an accepted connection: return its handlers, or
 * `undefined` to refuse it (it is aborted).
 */
export type AcceptHandler = (connection: MessageConnection) => ConnectionHandlers | undefined;

/** A transport: it listens and connects, and yields message connections. */
export interface MessageTransport {
  /** The transport parameter type it serves (`"TCP"` also for TLS and MPTCP). */
  readonly kind: "TCP" | "SCTP";
  /** Starts listening. */
  listen(options: ListenOptions, accept: AcceptHandler): Promise<MessageListener>;
  /**
   * Connects; resolves when the connection is up, rejects with a
   * {@link TransportError} (`connect-failed`) when no address answers.
   */
  connect(options: ConnectOptions, handlers: ConnectionHandlers): Promise<MessageConnection>;
}
