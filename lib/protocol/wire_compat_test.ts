/**
 * Wire compatibility with RSPLIB 3.4.4: every ASAP and ENRP message of the
 * captures in conformance/testdata/rsplib-3.4.4 decodes and re-encodes to
 * the identical bytes, and decodes to what Wireshark showed.
 */
import assert from "node:assert/strict";
import { type CapturedMessage, decodeCapturedMessage, readCapture } from "../capture/mod.ts";
import { toHex } from "../wire/hex.ts";
import { handlespaceChecksum } from "./checksum.ts";
import { encodeMessage } from "./codec.ts";
import type { Identifier, RSerPoolMessage } from "./types.ts";

const DIR = new URL("../../conformance/testdata/rsplib-3.4.4/", import.meta.url);
const FILES = ["asap-basic.pcap", "enrp.pcap", "policies.pcap", "session.pcap", "udp-encap.pcap"];

interface Listed {
  file: string;
  frame: number;
  transport: string;
  ppid: number;
  protocol: string;
  type: number;
  malformed: boolean;
  hex: string;
}

const listed: Listed[] = (await Deno.readTextFile(new URL("messages.jsonl", DIR)))
  .trim().split("\n").map((line) => JSON.parse(line));

const captured = new Map<string, CapturedMessage[]>();
for (const file of FILES) {
  captured.set(file, [...readCapture(await Deno.readFile(new URL(file, DIR)))]);
}

function where(file: string, m: CapturedMessage): string {
  return `${file} frame ${m.frame} (PPID ${m.ppid}, ${toHex(m.bytes)})`;
}

Deno.test("the capture reader finds exactly the messages Wireshark lists", () => {
  assert.equal(listed.length, 1680);
  for (const file of FILES) {
    const expected = listed.filter((l) => l.file === file);
    const got = captured.get(file)!;
    assert.equal(got.length, expected.length, `${file}: message count`);
    got.forEach((m, i) => {
      const e = expected[i];
      const at = `${file} message ${i} (Wireshark frame ${e.frame})`;
      assert.equal(m.frame, e.frame, at);
      assert.equal(m.ppid, e.ppid, at);
      assert.equal(m.protocol, e.protocol, at);
      assert.equal(m.bytes[0], e.type, at);
      assert.equal(toHex(m.bytes), e.hex, at);
      assert.equal(m.transport === "sctp" ? "sctp" : "udp", e.transport, at);
    });
  }
});

Deno.test("every captured message decodes and re-encodes to the identical bytes", () => {
  let checked = 0;
  for (const file of FILES) {
    for (const m of captured.get(file)!) {
      let decoded: RSerPoolMessage;
      try {
        decoded = decodeCapturedMessage(m, { lenient: true });
      } catch (e) {
        throw new Error(`${where(file, m)} does not decode: ${e}`);
      }
      const again = toHex(encodeMessage(decoded));
      if (again !== toHex(m.bytes)) {
        throw new Error(`${where(file, m)} re-encodes differently:\n  ${again}`);
      }
      checked++;
    }
  }
  assert.equal(checked, 1680);
});

Deno.test("strict decoding accepts every captured message but RSPLIB's Keep-Alives", () => {
  const refused = new Map<string, number>();
  for (const file of FILES) {
    for (const m of captured.get(file)!) {
      try {
        decodeCapturedMessage(m);
      } catch (e) {
        const key = `${m.protocol} ${m.bytes[0]} ${(e as { code: string }).code}`;
        refused.set(key, (refused.get(key) ?? 0) + 1);
      }
    }
  }
  // ASAP_ENDPOINT_KEEP_ALIVE (7) with RSPLIB's extra PE Identifier, and nothing else.
  assert.deepEqual([...refused], [["asap 7 unexpected-parameter", 226]]);
});

