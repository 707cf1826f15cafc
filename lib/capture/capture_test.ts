import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError } from "../errors.ts";
import { encodeMessage } from "../protocol/codec.ts";
import { Ppid } from "../protocol/constants.ts";
import type { HandleTableResponse, PoolElementParameter } from "../protocol/types.ts";
import { toHex } from "../wire/hex.ts";
import {
  type CapturedMessage,
  decodeCapturedMessage,
  LinkType,
  readCapture,
  readFrames,
} from "./mod.ts";
import {
  ethernetFrame,
  ipv4Packet,
  ipv6Packet,
  PcapngWriter,
  sctpDataChunk,
  sctpIDataChunk,
  sctpPacket,
  udpDatagram,
  writePcap,
} from "./writer.ts";

const DIR = new URL("../../conformance/testdata/rsplib-3.4.4/", import.meta.url);
const basic = await Deno.readFile(new URL("asap-basic.pcap", DIR));
const basicFrames = [...readFrames(basic)];
const basicMessages = [...readCapture(basic)];

function summary(messages: Iterable<CapturedMessage>): string[] {
  return [...messages].map((m) =>
    `${m.frame} ${m.transport} ${m.source.address}:${m.source.port}>${m.destination.address}:${m.destination.port} ${m.ppid} ${
      toHex(m.bytes)
    }`
  );
}

function rewrap(linkType: number, wrap: (ethernet: Uint8Array) => Uint8Array): Uint8Array {
  return writePcap(basicFrames.map((f) => ({ data: wrap(f.data), timestamp: f.timestamp })), {
    linkType,
  });
}

Deno.test("asap-basic.pcap holds both SCTP and UDP messages", () => {
  assert.equal(basicMessages.length, 186);
  assert.ok(basicMessages.some((m) => m.transport === "udp" && m.protocol === "enrp"));
  assert.ok(basicMessages.some((m) => m.transport === "sctp" && m.protocol === "asap"));
  // First ENRP Presence by multicast: RSPLIB sends it from 127.0.0.1:9901 to 239.0.0.51:9901.
  const presence = basicMessages.find((m) => m.protocol === "enrp")!;
  assert.deepEqual(
    [presence.source, presence.destination],
    [{ address: "127.0.0.1", port: 9901 }, { address: "239.0.0.51", port: 9901 }],
  );
});

Deno.test("pcapng (either byte order, µs or ns timestamps) yields the same messages as pcap", () => {
  const expected = summary(basicMessages);
  for (const littleEndian of [true, false]) {
    for (const nanoseconds of [false, true]) {
      const writer = new PcapngWriter({ littleEndian, nanoseconds, application: "rserpool test" });
      for (const f of basicFrames) writer.addPacket(f.data, f.timestamp);
      const file = writer.toBytes();
      assert.deepEqual(summary(readCapture(file)), expected);
      const frames = [...readFrames(file)];
      frames.forEach((f, i) => assert.ok(Math.abs(f.timestamp - basicFrames[i].timestamp) < 0.001));
    }
  }
});

Deno.test("classic pcap in big-endian and nanosecond variants", () => {
  const expected = summary(basicMessages);
  for (
    const options of [{ littleEndian: false }, { nanoseconds: true }, {
      littleEndian: false,
      nanoseconds: true,
    }]
  ) {
    const file = writePcap(
      basicFrames.map((f) => ({ data: f.data, timestamp: f.timestamp })),
      options,
    );
    assert.deepEqual(summary(readCapture(file)), expected);
    assert.ok(Math.abs([...readFrames(file)][5].timestamp - basicFrames[5].timestamp) < 0.001);
  }
});

