// Codec round trips on Node, from the installed package.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DecodeError, decodeMessage, encodeAsap, encodeMessage, Ppid } from "rserpool";

const pool = new TextEncoder().encode("EchoPool");

test("a Registration round-trips, byte for byte", () => {
  const message = {
    type: "Registration",
    poolHandle: pool,
    poolElement: {
      identifier: 0x12345678,
      homeRegistrarId: 0,
      registrationLife: 30000,
      userTransport: {
        type: "TCP",
        port: 7,
        transportUse: 1,
        addresses: ["192.0.2.1"],
      },
      policy: { type: "WeightedRoundRobin", weight: 3 },
    },
  };
  const bytes = encodeAsap(message);
  const decoded = decodeMessage(Ppid.Asap, bytes);
  assert.deepEqual(decoded, message);
  assert.deepEqual(encodeMessage(decoded), bytes);
});

test("RSPLIB's Handle Resolution decodes", () => {
  const hex = "0500001c0009000d536574412e4563686f000000803f000800000001";
  const bytes = Uint8Array.from(hex.match(/../g), (h) => parseInt(h, 16));
  const m = decodeMessage(Ppid.Asap, bytes);
  assert.equal(m.type, "HandleResolution");
  assert.equal(new TextDecoder().decode(m.poolHandle), "SetA.Echo");
  assert.equal(m.items, 1);
});

test("64-bit identifiers in the next-generation profile", () => {
  const message = {
    type: "ServerAnnounce",
    registrarId: 0x0123456789abcdefn,
    transports: [],
  };
  const bytes = encodeMessage(message, { profile: "nextgen" });
  assert.deepEqual(decodeMessage(Ppid.AsapNextGen, bytes), message);
});

test("truncated input throws DecodeError, nothing else", () => {
  const bytes = encodeAsap({ type: "HandleResolution", poolHandle: pool });
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(
      () => decodeMessage(Ppid.Asap, bytes.subarray(0, n)),
      DecodeError,
    );
  }
});
