import assert from "node:assert/strict";
import { DecodeError } from "../errors.ts";
import { decodeAsap, decodeEnrp, decodeMessage } from "./codec.ts";
import type { DecodeOptions, UnrecognizedParameter } from "./options.ts";

// A byte builder independent of the encoder: messages are assembled by hand.
const be16 = (v: number) => [v >> 8, v & 0xff];
const be32 = (v: number) => [v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
const pad = (n: number) => new Array((4 - (n % 4)) % 4).fill(0);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** A parameter: type, length (header + value), value, zero padding. */
function tlv(type: number, value: number[], options: { padding?: number[] } = {}): number[] {
  return [
    ...be16(type),
    ...be16(4 + value.length),
    ...value,
    ...(options.padding ?? pad(value.length)),
  ];
}

/** A message whose Length is the byte count (canonical), unless given. */
function msg(type: number, flags: number, body: number[], length?: number): Uint8Array {
  return new Uint8Array([type, flags, ...be16(length ?? 4 + body.length), ...body]);
}

const poolHandle = (s = "EchoPool") => tlv(0x0009, ascii(s));
const peId = (id = 0x12345678) => tlv(0x000e, be32(id));
const ipv4 = (a: number, b: number, c: number, d: number) => tlv(0x0001, [a, b, c, d]);
const sctp = (port: number, ...addresses: number[][]) =>
  tlv(0x0004, [...be16(port), ...be16(1), ...addresses.flat()]);
const roundRobin = tlv(0x0008, be32(1));
function poolElement(inner: number[]): number[] {
  return tlv(0x000a, [...be32(0xabcdef01), ...be32(0), ...be32(24000), ...inner]);
}
const goodPoolElement = poolElement([...sctp(20001, ipv4(10, 0, 0, 1)), ...roundRobin]);

function rejects(
  bytes: Uint8Array,
  code: string,
  offset: number,
  options: DecodeOptions = {},
  decode: (b: Uint8Array, o: DecodeOptions) => unknown = decodeAsap,
): DecodeError {
  try {
    decode(bytes, options);
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected DecodeError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.offset, offset, e.message);
    return e;
  }
  assert.fail(`expected ${code} at ${offset}, but it decoded`);
}

Deno.test("message header: truncated input", () => {
  rejects(new Uint8Array([]), "truncated", 0);
  rejects(new Uint8Array([1, 0, 0]), "truncated", 3);
  // Length says 24, only 20 bytes present.
  const registration = msg(0x02, 0, [...poolHandle(), ...peId()]);
  rejects(registration.slice(0, 20), "truncated", 20);
});

Deno.test("message header: Length below 4", () => {
  rejects(new Uint8Array([1, 0, 0, 3]), "bad-message-length", 2);
});

Deno.test("message header: trailing bytes are refused strictly, ignored leniently", () => {
  const m = msg(0x02, 0, [...poolHandle(), ...peId()]);
  const withTrailer = new Uint8Array([...m, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef]);
  rejects(withTrailer, "trailing-bytes", m.length);
  assert.equal(decodeAsap(withTrailer, { lenient: true }).type, "Deregistration");
});

Deno.test("message header: Length without the final padding", () => {
  // Handle Resolution for "Echo1": the TLV has Length 9, the message ends with 3 pad bytes.
  const body = poolHandle("Echo1");
  const canonical = msg(0x05, 0, body);
  assert.equal(canonical.length, 16);
  assert.deepEqual(decodeAsap(canonical), {
    type: "HandleResolution",
    poolHandle: new TextEncoder().encode("Echo1"),
  });
  // Same bytes, Length 13 (final padding not counted): lenient accepts, strict does not.
  const short = msg(0x05, 0, body, 13);
  rejects(short, "bad-message-length", 2);
  assert.equal(decodeAsap(short, { lenient: true }).type, "HandleResolution");
  // Length 13 and the padding absent: the parameter's padding is missing.
  const unpadded = short.slice(0, 13);
  rejects(unpadded, "bad-padding", 13);
  assert.equal(decodeAsap(unpadded, { lenient: true }).type, "HandleResolution");
});

