/**
 * Fuzz targets: one per parser of network (or user) input. Each target
 * runs an input and checks its properties; a violated property throws
 * {@link PropertyFailure}, and any exception other than the parser's typed
 * error is a failure too.
 *
 * Properties checked for every decoder:
 * - it returns a value or throws `DecodeError` (the framer: `TransportError`),
 *   nothing else;
 * - what decodes re-encodes, and decodes again to the same value; strictly
 *   decoded input re-encodes to exactly the same bytes (canonical form);
 * - (in the engine) it allocates nothing far beyond its input's size, and
 *   returns in bounded time.
 *
 * @module
 */

import { deepStrictEqual } from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { decodeCapturedMessage, readCapture } from "../lib/capture/mod.ts";
import { type Frame, readFrames } from "../lib/capture/pcap.ts";
import { PcapngWriter, writePcap } from "../lib/capture/writer.ts";
import { main } from "../lib/cli/main.ts";
import { DecodeError, EncodeError } from "../lib/errors.ts";
import { decodeAsap, decodeEnrp, encodeMessage } from "../lib/protocol/codec.ts";
import { ParameterType } from "../lib/protocol/constants.ts";
import { resolveDecodeOptions } from "../lib/protocol/options.ts";
import {
  decodeChecksum,
  decodeCookie,
  decodeHandleResolutionOption,
  decodeOperationError,
  decodePoolElement,
  decodePoolElementIdentifier,
  decodePoolHandle,
  decodeServerInformation,
  decodeTransport,
  encodeChecksum,
  encodeCookie,
  encodeHandleResolutionOption,
  encodeOperationError,
  encodePoolElement,
  encodePoolElementIdentifier,
  encodePoolHandle,
  encodeServerInformation,
  encodeTransport,
} from "../lib/protocol/parameters.ts";
import { decodePolicy, encodePolicy } from "../lib/protocol/policy.ts";
import { DecodeContext, Scanner } from "../lib/protocol/scanner.ts";
import type { RSerPoolMessage, WireProfile } from "../lib/protocol/types.ts";
import { encodeInScratch, type Writer } from "../lib/protocol/writer.ts";
import * as arb from "../lib/testing/arbitraries.ts";
import { sctpEndpointTarget, sctpPacketTarget } from "./sctp_targets.ts";
import { MessageDeframer, SessionDeframer } from "../lib/transport/framing.ts";
import { parseHex, toHex } from "../lib/wire/hex.ts";
import { mutateBytes, mutateMessage, mutateParameter, Rng } from "../lib/testing/mutate.ts";

/** A property of a target does not hold for an input. */
export class PropertyFailure extends Error {
  /** @param message what does not hold */
  constructor(message: string) {
    super(message);
    this.name = "PropertyFailure";
  }
}

/** A fuzz target. */
export interface FuzzTarget {
  /** Its name (`--target`). */
  readonly name: string;
  /** What it exercises. */
  readonly description: string;
  /** Runs one input; throws on a violated property. */
  run(input: Uint8Array): void | Promise<void>;
  /** Valid inputs to start from (the seed corpus). */
  seeds(): Uint8Array[];
  /** Structure-aware generation of valid inputs. */
  readonly generate: fc.Arbitrary<Uint8Array>;
  /** Mutates an input (structure-aware where the format allows). */
  mutate(rng: Rng, input: Uint8Array, others: readonly Uint8Array[]): Uint8Array;
}

const CAPTURES = new URL("../conformance/testdata/rsplib-3.4.4/", import.meta.url);
const CAPTURE_FILES = [
  "asap-basic.pcap",
  "enrp.pcap",
  "policies.pcap",
  "session.pcap",
  "udp-encap.pcap",
];

let captured: { asap: Uint8Array[]; enrp: Uint8Array[]; frames: Frame[][] } | undefined;

