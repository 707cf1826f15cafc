/**
 * The interface every sans-IO role (registrar, pool element, pool user)
 * offers its driver: the runtime's socket adapters or the simulator.
 *
 * @module
 */

import type { RSerPoolMessage } from "../protocol/types.ts";
import type {
  Action,
  ConnectionId,
  MulticastChannel,
  ProtocolName,
  RemoteEndpoint,
} from "./actions.ts";

/** What a driver needs of a role. `E` is the role's event type. */
export interface Role<E = unknown> {
  /**
   * The driver accepted a connection (`identity`: the peer's authenticated
   * identity, e.g. a TLS client certificate subject, when known).
   */
  accepted?(
    connection: ConnectionId,
    protocol: ProtocolName,
    remote: RemoteEndpoint | undefined,
    now: number,
    identity?: string,
  ): void;
  /** A connection the role asked for is established. */
  connectionUp(connection: ConnectionId, now: number, remote?: RemoteEndpoint): void;
  /** A connection failed, was lost or closed. */
  connectionDown(connection: ConnectionId, now: number): void;
  /** A decoded message arrived on a connection. */
  receive(connection: ConnectionId, message: RSerPoolMessage, now: number): void;
  /** A message's bytes arrived on a connection (used instead of receive when present). */
  receiveBytes?(connection: ConnectionId, bytes: Uint8Array, now: number): void;
  /** A multicast message arrived. */
  receiveMulticast(
    channel: MulticastChannel,
    message: RSerPoolMessage,
    source: RemoteEndpoint,
    now: number,
  ): void;
  /** Time passed. */
  advanceTime(now: number): void;
  /** The actions to carry out; the queue is emptied. */
  drainActions(): Action<E>[];
  /** When advanceTime should next be called. */
  nextDeadline(): number | undefined;
}
