/**
 * Messages and parameters as plain, readonly data. Field names follow the
 * RFCs, with "registrar" (Pool Registrar, PR) where the RFCs say "ENRP
 * server".
 *
 * Identifiers (PE identifiers and registrar identifiers) are `number`
 * (0 … 2^32−1) in the `rfc` wire profile and `bigint` (0 … 2^64−1) in the
 * `nextgen` profile; see {@link Identifier}.
 *
 * @module
 */

/**
 * A PE or registrar identifier: a `number` in the `rfc` profile (32 bits on
 * the wire), a `bigint` in the `nextgen` profile (64 bits on the wire).
 */
export type Identifier = number | bigint;

/** Wire profile: RFC 5352–5354 exactly, or the next-generation profile of `docs/nextgen.md`. */
export type WireProfile = "rfc" | "nextgen";

/**
 * A transport parameter (RFC 5354 §3.3–§3.7): how to reach an endpoint.
 * Addresses are text: dotted quad for an IPv4 Address parameter, IPv6 text
 * (anything containing `:`) for an IPv6 Address parameter. SCTP carries
 * one or more addresses; every other transport exactly one.
 */
export type TransportParameter =
  | SctpTransport
  | TcpTransport
  | UdpTransport
  | UdpLiteTransport
  | DccpTransport;

/** SCTP Transport parameter (0x0004), RFC 5354 §3.4. */
export interface SctpTransport {
  /** Discriminant. */
  readonly type: "SCTP";
  /** SCTP port. */
  readonly port: number;
  /** Transport Use ({@link TransportUse}); 16 bits. */
  readonly transportUse: number;
  /** One or more addresses of the (multi-homed) endpoint. */
  readonly addresses: readonly string[];
}

/** TCP Transport parameter (0x0005), RFC 5354 §3.5. */
export interface TcpTransport {
  /** Discriminant. */
  readonly type: "TCP";
  /** TCP port. */
  readonly port: number;
  /** Transport Use ({@link TransportUse}); 16 bits. */
  readonly transportUse: number;
  /** Exactly one address. */
  readonly addresses: readonly string[];
}

/** UDP Transport parameter (0x0006), RFC 5354 §3.6. */
export interface UdpTransport {
  /** Discriminant. */
  readonly type: "UDP";
  /** UDP port. */
  readonly port: number;
  /** Exactly one address. */
  readonly addresses: readonly string[];
}

/** UDP-Lite Transport parameter (0x0007), RFC 5354 §3.7. */
export interface UdpLiteTransport {
  /** Discriminant. */
  readonly type: "UDP-Lite";
  /** UDP-Lite port. */
  readonly port: number;
  /** Exactly one address. */
  readonly addresses: readonly string[];
}

/** DCCP Transport parameter (0x0003), RFC 5354 §3.3. */
export interface DccpTransport {
  /** Discriminant. */
  readonly type: "DCCP";
  /** DCCP port. */
  readonly port: number;
  /** DCCP Service Code (RFC 4340 §8.1.2); 32 bits. */
  readonly serviceCode: number;
  /** Exactly one address. */
  readonly addresses: readonly string[];
}

/**
 * Pool Member Selection Policy parameter (0x0008): the policy and its
 * values (RFC 5356 and RSPLIB's extensions). All values are unsigned 32-bit
 * integers; loads and factors are fractions scaled to 0 … 0xffffffff;
 * distance is in milliseconds. Unknown policy types are kept as
 * `{ type: "Unknown", policyType, data }` so that a registrar can answer
 * them with an Operation Error.
 */
export type PoolMemberSelectionPolicy =
  | { readonly type: "RoundRobin" }
  | { readonly type: "WeightedRoundRobin"; readonly weight: number }
  | { readonly type: "Random" }
  | { readonly type: "WeightedRandom"; readonly weight: number }
  | { readonly type: "Priority"; readonly priority: number }
  | { readonly type: "LeastUsed"; readonly load: number }
  | LoadAndDegradation<"LeastUsedDegradation">
  | LoadAndDegradation<"PriorityLeastUsed">
  | { readonly type: "RandomizedLeastUsed"; readonly load: number }
  | LoadAndDegradation<"RandomizedPriorityLeastUsed">
  | LoadAndDegradation<"RandomizedLeastUsedDegradation">
  | LoadAndDegradation<"PriorityLeastUsedDegradation">
  | LoadAndDegradation<"RandomizedPriorityLeastUsedDegradation">
  | {
    readonly type: "WeightedRandomDPF";
    readonly weight: number;
    readonly weightDpf: number;
    readonly distance: number;
  }
  | {
    readonly type: "LeastUsedDPF";
    readonly load: number;
    readonly loadDpf: number;
    readonly distance: number;
  }
  | LoadDegradationAndDistance<"LeastUsedDegradationDPF">
  | LoadDegradationAndDistance<"PriorityLeastUsedDPF">
  | LoadDegradationAndDistance<"PriorityLeastUsedDegradationDPF">
  | UnknownPolicy;