/** The messages and frames of the RSPLIB captures (read once). */
function captures(): { asap: Uint8Array[]; enrp: Uint8Array[]; frames: Frame[][] } {
  if (captured !== undefined) return captured;
  const asap = new Map<string, Uint8Array>();
  const enrp = new Map<string, Uint8Array>();
  const frames: Frame[][] = [];
  for (const file of CAPTURE_FILES) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(new URL(file, CAPTURES)));
    } catch {
      continue; // seeds are a help, not a requirement
    }
    for (const m of readCapture(bytes)) {
      (m.protocol === "asap" ? asap : enrp).set(toHex(m.bytes), m.bytes);
    }
    frames.push([...readFrames(bytes)]);
  }
  captured = { asap: [...asap.values()], enrp: [...enrp.values()], frames };
  return captured;
}

function fail(message: string): never {
  throw new PropertyFailure(message);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameValue(a: unknown, b: unknown, what: string): void {
  try {
    deepStrictEqual(a, b);
  } catch {
    fail(`${what}: values differ`);
  }
}

function expectOnly<T>(error: unknown, kind: new (...a: never[]) => T): void {
  if (!(error instanceof kind)) throw error;
}

// ---------------------------------------------------------------------------
// Messages

function messageTarget(protocol: "asap" | "enrp", profile: WireProfile): FuzzTarget {
  const decode = protocol === "asap" ? decodeAsap : decodeEnrp;
  const messages: fc.Arbitrary<RSerPoolMessage> = protocol === "asap"
    ? arb.asapMessage({ profile, rsplibExtensions: true })
    : arb.enrpMessage({ profile });
  return {
    name: `${protocol}-message${profile === "nextgen" ? "-nextgen" : ""}`,
    description:
      `${protocol.toUpperCase()} message decoder, ${profile} profile, strict and lenient`,
    run(input) {
      for (const lenient of [false, true]) {
        let m: RSerPoolMessage;
        let skipped = 0; // unrecognized parameters whose action bits say "skip"
        try {
          m = decode(input, { profile, lenient, onUnrecognizedParameter: () => skipped++ });
        } catch (e) {
          expectOnly(e, DecodeError);
          continue;
        }
        let again: Uint8Array;
        try {
          again = encodeMessage(m, { profile });
        } catch (e) {
          if (e instanceof EncodeError) {
            fail(`a ${m.type} that decodes does not encode: ${e.message}`);
          }
          throw e;
        }
        if (!lenient && skipped === 0 && !equalBytes(again, input)) {
          fail(`strict decoding accepted a ${m.type} that is not in canonical form`);
        }
        let back: RSerPoolMessage;
        try {
          back = decode(again, { profile, lenient });
        } catch (e) {
          if (e instanceof DecodeError) {
            fail(`a re-encoded ${m.type} does not decode: ${e.message}`);
          }
          throw e;
        }
        sameValue(back, m, `${m.type} after a round trip`);
      }
    },
    seeds() {
      const fromCaptures = profile === "rfc" ? captures()[protocol] : [];
      return [
        ...fromCaptures,
        ...fc.sample(messages, { numRuns: 64, seed: 1 })
          .map((m) => encodeMessage(m, { profile })),
      ];
    },
    generate: messages.map((m) => encodeMessage(m, { profile })),
    mutate: mutateMessage,
  };
}

// ---------------------------------------------------------------------------
// Parameters

interface ParameterSpec<T> {
  readonly name: string;
  /** The parameter type(s) it decodes, by profile. */
  readonly types: (profile: WireProfile) => readonly number[];
  readonly decode: (d: DecodeContext, s: Scanner) => T;
  readonly encode: (w: Writer, value: T) => void;
  readonly values: (profile: WireProfile) => fc.Arbitrary<T>;
}

const TRANSPORT_TYPES = [0x0003, 0x0004, 0x0005, 0x0006, 0x0007];

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v & 0xff;
}

function encodeParameter<T>(spec: ParameterSpec<T>, value: T, profile: WireProfile): Uint8Array {
  return encodeInScratch(profile === "nextgen", value, spec.encode, (b) => b.slice());
}

