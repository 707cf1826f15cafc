/**
 * Code points of ASAP (RFC 5352), ENRP (RFC 5353), their parameters
 * (RFC 5354), pool member selection policies (RFC 5356), the drafts RSPLIB
 * implements, and the next-generation profile of this library
 * (`docs/nextgen.md`).
 *
 * @module
 */

/** ASAP message type codes (RFC 5352 §2.2). */
export const AsapMessageType = {
  /** ASAP_REGISTRATION, RFC 5352 §2.2.1. */
  Registration: 0x01,
  /** ASAP_DEREGISTRATION, RFC 5352 §2.2.2. */
  Deregistration: 0x02,
  /** ASAP_REGISTRATION_RESPONSE, RFC 5352 §2.2.3. */
  RegistrationResponse: 0x03,
  /** ASAP_DEREGISTRATION_RESPONSE, RFC 5352 §2.2.4. */
  DeregistrationResponse: 0x04,
  /** ASAP_HANDLE_RESOLUTION, RFC 5352 §2.2.5. */
  HandleResolution: 0x05,
  /** ASAP_HANDLE_RESOLUTION_RESPONSE, RFC 5352 §2.2.6. */
  HandleResolutionResponse: 0x06,
  /** ASAP_ENDPOINT_KEEP_ALIVE, RFC 5352 §2.2.7. */
  EndpointKeepAlive: 0x07,
  /** ASAP_ENDPOINT_KEEP_ALIVE_ACK, RFC 5352 §2.2.8. */
  EndpointKeepAliveAck: 0x08,
  /** ASAP_ENDPOINT_UNREACHABLE, RFC 5352 §2.2.9. */
  EndpointUnreachable: 0x09,
  /** ASAP_SERVER_ANNOUNCE, RFC 5352 §2.2.10. */
  ServerAnnounce: 0x0a,
  /** ASAP_COOKIE, RFC 5352 §2.2.11. */
  Cookie: 0x0b,
  /** ASAP_COOKIE_ECHO, RFC 5352 §2.2.12. */
  CookieEcho: 0x0c,
  /** ASAP_BUSINESS_CARD, RFC 5352 §2.2.13. */
  BusinessCard: 0x0d,
  /** ASAP_ERROR, RFC 5352 §2.2.14. */
  AsapError: 0x0e,
} as const;

/** ENRP message type codes (RFC 5353 §2). */
export const EnrpMessageType = {
  /** ENRP_PRESENCE, RFC 5353 §2.1. */
  Presence: 0x01,
  /** ENRP_HANDLE_TABLE_REQUEST, RFC 5353 §2.2. */
  HandleTableRequest: 0x02,
  /** ENRP_HANDLE_TABLE_RESPONSE, RFC 5353 §2.3. */
  HandleTableResponse: 0x03,
  /** ENRP_HANDLE_UPDATE, RFC 5353 §2.4. */
  HandleUpdate: 0x04,
  /** ENRP_LIST_REQUEST, RFC 5353 §2.5. */
  ListRequest: 0x05,
  /** ENRP_LIST_RESPONSE, RFC 5353 §2.6. */
  ListResponse: 0x06,
  /** ENRP_INIT_TAKEOVER, RFC 5353 §2.7. */
  InitTakeover: 0x07,
  /** ENRP_INIT_TAKEOVER_ACK, RFC 5353 §2.8. */
  InitTakeoverAck: 0x08,
  /** ENRP_TAKEOVER_SERVER, RFC 5353 §2.9. */
  TakeoverServer: 0x09,
  /** ENRP_ERROR, RFC 5353 §2.10. */
  EnrpError: 0x0a,
} as const;

/** Message flag masks (value masks on the flags byte; 0x01 is the least significant bit). */
export const MessageFlag = {
  /** R (Reject) in ASAP_REGISTRATION_RESPONSE, RFC 5352 §2.2.3. */
  RegistrationResponseReject: 0x01,
  /** H (Home) in ASAP_ENDPOINT_KEEP_ALIVE, RFC 5352 §2.2.7. */
  EndpointKeepAliveHome: 0x01,
  /** R (Reply required) in ENRP_PRESENCE, RFC 5353 §2.1. */
  PresenceReplyRequired: 0x01,
  /** W (Own children only) in ENRP_HANDLE_TABLE_REQUEST, RFC 5353 §2.2. */
  HandleTableRequestOwnChildrenOnly: 0x01,
  /** R (Reject) in ENRP_HANDLE_TABLE_RESPONSE, RFC 5353 §2.3. */
  HandleTableResponseReject: 0x01,
  /** M (More to send) in ENRP_HANDLE_TABLE_RESPONSE, RFC 5353 §2.3. */
  HandleTableResponseMoreToSend: 0x02,
  /** T (Takeover suggested) in ENRP_HANDLE_UPDATE, draft-dreibholz-rserpool-enrp-takeover. */
  HandleUpdateTakeoverSuggested: 0x01,
  /** R (Reject) in ENRP_LIST_RESPONSE, RFC 5353 §2.6. */
  ListResponseReject: 0x01,
} as const;

