/**
 * UDP channels for ASAP Server Announces and ENRP Presences (RFC 5352
 * §3.6, RFC 5353 §3.6), on `node:dgram`: multicast to a group, as RSPLIB
 * does (239.0.0.50:3863 and 239.0.0.51:9901), or unicast to one address.
 *
 * A channel both sends and receives: it binds the channel's port (shared
 * with other processes on the host), joins the group, and sends from that
 * port, so receivers that use the source address of a transport-less
 * announce reach the sender's port.
 *
 * @module
 */

import dgram from "node:dgram";
import net from "node:net";
import { TransportError } from "../errors.ts";
import type { RemoteEndpoint } from "../role/actions.ts";

/** Where a channel's datagrams go. */
export interface UdpChannelSettings {
  /** Multicast group (or a unicast address to send to). */
  readonly group: string;
  /** UDP port, bound locally and sent to. */
  readonly port: number;
  /** Multicast TTL / hop limit (default 1: this link only; RSPLIB sends with 30). */
  readonly ttl?: number;
  /** Local address of the interface to send and join on (default: the system's choice). */
  readonly interface?: string;
  /** Hear own datagrams and other processes' on this host (default true). */
  readonly loopback?: boolean;
}

/** RSPLIB's ASAP announce group and port. */
export const RSPLIB_ANNOUNCE_GROUP: UdpChannelSettings = Object.freeze({
  group: "239.0.0.50",
  port: 3863,
});

/** RSPLIB's ENRP presence group and port. */
export const RSPLIB_PRESENCE_GROUP: UdpChannelSettings = Object.freeze({
  group: "239.0.0.51",
  port: 9901,
});

/** Largest datagram accepted (larger ones are dropped unread). */
export const MAX_DATAGRAM = 65507;

/** Whether an address is a multicast group (224.0.0.0/4, ff00::/8). */
export function isMulticast(address: string): boolean {
  if (net.isIPv4(address)) {
    const first = Number(address.split(".")[0]);
    return first >= 224 && first <= 239;
  }
  return net.isIPv6(address) && address.toLowerCase().startsWith("ff");
}

/** An open UDP channel. */
export class UdpChannel {
  private closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    /** The channel's settings. */
    readonly settings: UdpChannelSettings,
  ) {}

  /**
   * Opens a channel; `receive` gets every datagram that arrives on it.
   * Rejects with {@link TransportError} `listen-failed` when the port or
   * group cannot be used.
   */
  static open(
    settings: UdpChannelSettings,
    receive: (bytes: Uint8Array, source: RemoteEndpoint) => void,
  ): Promise<UdpChannel> {
    const v6 = net.isIPv6(settings.group);
    const socket = dgram.createSocket({ type: v6 ? "udp6" : "udp4", reuseAddr: true });
    const multicast = isMulticast(settings.group);
    return new Promise((resolve, reject) => {
      const failed = (e: Error & { code?: string }) => {
        socket.close();
        reject(
          new TransportError(
            "listen-failed",
            `cannot use UDP ${settings.group}:${settings.port}: ${e.code ?? e.message}`,
            { cause: e },
          ),
        );
      };
      socket.once("error", failed);
      socket.bind(settings.port, () => {
        try {
          if (multicast) {
            socket.addMembership(settings.group, settings.interface);
            socket.setMulticastTTL(settings.ttl ?? 1);
            socket.setMulticastLoopback(settings.loopback ?? true);
            if (settings.interface !== undefined) socket.setMulticastInterface(settings.interface);
          } else if (settings.ttl !== undefined) {
            socket.setTTL(settings.ttl);
          }
        } catch (e) {
          failed(e as Error);
          return;
        }
        socket.off("error", failed);
        socket.on("error", () => {}); // a failed send must not end the process
        socket.on("message", (msg: Uint8Array, rinfo: dgram.RemoteInfo) => {
          if (msg.byteLength > MAX_DATAGRAM) return;
          receive(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), {
            address: rinfo.address,
            port: rinfo.port,
          });
        });
        resolve(new UdpChannel(socket, settings));
      });
    });
  }

  /** Sends a datagram to the channel (errors are dropped: datagrams are unreliable anyway). */
  send(bytes: Uint8Array): void {
    if (this.closed) return;
    this.socket.send(bytes, this.settings.port, this.settings.group, () => {});
  }

  /** Leaves the group and closes the socket. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