function parameterTarget<T>(spec: ParameterSpec<T>): FuzzTarget {
  const decodeFirst = (bytes: Uint8Array, profile: WireProfile, lenient: boolean) => {
    let skipped = 0; // unrecognized parameters whose action bits say "skip"
    const options = { profile, lenient, onUnrecognizedParameter: () => skipped++ };
    const d = new DecodeContext(bytes, resolveDecodeOptions(options));
    const s = new Scanner(d, 0, bytes.length);
    const type = s.peek();
    if (!spec.types(profile).includes(type) || skipped > 0) return undefined;
    const value = spec.decode(d, s);
    return { value, end: s.pos, skipped };
  };
  return {
    name: `parameter-${spec.name}`,
    description: `${spec.name} parameter decoder (nested TLVs included), both profiles`,
    run(input) {
      for (const profile of ["rfc", "nextgen"] as const) {
        const types = spec.types(profile);
        const bytes = input.slice();
        // Make the input this decoder's parameter unless it already is one of its types.
        if (bytes.length >= 2 && !types.includes((bytes[0] << 8) | bytes[1])) {
          put16(bytes, 0, types[bytes.length % types.length]);
        }
        for (const lenient of [false, true]) {
          let decoded: { value: T; end: number; skipped: number } | undefined;
          try {
            decoded = decodeFirst(bytes, profile, lenient);
          } catch (e) {
            expectOnly(e, DecodeError);
            continue;
          }
          if (decoded === undefined) continue;
          let again: Uint8Array;
          try {
            again = encodeParameter(spec, decoded.value, profile);
          } catch (e) {
            if (e instanceof EncodeError) {
              fail(`a decoded ${spec.name} does not encode: ${e.message}`);
            }
            throw e;
          }
          if (
            !lenient && decoded.skipped === 0 && !equalBytes(again, bytes.subarray(0, decoded.end))
          ) {
            fail(`strict decoding accepted a ${spec.name} that is not in canonical form`);
          }
          let back;
          try {
            back = decodeFirst(again, profile, lenient);
          } catch (e) {
            if (e instanceof DecodeError) {
              fail(`a re-encoded ${spec.name} does not decode: ${e.message}`);
            }
            throw e;
          }
          sameValue(back?.value, decoded.value, `${spec.name} after a round trip`);
        }
      }
    },
    seeds() {
      const out: Uint8Array[] = [];
      for (const profile of ["rfc", "nextgen"] as const) {
        for (const v of fc.sample(spec.values(profile), { numRuns: 32, seed: 2 })) {
          out.push(encodeParameter(spec, v, profile));
        }
      }
      return out;
    },
    generate: fc.constantFrom("rfc" as const, "nextgen" as const).chain((profile) =>
      spec.values(profile).map((v) => encodeParameter(spec, v, profile))
    ),
    mutate: mutateParameter,
  };
}

const PARAMETERS: FuzzTarget[] = [
  parameterTarget({
    name: "pool-handle",
    types: () => [ParameterType.PoolHandle],
    decode: decodePoolHandle,
    encode: encodePoolHandle,
    values: () => arb.poolHandle,
  }),
  parameterTarget({
    name: "pe-identifier",
    types: (p) => [p === "nextgen" ? 0x500e : ParameterType.PoolElementIdentifier],
    decode: decodePoolElementIdentifier,
    encode: encodePoolElementIdentifier,
    values: (p) => arb.identifier(p),
  }),
  parameterTarget({
    name: "pe-checksum",
    types: (p) => [p === "nextgen" ? 0x500f : ParameterType.PoolElementChecksum],
    decode: decodeChecksum,
    encode: encodeChecksum,
    values: (p) => p === "nextgen" ? arb.uint32 : fc.integer({ min: 0, max: 0xffff }),
  }),
  parameterTarget({
    name: "cookie",
    types: () => [ParameterType.Cookie],
    decode: decodeCookie,
    encode: encodeCookie,
    values: () => fc.uint8Array({ maxLength: 64 }),
  }),
  parameterTarget({
    name: "handle-resolution-option",
    types: () => [ParameterType.HandleResolutionOption],
    decode: decodeHandleResolutionOption,
    encode: encodeHandleResolutionOption,
    values: () => arb.uint32,
  }),
  parameterTarget({
    name: "transport",
    types: () => TRANSPORT_TYPES,
    decode: decodeTransport,
    encode: encodeTransport,
    values: () => arb.transport,
  }),
  parameterTarget({
    name: "policy",
    types: () => [ParameterType.PoolMemberSelectionPolicy],
    decode: decodePolicy,
    encode: encodePolicy,
    values: () => arb.policy,
  }),
  parameterTarget({
    name: "pool-element",
    types: (p) => [p === "nextgen" ? 0x500a : ParameterType.PoolElement],
    decode: decodePoolElement,
    encode: encodePoolElement,
    values: (p) => arb.poolElement(p),
  }),
  parameterTarget({
    name: "server-information",
    types: (p) => [p === "nextgen" ? 0x500b : ParameterType.ServerInformation],
    decode: decodeServerInformation,
    encode: encodeServerInformation,
    values: (p) => arb.serverInformation(p),
  }),
  parameterTarget({
    name: "operation-error",
    types: () => [ParameterType.OperationError],
    decode: decodeOperationError,
    encode: encodeOperationError,
    values: () => arb.operationError,
  }),
];