Deno.test("Linux cooked v1 and v2, raw IP, loopback and VLAN-tagged Ethernet", () => {
  const expected = summary(basicMessages);
  const ip = (e: Uint8Array) => e.subarray(14);
  const etherType = (e: Uint8Array) => [e[12], e[13]];
  const sll = (e: Uint8Array) =>
    new Uint8Array([0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...etherType(e), ...ip(e)]);
  const sll2 = (e: Uint8Array) =>
    new Uint8Array([
      ...etherType(e),
      0,
      0,
      0,
      0,
      0,
      1,
      0,
      1,
      0,
      6,
      2,
      0,
      0,
      0,
      0,
      1,
      0,
      0,
      ...ip(e),
    ]);
  const loopback = (e: Uint8Array) => new Uint8Array([2, 0, 0, 0, ...ip(e)]);
  const vlan = (e: Uint8Array) =>
    new Uint8Array([...e.subarray(0, 12), 0x81, 0, 0, 42, ...e.subarray(12)]);
  assert.deepEqual(summary(readCapture(rewrap(LinkType.LinuxSll, sll))), expected);
  assert.deepEqual(summary(readCapture(rewrap(LinkType.LinuxSll2, sll2))), expected);
  assert.deepEqual(summary(readCapture(rewrap(LinkType.Raw, ip))), expected);
  assert.deepEqual(summary(readCapture(rewrap(LinkType.IPv4, ip))), expected);
  assert.deepEqual(summary(readCapture(rewrap(LinkType.Null, loopback))), expected);
  assert.deepEqual(summary(readCapture(rewrap(LinkType.Ethernet, vlan))), expected);
});

const handle = new TextEncoder().encode("EchoPool");
function element(id: number): PoolElementParameter {
  return {
    identifier: id,
    homeRegistrarId: 0x11111111,
    registrationLife: 30000,
    userTransport: {
      type: "SCTP",
      port: 20000 + (id % 1000),
      transportUse: 0,
      addresses: ["2001:db8::1", "10.0.0.1"],
    },
    policy: { type: "LeastUsed", load: id },
    asapTransport: { type: "SCTP", port: 30000, transportUse: 0, addresses: ["2001:db8::1"] },
  };
}

Deno.test("SCTP over IPv6 with an extension header, and UDP announces over IPv6", () => {
  const registration = encodeMessage({
    type: "Registration",
    poolHandle: handle,
    poolElement: element(7),
  });
  const sctp = sctpPacket(5000, 3863, 0xcafe, [
    sctpDataChunk({ tsn: 1, ppid: Ppid.Asap, data: registration }),
  ]);
  // Hop-by-hop options header (8 bytes, PadN) in front of SCTP.
  const withHopByHop = new Uint8Array([132, 0, 1, 4, 0, 0, 0, 0, ...sctp]);
  const v6 = ipv6Packet("2001:db8::7", "2001:db8::1", 0, withHopByHop);
  const announce = encodeMessage({ type: "ServerAnnounce", registrarId: 5, transports: [] });
  const udp = ipv6Packet(
    "fe80::1",
    "ff02::1:3",
    17,
    udpDatagram("fe80::1", 3863, "ff02::1:3", 3863, announce),
  );
  const file = writePcap([
    { data: ethernetFrame(v6, 0x86dd), timestamp: 1000 },
    { data: ethernetFrame(udp, 0x86dd), timestamp: 2000 },
  ]);
  const got = [...readCapture(file)];
  assert.equal(got.length, 2);
  assert.deepEqual(got[0].source, { address: "2001:db8::7", port: 5000 });
  assert.deepEqual(got[0].bytes, registration);
  assert.deepEqual(decodeCapturedMessage(got[0]), {
    type: "Registration",
    poolHandle: handle,
    poolElement: element(7),
  });
  assert.equal(got[1].transport, "udp");
  assert.equal(got[1].protocol, "asap");
  assert.deepEqual(got[1].bytes, announce);
});

function bigTableResponse(): { message: HandleTableResponse; bytes: Uint8Array } {
  const message: HandleTableResponse = {
    type: "HandleTableResponse",
    reject: false,
    moreToSend: true,
    sendingRegistrarId: 1,
    receivingRegistrarId: 2,
    pools: [{
      poolHandle: handle,
      poolElements: Array.from({ length: 40 }, (_, i) => element(i + 1)),
    }],
  };
  return { message, bytes: encodeMessage(message) };
}

