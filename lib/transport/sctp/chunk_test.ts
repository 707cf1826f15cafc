import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError } from "../../errors.ts";
import { parseFrame, readFrames } from "../../capture/mod.ts";
import { decodePacket, encodePacket } from "./chunk.ts";
import { sctpPacket as packet } from "../../testing/sctp.ts";

/** fast-check records have null prototypes; compare contents only. */
const plain = (x: unknown): unknown =>
  JSON.parse(JSON.stringify(x, (_k, v) => v instanceof Uint8Array ? [...v] : v));

Deno.test("sctp chunks: every packet survives encode → decode → encode unchanged", () => {
  fc.assert(
    fc.property(packet, (p) => {
      const wire = encodePacket(p);
      assert.equal(wire.length % 4, 0, "packets are padded to 4 bytes");
      const back = decodePacket(wire);
      // UNKNOWN chunks are returned as given (their codes, ≥ 15, never collide).
      assert.deepEqual(plain(back), plain(p));
      assert.deepEqual(encodePacket(back), wire);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("sctp chunks: garbage and mutations only ever raise DecodeError", () => {
  fc.assert(
    fc.property(
      packet,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(),
      (p, flips, cut) => {
        const wire = encodePacket(p).slice();
        for (const [at, v] of flips) wire[at % wire.length] = v;
        const sliced = wire.subarray(0, cut % (wire.length + 1));
        for (const verifyChecksum of [true, false]) {
          try {
            decodePacket(sliced, { verifyChecksum });
          } catch (e) {
            assert.ok(e instanceof DecodeError, String(e));
          }
        }
      },
    ),
    { numRuns: 3000 },
  );
});

Deno.test("sctp chunks: a corrupted byte fails the CRC32c; lengths past the packet are refused", () => {
  const wire = encodePacket({
    sourcePort: 1,
    destinationPort: 2,
    verificationTag: 3,
    chunks: [{ type: "SHUTDOWN", cumulativeTsnAck: 7 }],
  });
  const bad = wire.slice();
  bad[17] ^= 1;
  assert.throws(
    () => decodePacket(bad),
    (e) => e instanceof DecodeError && e.code === "bad-checksum",
  );
  const long = wire.slice();
  long[15] = 200; // SHUTDOWN Length 200 in a 20-byte packet
  assert.throws(
    () => decodePacket(long, { verifyChecksum: false }),
    (e) => e instanceof DecodeError && e.code === "bad-chunk",
  );
  // A SACK claiming 65535 gap blocks is refused before anything is allocated for them.
  const sack = encodePacket({
    sourcePort: 1,
    destinationPort: 2,
    verificationTag: 3,
    chunks: [{ type: "SACK", cumulativeTsnAck: 1, aRwnd: 1, gaps: [], duplicates: [] }],
  });
  sack[12 + 12] = 0xff;
  sack[12 + 13] = 0xff;
  assert.throws(
    () => decodePacket(sack, { verifyChecksum: false }),
    (e) => e instanceof DecodeError && (e.code === "limit-exceeded" || e.code === "bad-chunk"),
  );
});

Deno.test("sctp chunks: every packet Linux kernel SCTP sent over UDP (RFC 6951) re-encodes byte for byte", async () => {
  const file = await Deno.readFile(
    new URL("../../../conformance/testdata/rsplib-3.4.4/udp-encap.pcap", import.meta.url),
  );
  const seen = new Map<string, number>();
  let packets = 0;
  for (const frame of readFrames(file)) {
    const t = parseFrame(frame.linkType, frame.data);
    if (typeof t === "string" || t.protocol !== 17 || t.segment.length < 8) continue;
    const sport = (t.segment[0] << 8) | t.segment[1];
    const dport = (t.segment[2] << 8) | t.segment[3];
    if (sport !== 9899 && dport !== 9899) continue;
    const payload = t.segment.subarray(8);
    const p = decodePacket(payload);
    assert.deepEqual(encodePacket(p), payload, `frame ${packets}`);
    for (const c of p.chunks) seen.set(c.type, (seen.get(c.type) ?? 0) + 1);
    packets++;
  }
  assert.ok(packets >= 200, `${packets} packets`);
  for (
    const type of [
      "INIT",
      "INIT-ACK",
      "COOKIE-ECHO",
      "COOKIE-ACK",
      "DATA",
      "SACK",
      "HEARTBEAT",
      "HEARTBEAT-ACK",
    ]
  ) {
    assert.ok(seen.has(type), `the capture has ${type}`);
  }
});
