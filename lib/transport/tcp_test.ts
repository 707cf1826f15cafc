import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import net from "node:net";
import { TransportError } from "../errors.ts";
import { encodeMessage } from "../protocol/codec.ts";
import { sessionFrameHeader } from "./framing.ts";
import { StreamTransport, type TlsSettings } from "./tcp.ts";
import type { ConnectionHandlers, MessageConnection } from "./types.ts";

const IS_DENO = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const testdata = (name: string) =>
  readFileSync(new URL(`./testdata/${name}`, import.meta.url), "utf8");

/** Handlers that record what a connection reports. */
function recorder() {
  const messages: { ppid: number; payload: Uint8Array }[] = [];
  let closedWith: { error: TransportError | undefined } | undefined;
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  const handlers: ConnectionHandlers = {
    message: (ppid, payload) => {
      messages.push({ ppid, payload: payload.slice() });
      wake();
    },
    closed: (error) => {
      assert.equal(closedWith, undefined, "closed reported twice");
      closedWith = { error };
      wake();
    },
  };
  const until = async (what: () => boolean, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!what()) {
      if (Date.now() > deadline) throw new Error("timed out waiting");
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 20);
      });
    }
  };
  return {
    handlers,
    messages,
    get closed() {
      return closedWith;
    },
    until,
  };
}

const announce = (id: number) =>
  encodeMessage({ type: "ServerAnnounce", registrarId: id, transports: [] });

/** A listener whose accepted connections are recorded. */
async function server(transport: StreamTransport, framing: "message" | "session" | "raw") {
  const accepted: { connection: MessageConnection; rec: ReturnType<typeof recorder> }[] = [];
  const listener = await transport.listen({ port: 0, framing, ppid: 11 }, (connection) => {
    const rec = recorder();
    accepted.push({ connection, rec });
    return rec.handlers;
  });
  return { listener, accepted };
}

/** A plain socket to the listener, for feeding it arbitrary bytes. */
function rawSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => resolve(s));
    s.on("error", reject);
  });
}

function closedPromise(socket: net.Socket): Promise<void> {
  return new Promise((r) => socket.once("close", () => r()));
}

Deno.test("tcp: messages both ways, writes of one turn coalesced, endpoints known", async () => {
  const transport = new StreamTransport();
  const { listener, accepted } = await server(transport, "message");
  const client = recorder();
  const c = await transport.connect(
    { addresses: ["127.0.0.1"], port: listener.address.port, framing: "message", ppid: 11 },
    client.handlers,
  );
  for (let i = 1; i <= 50; i++) c.send(11, announce(i));
  await accepted[0]?.rec.until(() => accepted[0].rec.messages.length === 50);
  const serverSide = accepted[0];
  assert.deepEqual(
    serverSide.rec.messages.map((m) => m.payload),
    [...Array(50)].map((_, i) => announce(i + 1)),
  );
  assert.ok(serverSide.rec.messages.every((m) => m.ppid === 11));
  assert.equal(serverSide.connection.remote.address, "127.0.0.1");
  assert.equal(serverSide.connection.remote.port, c.local.port);
  assert.equal(c.remote.port, listener.address.port);
  assert.equal(c.remote.transport, "TCP");
  serverSide.connection.send(11, announce(99));
  await client.until(() => client.messages.length === 1);
  assert.deepEqual(client.messages[0].payload, announce(99));
  assert.equal(listener.connections, 1);
  c.close();
  await serverSide.rec.until(() => serverSide.rec.closed !== undefined);
  assert.equal(serverSide.rec.closed?.error, undefined, "a graceful close is no error");
  await client.until(() => client.closed !== undefined);
  assert.throws(
    () => c.send(11, announce(1)),
    (e) => e instanceof TransportError && e.code === "closed",
  );
  await listener.close();
});

Deno.test("tcp: a message arriving byte by byte is delivered once, whole", async () => {
  const transport = new StreamTransport();
  const { listener, accepted } = await server(transport, "message");
  const s = await rawSocket(listener.address.port);
  const bytes = announce(0x01020304);
  for (const b of bytes) {
    s.write(new Uint8Array([b]));
    await new Promise((r) => setTimeout(r, 2));
  }
  await accepted[0].rec.until(() => accepted[0].rec.messages.length === 1);
  assert.deepEqual(accepted[0].rec.messages[0].payload, bytes);
  s.destroy();
  await listener.close();
});