// ---------------------------------------------------------------------------
// Captures

function smallCaptures(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const frames of captures().frames) {
    for (let start = 0; start < frames.length; start += 97) {
      const slice = frames.slice(start, start + 1 + (start % 5));
      out.push(writePcap(slice.map((f) => ({ data: f.data, timestamp: f.timestamp }))));
      const ng = new PcapngWriter({ littleEndian: start % 2 === 0 });
      for (const f of slice) ng.addPacket(f.data, f.timestamp);
      out.push(ng.toBytes());
    }
  }
  return out;
}

const captureTarget: FuzzTarget = {
  name: "capture",
  description: "pcap/pcapng reader: link layers, IP, UDP, SCTP reassembly, message decoding",
  run(input) {
    let yielded = 0;
    try {
      for (const m of readCapture(input)) {
        // Every message needs at least a frame header's worth of input.
        if (++yielded > input.length) {
          fail("the reader yields more messages than its input has bytes");
        }
        try {
          decodeCapturedMessage(m, { lenient: true });
        } catch (e) {
          expectOnly(e, DecodeError);
        }
      }
    } catch (e) {
      expectOnly(e, DecodeError);
    }
  },
  seeds: smallCaptures,
  generate: fc.array(arb.asapMessage(), { minLength: 1, maxLength: 4 }).map((ms) =>
    writePcap(ms.map((m, i) => ({ data: udpFrame(encodeMessage(m)), timestamp: i })))
  ),
  mutate: mutateBytes,
};

/** An Ethernet/IPv4/UDP frame to port 3863 carrying `payload` (for generated captures). */
function udpFrame(payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(14 + 20 + 8 + payload.length);
  frame[12] = 0x08; // IPv4
  const ip = 14;
  frame[ip] = 0x45;
  put16(frame, ip + 2, 20 + 8 + payload.length);
  frame[ip + 8] = 64;
  frame[ip + 9] = 17;
  frame.set([127, 0, 0, 1, 127, 0, 0, 1], ip + 12);
  const udp = ip + 20;
  put16(frame, udp, 40000);
  put16(frame, udp + 2, 3863);
  put16(frame, udp + 4, 8 + payload.length);
  frame.set(payload, udp + 8);
  return frame;
}

// ---------------------------------------------------------------------------
// The TCP framer

function frames(
  make: () => MessageDeframer | SessionDeframer,
  chunks: Uint8Array[],
): { frames: { ppid: number; payload: number[] }[]; error: string | undefined; buffered: number } {
  const d = make();
  const out: { ppid: number; payload: number[] }[] = [];
  for (const c of chunks) {
    for (const f of d.push(c)) out.push({ ppid: f.ppid, payload: [...f.payload] });
  }
  const failure = d.failure;
  if (failure !== undefined && failure.code !== "bad-frame") {
    fail(`the framer failed with ${failure.code}`);
  }
  return { frames: out, error: failure?.message, buffered: d.buffered };
}

