/**
 * A running registrar fed bad input over real TCP connections: it answers
 * with Operation Errors or closes the offending connection, keeps serving
 * everyone else, and its state stays bounded.
 */

import assert from "node:assert/strict";
import net from "node:net";
import fc from "fast-check";
import { decodeAsap, encodeAsap } from "../protocol/codec.ts";
import { ErrorCauseCode } from "../protocol/constants.ts";
import type { AsapMessage } from "../protocol/types.ts";
import { asapMessage } from "../testing/arbitraries.ts";
import { MessageDeframer } from "../transport/framing.ts";
import { startRegistrar } from "./registrar.ts";

/** A raw client speaking ASAP over TCP by hand. */
class RawClient {
  readonly socket: net.Socket;
  readonly received: AsapMessage[] = [];
  closed = false;
  private readonly deframer = new MessageDeframer(11);

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      for (const f of this.deframer.push(new Uint8Array(chunk))) {
        this.received.push(decodeAsap(f.payload, { lenient: true }));
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => this.closed = true);
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => resolve(new RawClient(s)));
      s.once("error", reject);
    });
  }

  send(bytes: Uint8Array | AsapMessage): void {
    this.socket.write(bytes instanceof Uint8Array ? bytes : encodeAsap(bytes));
  }

  async until(what: () => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!what()) {
      if (Date.now() > deadline) throw new Error("timed out");
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const handle = new TextEncoder().encode("echo");
const registration = (id: number): AsapMessage => ({
  type: "Registration",
  poolHandle: handle,
  poolElement: {
    identifier: id,
    homeRegistrarId: 0,
    registrationLife: 60_000,
    userTransport: { type: "TCP", port: 7000, transportUse: 0, addresses: ["127.0.0.1"] },
    policy: { type: "RoundRobin" },
  },
});

async function registrar(stream = {}) {
  return await startRegistrar({ asap: "127.0.0.1:0", enrp: "127.0.0.1:0", stream });
}

/** A well-behaved user resolves the pool: proof that the registrar still serves. */
async function stillServes(port: number, expected: number): Promise<void> {
  const c = await RawClient.connect(port);
  c.send({ type: "HandleResolution", poolHandle: handle });
  await c.until(() => c.received.length === 1);
  const answer = c.received[0];
  assert.equal(answer.type, "HandleResolutionResponse");
  if (answer.type === "HandleResolutionResponse") {
    assert.equal(answer.poolElements.length, Math.min(expected, 3));
  }
  c.socket.destroy();
}

Deno.test("bad input: garbage gets an Operation Error and the connection keeps working", async () => {
  const pr = await registrar();
  const port = pr.asap.port;
  const c = await RawClient.connect(port);
  c.send(registration(1));
  // Unknown message type 0x7f, well framed: Unrecognized Message, with the message.
  const unknown = new Uint8Array([0x7f, 0, 0, 8, 1, 2, 3, 4]);
  c.send(unknown);
  // A Registration whose Pool Handle parameter overruns the message: Invalid Values.
  c.send(new Uint8Array([0x01, 0, 0, 12, 0x00, 0x09, 0x00, 0x40, 0x41, 0x42, 0x43, 0x44]));
  // Random bytes with a plausible header.
  c.send(new Uint8Array([0x03, 0x00, 0x00, 0x10, ...crypto.getRandomValues(new Uint8Array(12))]));
  await c.until(() => c.received.length >= 4);
  const [response, ...errors] = c.received;
  assert.equal(response.type, "RegistrationResponse");
  assert.ok(errors.every((e) => e.type === "AsapError" || e.type === "HandleResolutionResponse"));
  const first = errors[0];
  assert.equal(first.type, "AsapError");
  if (first.type === "AsapError") {
    assert.equal(first.operationError[0].code, ErrorCauseCode.UnrecognizedMessage);
    assert.deepEqual([...first.operationError[0].info], [...unknown]);
  }
  const second = errors[1];
  if (second.type === "AsapError") {
    assert.equal(second.operationError[0].code, ErrorCauseCode.InvalidValues);
  }
  assert.equal(c.closed, false, "malformed messages do not cost the connection");
  assert.equal(pr.status().handlespace.elements, 1, "the registration survived");
  await stillServes(port, 1);
  assert.ok(pr.status().counters.protocolErrors >= 2);
  c.socket.destroy();
  await pr.stop();
});

Deno.test("bad input: an impossible Length closes that connection, no one else's", async () => {
  const pr = await registrar();
  const port = pr.asap.port;
  const element = await RawClient.connect(port);
  element.send(registration(1));
  await element.until(() => element.received.length === 1);
  for (const header of [[0x01, 0, 0, 0], [0x01, 0, 0, 3]]) {
    const bad = await RawClient.connect(port);
    bad.send(new Uint8Array(header));
    await bad.until(() => bad.closed);
  }
  await stillServes(port, 1);
  assert.equal(element.closed, false);
  assert.equal(pr.status().handlespace.elements, 1);
  assert.ok(pr.status().counters.connectionErrors >= 2);
  element.socket.destroy();
  await pr.stop();
});

Deno.test("bad input: stalled frames, silent and half-closed connections are let go", async () => {
  const pr = await registrar({ frameTimeout: 100, idleTimeout: 300 });
  const port = pr.asap.port;
  const stalled = await RawClient.connect(port);
  stalled.send(new Uint8Array([0x01, 0x00, 0x01, 0x00, 0xde, 0xad])); // 6 of 256 bytes
  const silent = await RawClient.connect(port);
  const halfClosed = await RawClient.connect(port);
  halfClosed.socket.end(); // FIN: nothing more will come
  await stalled.until(() => stalled.closed, 2000);
  await halfClosed.until(() => halfClosed.closed, 2000);
  await silent.until(() => silent.closed, 2000);
  await stillServes(port, 0);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(pr.status().connections, 0, "nothing left behind");
  await pr.stop();
});

Deno.test("bad input: a registration flood from one client is capped; others still register", async () => {
  const pr = await startRegistrar({
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    handlespace: { limits: { maxElementsPerConnection: 100 } },
  });
  const port = pr.asap.port;
  const flooder = await RawClient.connect(port);
  for (let id = 1; id <= 2000; id++) flooder.send(registration(id));
  await flooder.until(() => flooder.received.length === 2000, 10_000);
  const refused = flooder.received.filter((m) => m.type === "RegistrationResponse" && m.reject);
  assert.equal(refused.length, 1900);
  const cause = refused[0].type === "RegistrationResponse"
    ? refused[0].operationError?.[0].code
    : -1;
  assert.equal(cause, ErrorCauseCode.LackOfResources);
  assert.equal(pr.status().handlespace.elements, 100);
  const other = await RawClient.connect(port);
  other.send(registration(99_999));
  await other.until(() => other.received.length === 1);
  assert.equal(
    other.received[0].type === "RegistrationResponse" && other.received[0].reject,
    false,
  );
  // Its connection gone, the flooder's elements go with it.
  flooder.socket.destroy();
  await other.until(() => pr.status().handlespace.elements === 1);
  other.socket.destroy();
  await pr.stop();
});

Deno.test("bad input: a client that asks without reading is cut off before its answers pile up", async () => {
  const pr = await registrar({ maxBufferedBytes: 256 * 1024 });
  const port = pr.asap.port;
  const element = await RawClient.connect(port);
  for (let id = 1; id <= 50; id++) element.send(registration(id));
  await element.until(() => element.received.length === 50);
  const greedy = await RawClient.connect(port);
  greedy.socket.pause(); // never reads
  // Each request is answered with 50 elements (~2 KB): far more than the client reads.
  const request = encodeAsap({ type: "HandleResolution", poolHandle: handle, items: 50 });
  let sent = 0;
  while (!greedy.closed && sent < 200_000) {
    const batch = new Uint8Array(request.length * 500);
    for (let i = 0; i < 500; i++) batch.set(request, i * request.length);
    await new Promise<void>((r) => greedy.socket.write(batch, () => r()));
    sent += 500;
    await new Promise((r) => setTimeout(r, 1));
  }
  await greedy.until(() => greedy.closed, 10_000);
  assert.ok(sent < 200_000, "the greedy client was cut off");
  assert.ok(pr.status().counters.connectionErrors >= 1);
  await stillServes(port, 50);
  assert.equal(element.closed, false);
  element.socket.destroy();
  await pr.stop();
});

Deno.test("bad input: connections beyond the limit are refused at once", async () => {
  const pr = await registrar({ maxConnections: 10 });
  const port = pr.asap.port;
  const clients = await Promise.all([...Array(10)].map(() => RawClient.connect(port)));
  const extra = await RawClient.connect(port);
  await extra.until(() => extra.closed);
  assert.ok(clients.every((c) => !c.closed));
  clients[0].socket.destroy();
  await clients[0].until(() => clients[0].closed);
  await new Promise((r) => setTimeout(r, 50));
  await stillServes(port, 0);
  for (const c of clients) c.socket.destroy();
  await pr.stop();
});

Deno.test("bad input: random byte streams never take the registrar down", async () => {
  const pr = await registrar({ frameTimeout: 50 });
  const port = pr.asap.port;
  const element = await RawClient.connect(port);
  element.send(registration(1));
  await element.until(() => element.received.length === 1);
  // Valid messages of every type, truncated or corrupted, plus noise with plausible headers.
  const mangled = fc.tuple(asapMessage(), fc.nat(), fc.uint8Array({ maxLength: 8 })).map(
    ([m, cut, noise]) => {
      const bytes = encodeAsap(m);
      const keep = bytes.subarray(0, 4 + (cut % Math.max(1, bytes.length - 3)));
      const out = new Uint8Array(keep.length + noise.length);
      out.set(keep);
      out.set(noise, keep.length);
      return out;
    },
  );
  const chunk = fc.oneof(mangled, fc.uint8Array({ minLength: 1, maxLength: 64 }));
  await fc.assert(
    fc.asyncProperty(fc.array(chunk, { minLength: 1, maxLength: 8 }), async (chunks) => {
      const c = await RawClient.connect(port);
      for (const bytes of chunks) c.send(bytes);
      await new Promise((r) => setTimeout(r, 5));
      c.socket.destroy();
    }),
    { numRuns: 150 },
  );
  await stillServes(port, 1);
  assert.equal(element.closed, false);
  assert.equal(pr.status().handlespace.elements >= 1, true);
  element.socket.destroy();
  await pr.stop();
});