/** Parameter type codes of RFC 5354 §3 and the drafts (16-bit, action bits included). */
export const ParameterType = {
  /** IPv4 Address, RFC 5354 §3.1. */
  IPv4Address: 0x0001,
  /** IPv6 Address, RFC 5354 §3.2. */
  IPv6Address: 0x0002,
  /** DCCP Transport, RFC 5354 §3.3. */
  DccpTransport: 0x0003,
  /** SCTP Transport, RFC 5354 §3.4. */
  SctpTransport: 0x0004,
  /** TCP Transport, RFC 5354 §3.5. */
  TcpTransport: 0x0005,
  /** UDP Transport, RFC 5354 §3.6. */
  UdpTransport: 0x0006,
  /** UDP-Lite Transport, RFC 5354 §3.7. */
  UdpLiteTransport: 0x0007,
  /** Pool Member Selection Policy, RFC 5354 §3.8. */
  PoolMemberSelectionPolicy: 0x0008,
  /** Pool Handle, RFC 5354 §3.9. */
  PoolHandle: 0x0009,
  /** Pool Element, RFC 5354 §3.10. */
  PoolElement: 0x000a,
  /** Server Information, RFC 5354 §3.11. */
  ServerInformation: 0x000b,
  /** Operation Error, RFC 5354 §3.12. */
  OperationError: 0x000c,
  /** Cookie, RFC 5354 §3.13. */
  Cookie: 0x000d,
  /** PE Identifier, RFC 5354 §3.14. */
  PoolElementIdentifier: 0x000e,
  /** PE Checksum, RFC 5354 §3.15. */
  PoolElementChecksum: 0x000f,
  /** Handle Resolution Option, draft-dreibholz-rserpool-asap-hropt (action bits 10: skip). */
  HandleResolutionOption: 0x803f,
  /** Next-generation Pool Element with 64-bit identifiers (`docs/nextgen.md`; action bits 01). */
  NextGenPoolElement: 0x500a,
  /** Next-generation Server Information with a 64-bit identifier (`docs/nextgen.md`; action bits 01). */
  NextGenServerInformation: 0x500b,
  /** Next-generation 64-bit PE Identifier (`docs/nextgen.md`; action bits 01). */
  NextGenPoolElementIdentifier: 0x500e,
  /** Next-generation Internet-32 PE Checksum (`docs/nextgen.md`; action bits 01). */
  NextGenPoolElementChecksum: 0x500f,
} as const;

/** The two "unrecognized parameter" action bits (RFC 5354 §2): the top two bits of a parameter type. */
export const ParameterAction = {
  /** 00: stop processing the message, discard it, do not report. */
  Stop: 0,
  /** 01: stop processing, discard, report in an "Unrecognized Parameter" cause. */
  StopAndReport: 1,
  /** 10: skip this parameter and continue. */
  Skip: 2,
  /** 11: skip this parameter, continue, and report it. */
  SkipAndReport: 3,
} as const;

/** Transport Use values of the SCTP and TCP Transport parameters (RFC 5354 §3.4, §3.5). */
export const TransportUse = {
  /** The user transport carries application data only. */
  DataOnly: 0x0000,
  /** ASAP control messages are multiplexed with data (PPID 11). */
  DataPlusControl: 0x0001,
} as const;

/** Update Action values of ENRP_HANDLE_UPDATE (RFC 5353 §2.4). */
export const UpdateAction = {
  /** ADD_PE: add or update the pool element. */
  AddPoolElement: 0x0000,
  /** DEL_PE: delete the pool element. */
  DeletePoolElement: 0x0001,
} as const;

