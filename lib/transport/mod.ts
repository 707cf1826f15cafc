/**
 * Transports: the small interface the runtime drives roles through
 * ({@link MessageTransport}), TCP and TLS connections with message
 * framing, SCTP in TypeScript carried over UDP (RFC 6951, {@link SctpUdpTransport}),
 * and UDP channels for announces and presences.
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
export { SCTP_UDP_PORT, type SctpUdpSettings, SctpUdpTransport } from "./sctp/udp.ts";
export {
  Association,
  type AssociationConfig,
  type AssociationEvent,
  type AssociationParameters,
  type AssociationState,
  type AssociationStats,
  type CloseReason,
  DEFAULT_ASSOCIATION_CONFIG,
} from "./sctp/association.ts";
export {
  type DatagramAddress,
  type EndpointEvent,
  type EndpointStats,
  type OutgoingDatagram,
  SctpEndpoint,
  type SctpEndpointOptions,
} from "./sctp/endpoint.ts";
export {
  type BareChunk,
  type CauseChunk,
  checksumMatches,
  type Chunk,
  ChunkType,
  type CookieEchoChunk,
  type DataChunk,
  decodePacket,
  DEFAULT_PACKET_LIMITS,
  encodePacket,
  type HeartbeatChunk,
  type InitChunk,
  type PacketLimits,
  type SackChunk,
  SctpCause,
  type SctpErrorCause,
  type SctpPacket,
  type SctpParameter,
  type ShutdownChunk,
  type UnknownChunk,
} from "./sctp/chunk.ts";
export { type SimHost, SimNet, type SimNetOptions } from "./sctp/simnet.ts";