Deno.test("tcp: bad or oversized Length closes that connection only", async () => {
  const transport = new StreamTransport({ maxMessageSize: 1000 });
  const { listener, accepted } = await server(transport, "message");
  const good = await rawSocket(listener.address.port);
  const tooShort = await rawSocket(listener.address.port);
  const tooLong = await rawSocket(listener.address.port);
  const tooShortClosed = closedPromise(tooShort);
  const tooLongClosed = closedPromise(tooLong);
  tooShort.on("error", () => {});
  tooLong.on("error", () => {});
  tooShort.write(new Uint8Array([0x0b, 0, 0, 2, 0xde, 0xad]));
  tooLong.write(new Uint8Array([0x0b, 0, 0xff, 0xff])); // announces 65535 bytes; none follow
  await tooShortClosed;
  await tooLongClosed;
  const codes = accepted.slice(1).map((a) => a.rec.closed?.error?.code);
  assert.deepEqual(codes, ["bad-frame", "bad-frame"]);
  good.write(announce(5));
  await accepted[0].rec.until(() => accepted[0].rec.messages.length === 1);
  assert.equal(accepted[0].rec.closed, undefined);
  good.destroy();
  await listener.close();
});

Deno.test("tcp: a frame that never completes is aborted as stalled; idle connections closed", async () => {
  const transport = new StreamTransport({ frameTimeout: 100, idleTimeout: 300 });
  const { listener, accepted } = await server(transport, "message");
  const stalled = await rawSocket(listener.address.port);
  stalled.on("error", () => {});
  const stalledClosed = closedPromise(stalled);
  stalled.write(new Uint8Array([0x0b, 0, 0, 40, 1, 2])); // 6 of 40 bytes
  const idle = await rawSocket(listener.address.port);
  const idleClosed = closedPromise(idle);
  const t0 = Date.now();
  await stalledClosed;
  assert.equal(accepted[0].rec.closed?.error?.code, "stalled");
  await idleClosed;
  assert.equal(accepted[1].rec.closed?.error?.code, "idle");
  assert.ok(Date.now() - t0 >= 250, "idle timeout not before its time");
  await listener.close();
});

Deno.test("tcp: a peer that does not read is aborted beyond the buffer limit", async () => {
  const transport = new StreamTransport({ maxBufferedBytes: 256 * 1024 });
  const { listener, accepted } = await server(transport, "session");
  const reader = await rawSocket(listener.address.port);
  reader.on("error", () => {});
  reader.pause(); // never reads
  await accepted.length === 0 ? new Promise((r) => setTimeout(r, 50)) : undefined;
  const { connection, rec } = accepted[0];
  const chunk = new Uint8Array(64 * 1024);
  let sent = 0;
  while (connection.open && sent < 1 << 30) {
    connection.send(0, chunk);
    sent += chunk.length;
    if (sent % (4 << 20) === 0) await new Promise((r) => setTimeout(r, 1));
  }
  await rec.until(() => rec.closed !== undefined);
  assert.equal(rec.closed?.error?.code, "congested");
  assert.ok(sent < 64 << 20, `aborted only after ${sent} bytes`);
  reader.destroy();
  await listener.close();
});

Deno.test("tcp: connections beyond the limit are refused, the others served", async () => {
  const transport = new StreamTransport({ maxConnections: 2 });
  const { listener, accepted } = await server(transport, "message");
  const a = await rawSocket(listener.address.port);
  const b = await rawSocket(listener.address.port);
  await new Promise((r) => setTimeout(r, 50));
  const c = await rawSocket(listener.address.port);
  c.on("error", () => {});
  await closedPromise(c);
  assert.equal(accepted.length, 2);
  a.write(announce(1));
  await accepted[0].rec.until(() => accepted[0].rec.messages.length === 1);
  a.destroy();
  b.destroy();
  await listener.close();
});

Deno.test("tcp: connect tries the addresses in order and reports when none answers", async () => {
  const transport = new StreamTransport({ connectTimeout: 1000 });
  const { listener, accepted } = await server(transport, "message");
  // The listener is bound to 127.0.0.1 only: 127.0.0.2 refuses.
  const c = await transport.connect(
    { addresses: ["127.0.0.2", "127.0.0.1"], port: listener.address.port, framing: "message" },
    recorder().handlers,
  );
  assert.equal(c.remote.address, "127.0.0.1");
  c.close();
  await listener.close();
  await assert.rejects(
    transport.connect(
      { addresses: ["127.0.0.1"], port: listener.address.port, framing: "message" },
      recorder().handlers,
    ),
    (e) =>
      e instanceof TransportError && e.code === "connect-failed" && /127\.0\.0\.1/.test(e.message),
  );
  assert.equal(accepted.length, 1);
});