Deno.test("fragmented DATA chunks are reassembled across packets, in any order", () => {
  const { message, bytes } = bigTableResponse();
  assert.ok(bytes.length > 3000);
  const third = Math.ceil(bytes.length / 3);
  const parts = [
    bytes.subarray(0, third),
    bytes.subarray(third, 2 * third),
    bytes.subarray(2 * third),
  ];
  const frag = (i: number) =>
    sctpDataChunk({
      tsn: 0xfffffffe + i,
      ppid: Ppid.Enrp,
      data: parts[i],
      first: i === 0,
      last: i === 2,
    });
  const other = sctpDataChunk({ tsn: 9, ppid: 46, data: new Uint8Array([1, 2, 3]) }); // application data
  const packet = (chunks: Uint8Array[], tag = 0xabc) =>
    ethernetFrame(
      ipv4Packet("10.0.0.2", "10.0.0.1", 132, sctpPacket(9901, 9901, tag, chunks)),
      0x0800,
    );
  // Fragments 2, then 0 with unrelated data, then 1 (TSNs wrap around 2^32), plus a lone
  // fragment of another association that never completes.
  const file = writePcap([
    { data: packet([frag(2)]), timestamp: 1 },
    { data: packet([frag(0), other]), timestamp: 2 },
    { data: packet([frag(1)], 0xdef), timestamp: 3 },
    { data: packet([frag(1)]), timestamp: 4 },
  ]);
  const got = [...readCapture(file)];
  assert.equal(got.length, 1);
  assert.equal(got[0].frame, 4);
  assert.equal(got[0].reassembled, true);
  assert.deepEqual(got[0].bytes, bytes);
  assert.deepEqual(decodeCapturedMessage(got[0]), message);
});

Deno.test("fragmented I-DATA chunks are reassembled by message identifier", () => {
  const { bytes } = bigTableResponse();
  const half = bytes.length >> 1;
  const first = sctpIDataChunk({
    tsn: 5,
    messageId: 77,
    ppid: Ppid.Enrp,
    data: bytes.subarray(0, half),
    last: false,
  });
  const second = sctpIDataChunk({
    tsn: 6,
    messageId: 77,
    ppid: 0,
    fragmentSequence: 1,
    data: bytes.subarray(half),
    first: false,
  });
  const whole = sctpIDataChunk({
    tsn: 7,
    messageId: 78,
    ppid: Ppid.Asap,
    data: encodeMessage({ type: "Cookie", cookie: new Uint8Array(8) }),
  });
  const frame = (chunks: Uint8Array[]) =>
    ethernetFrame(ipv4Packet("10.0.0.2", "10.0.0.1", 132, sctpPacket(1, 2, 3, chunks)), 0x0800);
  const got = [
    ...readCapture(
      writePcap([{ data: frame([second, whole]), timestamp: 0 }, {
        data: frame([first]),
        timestamp: 1,
      }]),
    ),
  ];
  assert.deepEqual(got.map((m) => [m.frame, m.protocol, m.bytes.length]), [[1, "asap", 16], [
    2,
    "enrp",
    bytes.length,
  ]]);
  assert.deepEqual(got[1].bytes, bytes);
});

Deno.test("retransmitted unfragmented DATA is listed again, as Wireshark does", () => {
  const data = encodeMessage({ type: "Cookie", cookie: new Uint8Array(4) });
  const frame = ethernetFrame(
    ipv4Packet(
      "10.0.0.2",
      "10.0.0.1",
      132,
      sctpPacket(1, 2, 3, [sctpDataChunk({ tsn: 1, ppid: Ppid.Asap, data })]),
    ),
    0x0800,
  );
  assert.equal(
    [...readCapture(writePcap([{ data: frame, timestamp: 0 }, { data: frame, timestamp: 1 }]))]
      .length,
    2,
  );
});

