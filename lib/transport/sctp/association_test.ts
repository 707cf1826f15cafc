import assert from "node:assert/strict";
import fc from "fast-check";
import type { Association, AssociationConfig, AssociationEvent } from "./association.ts";
import { decodePacket } from "./chunk.ts";
import { type SimHost, SimNet } from "./simnet.ts";

const fast: Partial<AssociationConfig> = {
  rtoInitial: 200,
  rtoMin: 100,
  rtoMax: 2000,
  heartbeatInterval: 1000,
};

function messagesOf(host: SimHost, a?: Association) {
  return host.events
    .filter((e) => (a === undefined || e.association === a) && e.event.kind === "message")
    .map((e) => e.event as Extract<AssociationEvent, { kind: "message" }>);
}

function closedOf(host: SimHost) {
  return host.events.filter((e) => e.event.kind === "closed").map((e) =>
    (e.event as Extract<AssociationEvent, { kind: "closed" }>).reason
  );
}

function setup(seed = 1, options = {}, config = fast) {
  const net = new SimNet(seed, options);
  const client = net.host("10.0.0.1", config);
  const server = net.host("10.0.0.2", config);
  server.endpoint.listen(3863);
  const a = client.endpoint.connect({ address: "10.0.0.2", port: 9899 }, 3863, 50000, net.now);
  return { net, client, server, a };
}

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

Deno.test("sctp: handshake, then messages both ways on several streams", () => {
  const { net, client, server, a } = setup();
  assert.ok(net.runUntil(() => a.state === "established" && server.accepted.length === 1));
  const b = server.accepted[0];
  assert.equal(b.state, "established");
  assert.equal(a.peerTag, b.ownTag);
  assert.equal(b.peerTag, a.ownTag);
  a.send(0, 11, new TextEncoder().encode("hello"));
  a.send(3, 12, bytes(10, 7));
  b.send(1, 99, bytes(3, 1), true);
  client.endpoint.flush(net.now);
  server.endpoint.flush(net.now);
  assert.ok(net.runUntil(() => messagesOf(server).length === 2 && messagesOf(client).length === 1));
  assert.deepEqual(messagesOf(server).map((m) => [m.streamId, m.ppid, m.data.length]), [
    [0, 11, 5],
    [3, 12, 10],
  ]);
  assert.deepEqual(messagesOf(client).map((m) => [m.streamId, m.ppid, m.unordered]), [[
    1,
    99,
    true,
  ]]);
});

Deno.test("sctp: large messages are fragmented and reassembled", () => {
  const { net, server, client, a } = setup();
  net.runUntil(() => a.state === "established");
  const big = new Uint8Array(100_000).map((_, i) => i % 251);
  a.send(0, 51, big);
  client.endpoint.flush(net.now);
  assert.ok(net.runUntil(() => messagesOf(server).length === 1));
  assert.deepEqual(messagesOf(server)[0].data, big);
  assert.ok(a.stats.chunksSent >= Math.ceil(100_000 / 1172));
});

