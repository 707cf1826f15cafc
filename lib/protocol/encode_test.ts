import assert from "node:assert/strict";
import fc from "fast-check";
import { EncodeError } from "../errors.ts";
import { asapMessage, enrpMessage } from "../testing/arbitraries.ts";
import {
  decodeMessage,
  encodeAsap,
  encodedLength,
  encodeEnrp,
  encodeInto,
  encodeMessage,
  ppidOf,
} from "./codec.ts";
import type {
  AsapMessage,
  EnrpMessage,
  HandleTableResponse,
  PoolElementParameter,
  RSerPoolMessage,
} from "./types.ts";

const handle = new TextEncoder().encode("EchoPool");
const element: PoolElementParameter = {
  identifier: 1,
  homeRegistrarId: 2,
  registrationLife: 3000,
  userTransport: { type: "SCTP", port: 1, transportUse: 0, addresses: ["10.0.0.1"] },
  policy: { type: "LeastUsed", load: 0 },
};

function encodeFails(
  message: unknown,
  code: string,
  path: string,
  options?: { profile?: "nextgen" },
): void {
  assert.throws(() => encodeMessage(message as RSerPoolMessage, options), (e) => {
    assert.ok(e instanceof EncodeError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.path, path, e.message);
    return true;
  });
}

Deno.test("EncodeError names the offending field by its full path", () => {
  encodeFails(
    { type: "Deregistration", poolHandle: handle, poolElementId: 1n },
    "bad-value",
    "poolElementId",
  );
  encodeFails(
    { type: "Deregistration", poolHandle: handle, poolElementId: 1 },
    "bad-value",
    "poolElementId",
    {
      profile: "nextgen",
    },
  );
  encodeFails(
    { type: "Deregistration", poolHandle: new Uint8Array(), poolElementId: 1 },
    "bad-value",
    "poolHandle",
  );
  encodeFails({ type: "Frobnicate" }, "bad-value", "type");
  encodeFails(null, "bad-value", "");
  encodeFails(
    {
      type: "Registration",
      poolHandle: handle,
      poolElement: {
        ...element,
        userTransport: { ...element.userTransport, addresses: ["10.0.0.1", "nope"] },
      },
    },
    "bad-value",
    "poolElement.userTransport.addresses[1]",
  );
  encodeFails(
    {
      type: "Registration",
      poolHandle: handle,
      poolElement: { ...element, policy: { type: "LeastUsed", load: -1 } },
    },
    "bad-value",
    "poolElement.policy.load",
  );
  encodeFails(
    {
      type: "Registration",
      poolHandle: handle,
      poolElement: {
        ...element,
        userTransport: {
          type: "TCP",
          port: 80,
          transportUse: 0,
          addresses: ["10.0.0.1", "10.0.0.2"],
        },
      },
    },
    "bad-value",
    "poolElement.userTransport.addresses",
  );
  const table: HandleTableResponse = {
    type: "HandleTableResponse",
    reject: false,
    moreToSend: false,
    sendingRegistrarId: 1,
    receivingRegistrarId: 2,
    pools: [
      { poolHandle: handle, poolElements: [element] },
      {
        poolHandle: handle,
        poolElements: [element, element, { ...element, registrationLife: 2 ** 32 }],
      },
    ],
  };
  encodeFails(table, "bad-value", "pools[1].poolElements[2].registrationLife");
  encodeFails(
    { ...table, pools: [{ poolHandle: handle, poolElements: [] }] },
    "bad-value",
    "pools[0].poolElements",
  );
  encodeFails(
    {
      type: "AsapError",
      operationError: [{ code: 1, info: new Uint8Array() }, {
        code: 0x10000,
        info: new Uint8Array(),
      }],
    },
    "bad-value",
    "operationError[1].code",
  );
  encodeFails(
    {
      type: "ServerAnnounce",
      registrarId: 1,
      transports: [element.userTransport, { type: "QUIC", port: 1, addresses: [] }],
    },
    "bad-value",
    "transports[1].type",
  );
});