function firstDecoded(file: string, frame: number): RSerPoolMessage {
  const m = captured.get(file)!.find((c) => c.frame === frame);
  assert.ok(m, `${file} frame ${frame}`);
  return decodeCapturedMessage(m, { lenient: true });
}

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("decoded fields agree with Wireshark's view of the captures", () => {
  // asap-basic.pcap frame 8: rspserver -echo registers SetA.Echo, RoundRobin, SCTP 10.77.0.1:20001.
  assert.deepEqual(firstDecoded("asap-basic.pcap", 8), {
    type: "Registration",
    poolHandle: text("SetA.Echo"),
    poolElement: {
      identifier: 0xdf9a113e,
      homeRegistrarId: 0,
      registrationLife: 24000,
      userTransport: {
        type: "SCTP",
        port: 20001,
        transportUse: 1,
        addresses: ["10.77.0.1"],
      },
      policy: { type: "RoundRobin" },
    },
  });
  // policies.pcap frame 148: a Random PE refused by a RoundRobin pool, cause 5 without information.
  assert.deepEqual(firstDecoded("policies.pcap", 148), {
    type: "RegistrationResponse",
    reject: true,
    poolHandle: text("SetA.Pol.RoundRobin"),
    poolElementId:
      (firstDecoded("policies.pcap", 148) as { poolElementId: Identifier }).poolElementId,
    operationError: [{ code: 5, info: new Uint8Array() }],
  });
  // Every captured Handle Resolution asks for one item with the Handle Resolution Option.
  const resolutions = FILES.flatMap((f) =>
    captured.get(f)!.filter((c) => c.protocol === "asap" && c.bytes[0] === 5)
  ).map((c) => decodeCapturedMessage(c));
  assert.equal(resolutions.length, 58);
  for (const r of resolutions) assert.equal(r.type === "HandleResolution" && r.items, 1);
  // Policy values on the wire: LeastUsedDegradation 0.05 and LeastUsedDPF 0.1 as 32-bit fractions.
  const policies = captured.get("policies.pcap")!
    .filter((c) => c.protocol === "asap" && c.bytes[0] === 1)
    .map((c) => decodeCapturedMessage(c))
    .map((m) => m.type === "Registration" ? m.poolElement.policy : undefined);
  assert.ok(
    policies.some((p) => p?.type === "LeastUsedDegradation" && p.loadDegradation === 0x0ccccccd),
  );
  assert.ok(
    policies.some((p) =>
      p?.type === "LeastUsedDPF" && p.loadDpf === 0x1999999a && p.distance === 0
    ),
  );
  assert.ok(policies.some((p) => p?.type === "WeightedRandomDPF" && p.weight === 3));
  // enrp.pcap: the Home flag on Keep-Alives after the takeover, Presences with R=1, a W=1 request.
  const enrp = captured.get("enrp.pcap")!.map((c) => decodeCapturedMessage(c, { lenient: true }));
  assert.ok(enrp.some((m) => m.type === "EndpointKeepAlive" && m.home));
  const listedReplyRequired =
    listed.filter((l) =>
      l.file === "enrp.pcap" && l.protocol === "enrp" && l.type === 1 &&
      (parseInt(l.hex.slice(2, 4), 16) & 1)
    ).length;
  assert.equal(listedReplyRequired, 4);
  assert.equal(
    enrp.filter((m) => m.type === "Presence" && m.replyRequired).length,
    listedReplyRequired,
  );
  assert.equal(enrp.filter((m) => m.type === "HandleTableRequest" && m.ownChildrenOnly).length, 1);
  assert.equal(enrp.filter((m) => m.type === "InitTakeover").length, 1);
  // RSPLIB lists statically configured peers it has not heard from with Server ID 0.
  assert.ok(
    enrp.some((m) => m.type === "ListResponse" && m.servers.some((s) => s.registrarId === 0)),
  );
});

Deno.test("every Presence checksum in enrp.pcap matches the sender's ownership seen in the trace", () => {
  // Ownership follows Handle Updates, Handle Table Responses and RSPLIB's Keep-Alives
  // (which name the PE and the sending, i.e. home, registrar).
  const owner = new Map<string, { handle: Uint8Array; id: number; owner: number }>();
  const key = (handle: Uint8Array, id: Identifier) => `${toHex(handle)}/${id}`;
  const own = (handle: Uint8Array, id: Identifier, by: Identifier) =>
    owner.set(key(handle, id), { handle, id: id as number, owner: by as number });
  let checked = 0;
  for (const c of captured.get("enrp.pcap")!) {
    const m = decodeCapturedMessage(c, { lenient: true });
    if (m.type === "EndpointKeepAlive" && m.poolElementId !== undefined) {
      own(m.poolHandle, m.poolElementId, m.registrarId);
    } else if (m.type === "HandleUpdate") {
      if (m.updateAction === 0) {
        own(m.poolHandle, m.poolElement.identifier, m.poolElement.homeRegistrarId);
      } else owner.delete(key(m.poolHandle, m.poolElement.identifier));
    } else if (m.type === "HandleTableResponse") {
      for (const pool of m.pools) {
        for (const pe of pool.poolElements) own(pool.poolHandle, pe.identifier, pe.homeRegistrarId);
      }
    } else if (m.type === "Presence") {
      const owned = [...owner.values()].filter((o) => o.owner === m.sendingRegistrarId);
      const expected = handlespaceChecksum(owned.map((o) => [o.handle, o.id] as const));
      assert.equal(
        m.checksum,
        expected,
        `frame ${c.frame}: PR 0x${m.sendingRegistrarId.toString(16)}`,
      );
      checked++;
    }
  }
  assert.equal(checked, 196);
});
