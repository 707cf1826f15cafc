import assert from "node:assert/strict";
import fc from "fast-check";
import { bytesFromJson, bytesToJson, formatMessage, toJsonValue } from "./json.ts";
import type { Registration } from "./types.ts";

Deno.test("byte strings in JSON are reversible", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 40 }),
      (b) => assert.deepEqual(bytesFromJson(bytesToJson(b)), b),
    ),
  );
  fc.assert(fc.property(fc.string({ unit: "binary-ascii" }), (s) => {
    const b = new TextEncoder().encode(s);
    assert.deepEqual(bytesFromJson(bytesToJson(b)), b);
  }));
  assert.equal(bytesToJson(new TextEncoder().encode("SetA.Echo")), "SetA.Echo");
  assert.equal(bytesToJson(new TextEncoder().encode("0x12")), "0x30783132");
  assert.equal(bytesToJson(new Uint8Array([0, 1])), "0x0001");
  assert.equal(bytesToJson(new Uint8Array()), "0x");
});

const registration: Registration = {
  type: "Registration",
  poolHandle: new TextEncoder().encode("SetA.Echo"),
  poolElement: {
    identifier: 0xdf9a113e,
    homeRegistrarId: 0,
    registrationLife: 24000,
    userTransport: { type: "SCTP", port: 20001, transportUse: 1, addresses: ["10.77.0.1"] },
    policy: { type: "LeastUsed", load: 0x80000000 },
  },
};

Deno.test("messages as JSON", () => {
  assert.deepEqual(toJsonValue(registration), {
    type: "Registration",
    poolHandle: "SetA.Echo",
    poolElement: {
      identifier: 0xdf9a113e,
      homeRegistrarId: 0,
      registrationLife: 24000,
      userTransport: { type: "SCTP", port: 20001, transportUse: 1, addresses: ["10.77.0.1"] },
      policy: { type: "LeastUsed", load: 0x80000000 },
    },
  });
  assert.deepEqual(toJsonValue({ id: 1n << 63n }), { id: "9223372036854775808" });
});

Deno.test("messages as readable text", () => {
  const text = formatMessage(registration);
  assert.equal(
    text,
    [
      "Registration",
      '  poolHandle: "SetA.Echo"',
      "  poolElement:",
      "    identifier: 0xdf9a113e",
      "    homeRegistrarId: 0x00000000",
      "    registrationLife: 24000 ms",
      "    userTransport: SCTP",
      "      port: 20001",
      "      transportUse: data plus control",
      "      addresses: 10.77.0.1",
      "    policy: LeastUsed",
      "      load: 0x80000000 (50.00 %)",
    ].join("\n"),
  );
  assert.match(
    formatMessage({ type: "AsapError", operationError: [{ code: 9, info: new Uint8Array() }] }),
    /code: 0x0009 \(UnknownPoolHandle\)/,
  );
});
