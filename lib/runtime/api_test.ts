import assert from "node:assert/strict";
import { startRegistrar } from "./registrar.ts";
import { createPoolUser } from "./user.ts";

async function until(ok: () => boolean | Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text === "" ? undefined : JSON.parse(text) };
}

/** Reads Server-Sent Events into a list as they come. */
function watchEvents(url: string): {
  events: { event: string; data: Record<string, unknown> }[];
  stop(): void;
} {
  const events: { event: string; data: Record<string, unknown> }[] = [];
  const abort = new AbortController();
  (async () => {
    const res = await fetch(url, { signal: abort.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]);
        events.push({ event, data });
      }
    }
  })().catch(() => {});
  return { events, stop: () => abort.abort() };
}

Deno.test("api: register with a TTL, resolve (also over ASAP), watch every change, deregister; the TTL lapses unless refreshed", async () => {
  const pr = await startRegistrar({
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    statusEndpoint: "127.0.0.1:0",
    api: { write: true },
  });
  const base = `http://127.0.0.1:${pr.statusEndpoint!.port}`;
  const watch = watchEvents(`${base}/pools/web/watch`);
  const pu = await createPoolUser({ registrars: [`127.0.0.1:${pr.asap.port}`] });
  try {
    await until(() => watch.events.length === 1, 2000, "the snapshot");
    assert.deepEqual(watch.events[0], { event: "snapshot", data: { pool: "web", elements: [] } });

    const created = await call(base, "POST", "/pools/web/elements", {
      address: "127.0.0.1",
      port: 8001,
      ttl: 60_000,
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const element = created.json!.element as Record<string, unknown>;
    assert.match(element.id as string, /^0x[0-9a-f]{8}$/);
    assert.equal(element.home, `0x${(pr.id as number).toString(16).padStart(8, "0")}`);
    assert.deepEqual(element.addresses, ["127.0.0.1"]);
    assert.equal(element.dataOnly, true);

    const resolved = await call(base, "GET", "/pools/web/resolve");
    assert.equal(resolved.status, 200);
    assert.deepEqual((resolved.json!.elements as { id: string }[]).map((e) => e.id), [element.id]);
    // An ASAP pool user sees the same element.
    const overAsap = await pu.resolve("web");
    assert.equal(overAsap.length, 1);
    assert.equal(overAsap[0].userTransport.port, 8001);

    // PUT with an identifier: added; PUT again: updated (a new load); DELETE: removed.
    const put = (load: number) =>
      call(base, "PUT", "/pools/web/elements/0x1234", {
        address: "127.0.0.1",
        port: 8002,
        ttl: 60_000,
        policy: { type: "RoundRobin" },
        load,
      });
    assert.equal((await put(1)).status, 200);
    assert.equal((await put(2)).status, 200);
    assert.equal((await call(base, "DELETE", "/pools/web/elements/0x1234")).status, 204);
    assert.equal((await call(base, "DELETE", "/pools/web/elements/0x1234")).status, 404);
    await until(() => watch.events.length === 5, 2000, "four changes");
    assert.deepEqual(watch.events.slice(1).map((e) => [e.event, e.data.id]), [
      ["added", element.id],
      ["added", "0x00001234"],
      ["updated", "0x00001234"],
      ["removed", "0x00001234"],
    ]);

    // A TTL of 1 s lapses; one refreshed every 400 ms stays.
    const short = { address: "127.0.0.1", ttl: 1000 };
    await call(base, "PUT", "/pools/ttl/elements/1", { ...short, port: 9001 });
    await call(base, "PUT", "/pools/ttl/elements/2", { ...short, port: 9002 });
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 400));
      await call(base, "PUT", "/pools/ttl/elements/2", { ...short, port: 9002 });
    }
    const left = await call(base, "GET", "/pools/ttl/resolve?items=10");
    assert.deepEqual((left.json!.elements as { id: string }[]).map((e) => e.id), ["0x00000002"]);
  } finally {
    watch.stop();
    await pu.close();
    await pr.stop();
  }
});