/** A policy with Load and Load Degradation (or Load Increment) fields. */
export interface LoadAndDegradation<T extends string> {
  /** Discriminant. */
  readonly type: T;
  /** Current load, 0 … 0xffffffff = 0 … 100 %. */
  readonly load: number;
  /** Load degradation (or load increment), 0 … 0xffffffff = 0 … 100 %. */
  readonly loadDegradation: number;
}

/** A DPF policy with Load, Load Degradation, Load DPF and Distance fields. */
export interface LoadDegradationAndDistance<T extends string> extends LoadAndDegradation<T> {
  /** Load distance penalty factor per millisecond, 0 … 0xffffffff. */
  readonly loadDpf: number;
  /** Distance in milliseconds. */
  readonly distance: number;
}

/** A policy type this library does not know; its bytes are kept as they came. */
export interface UnknownPolicy {
  /** Discriminant. */
  readonly type: "Unknown";
  /** The 32-bit policy type code. */
  readonly policyType: number;
  /** The bytes after the policy type (without padding). */
  readonly data: Uint8Array;
}

/** The policy names this library knows (every variant but `"Unknown"`). */
export type PolicyName = Exclude<PoolMemberSelectionPolicy["type"], "Unknown">;

/** Pool Element parameter (0x000a), RFC 5354 §3.10. */
export interface PoolElementParameter {
  /** PE Identifier, chosen by the PE, stable across re-registrations. */
  readonly identifier: Identifier;
  /** Home ENRP Server (registrar) Identifier; 0 in a PE's own registration. */
  readonly homeRegistrarId: Identifier;
  /** Registration Life in milliseconds (read as unsigned 32 bits, as RSPLIB does). */
  readonly registrationLife: number;
  /** How pool users reach the PE. */
  readonly userTransport: TransportParameter;
  /** The PE's selection policy and its values. */
  readonly policy: PoolMemberSelectionPolicy;
  /** The PE's ASAP endpoint, present when registrars distribute the PE via ENRP. */
  readonly asapTransport?: TransportParameter;
}

/** Server Information parameter (0x000b), RFC 5354 §3.11. */
export interface ServerInformation {
  /** The registrar's identifier (0 when not yet known, as RSPLIB sends for static peers). */
  readonly registrarId: Identifier;
  /** The registrar's ENRP endpoint. */
  readonly transport: TransportParameter;
}

/**
 * One error cause inside an Operation Error parameter (RFC 5354 §3.12):
 * its code ({@link ErrorCauseCode}) and its cause-specific information as
 * raw bytes (without padding; possibly empty, as RSPLIB sends for every
 * code but 0x1, 0x3 and 0x11).
 */
export interface ErrorCause {
  /** 16-bit cause code. */
  readonly code: number;
  /** Cause-specific information (a parameter or a message), without padding. */
  readonly info: Uint8Array;
}

// ---------------------------------------------------------------------------
// ASAP messages (RFC 5352 §2.2)

/** ASAP_REGISTRATION (0x01): a PE registers or re-registers. */
export interface Registration {
  /** Discriminant. */
  readonly type: "Registration";
  /** The pool to register in. */
  readonly poolHandle: Uint8Array;
  /** The PE (without ASAP Transport). */
  readonly poolElement: PoolElementParameter;
}

/** ASAP_DEREGISTRATION (0x02): a PE leaves its pool. */
export interface Deregistration {
  /** Discriminant. */
  readonly type: "Deregistration";
  /** The pool. */
  readonly poolHandle: Uint8Array;
  /** The PE's identifier. */
  readonly poolElementId: Identifier;
}

/** ASAP_REGISTRATION_RESPONSE (0x03). */
export interface RegistrationResponse {
  /** Discriminant. */
  readonly type: "RegistrationResponse";
  /** R flag: the registration was rejected. */
  readonly reject: boolean;
  /** The pool. */
  readonly poolHandle: Uint8Array;
  /** The PE's identifier. */
  readonly poolElementId: Identifier;
  /** Why it was rejected, when it was. */
  readonly operationError?: readonly ErrorCause[];
}

/** ASAP_DEREGISTRATION_RESPONSE (0x04). */
export interface DeregistrationResponse {
  /** Discriminant. */
  readonly type: "DeregistrationResponse";
  /** The pool. */
  readonly poolHandle: Uint8Array;
  /** The PE's identifier. */
  readonly poolElementId: Identifier;
  /** What went wrong, if something did. */
  readonly operationError?: readonly ErrorCause[];
}

