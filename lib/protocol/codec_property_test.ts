import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError } from "../errors.ts";
import { asapMessage, enrpMessage } from "../testing/arbitraries.ts";
import { decodeMessage, encodedLength, encodeMessage, ppidOf } from "./codec.ts";
import type { DecodeOptions } from "./options.ts";
import type { RSerPoolMessage, WireProfile } from "./types.ts";

const RUNS = 400;

function anyMessage(
  profile: WireProfile,
  rsplibExtensions: boolean,
): fc.Arbitrary<RSerPoolMessage> {
  return fc.oneof(
    asapMessage({ profile, rsplibExtensions }),
    enrpMessage({ profile, rsplibExtensions }),
  );
}

for (const profile of ["rfc", "nextgen"] as const) {
  Deno.test(`${profile}: strict decode(encode(m)) equals m, for every message type`, () => {
    fc.assert(
      fc.property(anyMessage(profile, false), (m) => {
        const bytes = encodeMessage(m, { profile });
        assert.deepStrictEqual(decodeMessage(ppidOf(m, profile), bytes), m);
      }),
      { numRuns: RUNS },
    );
  });

  Deno.test(`${profile}: lenient decoding round-trips RSPLIB's extensions`, () => {
    fc.assert(
      fc.property(anyMessage(profile, true), (m) => {
        const bytes = encodeMessage(m, { profile });
        assert.deepStrictEqual(decodeMessage(ppidOf(m, profile), bytes, { lenient: true }), m);
      }),
      { numRuns: RUNS },
    );
  });

  Deno.test(`${profile}: encodedLength(m) equals encode(m).length, and Length is the byte count`, () => {
    fc.assert(
      fc.property(anyMessage(profile, true), (m) => {
        const bytes = encodeMessage(m, { profile });
        assert.equal(encodedLength(m, { profile }), bytes.length);
        assert.equal((bytes[2] << 8) | bytes[3], bytes.length);
        assert.equal(bytes.length % 4, 0, "canonical messages are padded to 4 bytes");
      }),
      { numRuns: RUNS },
    );
  });
}

/** Byte-level mutations of a valid message. */
const mutation = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({
    kind: fc.constant("set" as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("extend" as const),
    extra: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant("length16" as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 1, 3, 4, 5, 7, 8, 0x7fff, 0xfffc, 0xffff),
  }),
);

function mutate(bytes: Uint8Array, ms: fc.Arbitrary<unknown>[] | unknown[]): Uint8Array {
  let b = bytes.slice();
  for (
    const m of ms as {
      kind: string;
      at?: number;
      bit?: number;
      value?: number;
      extra?: Uint8Array;
    }[]
  ) {
    if (b.length === 0) break;
    const at = (m.at ?? 0) % b.length;
    switch (m.kind) {
      case "flip":
        b[at] ^= 1 << m.bit!;
        break;
      case "set":
        b[at] = m.value!;
        break;
      case "truncate":
        b = b.slice(0, at);
        break;
      case "extend": {
        const e = new Uint8Array(b.length + m.extra!.length);
        e.set(b);
        e.set(m.extra!, b.length);
        b = e;
        break;
      }
      case "length16": {
        // Overwrite a 16-bit field at an even offset: hits message, parameter and cause lengths.
        const p = at & ~1;
        if (p + 1 < b.length) {
          b[p] = m.value! >> 8;
          b[p + 1] = m.value! & 0xff;
        }
        break;
      }
    }
  }
  return b;
}

function decodeOrDecodeError(ppid: number, bytes: Uint8Array, options: DecodeOptions) {
  try {
    return decodeMessage(ppid, bytes, options);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    assert.equal(typeof e.code, "string");
    assert.ok(e.offset >= 0 && e.offset <= bytes.length, `offset ${e.offset} within input`);
    return undefined;
  }
}

for (const profile of ["rfc", "nextgen"] as const) {
  Deno.test(`${profile}: mutated messages decode or throw DecodeError; what decodes re-encodes`, () => {
    fc.assert(
      fc.property(
        anyMessage(profile, true),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (m, mutations) => {
          const ppid = ppidOf(m, profile);
          const bytes = mutate(encodeMessage(m, { profile }), mutations);
          for (const lenient of [false, true]) {
            let skipped = 0;
            const options: DecodeOptions = { lenient, onUnrecognizedParameter: () => skipped++ };
            const decoded = decodeOrDecodeError(ppid, bytes, options);
            if (decoded === undefined) continue;
            const again = encodeMessage(decoded, { profile });
            assert.deepStrictEqual(decodeMessage(ppid, again, { lenient }), decoded);
            if (!lenient && skipped === 0) {
              // Strict acceptance means canonical form: re-encoding reproduces the input.
              assert.deepStrictEqual(again, bytes);
            }
          }
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });
}

Deno.test("arbitrary bytes decode or throw DecodeError, for every PPID", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(11, 12, 0x52534e41, 0x52534e45, 0, 46),
      fc.uint8Array({ maxLength: 96 }),
      fc.boolean(),
      (ppid, bytes, lenient) => {
        if (bytes.length >= 4) {
          // Give the message Length a fair chance of matching.
          bytes[2] = bytes.length >> 8;
          bytes[3] = bytes.length & 0xff;
        }
        decodeOrDecodeError(ppid, bytes, { lenient });
      },
    ),
    { numRuns: RUNS * 5 },
  );
});
