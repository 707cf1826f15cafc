/**
 * Decoder and encoder options, and the decoder's documented limits.
 *
 * @module
 */

import type { WireProfile } from "./types.ts";

/**
 * Limits the decoders enforce (see `docs/wire.md`). Exceeding one throws a
 * {@link DecodeError} with code `limit-exceeded`.
 *
 * Parameter nesting needs no limit of its own: the message grammar fixes the
 * depth (message → Pool Element → transport → address, at most 3 levels),
 * and unrecognized parameters are skipped, never descended into.
 */
export interface DecodeLimits {
  /** Longest accepted pool handle in bytes (RFCs: no limit; RSPLIB: 32). */
  readonly maxPoolHandleLength: number;
  /** Most addresses in one transport parameter (RSPLIB: 64). */
  readonly maxAddressesPerTransport: number;
  /** Most Pool Element parameters in one message (RSPLIB sends at most 128). */
  readonly maxPoolElements: number;
  /** Most Server Information parameters in one List Response. */
  readonly maxServers: number;
  /** Most transport parameters in one Server Announce. */
  readonly maxTransports: number;
  /** Most error causes in one Operation Error parameter. */
  readonly maxErrorCauses: number;
}

/** The default {@link DecodeLimits}. */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = Object.freeze({
  maxPoolHandleLength: 256,
  maxAddressesPerTransport: 64,
  maxPoolElements: 1024,
  maxServers: 1024,
  maxTransports: 64,
  maxErrorCauses: 64,
});

/** A parameter the decoder did not recognize and skipped (action bits 10 or 11). */
export interface UnrecognizedParameter {
  /** The 16-bit parameter type, action bits included. */
  readonly type: number;
  /** Byte offset of the parameter in the decoded buffer. */
  readonly offset: number;
  /** The complete parameter (header and value, without padding). */
  readonly parameter: Uint8Array;
  /** True for action 11: report it in an "Unrecognized Parameter" cause. */
  readonly report: boolean;
}

/** Options of the decoders. */
export interface DecodeOptions {
  /** Wire profile (`"rfc"` by default). `decodeMessage` takes it from the PPID instead. */
  readonly profile?: WireProfile;
  /**
   * Strict (false, the default) accepts exactly what a conforming sender
   * produces, in canonical form. Lenient (true) also accepts what RFC
   * receivers must tolerate (non-zero padding and reserved bits, a message
   * Length without the final padding, trailing bytes) and RSPLIB's known
   * deviations (`docs/wire.md`).
   */
  readonly lenient?: boolean;
  /** Limits to enforce; unspecified ones keep their defaults. */
  readonly limits?: Partial<DecodeLimits>;
  /**
   * Called for each unrecognized parameter that is skipped (action bits 10
   * and 11). Those with `report: true` should be answered with an
   * "Unrecognized Parameter" error cause.
   */
  readonly onUnrecognizedParameter?: (parameter: UnrecognizedParameter) => void;
}

/** Options of the encoders. */
export interface EncodeOptions {
  /** Wire profile (`"rfc"` by default). */
  readonly profile?: WireProfile;
}

/** Decoder options with every default filled in. */
export interface ResolvedDecodeOptions {
  readonly nextgen: boolean;
  readonly lenient: boolean;
  readonly limits: DecodeLimits;
  readonly onUnrecognizedParameter:
    | ((parameter: UnrecognizedParameter) => void)
    | undefined;
}

const DEFAULT_RESOLVED: ResolvedDecodeOptions = {
  nextgen: false,
  lenient: false,
  limits: DEFAULT_DECODE_LIMITS,
  onUnrecognizedParameter: undefined,
};

/**
 * The four resolutions without limits or callback, indexed by
 * `(nextgen ? 2 : 0) + (lenient ? 1 : 0)`: options objects that carry only
 * a profile and the lenient flag (the common `{ lenient: true }` literal,
 * often created per call) resolve without allocating or caching.
 */
const PLAIN_RESOLVED: readonly ResolvedDecodeOptions[] = [
  DEFAULT_RESOLVED,
  { ...DEFAULT_RESOLVED, lenient: true },
  { ...DEFAULT_RESOLVED, nextgen: true },
  { ...DEFAULT_RESOLVED, nextgen: true, lenient: true },
];

const resolvedCache = new WeakMap<DecodeOptions, ResolvedDecodeOptions>();

/**
 * Fills in defaults. Options with limits or a callback are resolved once
 * per options object (cached); `profile`, when given, overrides the
 * options' own.
 */
export function resolveDecodeOptions(
  options: DecodeOptions | undefined,
  profile?: WireProfile,
): ResolvedDecodeOptions {
  if (options === undefined) return PLAIN_RESOLVED[profile === "nextgen" ? 2 : 0];
  if (options.limits === undefined && options.onUnrecognizedParameter === undefined) {
    const nextgen = (profile ?? options.profile) === "nextgen";
    return PLAIN_RESOLVED[(nextgen ? 2 : 0) + (options.lenient === true ? 1 : 0)];
  }
  let resolved = resolvedCache.get(options);
  if (resolved === undefined) {
    resolved = {
      nextgen: options.profile === "nextgen",
      lenient: options.lenient === true,
      limits: options.limits === undefined
        ? DEFAULT_DECODE_LIMITS
        : { ...DEFAULT_DECODE_LIMITS, ...options.limits },
      onUnrecognizedParameter: options.onUnrecognizedParameter,
    };
    resolvedCache.set(options, resolved);
  }
  if (profile !== undefined && resolved.nextgen !== (profile === "nextgen")) {
    return { ...resolved, nextgen: profile === "nextgen" };
  }
  return resolved;
}