Deno.test("sctp: with loss, duplication and reordering every message arrives once, in order per stream", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1 << 30 }),
      fc.array(
        fc.record({
          stream: fc.integer({ min: 0, max: 3 }),
          size: fc.integer({ min: 1, max: 5000 }),
          unordered: fc.boolean(),
        }),
        { minLength: 1, maxLength: 60 },
      ),
      fc.double({ min: 0, max: 0.2, noNaN: true }),
      (seed, plan, loss) => {
        const { net, client, server, a } = setup(seed, {
          delay: [5, 40],
          loss,
          duplicate: 0.05,
          reorder: true,
        });
        if (!net.runUntil(() => a.state === "established", 120_000)) {
          // A lossy handshake may take long; it must still finish.
          assert.fail("no handshake");
        }
        plan.forEach((m, i) => {
          const data = new Uint8Array(m.size).fill(i & 0xff);
          data[0] = i & 0xff;
          a.send(m.stream, i, data, m.unordered);
        });
        client.endpoint.flush(net.now);
        assert.ok(
          net.runUntil(() => messagesOf(server).length >= plan.length, 600_000, 50),
          "all delivered",
        );
        net.run(net.now + 5000);
        const got = messagesOf(server);
        assert.equal(got.length, plan.length, "each exactly once");
        assert.deepEqual(new Set(got.map((m) => m.ppid)).size, plan.length);
        for (const m of got) assert.equal(m.data.length, plan[m.ppid].size);
        // Fast retransmit sends a chunk at most once (§7.2.4); later losses wait for T3.
        assert.ok(
          a.stats.fastRetransmissions <= a.stats.chunksSent,
          `${a.stats.fastRetransmissions} fast retransmissions of ${a.stats.chunksSent} chunks`,
        );
        for (let s = 0; s < 4; s++) {
          const ordered = got.filter((m) => m.streamId === s && !m.unordered).map((m) => m.ppid);
          assert.deepEqual(ordered, [...ordered].sort((x, y) => x - y), `stream ${s} in order`);
        }
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("sctp: graceful shutdown delivers everything first", () => {
  const { net, client, server, a } = setup(3, { delay: [5, 20], loss: 0.1, reorder: true });
  net.runUntil(() => a.state === "established");
  for (let i = 0; i < 20; i++) a.send(0, i, bytes(2000, i));
  a.shutdown(net.now);
  client.endpoint.flush(net.now);
  assert.ok(net.runUntil(() => a.state === "closed" && server.accepted[0].state === "closed"));
  assert.equal(messagesOf(server).length, 20);
  assert.deepEqual(closedOf(client), ["shutdown"]);
  assert.deepEqual(closedOf(server), ["shutdown"]);
});

Deno.test("sctp: abort ends both sides at once", () => {
  const { net, client, server, a } = setup();
  net.runUntil(() => a.state === "established");
  a.abort(net.now, "bye");
  client.endpoint.flush(net.now);
  assert.ok(net.runUntil(() => server.accepted[0].state === "closed"));
  assert.deepEqual(closedOf(client), ["abort"]);
  assert.deepEqual(closedOf(server), ["peer-abort"]);
});

Deno.test("sctp: a vanished peer is detected by retransmission and heartbeat limits", () => {
  const { net, client, a } = setup(5, {}, { ...fast, associationMaxRetrans: 4 });
  net.runUntil(() => a.state === "established");
  net.down.add("10.0.0.2");
  a.send(0, 1, bytes(100, 1));
  client.endpoint.flush(net.now);
  const start = net.now;
  assert.ok(net.runUntil(() => a.state === "closed", 120_000));
  assert.deepEqual(closedOf(client), ["timeout"]);
  assert.ok(net.now - start < 60_000, `detected after ${net.now - start} ms`);
  // And an idle one, by heartbeats alone.
  const idle = setup(6, {}, { ...fast, associationMaxRetrans: 3 });
  idle.net.runUntil(() => idle.a.state === "established");
  idle.net.down.add("10.0.0.2");
  assert.ok(idle.net.runUntil(() => idle.a.state === "closed", 120_000));
  assert.deepEqual(closedOf(idle.client), ["timeout"]);
});

Deno.test("sctp: nobody listening is an ABORT; no answer at all ends the handshake", () => {
  const net = new SimNet(2);
  const client = net.host("10.0.0.1", fast);
  net.host("10.0.0.2", fast); // not listening
  const a = client.endpoint.connect({ address: "10.0.0.2", port: 9899 }, 3863, 50001, 0);
  assert.ok(net.runUntil(() => a.state === "closed"));
  assert.deepEqual(closedOf(client), ["peer-abort"]);
  const b = client.endpoint.connect({ address: "10.9.9.9", port: 9899 }, 3863, 50002, net.now);
  assert.ok(net.runUntil(() => b.state === "closed", 300_000));
  assert.deepEqual(closedOf(client), ["peer-abort", "init-failed"]);
});

Deno.test("sctp: simultaneous INITs make one association", () => {
  const net = new SimNet(4, { delay: [10, 10] });
  const x = net.host("10.0.0.1", fast);
  const y = net.host("10.0.0.2", fast);
  x.endpoint.listen(7000);
  y.endpoint.listen(7000);
  const ax = x.endpoint.connect({ address: "10.0.0.2", port: 9899 }, 7000, 7000, 0);
  const ay = y.endpoint.connect({ address: "10.0.0.1", port: 9899 }, 7000, 7000, 0);
  assert.ok(net.runUntil(() => ax.state === "established" && ay.state === "established"));
  assert.equal(ax.peerTag, ay.ownTag);
  assert.equal(ay.peerTag, ax.ownTag);
  ax.send(0, 5, bytes(10, 5));
  x.endpoint.flush(net.now);
  assert.ok(net.runUntil(() => messagesOf(y).length === 1));
});

Deno.test("sctp: a restarted peer replaces its old association", () => {
  const net = new SimNet(8);
  const client = net.host("10.0.0.1", fast);
  const server = net.host("10.0.0.2", fast);
  server.endpoint.listen(3863);
  const a = client.endpoint.connect({ address: "10.0.0.2", port: 9899 }, 3863, 50000, 0);
  net.runUntil(() => server.accepted.length === 1 && a.state === "established");
  // The client host restarts: a new endpoint at the same address and port, no memory.
  const again = net.host("10.0.0.1", fast);
  const a2 = again.endpoint.connect({ address: "10.0.0.2", port: 9899 }, 3863, 50000, net.now);
  assert.ok(net.runUntil(() => a2.state === "established" && server.accepted.length === 2));
  assert.equal(server.accepted[0].state, "closed");
  assert.deepEqual(closedOf(server), ["restart"]);
  a2.send(0, 1, bytes(5, 1));
  again.endpoint.flush(net.now);
  assert.ok(net.runUntil(() => messagesOf(server, server.accepted[1]).length === 1));
});

Deno.test("sctp: an endpoint with hundreds of associations runs every one's timers", () => {
  const net = new SimNet(11);
  const server = net.host("10.0.0.2", { ...fast, associationMaxRetrans: 3 });
  server.endpoint.listen(3863);
  const clients = Array.from({ length: 30 }, (_, i) => net.host(`10.0.1.${i + 1}`, fast));
  const all = clients.flatMap((c) =>
    Array.from(
      { length: 10 },
      (_, j) => c.endpoint.connect({ address: "10.0.0.2", port: 9899 }, 3863, 40000 + j, net.now),
    )
  );
  assert.ok(net.runUntil(() => all.every((a) => a.state === "established"), 60_000));
  assert.equal(server.endpoint.size, 300);
  // Half the clients vanish: the server finds their 150 associations dead by heartbeats alone,
  // and keeps the other 150.
  clients.slice(0, 15).forEach((c) => net.down.add(c.address));
  assert.ok(
    net.runUntil(() => server.endpoint.size === 150, 120_000),
    `${server.endpoint.size} left`,
  );
  assert.equal(closedOf(server).filter((r) => r === "timeout").length, 150);
  net.run(net.now + 10_000);
  assert.equal(server.endpoint.size, 150, "the live ones stay");
});

Deno.test("sctp: a chunk is fast-retransmitted once; if that copy is lost too, T3 recovers it", () => {
  let victim: number | undefined;
  let dropped = 0;
  const net = new SimNet(12, {
    delay: [5, 5],
    deliver: ({ bytes }) => {
      const data = decodePacket(bytes).chunks.find((c) => c.type === "DATA");
      if (data === undefined || data.type !== "DATA") return true;
      victim ??= data.tsn + 5; // the sixth chunk
      if (data.tsn === victim && dropped < 2) {
        dropped++;
        return false; // its first transmission and its fast retransmission
      }
      return true;
    },
  });
  const client = net.host("10.0.0.1", fast);
  const server = net.host("10.0.0.2", fast);
  server.endpoint.listen(3863);
  const a = client.endpoint.connect({ address: "10.0.0.2", port: 9899 }, 3863, 50000, 0);
  assert.ok(net.runUntil(() => a.state === "established"));
  for (let i = 0; i < 60; i++) a.send(0, i, bytes(1000, i));
  client.endpoint.flush(net.now);
  assert.ok(net.runUntil(() => messagesOf(server).length === 60, 60_000));
  assert.equal(dropped, 2);
  assert.equal(a.stats.fastRetransmissions, 1, "fast-retransmitted once, not again");
  assert.ok(a.stats.timeouts >= 1, "the second loss waits for T3");
  assert.deepEqual(messagesOf(server).map((m) => m.ppid), Array.from({ length: 60 }, (_, i) => i));
});
