/**
 * The public codec: decode and encode whole ASAP and ENRP messages.
 *
 * ```ts
 * import { decodeAsap, encodeAsap } from "@rserpool/rserpool";
 *
 * const bytes = encodeAsap({
 *   type: "HandleResolution",
 *   poolHandle: new TextEncoder().encode("EchoPool"),
 *   items: 3,
 * });
 * const message = decodeAsap(bytes); // { type: "HandleResolution", poolHandle, items: 3 }
 * ```
 *
 * @module
 */

import { DecodeError, EncodeError } from "../errors.ts";
import { asapFlags, asapTypeCode, decodeAsapBody, encodeAsapBody } from "./asap.ts";
import { Ppid } from "./constants.ts";
import { decodeEnrpBody, encodeEnrpBody, enrpFlags, enrpTypeCode } from "./enrp.ts";
import { type DecodeOptions, type EncodeOptions, resolveDecodeOptions } from "./options.ts";
import { DecodeContext, fail, u16 } from "./scanner.ts";
import { encodePoolHandle, encodeTransport } from "./parameters.ts";
import { encodePolicy } from "./policy.ts";
import type {
  AsapMessage,
  EnrpMessage,
  HandleTableResponse,
  ListResponse,
  PoolMemberSelectionPolicy,
  RSerPoolMessage,
  TransportParameter,
  WireProfile,
} from "./types.ts";
import { encodeInScratch, encodeIntoBuffer, encodeToBytes, type Writer } from "./writer.ts";

type BodyDecoder<M> = (d: DecodeContext, type: number, flags: number, end: number) => M;

function decodeFramed<M>(
  input: Uint8Array,
  options: DecodeOptions | undefined,
  profile: WireProfile | undefined,
  body: BodyDecoder<M>,
): M {
  if (!(input instanceof Uint8Array)) {
    throw new DecodeError("bad-value", 0, "input is not a Uint8Array");
  }
  // Subclasses (Node's Buffer) slice without copying; decode from a plain view.
  const bytes = input.constructor === Uint8Array
    ? input
    : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const d = new DecodeContext(bytes, resolveDecodeOptions(options, profile));
  if (bytes.length < 4) fail("truncated", bytes.length, "input shorter than a message header");
  const length = u16(bytes, 2);
  if (length < 4) fail("bad-message-length", 2, `message Length ${length} < 4`);
  if (length > bytes.length) {
    fail("truncated", bytes.length, `message Length ${length} but only ${bytes.length} bytes`);
  }
  if (length < bytes.length && d.strict) {
    const padded = (length + 3) & ~3;
    if (padded === bytes.length) {
      fail(
        "bad-message-length",
        2,
        `message Length ${length} leaves out the final padding (canonical Length is ${padded})`,
      );
    }
    fail("trailing-bytes", length, `${bytes.length - length} byte(s) after the message`);
  }
  return body(d, bytes[0], bytes[1], length);
}

/**
 * Decodes one ASAP message. Throws {@link DecodeError} on malformed input,
 * and nothing else.
 */
export function decodeAsap(bytes: Uint8Array, options?: DecodeOptions): AsapMessage {
  return decodeFramed(bytes, options, undefined, decodeAsapBody);
}

/**
 * Decodes one ENRP message. Throws {@link DecodeError} on malformed input,
 * and nothing else.
 */
export function decodeEnrp(bytes: Uint8Array, options?: DecodeOptions): EnrpMessage {
  return decodeFramed(bytes, options, undefined, decodeEnrpBody);
}

/**
 * Decodes one message by its SCTP payload protocol identifier: 11 (ASAP)
 * and 12 (ENRP) in the `rfc` profile, {@link Ppid.AsapNextGen} and
 * {@link Ppid.EnrpNextGen} in the `nextgen` profile (the PPID decides the
 * profile; `options.profile` is ignored). Any other PPID throws
 * {@link DecodeError} `unknown-ppid`.
 */
export function decodeMessage(
  ppid: number,
  bytes: Uint8Array,
  options?: DecodeOptions,
): RSerPoolMessage {
  switch (ppid) {
    case Ppid.Asap:
      return decodeFramed(bytes, options, "rfc", decodeAsapBody);
    case Ppid.Enrp:
      return decodeFramed(bytes, options, "rfc", decodeEnrpBody);
    case Ppid.AsapNextGen:
      return decodeFramed(bytes, options, "nextgen", decodeAsapBody);
    case Ppid.EnrpNextGen:
      return decodeFramed(bytes, options, "nextgen", decodeEnrpBody);
    default:
      throw new DecodeError("unknown-ppid", 0, `PPID ${ppid} is neither ASAP nor ENRP`);
  }
}

/** The protocol a message object belongs to. */
export function protocolOf(message: RSerPoolMessage): "asap" | "enrp" {
  switch (message.type) {
    case "Presence":
    case "HandleTableRequest":
    case "HandleTableResponse":
    case "HandleUpdate":
    case "ListRequest":
    case "ListResponse":
    case "InitTakeover":
    case "InitTakeoverAck":
    case "TakeoverServer":
    case "EnrpError":
      return "enrp";
    default:
      return "asap";
  }
}