Deno.test("padding must be zero in strict mode", () => {
  const body = [...tlv(0x0009, ascii("Echo1"), { padding: [0, 7, 0] }), ...peId()];
  rejects(msg(0x02, 0, body), "bad-padding", 14);
  assert.equal(decodeAsap(msg(0x02, 0, body), { lenient: true }).type, "Deregistration");
});

Deno.test("reserved flag bits and reserved fields", () => {
  // Deregistration defines no flag; Registration Response defines only R (0x01).
  rejects(msg(0x02, 0x80, [...poolHandle(), ...peId()]), "reserved-bits", 1);
  rejects(msg(0x03, 0x03, [...poolHandle(), ...peId()]), "reserved-bits", 1);
  assert.equal(
    (decodeAsap(msg(0x03, 0x03, [...poolHandle(), ...peId()]), { lenient: true }) as {
      reject: boolean;
    })
      .reject,
    true,
  );
  // UDP Transport's reserved field.
  const udp = tlv(0x0006, [...be16(7), 0, 1, ...ipv4(10, 0, 0, 1)]);
  const registration = msg(0x01, 0, [...poolHandle(), ...poolElement([...udp, ...roundRobin])]);
  rejects(registration, "reserved-bits", 16 + 16 + 4 + 3);
  assert.equal(decodeAsap(registration, { lenient: true }).type, "Registration");
  // Handle Update's reserved field (ENRP header: 4 + 8 bytes, then Update Action).
  const update = msg(0x04, 0, [
    ...be32(1),
    ...be32(2),
    0,
    0,
    0,
    9,
    ...poolHandle(),
    ...goodPoolElement,
  ]);
  rejects(update, "reserved-bits", 15, {}, decodeEnrp);
});

Deno.test("unknown message types and PPIDs", () => {
  rejects(msg(0x0f, 0, []), "unknown-message-type", 0);
  rejects(msg(0x00, 0, []), "unknown-message-type", 0);
  rejects(msg(0x0b, 0, [...be32(1), ...be32(2)]), "unknown-message-type", 0, {}, decodeEnrp);
  rejects(msg(0x05, 0, poolHandle()), "unknown-ppid", 0, {}, (b, o) => decodeMessage(13, b, o));
});

Deno.test("parameter lengths", () => {
  // Pool Handle with Length 3 (< 4).
  rejects(msg(0x02, 0, [0, 9, 0, 3, 0, 0, 0, 0]), "bad-parameter-length", 6);
  // PE Identifier with Length 12 runs past the message.
  rejects(msg(0x02, 0, [...poolHandle(), 0, 0x0e, 0, 12, ...be32(1)]), "bad-parameter-length", 18);
  // Two stray bytes where a parameter header should be.
  rejects(
    msg(0x02, 0, [...poolHandle(), ...peId(), 0, 0, 0, 0].slice(0, 22)),
    "bad-parameter-length",
    24,
  );
  // PE Identifier with Length 12 inside a longer message: wrong size for its type.
  rejects(
    msg(0x02, 0, [...poolHandle(), 0, 0x0e, 0, 12, ...be32(1), ...be32(2)]),
    "bad-parameter-length",
    18,
  );
  // IPv4 Address with Length 12.
  const badAddress = tlv(0x0004, [
    ...be16(1),
    ...be16(0),
    ...tlv(0x0001, [1, 2, 3, 4, 5, 6, 7, 8]),
  ]);
  rejects(
    msg(0x01, 0, [...poolHandle(), ...poolElement([...badAddress, ...roundRobin])]),
    "bad-parameter-length",
    16 + 16 + 8 + 2,
  );
  // An error cause whose Length runs past its Operation Error.
  rejects(msg(0x0e, 0, tlv(0x000c, [0, 1, 0, 12, 0, 0, 0, 0])), "bad-parameter-length", 10);
});

