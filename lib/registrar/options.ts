/**
 * Configuration and events of the Pool Registrar role.
 *
 * @module
 */

import type { ProtocolError } from "../errors.ts";
import type { HandlespaceOptions } from "../handlespace/handlespace.ts";
import type { PoolElementNode } from "../handlespace/node.ts";
import type { RandomSource } from "../policy/random.ts";
import type {
  Identifier,
  PoolElementParameter,
  TransportParameter,
  WireProfile,
} from "../protocol/types.ts";
import type { ConnectionId, RemoteEndpoint } from "../role/actions.ts";

/** The registrar's timers and thresholds, in milliseconds. */
export interface RegistrarTimers {
  /** Between ASAP Server Announces (T6-Serverannounce). */
  readonly serverAnnounceCycle: number;
  /** Between Endpoint Keep-Alives to an element this registrar owns. */
  readonly keepAliveInterval: number;
  /** Wait for the Keep-Alive Ack before the element is removed. */
  readonly keepAliveTimeout: number;
  /** Between ENRP Presences to each peer (peer-heartbeat-cycle). */
  readonly peerHeartbeatCycle: number;
  /** Silence after which a peer is asked for a Presence (max-time-last-heard). */
  readonly maxTimeLastHeard: number;
  /** Wait for that Presence before the peer is considered failed (max-time-no-response). */
  readonly maxTimeNoResponse: number;
  /** Wait at start-up for a mentor peer before starting alone. */
  readonly mentorHuntTimeout: number;
  /** Give up a takeover without all acknowledgements after this long (RSPLIB). */
  readonly takeoverExpiry: number;
}

/** RFC 5353's recommended values, with RSPLIB's for what the RFC leaves open. */
export const RFC_REGISTRAR_TIMERS: RegistrarTimers = Object.freeze({
  serverAnnounceCycle: 1000,
  keepAliveInterval: 5000,
  keepAliveTimeout: 5000,
  peerHeartbeatCycle: 30_000,
  maxTimeLastHeard: 61_000,
  maxTimeNoResponse: 5000,
  mentorHuntTimeout: 5000,
  takeoverExpiry: 5000,
});

/** RSPLIB 3.4.4's defaults (`rspregistrar`). */
export const RSPLIB_REGISTRAR_TIMERS: RegistrarTimers = Object.freeze({
  serverAnnounceCycle: 1000,
  keepAliveInterval: 5000,
  keepAliveTimeout: 5000,
  peerHeartbeatCycle: 2444,
  maxTimeLastHeard: 5000,
  maxTimeNoResponse: 5000,
  mentorHuntTimeout: 5000,
  takeoverExpiry: 5000,
});

/** A registration to authorize (RFC 5355 §2.1–2.4). */
export interface AuthorizationRequest {
  /** The pool. */
  readonly poolHandle: Uint8Array;
  /** The element as registered. */
  readonly poolElement: PoolElementParameter;
  /** The connection it arrived on. */
  readonly connection: ConnectionId;
  /** The connection's remote end, when the driver told it. */
  readonly remote?: RemoteEndpoint;
  /** What the driver knows of the peer's identity (e.g. a TLS client certificate subject). */
  readonly identity?: string;
}