/** The SCTP PPID that carries a message in the given profile. */
export function ppidOf(message: RSerPoolMessage, profile: WireProfile = "rfc"): number {
  const enrp = protocolOf(message) === "enrp";
  if (profile === "nextgen") return enrp ? Ppid.EnrpNextGen : Ppid.AsapNextGen;
  return enrp ? Ppid.Enrp : Ppid.Asap;
}

function checkMessage(message: unknown): void {
  if (message === null || typeof message !== "object") {
    throw new EncodeError("bad-value", "", "expected a message object");
  }
}

function writeHeader(w: Writer, type: number, flags: number): void {
  w.room(4);
  w.u8(type);
  w.u8(flags);
  w.pos += 2;
}

function writeLength(w: Writer): void {
  const length = w.length;
  w.buf[w.base + 2] = length >>> 8;
  w.buf[w.base + 3] = length;
}

function writeAsap(w: Writer, message: AsapMessage): void {
  const type = message.type;
  writeHeader(w, asapTypeCode(type), asapFlags(message, type));
  encodeAsapBody(w, message);
  writeLength(w);
}

function writeEnrp(w: Writer, message: EnrpMessage): void {
  writeHeader(w, enrpTypeCode(message.type), enrpFlags(message));
  encodeEnrpBody(w, message);
  writeLength(w);
}

function writeAny(w: Writer, message: RSerPoolMessage): void {
  if (protocolOf(message) === "enrp") writeEnrp(w, message as EnrpMessage);
  else writeAsap(w, message as AsapMessage);
}

/** Messages with this many list entries go straight to the scratch buffer (they exceed the pool's 1 KiB). */
const LARGE_ENTRIES = 8;

function isLarge(m: RSerPoolMessage, type: RSerPoolMessage["type"]): boolean {
  switch (type) {
    case "HandleResolutionResponse":
    case "BusinessCard":
      return ((m as { poolElements?: unknown[] }).poolElements?.length ?? 0) > LARGE_ENTRIES;
    case "HandleTableResponse": {
      let n = 0;
      for (const pool of (m as HandleTableResponse).pools ?? []) {
        n += pool?.poolElements?.length ?? 0;
      }
      return n > LARGE_ENTRIES;
    }
    case "ListResponse":
      return (m as ListResponse).servers?.length > LARGE_ENTRIES;
    default:
      return false;
  }
}

/**
 * Encodes an ASAP message in canonical form: RFC parameter order, zero
 * padding, Length including the final padding (as RSPLIB writes it).
 * Throws {@link EncodeError} on invalid fields.
 *
 * Results of up to 1 KiB are views into a shared pool (see
 * `lib/wire/pool.ts`): use them as views, and `.slice()` them when an
 * exclusive `ArrayBuffer` is needed.
 */
export function encodeAsap(message: AsapMessage, options?: EncodeOptions): Uint8Array {
  checkMessage(message);
  const large = isLarge(message, message.type);
  return encodeToBytes(options?.profile === "nextgen", message, writeAsap, large);
}

/**
 * Encodes an ENRP message in canonical form. Throws {@link EncodeError} on
 * invalid fields. Small results are pool views, as for {@link encodeAsap}.
 */
export function encodeEnrp(message: EnrpMessage, options?: EncodeOptions): Uint8Array {
  checkMessage(message);
  const large = isLarge(message, message.type);
  return encodeToBytes(options?.profile === "nextgen", message, writeEnrp, large);
}

/** Encodes any ASAP or ENRP message (chosen by its `type`). */
export function encodeMessage(message: RSerPoolMessage, options?: EncodeOptions): Uint8Array {
  checkMessage(message);
  const large = isLarge(message, message.type);
  return encodeToBytes(options?.profile === "nextgen", message, writeAny, large);
}

/**
 * Encodes a message into `target` at `offset` and returns the number of
 * bytes written; throws {@link EncodeError} (`too-long`) if it does not fit
 * (the bytes of `target` after `offset` may then have been overwritten).
 * Lets transports frame messages without allocating.
 */
export function encodeInto(
  message: RSerPoolMessage,
  target: Uint8Array,
  offset = 0,
  options?: EncodeOptions,
): number {
  checkMessage(message);
  return encodeIntoBuffer(options?.profile === "nextgen", message, writeAny, target, offset);
}

/** The number of bytes {@link encodeMessage} produces for a message. */
export function encodedLength(message: RSerPoolMessage, options?: EncodeOptions): number {
  checkMessage(message);
  return encodeInScratch(options?.profile === "nextgen", message, writeAny, (b) => b.length);
}

/**
 * Encodes one Pool Member Selection Policy parameter on its own, e.g. as the
 * information of an "Inconsistent Pooling Policy" error cause.
 */
export function encodePolicyParameter(policy: PoolMemberSelectionPolicy): Uint8Array {
  return encodeToBytes(false, policy, encodePolicy);
}

/**
 * Encodes one transport parameter on its own, e.g. as the information of an
 * "Inconsistent Transport Type" error cause.
 */
export function encodeTransportParameter(transport: TransportParameter): Uint8Array {
  return encodeToBytes(false, transport, encodeTransport);
}

/** Encodes one Pool Handle parameter on its own, e.g. as the information of an "Invalid Values" cause. */
export function encodePoolHandleParameter(poolHandle: Uint8Array): Uint8Array {
  return encodeToBytes(false, poolHandle, encodePoolHandle);
}
