import assert from "node:assert/strict";
import fc from "fast-check";
import { poolElement, poolHandle } from "../testing/arbitraries.ts";
import { decodeMessage, encodeMessage, ppidOf } from "./codec.ts";
import type { DecodeOptions } from "./options.ts";
import type { Registration, WireProfile } from "./types.ts";

/**
 * The bytes of `registration` with an unrecognized parameter (action bits 10:
 * skip silently) appended inside its Pool Element: decoders must skip it, and
 * it keeps the element out of the one-pass decoding of its common form.
 */
function withSkippedParameter(bytes: Uint8Array, handleLength: number): Uint8Array {
  const pe = 4 + 4 + ((handleLength + 3) & ~3); // message header, Pool Handle
  const extra = [0x80, 0x77, 0x00, 0x08, 1, 2, 3, 4];
  const out = new Uint8Array(bytes.length + extra.length);
  out.set(bytes);
  out.set(extra, bytes.length); // the Pool Element is the last parameter
  const peLength = ((bytes[pe + 2] << 8) | bytes[pe + 3]) + extra.length;
  out[pe + 2] = peLength >>> 8;
  out[pe + 3] = peLength & 0xff;
  out[2] = out.length >>> 8;
  out[3] = out.length & 0xff;
  return out;
}

for (const profile of ["rfc", "nextgen"] as const satisfies readonly WireProfile[]) {
  Deno.test(`${profile}: a Pool Element decodes the same in one pass as through the scanners`, () => {
    const limits: DecodeOptions[] = [{}, { limits: { maxAddressesPerTransport: 2 } }];
    fc.assert(
      fc.property(
        poolHandle,
        poolElement(profile),
        fc.constantFrom(...limits),
        fc.boolean(),
        (handle, element, options, lenient) => {
          const m: Registration = {
            type: "Registration",
            poolHandle: handle,
            poolElement: element,
          };
          const ppid = ppidOf(m, profile);
          const bytes = encodeMessage(m, { profile });
          const decode = (b: Uint8Array) => {
            try {
              return (decodeMessage(ppid, b, { ...options, lenient }) as Registration).poolElement;
            } catch (e) {
              return e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
            }
          };
          const direct = decode(bytes);
          const scanned = decode(withSkippedParameter(bytes, handle.length));
          if (typeof scanned === "string") {
            // Errors name offsets, which the extra parameter does not move (it comes last).
            assert.equal(direct, scanned);
          } else {
            assert.deepStrictEqual(direct, scanned);
            assert.deepStrictEqual(direct, element);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
}