/** Options of a {@link Registrar}. */
export interface RegistrarOptions {
  /** Registrar identifier; chosen at random (non-zero) when absent. */
  readonly id?: Identifier;
  /** Wire profile: 32-bit identifiers and Internet-16 (`rfc`), or 64-bit and Internet-32 (`nextgen`). */
  readonly profile?: WireProfile;
  /** This registrar's ENRP endpoint, sent in Server Information. */
  readonly enrpTransport: TransportParameter;
  /** This registrar's ASAP endpoints, sent in Server Announces. */
  readonly asapTransports?: readonly TransportParameter[];
  /** Statically configured peers' ENRP endpoints. */
  readonly peers?: readonly TransportParameter[];
  /** Send ASAP Server Announces (default: true). */
  readonly announce?: boolean;
  /** Send ENRP Presences by multicast too (default: false). */
  readonly multicastPresence?: boolean;
  /** Timers; unspecified ones keep {@link RFC_REGISTRAR_TIMERS}. */
  readonly timers?: Partial<RegistrarTimers>;
  /** Elements per Handle Resolution Response when the request does not say (RSPLIB: 3). */
  readonly defaultHandleResolutionItems?: number;
  /** Most elements in one Handle Resolution Response (RSPLIB: 128). */
  readonly maxHandleResolutionItems?: number;
  /** Most elements per Handle Table Response page (RSPLIB: 128). */
  readonly maxHandleTableItems?: number;
  /**
   * Measure the distances of elements with delay-sensitive (DPF) policies
   * as RSPLIB does, rounded to this step in ms (RSPLIB's default: 50): half
   * the round-trip time of the registration connection, plus half that of
   * the ENRP connection for elements learnt from a peer. Unset (the
   * default): elements keep the distance they registered.
   */
  readonly distanceStep?: number;
  /** Endpoint Unreachable reports that remove an element (MAX-BAD-PE-REPORT, RFC 5353: 3). */
  readonly maxBadPoolElementReports?: number;
  /** Handle resolutions per second and connection before refusing (RSPLIB -maxhrrate); unlimited when absent. */
  readonly maxHandleResolutionRate?: number;
  /** Endpoint Unreachable reports per second and connection before ignoring (RSPLIB -maxeurate). */
  readonly maxEndpointUnreachableRate?: number;
  /** The handlespace's limits and selection settings. */
  readonly handlespace?: HandlespaceOptions;
  /** Randomness: identifiers, randomized policies, heartbeat jitter (default `Math.random`). */
  readonly random?: RandomSource;
  /**
   * Decides whether a registration is allowed; return true, false (refused
   * with cause 0x000a, rejected due to security considerations) or a
   * {@link ProtocolError} carrying another cause.
   */
  readonly authorize?: (request: AuthorizationRequest) => boolean | ProtocolError;
  /**
   * Takeover Suggestion (draft-dreibholz-rserpool-enrp-takeover): after an
   * element registers, the peer that should take it over, if any.
   */
  readonly suggestTakeover?: (
    node: PoolElementNode,
    peers: readonly Identifier[],
  ) => Identifier | undefined;
  /** Act on Takeover Suggestions received from peers (default: true). */
  readonly acceptTakeoverSuggestions?: boolean;
  /** Checksum arithmetic in the RFC profile: exact RFC 1071 (default) or RSPLIB's wrapping one. */
  readonly checksum?: "internet16" | "rsplib16";
}

/** Why an element left the handlespace. */
export type RemovalReason =
  | "deregistered"
  | "expired"
  | "keep-alive"
  | "unreachable"
  | "connection-lost"
  | "handle-update"
  | "resynchronisation";

/** What a registrar tells its application. */
export type RegistrarEvent =
  | { readonly kind: "registered"; readonly node: PoolElementNode; readonly added: boolean }
  | {
    readonly kind: "registration-refused";
    readonly connection: ConnectionId;
    readonly poolHandle: Uint8Array;
    readonly error: ProtocolError;
  }
  | { readonly kind: "removed"; readonly node: PoolElementNode; readonly reason: RemovalReason }
  /** An element another registrar owns, added or updated by a Handle Update or a handle table. */
  | { readonly kind: "learnt"; readonly node: PoolElementNode; readonly added: boolean }
  | { readonly kind: "peer-up"; readonly peer: Identifier }
  | { readonly kind: "peer-down"; readonly peer: Identifier }
  | { readonly kind: "mentor"; readonly peer: Identifier | undefined }
  | { readonly kind: "synchronised"; readonly peer: Identifier; readonly elements: number }
  | { readonly kind: "takeover-started"; readonly target: Identifier }
  | { readonly kind: "takeover-done"; readonly target: Identifier; readonly elements: number }
  | { readonly kind: "takeover-abandoned"; readonly target: Identifier }
  | { readonly kind: "taken-over"; readonly target: Identifier; readonly by: Identifier }
  | { readonly kind: "protocol-error"; readonly connection: ConnectionId; readonly detail: string }
  | { readonly kind: "rate-limited"; readonly connection: ConnectionId; readonly what: string };
