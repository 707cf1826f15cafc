/**
 * What sans-IO roles ask of their driver, and how they name connections.
 *
 * A role never touches sockets or clocks. It is fed events (a message
 * arrived, a connection came up or went down, time passed) and returns
 * actions (send, multicast, connect, close) plus events for the
 * application. A driver — the runtime's socket adapters, or the
 * deterministic simulator — carries the actions out.
 *
 * @module
 */

import type { RSerPoolMessage, TransportParameter } from "../protocol/types.ts";

/**
 * A connection (SCTP association or TCP connection) as roles name it.
 * Connections a role opens get ids the role chooses (`"out:<n>"`);
 * connections a driver accepts get ids the driver chooses (anything not
 * starting with `"out:"`).
 */
export type ConnectionId = string;

/**
 * The protocol a connection carries: ASAP or ENRP, or a pool user's
 * session with a pool element (application data, with ASAP control
 * messages multiplexed on it when the element's transport says so).
 */
export type ProtocolName = "asap" | "enrp" | "session";

/** A multicast channel (UDP): ASAP Server Announces or ENRP Presences. */
export type MulticastChannel = "asap-announce" | "enrp-presence";

/** Where a datagram or connection came from. */
export interface RemoteEndpoint {
  /** IP address as text (the primary one of a multi-homed SCTP peer). */
  readonly address: string;
  /** Port. */
  readonly port: number;
  /** The connection's transport protocol, when it is a connection. */
  readonly transport?: "SCTP" | "TCP";
  /** All addresses of a multi-homed SCTP peer. */
  readonly addresses?: readonly string[];
}

/** Send a message on a connection. */
export interface SendAction {
  /** Discriminant. */
  readonly type: "send";
  /** The connection. */
  readonly connection: ConnectionId;
  /** The message. */
  readonly message: RSerPoolMessage;
}

/** Send a message to a multicast channel. */
export interface MulticastAction {
  /** Discriminant. */
  readonly type: "multicast";
  /** The channel. */
  readonly channel: MulticastChannel;
  /** The message. */
  readonly message: RSerPoolMessage;
}

/** Open a connection; the driver answers with `connectionUp` or `connectionDown`. */
export interface ConnectAction {
  /** Discriminant. */
  readonly type: "connect";
  /** The id the role gives the new connection. */
  readonly connection: ConnectionId;
  /** What it will carry. */
  readonly protocol: ProtocolName;
  /** Where to: an SCTP or TCP transport (all its addresses are candidates). */
  readonly remote: TransportParameter;
}

/** Close a connection (gracefully, or with an abort). */
export interface CloseAction {
  /** Discriminant. */
  readonly type: "close";
  /** The connection. */
  readonly connection: ConnectionId;
  /** Abort instead of a graceful shutdown. */
  readonly abort?: boolean;
}

/** Something the application should know; `E` is the role's event type. */
export interface EventAction<E> {
  /** Discriminant. */
  readonly type: "event";
  /** The event. */
  readonly event: E;
}

/** Every action a role can return. */
export type Action<E = unknown> =
  | SendAction
  | MulticastAction
  | ConnectAction
  | CloseAction
  | EventAction<E>;