Deno.test("messages over 65535 bytes are refused with too-long", () => {
  encodeFails({ type: "Cookie", cookie: new Uint8Array(65535 - 8 + 1) }, "too-long", "cookie");
  assert.equal(encodeAsap({ type: "Cookie", cookie: new Uint8Array(65535 - 11) }).length, 65532);
  // Each of these Pool Elements takes 44 bytes after the 16 bytes of header and Pool Handle.
  const elementBytes =
    encodeMessage({ type: "BusinessCard", poolHandle: handle, poolElements: [element] }).length -
    16;
  assert.equal(elementBytes, 44);
  const fitting = Math.floor((65535 - 16) / elementBytes);
  const many = Array.from({ length: fitting + 1 }, () => element);
  encodeFails(
    { type: "HandleResolutionResponse", poolHandle: handle, poolElements: many },
    "too-long",
    `poolElements[${fitting}]`,
  );
  const full = encodeMessage({
    type: "HandleResolutionResponse",
    poolHandle: handle,
    poolElements: many.slice(1),
  });
  assert.equal(full.length, 16 + fitting * elementBytes);
});

Deno.test("encodeInto writes at the offset and refuses buffers that are too small", () => {
  const m: AsapMessage = { type: "HandleResolution", poolHandle: handle, items: 3 };
  const expected = encodeAsap(m);
  const target = new Uint8Array(100).fill(0xee);
  assert.equal(encodeInto(m, target, 10), expected.length);
  assert.deepEqual(target.subarray(10, 10 + expected.length), expected);
  assert.equal(target[9], 0xee);
  assert.equal(target[10 + expected.length], 0xee);
  assert.throws(
    () => encodeInto(m, new Uint8Array(expected.length - 1)),
    (e) => e instanceof EncodeError && e.code === "too-long",
  );
  assert.throws(
    () => encodeInto(m, target, 101),
    (e) => e instanceof EncodeError && e.code === "bad-value",
  );
  assert.equal(encodedLength(m), expected.length);
});

Deno.test("encoded results stay intact while later messages are encoded (byte pool)", () => {
  const any = fc.oneof(
    asapMessage({ rsplibExtensions: true }),
    enrpMessage({ rsplibExtensions: true }),
  );
  fc.assert(
    fc.property(fc.array(any, { minLength: 1, maxLength: 200 }), (messages) => {
      // Enough messages to cross several slabs, including large ones.
      const results = messages.map((m) => [m, encodeMessage(m)] as const);
      for (const [m, bytes] of results) {
        assert.deepStrictEqual(decodeMessage(ppidOf(m), bytes, { lenient: true }), m);
        assert.equal((bytes[2] << 8) | bytes[3], bytes.length);
      }
    }),
    { numRuns: 60 },
  );
});

Deno.test("an encode running inside another (through a getter) does not corrupt either", () => {
  const inner: AsapMessage = { type: "Cookie", cookie: new Uint8Array([1, 2, 3, 4]) };
  let innerBytes: Uint8Array | undefined;
  const outer = {
    type: "HandleResolution",
    get poolHandle() {
      innerBytes = encodeAsap(inner);
      return handle;
    },
  } as unknown as AsapMessage;
  const outerBytes = encodeAsap(outer);
  assert.deepEqual(decodeMessage(11, outerBytes), { type: "HandleResolution", poolHandle: handle });
  assert.deepEqual(decodeMessage(11, innerBytes!), inner);
});

Deno.test("a large message that outgrows the slab is re-encoded correctly", () => {
  const small: EnrpMessage = {
    type: "ListRequest",
    sendingRegistrarId: 1,
    receivingRegistrarId: 2,
  };
  const big: AsapMessage = { type: "Cookie", cookie: new Uint8Array(900).fill(7) };
  for (let i = 0; i < 100; i++) {
    const a = encodeEnrp(small);
    const b = encodeAsap(big);
    assert.equal(b.length, 908);
    assert.deepEqual(decodeMessage(11, b), big);
    assert.deepEqual(decodeMessage(12, a), small);
  }
});