const framerTarget: FuzzTarget = {
  name: "tcp-framer",
  description: "TCP message and session framing: any chunking gives the same frames",
  run(input) {
    const stream = input.subarray(1);
    const rng = new Rng(input[0] ?? 0);
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < stream.length;) {
      const n = 1 + rng.below(Math.min(64, stream.length - at));
      chunks.push(stream.subarray(at, at + n));
      at += n;
    }
    const max = 4 + (input[0] ?? 0) * 64;
    for (
      const make of [
        () => new MessageDeframer(11, Math.min(0xffff, max)),
        () => new SessionDeframer(max),
      ]
    ) {
      const whole = frames(make, [stream]);
      const pieces = frames(make, chunks);
      sameValue(pieces.frames, whole.frames, "frames cut from pieces and from the whole");
      if ((pieces.error === undefined) !== (whole.error === undefined)) {
        fail("a bad frame is found in the whole stream but not in pieces, or the other way");
      }
      const header = make() instanceof SessionDeframer ? 8 : 0;
      let used = 0;
      for (const f of whole.frames) used += f.payload.length + header;
      if (whole.error === undefined && used + whole.buffered !== stream.length) {
        fail("bytes lost or invented by the framer");
      }
    }
  },
  seeds() {
    const { asap, enrp } = captures();
    const concat = (parts: Uint8Array[]) => {
      const out = new Uint8Array(1 + parts.reduce((n, p) => n + p.length, 0));
      out[0] = 200;
      let at = 1;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    };
    return [concat(asap.slice(0, 5)), concat(enrp.slice(0, 3)), concat(asap.slice(5, 6))];
  },
  generate: fc.tuple(fc.nat({ max: 255 }), fc.array(arb.asapMessage(), { maxLength: 5 })).map(
    ([seed, ms]) => {
      const parts = ms.map((m) => encodeMessage(m));
      const out = new Uint8Array(1 + parts.reduce((n, p) => n + p.length, 0));
      out[0] = seed;
      let at = 1;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    },
  ),
  mutate: mutateBytes,
};

// ---------------------------------------------------------------------------
// The CLI's hex input

const cliHexTarget: FuzzTarget = {
  name: "cli-hex",
  description: "the CLI's hex input (rserpool decode --ppid … HEX and from stdin)",
  async run(input) {
    const text = String.fromCharCode(...input.subarray(0, 4096));
    let parsed: Uint8Array | undefined;
    try {
      parsed = parseHex(text);
    } catch (e) {
      expectOnly(e, DecodeError);
    }
    if (parsed !== undefined && !equalBytes(parseHex(toHex(parsed)), parsed)) {
      fail("hex does not round-trip");
    }
    const ppid = ["asap", "enrp", "asap-ng", "enrp-ng"][input.length % 4];
    for (const args of [["decode", "--ppid", ppid, text], ["decode", "--ppid", ppid, "-"]]) {
      let out = "";
      const status = await main(args, {
        out: (t) => void (out += t),
        err: () => {},
        readFile: () => Promise.reject(new Error("no files here")),
        readStdin: () => Promise.resolve(text),
      });
      if (status !== 0 && status !== 1 && status !== 2) fail(`exit status ${status}`);
      if (status === 0) {
        for (const line of out.split("\n")) {
          if (line === "") continue;
          try {
            JSON.parse(line);
          } catch {
            fail("the CLI printed a line that is not JSON");
          }
        }
      }
    }
  },
  seeds() {
    return captures().asap.slice(0, 16).map((m) => new TextEncoder().encode(toHex(m)));
  },
  generate: arb.asapMessage().map((m) => new TextEncoder().encode(toHex(encodeMessage(m)))),
  mutate: mutateBytes,
};

/** Every target, by name. */
export const TARGETS: ReadonlyMap<string, FuzzTarget> = new Map(
  [
    messageTarget("asap", "rfc"),
    messageTarget("enrp", "rfc"),
    messageTarget("asap", "nextgen"),
    messageTarget("enrp", "nextgen"),
    ...PARAMETERS,
    captureTarget,
    framerTarget,
    cliHexTarget,
    sctpPacketTarget,
    sctpEndpointTarget,
  ].map((t) => [t.name, t]),
);
