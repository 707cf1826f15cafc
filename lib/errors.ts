/**
 * The library's error family. Everything the library throws because of bad
 * input or bad arguments is an {@link RSerPoolError}; nothing else escapes.
 *
 * @module
 */

/** Base class of every error the library throws on bad input or arguments. */
export class RSerPoolError extends Error {
  /** A stable, machine-readable code such as `"truncated"`. */
  readonly code: string;

  /**
   * Creates an error with a stable code.
   *
   * @param code stable machine-readable code
   * @param message human-readable description
   * @param options standard error options (e.g. `cause`)
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RSerPoolError";
    this.code = code;
  }
}

/**
 * Stable codes of {@link DecodeError}. Each names one class of problem; the
 * exact rules are documented in `docs/wire.md`.
 */
export type DecodeErrorCode =
  /** The input ends before a header or fixed field is complete. */
  | "truncated"
  /** The message Length field is below 4, above the bytes present, or not what the message type requires. */
  | "bad-message-length"
  /** Bytes follow the message (strict mode only). */
  | "trailing-bytes"
  /** A parameter or error cause Length is below its minimum or runs past its container. */
  | "bad-parameter-length"
  /** Padding after a parameter is missing, or (strict mode) not zero. */
  | "bad-padding"
  /** Reserved flag bits or reserved fields are not zero (strict mode only). */
  | "reserved-bits"
  /** The message type is not defined for the protocol. */
  | "unknown-message-type"
  /** The SCTP payload protocol identifier is neither ASAP nor ENRP. */
  | "unknown-ppid"
  /** An unrecognized parameter whose action bits say "stop processing". */
  | "unrecognized-parameter"
  /** A known parameter where the message grammar does not allow it. */
  | "unexpected-parameter"
  /** A parameter the message requires is absent. */
  | "missing-parameter"
  /** A field holds a value the protocol does not allow (e.g. an address of the wrong size). */
  | "bad-value"
  /** A documented decoder limit was exceeded (pool handle length, entries per message). */
  | "limit-exceeded"
  /** A capture file (pcap/pcapng) is malformed. */
  | "bad-capture"
  /** An SCTP packet's CRC32c does not match its contents. */
  | "bad-checksum"
  /** An SCTP chunk's Length is below its minimum or runs past the packet. */
  | "bad-chunk";

/**
 * Thrown by every decoder on malformed input. `offset` is the byte offset,
 * from the start of the decoded buffer, where the problem was found.
 */
export class DecodeError extends RSerPoolError {
  /** The stable code of the problem. */
  declare readonly code: DecodeErrorCode;
  /** Byte offset of the problem from the start of the input. */
  readonly offset: number;
  /**
   * For `unrecognized-parameter`: the complete parameter (TLV header, value,
   * without padding), ready to be returned in an "Unrecognized Parameter"
   * error cause.
   */
  readonly parameter?: Uint8Array;
  /**
   * For `unrecognized-parameter`: true when the action bits ask the receiver
   * to report the parameter (action 01), false when it must stay silent (00).
   */
  readonly report?: boolean;

  /**
   * Creates a decode error.
   *
   * @param code stable error code
   * @param offset byte offset of the problem
   * @param message human-readable description
   * @param details the unrecognized parameter and whether to report it
   */
  constructor(
    code: DecodeErrorCode,
    offset: number,
    message: string,
    details?: { parameter?: Uint8Array; report?: boolean },
  ) {
    super(code, `${message} (at byte ${offset})`);
    this.name = "DecodeError";
    this.offset = offset;
    if (details?.parameter !== undefined) this.parameter = details.parameter;
    if (details?.report !== undefined) this.report = details.report;
  }
}

/** Stable codes of {@link EncodeError}. */
export type EncodeErrorCode =
  /** A field is missing, of the wrong type, or out of its range. */
  | "bad-value"
  /** The message or a parameter would exceed its 16-bit length field. */
  | "too-long";

/**
 * Thrown by the encoders when a message object cannot be put on the wire.
 * `path` names the offending field, e.g. `poolElement.userTransport.port`.
 */
export class EncodeError extends RSerPoolError {
  /** The stable code of the problem. */
  declare readonly code: EncodeErrorCode;
  /** Dotted path of the offending field (empty for the message itself). */
  readonly path: string;
  /** The problem, without the path. */
  readonly detail: string;

  /**
   * Creates an encode error.
   *
   * @param code stable error code
   * @param path dotted path of the offending field
   * @param detail human-readable description of the problem
   */
  constructor(code: EncodeErrorCode, path: string, detail: string) {
    super(code, path === "" ? detail : `${path}: ${detail}`);
    this.name = "EncodeError";
    this.path = path;
    this.detail = detail;
  }

  /** The same error one level further out: `segment` is prefixed to the path. */
  within(segment: string): EncodeError {
    const path = this.path === ""
      ? segment
      : this.path.startsWith("[")
      ? segment + this.path
      : `${segment}.${this.path}`;
    return new EncodeError(this.code, path, this.detail);
  }
}

/**
 * A request the protocol must refuse, carrying the Operation Error cause
 * (RFC 5354 §3.12) to send back, e.g. a registration with a policy other
 * than its pool's (cause 0x0005).
 */
export class ProtocolError extends RSerPoolError {
  /** The Operation Error cause code (see `ErrorCauseCode`). */
  readonly errorCause: number;
  /** Cause-specific information for the cause (e.g. the offending parameter), possibly empty. */
  readonly errorInfo: Uint8Array;

  /**
   * Creates a protocol error.
   *
   * @param code stable machine-readable code, e.g. `"policy-mismatch"`
   * @param errorCause the Operation Error cause code to send back
   * @param message human-readable description
   * @param errorInfo cause-specific information
   */
  constructor(code: string, errorCause: number, message: string, errorInfo?: Uint8Array) {
    super(code, message);
    this.name = "ProtocolError";
    this.errorCause = errorCause;
    this.errorInfo = errorInfo ?? new Uint8Array();
  }
}

/**
 * A transport failed or was misused by the peer: a connection refused or
 * lost, a framing violation on a byte stream, a send on a closed
 * connection. `code` says which.
 */
export class TransportError extends RSerPoolError {
  /**
   * Creates a transport error.
   *
   * @param code stable machine-readable code, e.g. `"bad-frame"`, `"closed"`
   * @param message human-readable description
   * @param options standard error options (e.g. the underlying `cause`)
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = "TransportError";
  }
}