/** ASAP_HANDLE_RESOLUTION (0x05): a PU asks for the elements of a pool. */
export interface HandleResolution {
  /** Discriminant. */
  readonly type: "HandleResolution";
  /** The pool to resolve. */
  readonly poolHandle: Uint8Array;
  /**
   * Items of the Handle Resolution Option (0x803f): how many elements the
   * PU wants; 0xffffffff = as many as possible. Absent: the registrar decides.
   */
  readonly items?: number;
}

/** ASAP_HANDLE_RESOLUTION_RESPONSE (0x06). */
export interface HandleResolutionResponse {
  /** Discriminant. */
  readonly type: "HandleResolutionResponse";
  /** The pool. */
  readonly poolHandle: Uint8Array;
  /** The overall pool policy (RSPLIB requires it on success). */
  readonly policy?: PoolMemberSelectionPolicy;
  /** The selected elements (possibly none). */
  readonly poolElements: readonly PoolElementParameter[];
  /** The failure, e.g. Unknown Pool Handle. */
  readonly operationError?: readonly ErrorCause[];
}

/** ASAP_ENDPOINT_KEEP_ALIVE (0x07): a registrar checks on a PE it serves. */
export interface EndpointKeepAlive {
  /** Discriminant. */
  readonly type: "EndpointKeepAlive";
  /** H flag: the sender is (now) the PE's home registrar. */
  readonly home: boolean;
  /** The sending registrar's identifier. */
  readonly registrarId: Identifier;
  /** The pool. */
  readonly poolHandle: Uint8Array;
  /** RSPLIB appends the PE Identifier (not in RFC 5352; decoded in lenient mode). */
  readonly poolElementId?: Identifier;
}

/** ASAP_ENDPOINT_KEEP_ALIVE_ACK (0x08). */
export interface EndpointKeepAliveAck {
  /** Discriminant. */
  readonly type: "EndpointKeepAliveAck";
  /** The pool. */
  readonly poolHandle: Uint8Array;
  /** The answering PE. */
  readonly poolElementId: Identifier;
}

/** ASAP_ENDPOINT_UNREACHABLE (0x09): a PU reports a PE it could not reach. */
export interface EndpointUnreachable {
  /** Discriminant. */
  readonly type: "EndpointUnreachable";
  /** The pool. */
  readonly poolHandle: Uint8Array;
  /** The unreachable PE. */
  readonly poolElementId: Identifier;
}

/** ASAP_SERVER_ANNOUNCE (0x0a): a registrar announces itself (UDP multicast). */
export interface ServerAnnounce {
  /** Discriminant. */
  readonly type: "ServerAnnounce";
  /** The announcing registrar. */
  readonly registrarId: Identifier;
  /** Its ASAP endpoints (RSPLIB sends none: use the packet's source). */
  readonly transports: readonly TransportParameter[];
}

/** ASAP_COOKIE (0x0b): a PE hands its session state to the PU. */
export interface Cookie {
  /** Discriminant. */
  readonly type: "Cookie";
  /** Opaque state. */
  readonly cookie: Uint8Array;
}

/** ASAP_COOKIE_ECHO (0x0c): a PU returns the last cookie to a new PE after failover. */
export interface CookieEcho {
  /** Discriminant. */
  readonly type: "CookieEcho";
  /** The cookie as received. */
  readonly cookie: Uint8Array;
}

/** ASAP_BUSINESS_CARD (0x0d): the sender's pool and its failover candidates. */
export interface BusinessCard {
  /** Discriminant. */
  readonly type: "BusinessCard";
  /** The sender's pool. */
  readonly poolHandle: Uint8Array;
  /** RSPLIB's creator adds the pool policy (not in RFC 5352; decoded in lenient mode). */
  readonly policy?: PoolMemberSelectionPolicy;
  /** One or more failover candidates, in order. */
  readonly poolElements: readonly PoolElementParameter[];
}

/** ASAP_ERROR (0x0e). */
export interface AsapError {
  /** Discriminant. */
  readonly type: "AsapError";
  /** The causes. */
  readonly operationError: readonly ErrorCause[];
}

/** Every ASAP message. */
export type AsapMessage =
  | Registration
  | Deregistration
  | RegistrationResponse
  | DeregistrationResponse
  | HandleResolution
  | HandleResolutionResponse
  | EndpointKeepAlive
  | EndpointKeepAliveAck
  | EndpointUnreachable
  | ServerAnnounce
  | Cookie
  | CookieEcho
  | BusinessCard
  | AsapError;

