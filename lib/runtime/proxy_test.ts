import assert from "node:assert/strict";
import net from "node:net";
import { startProxyElement } from "./proxy_element.ts";
import { startProxy } from "./proxy_user.ts";
import { startRegistrar } from "./registrar.ts";
import { createPoolUser } from "./user.ts";

async function until(ok: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A tiny HTTP/1.0 server answering every request with its name. */
async function nameServer(
  name: string,
  port = 0,
): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    let seen = "";
    s.on("data", (d) => {
      seen += d.toString();
      if (seen.includes("\r\n\r\n")) {
        s.end(`HTTP/1.0 200 OK\r\nContent-Length: ${name.length}\r\n\r\n${name}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** GET / over one connection; the body, or undefined when the connection failed. */
function get(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    let text = "";
    s.on("data", (d) => text += d.toString());
    s.on("error", () => resolve(undefined));
    s.on("close", () => {
      const body = text.split("\r\n\r\n")[1];
      resolve(text.startsWith("HTTP/1.0 200") ? body : undefined);
    });
    s.write("GET / HTTP/1.0\r\n\r\n");
  });
}

Deno.test("proxy: connections spread over the pool; a killed backend leaves it within the health bound, comes back, and no request fails", async () => {
  const pr = await startRegistrar({ asap: "127.0.0.1:0", enrp: "127.0.0.1:0" });
  const registrars = [`127.0.0.1:${pr.asap.port}`];
  const a = await nameServer("A");
  const b = await nameServer("B");
  const health = { healthInterval: 100, healthThreshold: 2 };
  const pa = await startProxyElement({
    poolHandle: "web",
    backend: `127.0.0.1:${a.port}`,
    registrars,
    ...health,
  });
  const pb = await startProxyElement({
    poolHandle: "web",
    backend: `127.0.0.1:${b.port}`,
    registrars,
    ...health,
  });
  const proxy = await startProxy({
    poolHandle: "web",
    listen: "127.0.0.1:0",
    registrars,
    timers: { staleCache: 100 },
  });
  let restarted: { stop(): Promise<void> } | undefined;
  try {
    await until(() => pr.status().handlespace.elements === 2, 5000, "two elements");
    const firstId = pa.identifier;
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 10; i++) seen.add(await get(proxy.address.port));
    assert.deepEqual(seen, new Set(["A", "B"]), "Round Robin over both backends");

    await a.stop();
    const killed = Date.now();
    const answers: (string | undefined)[] = [];
    while (pr.status().handlespace.elements === 2 && Date.now() - killed < 3000) {
      answers.push(await get(proxy.address.port));
    }
    const gone = Date.now() - killed;
    assert.equal(pr.status().handlespace.elements, 1, "the dead backend's element deregistered");
    // Two failed probes 100 ms apart, plus a deregistration round trip.
    assert.ok(gone < 1500, `deregistered after ${gone} ms`);
    assert.ok(answers.length > 0);
    assert.deepEqual(new Set(answers), new Set(["B"]), "every request answered, by B");
    assert.ok(proxy.counts.unserved === 0);
    assert.equal(pa.healthy, false);
    assert.equal(pa.counts.unhealthy, 1);

    restarted = await nameServer("A", a.port);
    await until(() => pr.status().handlespace.elements === 2, 3000, "A registered again");
    assert.equal(pa.identifier, firstId, "registered again under the same identifier");
    const again = new Set<string | undefined>();
    for (let i = 0; i < 10; i++) again.add(await get(proxy.address.port));
    assert.deepEqual(again, new Set(["A", "B"]));
    assert.equal(proxy.counts.forwarded, proxy.counts.accepted);
  } finally {
    await proxy.close();
    await pa.close();
    await pb.close();
    await restarted?.stop();
    await b.stop();
    await pr.stop();
  }
});

Deno.test("proxy: an element whose server is gone is reported unreachable, skipped, and removed by the registrar", async () => {
  const pr = await startRegistrar({ asap: "127.0.0.1:0", enrp: "127.0.0.1:0" });
  const registrars = [`127.0.0.1:${pr.asap.port}`];
  const b = await nameServer("B");
  const dead = await nameServer("dead");
  const deadPort = dead.port;
  await dead.stop();
  // Its health check always passes: only the pool users can tell.
  const liar = await startProxyElement({
    poolHandle: "web",
    backend: `127.0.0.1:${deadPort}`,
    health: { kind: "exec", command: "true" },
    registrars,
  });
  const pb = await startProxyElement({
    poolHandle: "web",
    backend: `127.0.0.1:${b.port}`,
    registrars,
  });
  // Resolutions go stale after 250 ms: each new one offers the dead element again.
  const proxy = await startProxy({
    poolHandle: "web",
    listen: "127.0.0.1:0",
    registrars,
    timers: { staleCache: 250 },
  });
  try {
    await until(() => pr.status().handlespace.elements === 2, 5000, "two elements");
    const answers: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) answers.push(await get(proxy.address.port));
    assert.deepEqual(new Set(answers), new Set(["B"]), "every connection reached B");
    // One report per resolution: the cache without the dead element serves until stale.
    assert.equal(proxy.counts.unreachable, 1, "no report storm");
    // MAX-BAD-PE-REPORT (3) reports, from fresh resolutions, remove it.
    const deadline = Date.now() + 5000;
    while (pr.status().handlespace.elements === 2 && Date.now() < deadline) {
      answers.push(await get(proxy.address.port));
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(pr.status().handlespace.elements, 1, "the dead element removed");
    assert.deepEqual(new Set(answers), new Set(["B"]), "every connection reached B");
    assert.equal(proxy.counts.unreachable, 3, "removed at the third report");
    const pu = await createPoolUser({ registrars });
    const left = await pu.resolve("web");
    assert.deepEqual(left.map((e) => e.identifier), [pb.identifier]);
    await pu.close();
  } finally {
    await proxy.close();
    await liar.close();
    await pb.close();
    await b.stop();
    await pr.stop();
  }
});

Deno.test("proxy: half-close passes through both proxies, and the PROXY v2 header tells the backend the client", async () => {
  const pr = await startRegistrar({ asap: "127.0.0.1:0", enrp: "127.0.0.1:0" });
  const registrars = [`127.0.0.1:${pr.asap.port}`];
  // Reads everything up to the client's end of input, then answers and closes.
  const headers: Uint8Array[] = [];
  const backend = net.createServer({ allowHalfOpen: true }, (s) => {
    const chunks: Uint8Array[] = [];
    s.on("data", (d) => chunks.push(d));
    s.on("end", () => {
      const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let p = 0;
      for (const c of chunks) {
        all.set(c, p);
        p += c.length;
      }
      if (all.length === 0) return s.end(); // a health probe
      headers.push(all.subarray(0, 28));
      s.end(`got ${all.length - 28} bytes`);
    });
  });
  await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", resolve));
  const backendPort = (backend.address() as net.AddressInfo).port;
  const pe = await startProxyElement({
    poolHandle: "raw",
    backend: `127.0.0.1:${backendPort}`,
    listen: "127.0.0.1:0",
    proxyProtocol: true,
    registrars,
  });
  const proxy = await startProxy({ poolHandle: "raw", listen: "127.0.0.1:0", registrars });
  try {
    await until(() => pr.status().handlespace.elements === 1, 5000, "the element");
    const payload = new Uint8Array(300_000).fill(7);
    const { answer, local } = await new Promise<{ answer: string; local: number }>(
      (resolve, reject) => {
        const s = net.connect({ host: "127.0.0.1", port: proxy.address.port, allowHalfOpen: true });
        let text = "";
        s.on("connect", () => {
          s.write(payload);
          s.end(); // half-close: the answer still comes back
        });
        s.on("data", (d) => text += d.toString());
        s.on("end", () => resolve({ answer: text, local: s.localPort! }));
        s.on("error", reject);
      },
    );
    assert.equal(answer, `got ${payload.length} bytes`);
    // The element's header names the proxy's connection to it (the client it sees).
    const h = headers[0];
    assert.deepEqual([...h.subarray(0, 12)], [
      0x0d,
      0x0a,
      0x0d,
      0x0a,
      0x00,
      0x0d,
      0x0a,
      0x51,
      0x55,
      0x49,
      0x54,
      0x0a,
    ]);
    assert.deepEqual([...h.subarray(12, 16)], [0x21, 0x11, 0, 12]);
    assert.deepEqual([...h.subarray(16, 24)], [127, 0, 0, 1, 127, 0, 0, 1]);
    assert.equal((h[26] << 8) | h[27], pe.address.port, "destination: the element's port");
    assert.notEqual((h[24] << 8) | h[25], local, "source: the proxy's socket, not the client's");
    assert.equal(pe.counts.bytesIn, payload.length);
    assert.equal(proxy.counts.bytesIn, payload.length);
  } finally {
    await proxy.close();
    await pe.close();
    await new Promise<void>((resolve) => backend.close(() => resolve()));
    await pr.stop();
  }
});

Deno.test("proxy element: the load follows the sessions in use, and a drain raises it to 100 % and waits for them", async () => {
  const pr = await startRegistrar({ asap: "127.0.0.1:0", enrp: "127.0.0.1:0" });
  const registrars = [`127.0.0.1:${pr.asap.port}`];
  const held = new Set<net.Socket>();
  const backend = net.createServer((s) => {
    held.add(s);
    s.on("close", () => held.delete(s));
  });
  await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", resolve));
  const backendPort = (backend.address() as net.AddressInfo).port;
  const pe = await startProxyElement({
    poolHandle: "lu",
    backend: `127.0.0.1:${backendPort}`,
    listen: "127.0.0.1:0",
    maxSessions: 4,
    policy: { type: "LeastUsed", load: 0 },
    registrars,
  });
  const pu = await createPoolUser({ registrars, timers: { staleCache: 0 } });
  const loadSeen = async () => {
    const [e] = await pu.resolve("lu");
    return "load" in e.policy ? e.policy.load : undefined;
  };
  const clients: net.Socket[] = [];
  try {
    await until(() => pr.status().handlespace.elements === 1, 5000, "the element");
    assert.equal(await loadSeen(), 0);
    for (let i = 0; i < 3; i++) {
      clients.push(net.connect({ host: "127.0.0.1", port: pe.address.port }));
    }
    await until(() => held.size === 3, 3000, "three sessions at the backend");
    const threeQuarters = Math.round(0.75 * 0xffffffff);
    const deadline = Date.now() + 3000;
    let load = await loadSeen();
    while (load !== threeQuarters && Date.now() < deadline) load = await loadSeen();
    assert.equal(load, threeQuarters, "3 of 4 sessions: load 75 %");
    clients.pop()!.destroy();
    let l2 = await loadSeen();
    while (l2 !== Math.round(0.5 * 0xffffffff) && Date.now() < deadline + 3000) {
      l2 = await loadSeen();
    }
    assert.equal(l2, Math.round(0.5 * 0xffffffff), "2 of 4: 50 %");

    const draining = pe.drain(5000);
    let l3 = await loadSeen();
    while (l3 !== 0xffffffff && Date.now() < deadline + 6000) l3 = await loadSeen();
    assert.equal(l3, 0xffffffff, "draining: 100 %");
    let drained = false;
    draining.then(() => drained = true);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(drained, false, "waits while sessions are open");
    for (const c of clients) c.destroy();
    await draining;
    assert.equal(pe.isRegistered, false);
    await until(() => pr.status().handlespace.elements === 0, 3000, "deregistered");
  } finally {
    for (const c of clients) c.destroy();
    await pu.close();
    await pe.close();
    for (const s of held) s.destroy();
    await new Promise<void>((resolve) => backend.close(() => resolve()));
    await pr.stop();
  }
});

Deno.test("proxy: two registrars with ENRP between them behind the proxy survive the loss of one", async () => {
  const timers = {
    peerHeartbeatCycle: 200,
    maxTimeLastHeard: 600,
    maxTimeNoResponse: 300,
    keepAliveInterval: 500,
    keepAliveTimeout: 500,
  };
  const pr1 = await startRegistrar({ asap: "127.0.0.1:0", enrp: "127.0.0.1:0", timers });
  const pr2 = await startRegistrar({
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    peers: [`127.0.0.1:${pr1.enrp.port}`],
    timers,
  });
  const registrars = [`127.0.0.1:${pr1.asap.port}`, `127.0.0.1:${pr2.asap.port}`];
  const a = await nameServer("A");
  const b = await nameServer("B");
  const elements = [
    await startProxyElement({ poolHandle: "web", backend: `127.0.0.1:${a.port}`, registrars }),
    await startProxyElement({ poolHandle: "web", backend: `127.0.0.1:${b.port}`, registrars }),
  ];
  const proxy = await startProxy({
    poolHandle: "web",
    listen: "127.0.0.1:0",
    registrars,
    timers: { staleCache: 300 },
  });
  let pr1Stopped = false;
  try {
    await until(() => pr2.status().handlespace.elements === 2, 5000, "both elements at pr2");
    const before = new Set<string | undefined>();
    for (let i = 0; i < 6; i++) before.add(await get(proxy.address.port));
    assert.deepEqual(before, new Set(["A", "B"]));

    await pr1.stop();
    pr1Stopped = true;
    const answers: (string | undefined)[] = [];
    const started = Date.now();
    // Through the elements' and the proxy's hunt for pr2, and past the proxy's cache.
    while (Date.now() - started < 2500) {
      answers.push(await get(proxy.address.port));
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(answers.length > 20);
    assert.equal(answers.filter((x) => x === undefined).length, 0, "no request failed");
    assert.deepEqual(new Set(answers), new Set(["A", "B"]));
    assert.equal(pr2.status().handlespace.owned, 2, "pr2 is now the elements' home");
  } finally {
    await proxy.close();
    for (const e of elements) await e.close();
    await a.stop();
    await b.stop();
    await pr2.stop();
    if (!pr1Stopped) await pr1.stop();
  }
});

Deno.test("proxy: two proxies share one port with reusePort, and both serve", async () => {
  const pr = await startRegistrar({ asap: "127.0.0.1:0", enrp: "127.0.0.1:0" });
  const registrars = [`127.0.0.1:${pr.asap.port}`];
  const a = await nameServer("A");
  const pe = await startProxyElement({
    poolHandle: "web",
    backend: `127.0.0.1:${a.port}`,
    registrars,
  });
  const first = await startProxy({
    poolHandle: "web",
    listen: "127.0.0.1:0",
    registrars,
    reusePort: true,
  });
  const second = await startProxy({
    poolHandle: "web",
    listen: `127.0.0.1:${first.address.port}`,
    registrars,
    reusePort: true,
  });
  try {
    await until(() => pr.status().handlespace.elements === 1, 5000, "the element");
    assert.equal(second.address.port, first.address.port);
    for (let i = 0; i < 40; i++) assert.equal(await get(first.address.port), "A");
    assert.equal(first.counts.forwarded + second.counts.forwarded, 40);
    assert.ok(first.counts.forwarded > 0 && second.counts.forwarded > 0, "the kernel spreads them");
  } finally {
    await first.close();
    await second.close();
    await pe.close();
    await a.stop();
    await pr.stop();
  }
});
