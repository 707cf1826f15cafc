/**
 * Transports: the small interface the runtime drives roles through
 * ({@link MessageTransport}), TCP and TLS connections with message
 * framing, and UDP channels for announces and presences.
 *
 * ```ts ignore
 * import { StreamTransport } from "@rserpool/rserpool/transport";
 *
 * const tcp = new StreamTransport({ idleTimeout: 60_000 });
 * const listener = await tcp.listen({ port: 0, framing: "message", ppid: 11 }, (connection) => ({
 *   message: (ppid, payload) => connection.send(ppid, payload), // echo
 *   closed: (error) => console.log("gone", error?.code),
 * }));
 * ```
 *
 * @module
 */

export type {
  AcceptHandler,
  ConnectionHandlers,
  ConnectOptions,
  Framing,
  ListenOptions,
  MessageConnection,
  MessageListener,
  MessageTransport,
} from "./types.ts";
export {
  DEFAULT_STREAM_SETTINGS,
  type StreamSettings,
  StreamTransport,
  type StreamTransportOptions,
  type TlsSettings,
} from "./tcp.ts";
export {
  isMulticast,
  MAX_DATAGRAM,
  RSPLIB_ANNOUNCE_GROUP,
  RSPLIB_PRESENCE_GROUP,
  UdpChannel,
  type UdpChannelSettings,
} from "./udp.ts";
export {
  DEFAULT_MAX_SESSION_PAYLOAD,
  Deframer,
  type Frame,
  MessageDeframer,
  SessionDeframer,
  sessionFrameHeader,
} from "./framing.ts";