/**
 * Operation Error cause codes: those of RFC 5354 §3.12 and the internal
 * error numbers RSPLIB 3.4.4 puts on the wire (`src/rserpoolerror.h`).
 */
export const ErrorCauseCode = {
  /** Unspecified Error, RFC 5354 §3.12. */
  UnspecifiedError: 0x0000,
  /** Unrecognized Parameter (info: the parameter), RFC 5354 §3.12. */
  UnrecognizedParameter: 0x0001,
  /** Unrecognized Message (info: the message), RFC 5354 §3.12. */
  UnrecognizedMessage: 0x0002,
  /** Invalid Values (info: the parameter), RFC 5354 §3.12. RSPLIB: RSPERR_INVALID_TLV. */
  InvalidValues: 0x0003,
  /** Non-unique PE Identifier, RFC 5354 §3.12. */
  NonUniquePoolElementIdentifier: 0x0004,
  /** Inconsistent Pooling Policy (info: the policy; RSPLIB sends none), RFC 5354 §3.12. */
  InconsistentPoolingPolicy: 0x0005,
  /** Lack of Resources, RFC 5354 §3.12. */
  LackOfResources: 0x0006,
  /** Inconsistent Transport Type (info: the transport), RFC 5354 §3.12. */
  InconsistentTransportType: 0x0007,
  /** Inconsistent Data/Control Configuration, RFC 5354 §3.12. */
  InconsistentDataControlConfiguration: 0x0008,
  /** Unknown Pool Handle, RFC 5354 §3.12. */
  UnknownPoolHandle: 0x0009,
  /** Rejected due to security considerations, RFC 5354 §3.12. */
  RejectedDueToSecurity: 0x000a,
  /** RSPLIB RSPERR_INVALID_MESSAGE (not an RFC code). */
  RsplibInvalidMessage: 0x0010,
  /** RSPLIB RSPERR_INVALID_VALUE (not an RFC code; info: the parameter). */
  RsplibInvalidValue: 0x0011,
  /** RSPLIB RSPERR_NOT_INITIALIZED. */
  RsplibNotInitialized: 0x1000,
  /** RSPLIB RSPERR_BUFFERSIZE_EXCEEDED. */
  RsplibBufferSizeExceeded: 0x1001,
  /** RSPLIB RSPERR_READ_ERROR. */
  RsplibReadError: 0x1003,
  /** RSPLIB RSPERR_WRITE_ERROR. */
  RsplibWriteError: 0x1004,
  /** RSPLIB RSPERR_CONNECTION_FAILURE_SOCKET. */
  RsplibConnectionFailureSocket: 0x1005,
  /** RSPLIB RSPERR_CONNECTION_FAILURE_CONNECT. */
  RsplibConnectionFailureConnect: 0x1006,
  /** RSPLIB RSPERR_NO_REGISTRAR. */
  RsplibNoRegistrar: 0x1007,
  /** RSPLIB RSPERR_TIMEOUT. */
  RsplibTimeout: 0x1008,
  /** RSPLIB RSPERR_UNRECOGNIZED_PARAMETER_SILENT. */
  RsplibUnrecognizedParameterSilent: 0x1009,
  /** RSPLIB RSPERR_WRONG_PROTOCOL. */
  RsplibWrongProtocol: 0x100a,
  /** RSPLIB RSPERR_UNSUPPORTED_POOL_POLICY. */
  RsplibUnsupportedPoolPolicy: 0x100b,
  /** RSPLIB RSPERR_INVALID_ID. */
  RsplibInvalidId: 0xf000,
  /** RSPLIB RSPERR_OWN_ID. */
  RsplibOwnId: 0xf001,
  /** RSPLIB RSPERR_DUPLICATE_ID. */
  RsplibDuplicateId: 0xf002,
  /** RSPLIB RSPERR_INVALID_POOL_POLICY. */
  RsplibInvalidPoolPolicy: 0xf003,
  /** RSPLIB RSPERR_INVALID_POOL_HANDLE. */
  RsplibInvalidPoolHandle: 0xf004,
  /** RSPLIB RSPERR_INVALID_ADDRESSES. */
  RsplibInvalidAddresses: 0xf005,
  /** RSPLIB RSPERR_INVALID_REGISTRATOR. */
  RsplibInvalidRegistrator: 0xf006,
  /** RSPLIB RSPERR_NO_USABLE_ASAP_ADDRESSES. */
  RsplibNoUsableAsapAddresses: 0xf007,
  /** RSPLIB RSPERR_NO_USABLE_USER_ADDRESSES. */
  RsplibNoUsableUserAddresses: 0xf008,
} as const;