// ---------------------------------------------------------------------------
// ENRP messages (RFC 5353 §2)

/** Fields every ENRP message starts with. */
export interface EnrpHeader {
  /** Sending Server's (registrar's) ID. */
  readonly sendingRegistrarId: Identifier;
  /** Receiving Server's (registrar's) ID; 0 when unknown or multicast. */
  readonly receivingRegistrarId: Identifier;
}

/** ENRP_PRESENCE (0x01): heartbeat with the sender's ownership checksum. */
export interface Presence extends EnrpHeader {
  /** Discriminant. */
  readonly type: "Presence";
  /** R flag: the receiver must answer with a Presence. */
  readonly replyRequired: boolean;
  /** PE Checksum: Internet-16 (rfc) or Internet-32 (nextgen) over the PEs the sender owns. */
  readonly checksum: number;
  /** The sender's ENRP endpoint (optional in RFC 5353, required by RSPLIB). */
  readonly serverInformation?: ServerInformation;
}

/** ENRP_HANDLE_TABLE_REQUEST (0x02). */
export interface HandleTableRequest extends EnrpHeader {
  /** Discriminant. */
  readonly type: "HandleTableRequest";
  /** W flag: only the PEs the receiver owns. */
  readonly ownChildrenOnly: boolean;
}

/** One pool in a Handle Table Response: a Pool Handle and its elements. */
export interface HandleTablePool {
  /** The pool. */
  readonly poolHandle: Uint8Array;
  /** One or more of its elements (with ASAP Transport). */
  readonly poolElements: readonly PoolElementParameter[];
}

/** ENRP_HANDLE_TABLE_RESPONSE (0x03). */
export interface HandleTableResponse extends EnrpHeader {
  /** Discriminant. */
  readonly type: "HandleTableResponse";
  /** R flag: the request was rejected. */
  readonly reject: boolean;
  /** M flag: more entries follow; ask again. */
  readonly moreToSend: boolean;
  /** The pools of this page (possibly none). */
  readonly pools: readonly HandleTablePool[];
}

/** ENRP_HANDLE_UPDATE (0x04): the owner announces an added, changed or removed PE. */
export interface HandleUpdate extends EnrpHeader {
  /** Discriminant. */
  readonly type: "HandleUpdate";
  /** T flag (draft-dreibholz-rserpool-enrp-takeover): the receiver should take the PE over. */
  readonly takeoverSuggested: boolean;
  /** Update Action ({@link UpdateAction}); 16 bits. */
  readonly updateAction: number;
  /** The pool. */
  readonly poolHandle: Uint8Array;
  /** The PE (with ASAP Transport). */
  readonly poolElement: PoolElementParameter;
}

/** ENRP_LIST_REQUEST (0x05). */
export interface ListRequest extends EnrpHeader {
  /** Discriminant. */
  readonly type: "ListRequest";
}

/** ENRP_LIST_RESPONSE (0x06). */
export interface ListResponse extends EnrpHeader {
  /** Discriminant. */
  readonly type: "ListResponse";
  /** R flag: the request was rejected. */
  readonly reject: boolean;
  /** The registrars the sender knows. */
  readonly servers: readonly ServerInformation[];
}

/** ENRP_INIT_TAKEOVER (0x07). */
export interface InitTakeover extends EnrpHeader {
  /** Discriminant. */
  readonly type: "InitTakeover";
  /** The registrar to be taken over. */
  readonly targetRegistrarId: Identifier;
}

/** ENRP_INIT_TAKEOVER_ACK (0x08). */
export interface InitTakeoverAck extends EnrpHeader {
  /** Discriminant. */
  readonly type: "InitTakeoverAck";
  /** The registrar to be taken over. */
  readonly targetRegistrarId: Identifier;
}

/** ENRP_TAKEOVER_SERVER (0x09). */
export interface TakeoverServer extends EnrpHeader {
  /** Discriminant. */
  readonly type: "TakeoverServer";
  /** The registrar that was taken over. */
  readonly targetRegistrarId: Identifier;
}

/** ENRP_ERROR (0x0a). */
export interface EnrpError extends EnrpHeader {
  /** Discriminant. */
  readonly type: "EnrpError";
  /** The causes. */
  readonly operationError: readonly ErrorCause[];
}

/** Every ENRP message. */
export type EnrpMessage =
  | Presence
  | HandleTableRequest
  | HandleTableResponse
  | HandleUpdate
  | ListRequest
  | ListResponse
  | InitTakeover
  | InitTakeoverAck
  | TakeoverServer
  | EnrpError;

/** Every ASAP and ENRP message. */
export type RSerPoolMessage = AsapMessage | EnrpMessage;
