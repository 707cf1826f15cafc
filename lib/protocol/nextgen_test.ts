/** The next-generation profile as docs/nextgen.md describes it. */
import assert from "node:assert/strict";
import { DecodeError } from "../errors.ts";
import { toHex } from "../wire/hex.ts";
import { decodeMessage, encodeMessage, ppidOf } from "./codec.ts";
import { Ppid } from "./constants.ts";
import type { RSerPoolMessage } from "./types.ts";

const handle = new TextEncoder().encode("EchoPool");

Deno.test("the worked example of docs/nextgen.md", () => {
  const m: RSerPoolMessage = { type: "Deregistration", poolHandle: handle, poolElementId: 7n };
  const bytes = encodeMessage(m, { profile: "nextgen" });
  assert.equal(toHex(bytes), "0200001c" + "0009000c4563686f506f6f6c" + "500e000c0000000000000007");
  assert.equal(ppidOf(m, "nextgen"), 0x52534e41);
  assert.deepEqual(decodeMessage(Ppid.AsapNextGen, bytes), m);
});

Deno.test("message sizes of the next-generation ENRP header", () => {
  const ids = { sendingRegistrarId: 1n, receivingRegistrarId: 2n };
  assert.equal(encodeMessage({ type: "ListRequest", ...ids }, { profile: "nextgen" }).length, 20);
  assert.equal(
    encodeMessage({ type: "InitTakeover", ...ids, targetRegistrarId: 3n }, { profile: "nextgen" })
      .length,
    28,
  );
  const presence = encodeMessage(
    { type: "Presence", replyRequired: false, ...ids, checksum: 0xdeadbeef },
    { profile: "nextgen" },
  );
  assert.equal(
    toHex(presence),
    "0100001c" + "0000000000000001" + "0000000000000002" + "500f0008deadbeef",
  );
});

Deno.test("an RFC decoder never accepts a next-generation message", () => {
  const messages: RSerPoolMessage[] = [
    { type: "Deregistration", poolHandle: handle, poolElementId: 7n },
    {
      type: "Registration",
      poolHandle: handle,
      poolElement: {
        identifier: 1n,
        homeRegistrarId: 0n,
        registrationLife: 1000,
        userTransport: { type: "TCP", port: 7, transportUse: 0, addresses: ["127.0.0.1"] },
        policy: { type: "RoundRobin" },
      },
    },
    {
      type: "Presence",
      replyRequired: false,
      sendingRegistrarId: 1n,
      receivingRegistrarId: 0n,
      checksum: 0,
    },
    {
      type: "ListResponse",
      reject: false,
      sendingRegistrarId: 1n,
      receivingRegistrarId: 0n,
      servers: [{
        registrarId: 5n,
        transport: { type: "TCP", port: 9911, transportUse: 0, addresses: ["::1"] },
      }],
    },
  ];
  for (const m of messages) {
    const bytes = encodeMessage(m, { profile: "nextgen" });
    const rfcPpid = ppidOf(m, "rfc");
    for (const lenient of [false, true]) {
      assert.throws(
        () => decodeMessage(rfcPpid, bytes, { lenient }),
        (e) => e instanceof DecodeError,
        m.type,
      );
    }
  }
});