/** Human-readable names of the known error cause codes, for logs and reports. */
export const ERROR_CAUSE_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(ErrorCauseCode).map(([name, code]) => [code, name]),
);

/**
 * Pool member selection policy type codes: RFC 5356 and RSPLIB's private
 * 0xb000xxxx range (`src/rserpool-policytypes.h`).
 */
export const PolicyTypeCode = {
  /** Round Robin, RFC 5356 §3.1.1. */
  RoundRobin: 0x00000001,
  /** Weighted Round Robin, RFC 5356 §3.1.2. */
  WeightedRoundRobin: 0x00000002,
  /** Random, RFC 5356 §3.1.3. */
  Random: 0x00000003,
  /** Weighted Random, RFC 5356 §3.1.4. */
  WeightedRandom: 0x00000004,
  /** Priority, RFC 5356 §3.1.5. */
  Priority: 0x00000005,
  /** Least Used, RFC 5356 §3.2.1. */
  LeastUsed: 0x40000001,
  /** Least Used with Degradation, RFC 5356 §3.2.2. */
  LeastUsedDegradation: 0x40000002,
  /** Priority Least Used, RFC 5356 §3.2.3. */
  PriorityLeastUsed: 0x40000003,
  /** Randomized Least Used, RFC 5356 §3.2.4. */
  RandomizedLeastUsed: 0x40000004,
  /** RSPLIB: Randomized Priority Least Used. */
  RandomizedPriorityLeastUsed: 0xb0001001,
  /** RSPLIB: Randomized Least Used with Degradation. */
  RandomizedLeastUsedDegradation: 0xb0001002,
  /** RSPLIB: Priority Least Used with Degradation. */
  PriorityLeastUsedDegradation: 0xb0001003,
  /** RSPLIB: Randomized Priority Least Used with Degradation. */
  RandomizedPriorityLeastUsedDegradation: 0xb0001004,
  /** RSPLIB / draft-dreibholz-rserpool-delay: Weighted Random with Distance Penalty Factor. */
  WeightedRandomDPF: 0xb0002001,
  /** RSPLIB / draft-dreibholz-rserpool-delay: Least Used with Distance Penalty Factor. */
  LeastUsedDPF: 0xb0002002,
  /** RSPLIB: Least Used with Degradation and Distance Penalty Factor. */
  LeastUsedDegradationDPF: 0xb0002003,
  /** RSPLIB code; wire layout defined by this library (`docs/wire.md`). */
  PriorityLeastUsedDPF: 0xb0002004,
  /** RSPLIB code; wire layout defined by this library (`docs/wire.md`). */
  PriorityLeastUsedDegradationDPF: 0xb0002005,
} as const;

/** SCTP payload protocol identifiers. */
export const Ppid = {
  /** ASAP, RFC 5352 (IANA). */
  Asap: 11,
  /** ENRP, RFC 5353 (IANA). */
  Enrp: 12,
  /** Next-generation ASAP profile of this library (not IANA-assigned; `docs/nextgen.md`). */
  AsapNextGen: 0x52534e41,
  /** Next-generation ENRP profile of this library (not IANA-assigned; `docs/nextgen.md`). */
  EnrpNextGen: 0x52534e45,
} as const;

/** Well-known ports. */
export const Port = {
  /** ASAP (SCTP, TCP, UDP announces), RFC 5352 IANA section. */
  Asap: 3863,
  /** ASAP over TLS. */
  AsapTls: 3864,
  /** ENRP (SCTP, UDP presence), RFC 5353 IANA section. */
  Enrp: 9901,
  /** ENRP over TLS. */
  EnrpTls: 9902,
  /** SCTP over UDP encapsulation, RFC 6951. */
  SctpUdpEncapsulation: 9899,
  /** Next-generation ASAP over TCP (not IANA-assigned; `docs/nextgen.md`). */
  AsapNextGen: 3873,
  /** Next-generation ENRP over TCP (not IANA-assigned; `docs/nextgen.md`). */
  EnrpNextGen: 9911,
} as const;

/** Items value of the Handle Resolution Option meaning "as many as possible" (RSPLIB `RSPGETADDRS_MAX`). */
export const HANDLE_RESOLUTION_ITEMS_MAX = 0xffffffff;
