import assert from "node:assert/strict";
import type { TransportError } from "../../errors.ts";
import type { ConnectionHandlers, MessageConnection } from "../types.ts";
import { SctpUdpTransport } from "./udp.ts";

interface Inbox {
  messages: { ppid: number; data: Uint8Array }[];
  closed: Promise<TransportError | undefined>;
  handlers: ConnectionHandlers;
}

function inbox(): Inbox {
  const messages: { ppid: number; data: Uint8Array }[] = [];
  let done!: (e: TransportError | undefined) => void;
  const closed = new Promise<TransportError | undefined>((r) => done = r);
  return {
    messages,
    closed,
    handlers: { message: (ppid, data) => messages.push({ ppid, data }), closed: (e) => done(e) },
  };
}

async function until(what: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Two transports on loopback, each with its own UDP port; the client is told the server's. */
async function pair(settings = {}) {
  const server = await SctpUdpTransport.open({ udpPort: 0, ...settings });
  const client = await SctpUdpTransport.open({
    udpPort: 0,
    remoteUdpPort: server.udpAddress.port,
    ...settings,
  });
  return {
    server,
    client,
    [Symbol.asyncDispose]: async () => {
      await Promise.all([server.close(), client.close()]);
    },
  };
}

Deno.test("sctp/udp: messages both ways over loopback, with PPIDs, in order, large ones too", async () => {
  await using p = await pair();
  const accepted: { c: MessageConnection; box: Inbox }[] = [];
  const listener = await p.server.listen({ port: 3863, framing: "message", ppid: 11 }, (c) => {
    const box = inbox();
    accepted.push({ c, box });
    return box.handlers;
  });
  assert.equal(listener.address.port, 3863);
  const mine = inbox();
  const c = await p.client.connect(
    { addresses: ["127.0.0.1"], port: 3863, framing: "message", ppid: 11 },
    mine.handlers,
  );
  assert.equal(c.remote.transport, "SCTP");
  const big = new Uint8Array(200_000).map((_, i) => (i * 7) % 256);
  for (let i = 0; i < 500; i++) c.send(11, new Uint8Array([i >> 8, i & 0xff, 1, 2, 3]));
  c.send(12, big);
  await until(() => accepted.length === 1 && accepted[0].box.messages.length === 501);
  const got = accepted[0].box.messages;
  for (let i = 0; i < 500; i++) {
    assert.equal(got[i].ppid, 11);
    assert.equal((got[i].data[0] << 8) | got[i].data[1], i);
  }
  assert.equal(got[500].ppid, 12);
  assert.deepEqual(got[500].data, big);
  accepted[0].c.send(11, new Uint8Array([9, 9]));
  await until(() => mine.messages.length === 1);
  assert.deepEqual([...mine.messages[0].data], [9, 9]);
  assert.equal(listener.connections, 1);
  // Graceful close: the peer sees a clean end.
  c.close();
  assert.equal(await accepted[0].box.closed, undefined);
  assert.equal(await mine.closed, undefined);
  assert.equal(listener.connections, 0);
});

Deno.test("sctp/udp: refused, aborted and unanswered associations fail with typed errors", async () => {
  await using p = await pair({ connectTimeout: 1500 });
  await p.server.listen({ port: 9901, framing: "message", ppid: 12 }, () => undefined);
  const refused = inbox();
  // Accepted then refused by the handler: the client sees an abort.
  const c = await p.client.connect(
    { addresses: ["127.0.0.1"], port: 9901, framing: "message" },
    refused.handlers,
  ).catch((e) => e);
  if (!(c instanceof Error)) {
    const error = await refused.closed;
    assert.equal(error?.name, "TransportError");
  }
  // Nobody on that SCTP port: ABORT, connect fails at once.
  const t0 = Date.now();
  await assert.rejects(
    p.client.connect(
      { addresses: ["127.0.0.1"], port: 4000, framing: "message" },
      inbox().handlers,
    ),
    (e: Error) => e.name === "TransportError" && /connect|no SCTP/.test(e.message),
  );
  assert.ok(Date.now() - t0 < 1000, "an ABORT, not a timeout");
  // Nobody on that UDP port: the handshake times out.
  const lonely = await SctpUdpTransport.open({ udpPort: 0, remoteUdpPort: 9, connectTimeout: 300 });
  try {
    await assert.rejects(
      lonely.connect(
        { addresses: ["127.0.0.1"], port: 3863, framing: "message" },
        inbox().handlers,
      ),
      (e: TransportError) => e.code === "connect-failed",
    );
  } finally {
    await lonely.close();
  }
});

Deno.test("sctp/udp: an abort reaches the peer as an error; a closed transport ends everything", async () => {
  await using p = await pair();
  const boxes: Inbox[] = [];
  await p.server.listen({ port: 3863, framing: "message" }, () => {
    const b = inbox();
    boxes.push(b);
    return b.handlers;
  });
  const one = inbox();
  const c1 = await p.client.connect(
    { addresses: ["127.0.0.1"], port: 3863, framing: "message" },
    one.handlers,
  );
  c1.send(11, new Uint8Array([1]));
  await until(() => boxes.length === 1 && boxes[0].messages.length === 1);
  c1.abort();
  assert.equal((await boxes[0].closed)?.code, "connection-failed");
  assert.equal(c1.open, false);
  assert.throws(() => c1.send(11, new Uint8Array([1])), (e: TransportError) => e.code === "closed");
  const two = inbox();
  await p.client.connect(
    { addresses: ["127.0.0.1"], port: 3863, framing: "message" },
    two.handlers,
  );
  await until(() => boxes.length === 2);
  await p.server.close();
  assert.ok((await two.closed) !== undefined, "the client learns of the abort");
});

Deno.test("sctp/udp: garbage datagrams are counted and ignored", async () => {
  await using p = await pair();
  const boxes: Inbox[] = [];
  await p.server.listen({ port: 3863, framing: "message" }, () => {
    const b = inbox();
    boxes.push(b);
    return b.handlers;
  });
  const c = await p.client.connect(
    { addresses: ["127.0.0.1"], port: 3863, framing: "message" },
    inbox().handlers,
  );
  const { createSocket } = await import("node:dgram");
  const s = createSocket("udp4");
  for (let i = 0; i < 50; i++) {
    const junk = new Uint8Array(1 + (i * 37) % 300).map((_, j) => (i * 31 + j * 17) & 0xff);
    await new Promise((r) => s.send(junk, p.server.udpAddress.port, "127.0.0.1", r));
  }
  s.close();
  c.send(11, new Uint8Array([42]));
  await until(() => boxes[0]?.messages.length === 1);
  assert.ok(
    p.server.endpoint.stats.malformed >= 45,
    `${p.server.endpoint.stats.malformed} malformed`,
  );
});
