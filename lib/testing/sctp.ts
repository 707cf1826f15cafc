/**
 * fast-check arbitraries of SCTP packets and chunks (RFC 9260 §3), for the
 * chunk codec's property tests and the SCTP fuzz targets.
 *
 * @module
 */

import fc from "fast-check";
import type { Chunk, SctpPacket } from "../transport/sctp/chunk.ts";

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const tlv = fc.record({ type: u16, value: bytes(40) });
const cause = fc.record({ code: u16, info: bytes(40) });

/** Any SCTP chunk this library encodes (UNKNOWN ones with codes ≥ 15). */
export const sctpChunk: fc.Arbitrary<Chunk> = fc.oneof(
  fc.record({
    type: fc.constant("DATA" as const),
    tsn: u32,
    streamId: u16,
    ssn: u16,
    ppid: u32,
    unordered: fc.boolean(),
    beginning: fc.boolean(),
    ending: fc.boolean(),
    immediate: fc.boolean(),
    data: fc.uint8Array({ minLength: 1, maxLength: 100 }),
  }),
  fc.record({
    type: fc.constantFrom("INIT" as const, "INIT-ACK" as const),
    initiateTag: u32,
    aRwnd: u32,
    outboundStreams: u16,
    inboundStreams: u16,
    initialTsn: u32,
    parameters: fc.array(tlv, { maxLength: 5 }),
  }),
  fc.record({
    type: fc.constant("SACK" as const),
    cumulativeTsnAck: u32,
    aRwnd: u32,
    gaps: fc.array(fc.tuple(u16, u16), { maxLength: 8 }),
    duplicates: fc.array(u32, { maxLength: 8 }),
  }),
  fc.record({
    type: fc.constantFrom("HEARTBEAT" as const, "HEARTBEAT-ACK" as const),
    info: bytes(60),
  }),
  fc.record({
    type: fc.constantFrom("ABORT" as const),
    reflected: fc.boolean(),
    causes: fc.array(cause, { maxLength: 4 }),
  }),
  fc.record({
    type: fc.constantFrom("ERROR" as const),
    reflected: fc.constant(false),
    causes: fc.array(cause, { maxLength: 4 }),
  }),
  fc.record({ type: fc.constant("SHUTDOWN" as const), cumulativeTsnAck: u32 }),
  fc.record({ type: fc.constant("COOKIE-ECHO" as const), cookie: bytes(80) }),
  fc.record({
    type: fc.constantFrom("SHUTDOWN-ACK" as const, "COOKIE-ACK" as const),
    reflected: fc.constant(false),
  }),
  fc.record({ type: fc.constant("SHUTDOWN-COMPLETE" as const), reflected: fc.boolean() }),
  fc.tuple(fc.integer({ min: 15, max: 255 }), fc.integer({ min: 0, max: 255 }), bytes(30)).map((
    [code, flags, body],
  ): Chunk => {
    const raw = new Uint8Array(4 + body.length);
    raw[0] = code;
    raw[1] = flags;
    raw[2] = raw.length >> 8;
    raw[3] = raw.length & 0xff;
    raw.set(body, 4);
    return { type: "UNKNOWN", code, flags, raw };
  }),
);

/** Any SCTP packet of up to six chunks. */
export const sctpPacket: fc.Arbitrary<SctpPacket> = fc.record({
  sourcePort: u16,
  destinationPort: u16,
  verificationTag: u32,
  chunks: fc.array(sctpChunk, { maxLength: 6 }),
});
