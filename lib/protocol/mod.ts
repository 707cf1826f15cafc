/**
 * ASAP (RFC 5352) and ENRP (RFC 5353) message codecs with the parameters of
 * RFC 5354, the policies of RFC 5356 and RSPLIB, handlespace checksums, and
 * the next-generation wire profile.
 *
 * @module
 */

export * from "./constants.ts";
export type * from "./types.ts";
export {
  decodeAsap,
  decodeEnrp,
  decodeMessage,
  encodeAsap,
  encodedLength,
  encodeEnrp,
  encodeInto,
  encodeMessage,
  encodePolicyParameter,
  encodePoolHandleParameter,
  encodeTransportParameter,
  ppidOf,
  protocolOf,
} from "./codec.ts";
export {
  type DecodeLimits,
  type DecodeOptions,
  DEFAULT_DECODE_LIMITS,
  type EncodeOptions,
  type UnrecognizedParameter,
} from "./options.ts";
export {
  POLICY_DEFINITIONS,
  type PolicyDefinition,
  policyDefinition,
  type PolicyField,
  policyTypeCode,
} from "./policy.ts";
export {
  ChecksumAccumulator,
  type ChecksumWidth,
  finishChecksum,
  handlespaceChecksum,
  poolElementChecksumTerm,
  RsplibChecksumAccumulator,
} from "./checksum.ts";
export { bytesFromJson, bytesToJson, formatMessage, toJsonValue } from "./json.ts";
export { MAX_MESSAGE_LENGTH } from "./writer.ts";