Deno.test("unrecognized parameters by their action bits", () => {
  const unknown = (type: number) => tlv(type, [1, 2, 3, 4]);
  const base = [...poolHandle(), ...peId()];
  // 00: stop, do not report.
  const stop = rejects(
    msg(0x02, 0, [...poolHandle(), ...unknown(0x0030), ...peId()]),
    "unrecognized-parameter",
    16,
  );
  assert.equal(stop.report, false);
  assert.deepEqual(stop.parameter, new Uint8Array(unknown(0x0030)));
  // 01: stop and report; the error carries the parameter for the "Unrecognized Parameter" cause.
  const report = rejects(msg(0x02, 0, [...base, ...unknown(0x4030)]), "unrecognized-parameter", 24);
  assert.equal(report.report, true);
  assert.deepEqual(report.parameter, new Uint8Array(unknown(0x4030)));
  // 10 and 11: skip; the callback hears of both, and 11 asks for a report.
  const seen: UnrecognizedParameter[] = [];
  const m = decodeAsap(
    msg(0x02, 0, [...poolHandle(), ...unknown(0x8030), ...peId(), ...unknown(0xc031)]),
    { onUnrecognizedParameter: (p) => seen.push(p) },
  );
  assert.deepEqual(m, {
    type: "Deregistration",
    poolHandle: new TextEncoder().encode("EchoPool"),
    poolElementId: 0x12345678,
  });
  assert.deepEqual(seen.map((p) => [p.type, p.offset, p.report]), [[0x8030, 16, false], [
    0xc031,
    32,
    true,
  ]]);
  assert.deepEqual(seen[1].parameter, new Uint8Array(unknown(0xc031)));
  // A registered type with action bits set is a different, unrecognized type (RSPLIB strips them).
  rejects(
    msg(0x02, 0, [...tlv(0x4009, ascii("EchoPool")), ...peId()]),
    "unrecognized-parameter",
    4,
  );
  // Inside a transport, where RSPLIB 3.4.4 aborts: skipped and reported, or refused.
  const withOddAddress = tlv(0x0004, [
    ...be16(1),
    ...be16(0),
    ...unknown(0xc040),
    ...ipv4(10, 0, 0, 1),
  ]);
  const inside: UnrecognizedParameter[] = [];
  const registration = decodeAsap(
    msg(0x01, 0, [...poolHandle(), ...poolElement([...withOddAddress, ...roundRobin])]),
    { onUnrecognizedParameter: (p) => inside.push(p) },
  );
  assert.equal(registration.type, "Registration");
  assert.deepEqual(inside.map((p) => p.type), [0xc040]);
});

Deno.test("next-generation parameters stop an RFC decoder and ask for a report", () => {
  const ngPeId = tlv(0x500e, [...be32(0), ...be32(7)]);
  const e = rejects(msg(0x02, 0, [...poolHandle(), ...ngPeId]), "unrecognized-parameter", 16);
  assert.equal(e.report, true);
  // The same message is valid in the nextgen profile.
  assert.deepEqual(decodeAsap(msg(0x02, 0, [...poolHandle(), ...ngPeId]), { profile: "nextgen" }), {
    type: "Deregistration",
    poolHandle: new TextEncoder().encode("EchoPool"),
    poolElementId: 7n,
  });
  // And an RFC PE Identifier is out of place in a nextgen message.
  rejects(msg(0x02, 0, [...poolHandle(), ...peId()]), "unexpected-parameter", 16, {
    profile: "nextgen",
  });
});

Deno.test("message grammar: unexpected and missing parameters", () => {
  rejects(
    msg(0x01, 0, [...poolHandle(), ...tlv(0x000d, [1, 2, 3, 4])]),
    "unexpected-parameter",
    16,
  );
  rejects(msg(0x01, 0, poolHandle()), "missing-parameter", 16);
  rejects(msg(0x02, 0, [...peId(), ...poolHandle()]), "unexpected-parameter", 4);
  // Pool Element without its policy.
  rejects(
    msg(0x01, 0, [...poolHandle(), ...poolElement(sctp(1, ipv4(10, 0, 0, 1)))]),
    "missing-parameter",
    16 + 32, // the end of the Pool Element
  );
  // RSPLIB's Keep-Alive carries a PE Identifier: strict refuses it, lenient reads it.
  const keepAlive = msg(0x07, 0x01, [...be32(0xdffe285b), ...poolHandle(), ...peId()]);
  rejects(keepAlive, "unexpected-parameter", 20);
  assert.deepEqual(decodeAsap(keepAlive, { lenient: true }), {
    type: "EndpointKeepAlive",
    home: true,
    registrarId: 0xdffe285b,
    poolHandle: new TextEncoder().encode("EchoPool"),
    poolElementId: 0x12345678,
  });
  // Handle Table Response: a Pool Handle must be followed by a Pool Element.
  rejects(
    msg(0x03, 0, [...be32(1), ...be32(2), ...poolHandle()]),
    "missing-parameter",
    24,
    {},
    decodeEnrp,
  );
});

