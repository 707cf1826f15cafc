/**
 * Fuzz targets of the SCTP stack: the packet decoder, and an endpoint with a
 * live association fed hostile datagrams.
 *
 * @module
 */

import { deepStrictEqual } from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { parseFrame, readFrames } from "../lib/capture/mod.ts";
import { DecodeError } from "../lib/errors.ts";
import { sctpPacket } from "../lib/testing/sctp.ts";
import { mutateBytes } from "../lib/testing/mutate.ts";
import { checksumMatches, decodePacket, encodePacket } from "../lib/transport/sctp/chunk.ts";
import { SctpEndpoint } from "../lib/transport/sctp/endpoint.ts";
import { writeSctpChecksum } from "../lib/wire/crc32c.ts";
import type { FuzzTarget } from "./targets.ts";

class PropertyViolation extends Error {}

function fail(what: string): never {
  throw new PropertyViolation(what);
}

function expectOnly(e: unknown): void {
  if (!(e instanceof DecodeError)) throw e;
}

let linuxPackets: Uint8Array[] | undefined;

/** The SCTP packets Linux kernel SCTP sent over UDP in RSPLIB's capture. */
function capturedPackets(): Uint8Array[] {
  if (linuxPackets !== undefined) return linuxPackets;
  const file = readFileSync(
    new URL("../conformance/testdata/rsplib-3.4.4/udp-encap.pcap", import.meta.url),
  );
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  for (const frame of readFrames(new Uint8Array(file))) {
    const t = parseFrame(frame.linkType, frame.data);
    if (typeof t === "string" || t.protocol !== 17 || t.segment.length < 20) continue;
    const payload = t.segment.subarray(8);
    const key = `${payload[12]}:${payload.length}`; // one per chunk type and size
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(payload.slice());
  }
  return linuxPackets = out;
}

/** Sets the CRC32c of a packet in place (so mutations get past the checksum). */
const fixChecksum = writeSctpChecksum;

const plain = (x: unknown): unknown =>
  JSON.parse(JSON.stringify(x, (_k, v) => v instanceof Uint8Array ? [...v] : v));

/** The SCTP packet decoder: typed errors only, round trips. */
export const sctpPacketTarget: FuzzTarget = {
  name: "sctp-packet",
  description: "SCTP packets and chunks (RFC 9260 §3): typed errors only, round trips",
  run(input) {
    // The input as it is (most fail the CRC32c) and with its checksum fixed.
    for (const bytes of [input, fixChecksum(input.slice())]) {
      let p;
      try {
        p = decodePacket(bytes);
      } catch (e) {
        expectOnly(e);
        continue;
      }
      const again = encodePacket(p);
      if (!checksumMatches(again)) fail("an encoded packet fails its own CRC32c");
      let back;
      try {
        back = decodePacket(again);
      } catch (e) {
        fail(`a re-encoded packet does not decode: ${(e as Error).message}`);
      }
      try {
        deepStrictEqual(plain(back), plain(p));
      } catch {
        fail("decode → encode → decode changes the packet");
      }
    }
  },
  seeds: capturedPackets,
  generate: sctpPacket.map((p) => encodePacket(p)),
  mutate: (rng, input, others) => fixChecksum(mutateBytes(rng, input, others)),
};

/**
 * An endpoint with an established association (a client endpoint connected
 * to it in memory), then the input's datagrams: 2-byte length, then the
 * packet; a packet whose first byte is odd gets the association's ports and
 * verification tag, so it reaches the association rather than the
 * out-of-the-blue path. Every packet's checksum is fixed. Properties: the
 * endpoint never throws, keeps its association count bounded, and its
 * output stays bounded.
 */
export const sctpEndpointTarget: FuzzTarget = {
  name: "sctp-endpoint",
  description: "an SCTP endpoint with a live association fed hostile packets",
  run(input) {
    let seed = 1;
    const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    const server = new SctpEndpoint({ random, secret: new Uint8Array(32), maxAssociations: 8 });
    const client = new SctpEndpoint({ random, secret: new Uint8Array(32).fill(1) });
    server.listen(3863);
    const at = { address: "192.0.2.1", port: 9899 };
    const peer = { address: "192.0.2.2", port: 9899 };
    let now = 0;
    const a = client.connect(at, 3863, 5000, now);
    for (let i = 0; i < 8 && a.state !== "established"; i++) {
      for (const d of client.drainDatagrams()) server.receive(d.bytes, peer, now);
      for (const d of server.drainDatagrams()) client.receive(d.bytes, at, now);
    }
    if (a.state !== "established") fail("the in-memory handshake did not complete");
    server.drainEvents();
    a.send(0, 11, new Uint8Array([1, 2, 3]));
    client.flush(now);
    for (const d of client.drainDatagrams()) server.receive(d.bytes, peer, now);
    let out = 0;
    for (let p = 0; p + 2 <= input.length;) {
      const n = (input[p] << 8) | input[p + 1];
      const packet = input.slice(p + 2, Math.min(input.length, p + 2 + n));
      p += 2 + n;
      if (packet.length >= 12 && (packet[0] & 1) === 1) {
        packet[0] = 5000 >> 8;
        packet[1] = 5000 & 0xff;
        packet[2] = 3863 >> 8;
        packet[3] = 3863 & 0xff;
        const tag = a.peerTag;
        packet[4] = tag >>> 24;
        packet[5] = (tag >>> 16) & 0xff;
        packet[6] = (tag >>> 8) & 0xff;
        packet[7] = tag & 0xff;
      }
      now += 10;
      server.receive(fixChecksum(packet), peer, now);
      server.advanceTime(now);
      for (const d of server.drainDatagrams()) out += d.bytes.length;
      server.drainEvents();
      if (server.size > 8) fail(`${server.size} associations despite a limit of 8`);
    }
    // Time passes: timers fire without trouble.
    for (let i = 0; i < 20; i++) {
      now += 5000;
      server.advanceTime(now);
      for (const d of server.drainDatagrams()) out += d.bytes.length;
      server.drainEvents();
    }
    if (out > 64 * 1024 + 64 * input.length) fail(`${out} bytes of output for ${input.length} in`);
  },
  seeds() {
    // The captured packets, each framed.
    return capturedPackets().map((p) => {
      const b = new Uint8Array(2 + p.length);
      b[0] = p.length >> 8;
      b[1] = p.length & 0xff;
      b.set(p, 2);
      b[2] |= 1;
      return b;
    });
  },
  generate: fc.array(sctpPacket.map((p) => encodePacket(p)), { minLength: 1, maxLength: 6 }).map(
    (ps) => {
      const out = new Uint8Array(ps.reduce((n, p) => n + 2 + p.length, 0));
      let at = 0;
      for (const p of ps) {
        out[at] = p.length >> 8;
        out[at + 1] = p.length & 0xff;
        out.set(p, at + 2);
        out[at + 2] |= 1;
        at += 2 + p.length;
      }
      return out;
    },
  ),
  mutate: mutateBytes,
};