Deno.test("api: refusals and bad requests are clear errors; writes are off unless enabled", async () => {
  const pr = await startRegistrar({
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    statusEndpoint: "127.0.0.1:0",
    api: { write: true, maxTtl: 10_000 },
  });
  const readOnly = await startRegistrar({
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    statusEndpoint: "127.0.0.1:0",
  });
  const base = `http://127.0.0.1:${pr.statusEndpoint!.port}`;
  try {
    const ok = { address: "127.0.0.1", port: 80, ttl: 5000 };
    const cases: [string, string, unknown, number, RegExp][] = [
      ["POST", "/pools/p/elements", "{nope", 400, /not JSON/],
      ["POST", "/pools/p/elements", { ...ok, port: 0 }, 400, /port/],
      ["POST", "/pools/p/elements", { ...ok, ttl: 20_000 }, 400, /ttl.*10000/],
      ["POST", "/pools/p/elements", { ...ok, address: "nowhere" }, 400, /transport/],
      ["POST", "/pools/p/elements", { ...ok, policy: { type: "Nope" } }, 400, /policy/],
      ["PUT", "/pools/p/elements/0", ok, 400, /identifier/],
      ["GET", "/pools/nothing/resolve", undefined, 404, /no pool/],
      ["PATCH", "/pools/p/elements/1", ok, 405, /not part of the API/],
      ["GET", `/pools/${"x".repeat(33)}/resolve`, undefined, 400, /1 to 32 bytes/],
    ];
    for (const [method, path, body, status, message] of cases) {
      const r = await call(base, method, path, body);
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.json)}`);
      assert.match(r.json!.error as string, message, `${method} ${path}`);
    }
    // The pool's rules hold as for ASAP registrations: another policy is refused (cause 0x5).
    assert.equal((await call(base, "PUT", "/pools/p/elements/1", ok)).status, 200);
    const mismatch = await call(base, "PUT", "/pools/p/elements/2", {
      ...ok,
      policy: { type: "LeastUsed", load: 0 },
    });
    assert.equal(mismatch.status, 409);
    assert.equal(mismatch.json!.cause, 5);
    // Hex pool handles name any bytes.
    assert.equal((await call(base, "GET", "/pools/0x70/resolve")).status, 200);

    const ro = `http://127.0.0.1:${readOnly.statusEndpoint!.port}`;
    const refused = await call(ro, "POST", "/pools/p/elements", ok);
    assert.equal(refused.status, 403);
    assert.match(refused.json!.error as string, /read-only/);
    assert.equal(readOnly.status().handlespace.elements, 0);
  } finally {
    await pr.stop();
    await readOnly.stop();
  }
});

Deno.test("api: an element registered over HTTP reaches the peer registrars by ENRP", async () => {
  const timers = { peerHeartbeatCycle: 200, maxTimeLastHeard: 1000, maxTimeNoResponse: 300 };
  const pr1 = await startRegistrar({
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    statusEndpoint: "127.0.0.1:0",
    api: { write: true },
    timers,
  });
  const pr2 = await startRegistrar({
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    peers: [`127.0.0.1:${pr1.enrp.port}`],
    timers,
  });
  try {
    await until(() => pr2.status().peers.some((p) => p.connected), 5000, "the peers connected");
    const base = `http://127.0.0.1:${pr1.statusEndpoint!.port}`;
    const r = await call(base, "PUT", "/pools/shared/elements/0x77", {
      address: "127.0.0.1",
      port: 7000,
      ttl: 30_000,
    });
    assert.equal(r.status, 200);
    await until(() => pr2.status().handlespace.elements === 1, 3000, "the element at the peer");
    assert.equal((await call(base, "DELETE", "/pools/shared/elements/0x77")).status, 204);
    await until(() => pr2.status().handlespace.elements === 0, 3000, "gone at the peer too");
  } finally {
    await pr2.stop();
    await pr1.stop();
  }
});

Deno.test("api: docs/openapi.yaml describes every route and method the API serves", async () => {
  const yaml = await Deno.readTextFile(new URL("../../docs/openapi.yaml", import.meta.url));
  const routes: [string, string[]][] = [
    ["/pools/{handle}/resolve:", ["get"]],
    ["/pools/{handle}/watch:", ["get"]],
    ["/pools/{handle}/elements:", ["post"]],
    ["/pools/{handle}/elements/{id}:", ["put", "delete"]],
  ];
  const paths = yaml.split(/\n {2}(?=\/)/).slice(1);
  assert.equal(paths.length, routes.length, "no other paths");
  for (const [path, methods] of routes) {
    const block = paths.find((p) => p.startsWith(path));
    assert.ok(block !== undefined, path);
    const declared = [...block.matchAll(/^ {4}(get|put|post|delete|patch):/gm)].map((m) => m[1]);
    assert.deepEqual(declared, methods, path);
  }
});

Deno.test("api: a TLS registrar serves its status and API over HTTPS with its own certificate", async () => {
  const file = (name: string) =>
    Deno.readTextFileSync(new URL(`../transport/testdata/${name}`, import.meta.url));
  const pr = await startRegistrar({
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    statusEndpoint: "127.0.0.1:0",
    api: { write: true },
    tls: { cert: file("registrar.crt"), key: file("registrar.key"), ca: file("ca.crt") },
  });
  const client = Deno.createHttpClient({ caCerts: [file("ca.crt")] });
  try {
    const base = `https://127.0.0.1:${pr.statusEndpoint!.port}`;
    const put = await fetch(`${base}/pools/tls/elements/9`, {
      method: "PUT",
      client,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ address: "127.0.0.1", port: 80, ttl: 5000 }),
    });
    assert.equal(put.status, 200, await put.text());
    const status = await (await fetch(`${base}/status`, { client })).json();
    assert.equal(status.handlespace.elements, 1);
    // Plain HTTP is not served there.
    await assert.rejects(fetch(`http://127.0.0.1:${pr.statusEndpoint!.port}/status`));
  } finally {
    client.close();
    await pr.stop();
  }
});