Deno.test("tcp: session frames keep their PPIDs; raw streams deliver bytes", async () => {
  const transport = new StreamTransport();
  const session = await server(transport, "session");
  const client = recorder();
  const c = await transport.connect(
    { addresses: ["127.0.0.1"], port: session.listener.address.port, framing: "session" },
    client.handlers,
  );
  c.send(11, announce(1));
  c.send(0x12345678, new Uint8Array([1, 2, 3]));
  c.send(0, new Uint8Array());
  const rec = () => session.accepted[0]?.rec;
  await new Promise((r) => setTimeout(r, 20));
  await rec().until(() => rec().messages.length === 3);
  assert.deepEqual(rec().messages.map((m) => [m.ppid, [...m.payload]]), [
    [11, [...announce(1)]],
    [0x12345678, [1, 2, 3]],
    [0, []],
  ]);
  // The header on the wire is exactly 8 bytes: PPID, length.
  const s = await rawSocket(session.listener.address.port);
  s.write(sessionFrameHeader(7, 2));
  s.write(new Uint8Array([9, 9]));
  await new Promise((r) => setTimeout(r, 20));
  const second = session.accepted[1].rec;
  await second.until(() => second.messages.length === 1);
  assert.deepEqual([second.messages[0].ppid, [...second.messages[0].payload]], [7, [9, 9]]);
  s.destroy();
  c.close();
  await session.listener.close();

  const raw = await server(transport, "raw");
  const r = await rawSocket(raw.listener.address.port);
  r.write("hello ");
  r.write("world");
  await new Promise((res) => setTimeout(res, 20));
  const got = raw.accepted[0].rec;
  await got.until(() => got.messages.reduce((n, m) => n + m.payload.length, 0) === 11);
  assert.equal(
    new TextDecoder().decode(Buffer.concat(got.messages.map((m) => m.payload))),
    "hello world",
  );
  assert.ok(got.messages.every((m) => m.ppid === 0));
  r.destroy();
  await raw.listener.close();
});

Deno.test("tls: server authenticated by its certificate; untrusted servers refused", async () => {
  const serverTls: TlsSettings = {
    cert: testdata("registrar.crt"),
    key: testdata("registrar.key"),
  };
  const transport = new StreamTransport({ tls: serverTls });
  const { listener, accepted } = await server(transport, "message");
  const client = new StreamTransport({ tls: { ca: testdata("ca.crt") } });
  const rec = recorder();
  const c = await client.connect(
    { addresses: ["127.0.0.1"], port: listener.address.port, framing: "message" },
    rec.handlers,
  );
  assert.equal(c.identity, "CN=registrar,O=rserpool tests");
  c.send(11, announce(3));
  await new Promise((r) => setTimeout(r, 20));
  await accepted[0].rec.until(() => accepted[0].rec.messages.length === 1);
  assert.deepEqual(accepted[0].rec.messages[0].payload, announce(3));
  c.close();
  const untrusting = new StreamTransport({ tls: { ca: testdata("mallory.crt") } });
  await assert.rejects(
    untrusting.connect(
      { addresses: ["127.0.0.1"], port: listener.address.port, framing: "message" },
      recorder().handlers,
    ),
    (e) => e instanceof TransportError && e.code === "connect-failed",
  );
  await listener.close();
});

Deno.test("tls: mutual authentication where the runtime supports it, a clear refusal elsewhere", async () => {
  const transport = new StreamTransport({
    tls: {
      cert: testdata("registrar.crt"),
      key: testdata("registrar.key"),
      ca: testdata("ca.crt"),
      requestClientCertificate: true,
    },
  });
  if (IS_DENO) {
    await assert.rejects(
      transport.listen({ port: 0, framing: "message" }, () => undefined),
      (e) => e instanceof TransportError && e.code === "unsupported" && /26825/.test(e.message),
    );
    return;
  }
  const { listener, accepted } = await server(transport, "message");
  const alpha = new StreamTransport({
    tls: { ca: testdata("ca.crt"), cert: testdata("pe-alpha.crt"), key: testdata("pe-alpha.key") },
  });
  const c = await alpha.connect(
    { addresses: ["127.0.0.1"], port: listener.address.port, framing: "message" },
    recorder().handlers,
  );
  c.send(11, announce(1));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(accepted[0].connection.identity, "CN=pe-alpha,O=rserpool tests");
  c.close();
  const mallory = new StreamTransport({
    tls: { ca: testdata("ca.crt"), cert: testdata("mallory.crt"), key: testdata("mallory.key") },
  });
  const m = recorder();
  try {
    const mc = await mallory.connect(
      { addresses: ["127.0.0.1"], port: listener.address.port, framing: "message" },
      m.handlers,
    );
    mc.send(11, announce(2));
    await m.until(() => m.closed !== undefined);
  } catch (e) {
    assert.ok(e instanceof TransportError);
  }
  assert.equal(accepted.length, 1, "the untrusted client never became a connection");
  await listener.close();
});