Deno.test("values the protocol does not allow", () => {
  rejects(msg(0x02, 0, [...tlv(0x0009, []), ...peId()]), "bad-value", 6);
  const tcpTwoAddresses = tlv(0x0005, [
    ...be16(80),
    ...be16(0),
    ...ipv4(10, 0, 0, 1),
    ...ipv4(10, 0, 0, 2),
  ]);
  rejects(
    msg(0x01, 0, [...poolHandle(), ...poolElement([...tcpTwoAddresses, ...roundRobin])]),
    "bad-value",
    32,
  );
  const sctpNoAddress = tlv(0x0004, [...be16(80), ...be16(0)]);
  rejects(
    msg(0x01, 0, [...poolHandle(), ...poolElement([...sctpNoAddress, ...roundRobin])]),
    "missing-parameter",
    40,
  );
  // An Operation Error without causes: strict refuses, lenient keeps the empty list.
  rejects(msg(0x0e, 0, tlv(0x000c, [])), "bad-value", 4);
  assert.deepEqual(decodeAsap(msg(0x0e, 0, tlv(0x000c, [])), { lenient: true }), {
    type: "AsapError",
    operationError: [],
  });
  // A policy parameter of the wrong size for its type: strict refuses, lenient reads what it needs.
  const longLeastUsed = tlv(0x0008, [...be32(0x40000001), ...be32(5), ...be32(9)]);
  const registration = msg(0x01, 0, [
    ...poolHandle(),
    ...poolElement([...sctp(1, ipv4(10, 0, 0, 1)), ...longLeastUsed]),
  ]);
  rejects(registration, "bad-parameter-length", 16 + 16 + 16 + 2);
  const lenient = decodeAsap(registration, { lenient: true });
  assert.deepEqual(lenient.type === "Registration" && lenient.poolElement.policy, {
    type: "LeastUsed",
    load: 5,
  });
  const shortLeastUsed = tlv(0x0008, be32(0x40000001));
  rejects(
    msg(0x01, 0, [
      ...poolHandle(),
      ...poolElement([...sctp(1, ipv4(10, 0, 0, 1)), ...shortLeastUsed]),
    ]),
    "bad-parameter-length",
    16 + 16 + 16 + 2,
    { lenient: true },
  );
  // Messages too short for their fixed fields.
  rejects(msg(0x07, 0, [0, 0]), "bad-message-length", 2);
  rejects(msg(0x01, 0, [0, 0, 0, 1]), "bad-message-length", 2, {}, decodeEnrp);
  rejects(msg(0x07, 0, [...be32(1), ...be32(2)]), "bad-message-length", 2, {}, decodeEnrp);
});

Deno.test("decoder limits", () => {
  const long = "P".repeat(40);
  rejects(msg(0x05, 0, poolHandle(long)), "limit-exceeded", 6, {
    limits: { maxPoolHandleLength: 32 },
  });
  assert.equal(decodeAsap(msg(0x05, 0, poolHandle(long))).type, "HandleResolution");
  const manyAddresses = sctp(1, ipv4(10, 0, 0, 1), ipv4(10, 0, 0, 2), ipv4(10, 0, 0, 3));
  rejects(
    msg(0x0a, 0, [...be32(1), ...manyAddresses]),
    "limit-exceeded",
    8 + 8 + 16,
    { limits: { maxAddressesPerTransport: 2 } },
  );
  const response = msg(0x06, 0, [
    ...poolHandle(),
    ...roundRobin,
    ...goodPoolElement,
    ...goodPoolElement,
  ]);
  rejects(response, "limit-exceeded", 16 + 8 + 40, { limits: { maxPoolElements: 1 } });
  const causes = tlv(0x000c, [0, 9, 0, 4, 0, 9, 0, 4, 0, 9, 0, 4]);
  rejects(msg(0x0e, 0, causes), "limit-exceeded", 16, { limits: { maxErrorCauses: 2 } });
});

Deno.test("non-Uint8Array input is a DecodeError too", () => {
  rejects("0100" as unknown as Uint8Array, "bad-value", 0);
});