Deno.test("SCTP over UDP on a configured port", () => {
  const data = encodeMessage({ type: "CookieEcho", cookie: new Uint8Array([1, 2, 3, 4]) });
  const sctp = sctpPacket(20000, 3863, 7, [sctpDataChunk({ tsn: 1, ppid: Ppid.Asap, data })]);
  const frame = ethernetFrame(
    ipv4Packet(
      "127.0.0.1",
      "127.0.0.1",
      17,
      udpDatagram("127.0.0.1", 19899, "127.0.0.1", 19899, sctp),
    ),
    0x0800,
  );
  const file = writePcap([{ data: frame, timestamp: 0 }]);
  assert.equal([...readCapture(file)].length, 0);
  const got = [...readCapture(file, { sctpOverUdpPorts: [19899] })];
  assert.equal(got.length, 1);
  assert.equal(got[0].transport, "sctp-over-udp");
  assert.deepEqual(got[0].source, { address: "127.0.0.1", port: 20000 });
});

Deno.test("frames that cannot be read are skipped with a reason", () => {
  const data = encodeMessage({ type: "Cookie", cookie: new Uint8Array(4) });
  const sctp = sctpPacket(1, 2, 3, [sctpDataChunk({ tsn: 1, ppid: Ppid.Asap, data })]);
  const fragment = ipv4Packet("10.0.0.2", "10.0.0.1", 132, sctp);
  fragment[6] = 0x20; // more fragments
  const arp = ethernetFrame(new Uint8Array(28), 0x0806);
  const truncated = ethernetFrame(ipv4Packet("10.0.0.2", "10.0.0.1", 132, sctp), 0x0800).subarray(
    0,
    30,
  );
  const reasons: [number, string][] = [];
  const got = [
    ...readCapture(
      writePcap([
        { data: ethernetFrame(fragment, 0x0800), timestamp: 0 },
        { data: arp, timestamp: 0 },
        { data: truncated, timestamp: 0 },
      ]),
      { onSkip: (frame, reason) => reasons.push([frame, reason]) },
    ),
  ];
  assert.equal(got.length, 0);
  assert.deepEqual(reasons.map(([frame]) => frame), [1, 2, 3]);
  assert.match(reasons[0][1], /fragment/);
  assert.match(reasons[1][1], /not IP/);
  assert.match(reasons[2][1], /truncated/);
});

function badCapture(file: Uint8Array, offset: number): void {
  assert.throws(() => [...readCapture(file)], (e) => {
    assert.ok(e instanceof DecodeError);
    assert.equal(e.code, "bad-capture");
    assert.equal(e.offset, offset, e.message);
    return true;
  });
}

Deno.test("malformed capture files throw DecodeError bad-capture with the offset", () => {
  badCapture(new Uint8Array([1, 2]), 0);
  badCapture(new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0]), 0);
  badCapture(basic.slice(0, 20), 20);
  badCapture(basic.slice(0, 24 + 10), 24);
  badCapture(basic.slice(0, 24 + 16 + 20), 24 + 8);
  const writer = new PcapngWriter();
  writer.addPacket(basicFrames[0].data, 0);
  const ng = writer.toBytes();
  const badTrailer = ng.slice();
  badTrailer[badTrailer.length - 1] ^= 0xff;
  badCapture(badTrailer, ng.length - 4);
  const badLength = ng.slice();
  badLength[4] = 13; // section header block length not a multiple of 4
  badCapture(badLength, 4);
});

Deno.test("mutated capture files yield messages or throw DecodeError, nothing else", () => {
  const writer = new PcapngWriter();
  for (const f of basicFrames.slice(0, 40)) writer.addPacket(f.data, f.timestamp);
  const seeds = [basic.slice(0, 6000), writer.toBytes()];
  fc.assert(
    fc.property(
      fc.constantFrom(0, 1),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 8,
      }),
      fc.nat(),
      (which, edits, cut) => {
        const file = seeds[which].slice(0, seeds[which].length - (cut % 64));
        for (const [at, value] of edits) file[at % file.length] = value;
        try {
          for (const m of readCapture(file)) {
            try {
              decodeCapturedMessage(m, { lenient: true });
            } catch (e) {
              if (!(e instanceof DecodeError)) throw e;
            }
          }
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
        }
      },
    ),
    { numRuns: 300 },
  );
});
