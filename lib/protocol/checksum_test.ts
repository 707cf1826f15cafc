import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ChecksumAccumulator,
  type ChecksumWidth,
  finishChecksum,
  handlespaceChecksum,
  poolElementChecksumTerm,
  RsplibChecksumAccumulator,
} from "./checksum.ts";

const text = (s: string) => new TextEncoder().encode(s);
const echo = [text("EchoPool"), 0x12345678] as const;
const pingPong = [text("PingPong"), 0x0badcafe] as const;
const odd = [text("Odd"), 0x00000001] as const;

/** Reference: RFC 1071 over the concatenated words, with BigInt arithmetic and no shortcuts. */
function reference(
  elements: readonly (readonly [Uint8Array, number | bigint])[],
  width: ChecksumWidth,
): number {
  const wordBytes = width / 8;
  let sum = 0n;
  for (const [handle, id] of elements) {
    const idBytes = typeof id === "bigint" ? 8 : 4;
    const padded = Math.ceil(handle.length / wordBytes) * wordBytes;
    const data = new Uint8Array(padded + idBytes);
    data.set(handle);
    const idValue = BigInt(id);
    for (let i = 0; i < idBytes; i++) {
      data[padded + i] = Number((idValue >> BigInt(8 * (idBytes - 1 - i))) & 0xffn);
    }
    for (let i = 0; i < data.length; i += wordBytes) {
      let word = 0n;
      for (let k = 0; k < wordBytes; k++) word = (word << 8n) | BigInt(data[i + k]);
      sum += word;
    }
  }
  const mask = (1n << BigInt(width)) - 1n;
  while (sum > mask) sum = (sum & mask) + (sum >> BigInt(width));
  return Number(~sum & mask);
}

Deno.test("Internet-16 test vectors of the spec (enrp.md §5)", () => {
  assert.equal(handlespaceChecksum([]), 0xffff);
  assert.equal(handlespaceChecksum([echo]), 0x29a5);
  assert.equal(handlespaceChecksum([pingPong]), 0xabac);
  assert.equal(handlespaceChecksum([odd]), 0x4c9a);
  assert.equal(handlespaceChecksum([echo, pingPong]), 0xd551);
  assert.equal(handlespaceChecksum([echo, pingPong, odd]), 0x21ec);
  // enrp.pcap: PR 0x1a8cb0d3 owning only "SetA.Echo"/0x745474c6 (odd 9-byte handle) sends 0x4e90.
  assert.equal(handlespaceChecksum([[text("SetA.Echo"), 0x745474c6]]), 0x4e90);
});

Deno.test("Internet-32 test vectors of the spec (extensions.md §4.1)", () => {
  assert.equal(handlespaceChecksum([], 32), 0xffffffff);
  assert.equal(handlespaceChecksum([echo], 32), 0x57f8d1ac);
  assert.equal(handlespaceChecksum([echo, pingPong], 32), 0xab7229df);
});

const handleArb = fc.uint8Array({ minLength: 1, maxLength: 40 });
const elements32 = fc.array(fc.tuple(handleArb, fc.integer({ min: 0, max: 0xffffffff })), {
  maxLength: 20,
});
const elements64 = fc.array(fc.tuple(handleArb, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), {
  maxLength: 20,
});

Deno.test("checksums equal an independent RFC 1071 computation", () => {
  fc.assert(fc.property(elements32, (e) => {
    assert.equal(handlespaceChecksum(e, 16), reference(e, 16));
    assert.equal(handlespaceChecksum(e, 32), reference(e, 32));
  }));
  fc.assert(
    fc.property(elements64, (e) => assert.equal(handlespaceChecksum(e, 32), reference(e, 32))),
  );
});

Deno.test("the incremental accumulator agrees with a full recompute after every change", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), handleArb, fc.integer({ min: 0, max: 0xffffffff })), {
        maxLength: 60,
      }),
      fc.constantFrom<ChecksumWidth>(16, 32),
      (operations, width) => {
        const accumulator = new ChecksumAccumulator(width);
        const present = new Map<string, readonly [Uint8Array, number]>();
        for (const [remove, handle, id] of operations) {
          const key = `${handle.join(",")}/${id}`;
          const existing = [...present.keys()][0];
          if (remove && existing !== undefined) {
            const [h, i] = present.get(existing)!;
            accumulator.subtract(poolElementChecksumTerm(h, i, width));
            present.delete(existing);
          } else if (!present.has(key)) {
            accumulator.add(poolElementChecksumTerm(handle, id, width));
            present.set(key, [handle, id]);
          }
          assert.equal(accumulator.value, reference([...present.values()], width));
        }
      },
    ),
  );
});

Deno.test("an all-zero element is told apart from an empty set (no negative zero)", () => {
  const zero = [new Uint8Array(2), 0] as const;
  assert.equal(handlespaceChecksum([zero]), 0xffff);
  const a = new ChecksumAccumulator();
  const term = poolElementChecksumTerm(text("AB"), 0xffffffff);
  a.add(term);
  a.subtract(term);
  assert.equal(a.value, 0xffff);
  // A non-empty set whose sum is a multiple of 0xffff has checksum 0x0000.
  assert.equal(finishChecksum(0xffff), 0);
  assert.equal(handlespaceChecksum([[new Uint8Array([0xff, 0xff]), 0]]), 0);
});

/** RSPLIB's C loop on a little-endian host: uint16 words in host order, uint32 accumulator. */
function rsplibC(elements: readonly (readonly [Uint8Array, number])[]): number {
  const acc = new Uint32Array(1);
  for (const [handle, id] of elements) {
    const data = new Uint8Array(handle.length + (handle.length % 2) + 4);
    data.set(handle);
    new DataView(data.buffer).setUint32(data.length - 4, id, false);
    const view = new DataView(data.buffer);
    for (let i = 0; i < data.length; i += 2) acc[0] += view.getUint16(i, true);
  }
  let sum = acc[0];
  while (sum >>> 16) sum = (sum & 0xffff) + (sum >>> 16);
  const host = ~sum & 0xffff;
  return ((host & 0xff) << 8) | (host >> 8); // the two bytes on the wire, read big-endian
}

Deno.test("RSPLIB's arithmetic: equal to RFC 1071 until the 32-bit accumulator wraps", () => {
  fc.assert(fc.property(elements32, (e) => {
    const r = new RsplibChecksumAccumulator();
    for (const [h, id] of e) r.add(RsplibChecksumAccumulator.term(h, id));
    assert.equal(r.value, rsplibC(e));
    assert.equal(r.value, handlespaceChecksum(e));
  }));
  // 5000 elements with 32-byte 0xff handles: the accumulator wraps once.
  const big = Array.from({ length: 5000 }, (_, i) => [new Uint8Array(32).fill(0xff), i] as const);
  const r = new RsplibChecksumAccumulator();
  for (const [h, id] of big) r.add(RsplibChecksumAccumulator.term(h, id));
  assert.equal(r.value, rsplibC(big));
  assert.notEqual(r.value, handlespaceChecksum(big));
  // Subtracting restores the sum exactly, wrap-around included.
  for (const [h, id] of big.slice(10)) r.subtract(RsplibChecksumAccumulator.term(h, id));
  assert.equal(r.value, rsplibC(big.slice(0, 10)));
});
