import assert from "node:assert/strict";
import type net from "node:net";
import http from "node:http";
import { RSerPoolError } from "../errors.ts";
import { HealthState, parseHealthCheck, probeHealth } from "./health.ts";
import { proxyV2Header } from "./forward.ts";

const backend = { address: "127.0.0.1", port: 8000 };

Deno.test("health: parseHealthCheck reads tcp, http URLs and exec commands, and refuses the rest", () => {
  assert.deepEqual(parseHealthCheck("tcp", backend), {
    kind: "tcp",
    address: "127.0.0.1",
    port: 8000,
  });
  assert.deepEqual(parseHealthCheck("http://127.0.0.1:8000/healthz", backend), {
    kind: "http",
    url: "http://127.0.0.1:8000/healthz",
  });
  assert.deepEqual(parseHealthCheck("exec:test -e /tmp", backend), {
    kind: "exec",
    command: "test -e /tmp",
  });
  for (const bad of ["", "udp", "exec:", "http://[bad"]) {
    assert.throws(() => parseHealthCheck(bad, backend), RSerPoolError, bad);
  }
});

Deno.test("health: HealthState changes its verdict only after the threshold in a row", () => {
  const s = new HealthState(3);
  assert.equal(s.healthy, true);
  // Two failures, a success: the streak starts again.
  assert.equal(s.record(false), undefined);
  assert.equal(s.record(false), undefined);
  assert.equal(s.record(true), undefined);
  assert.equal(s.record(false), undefined);
  assert.equal(s.record(false), undefined);
  assert.equal(s.healthy, true);
  assert.equal(s.record(false), false);
  assert.equal(s.healthy, false);
  assert.equal(s.record(false), undefined);
  assert.equal(s.record(true), undefined);
  assert.equal(s.record(true), undefined);
  assert.equal(s.record(true), true);
  assert.equal(s.healthy, true);
  const once = new HealthState(1, false);
  assert.equal(once.record(true), true);
  assert.throws(() => new HealthState(0), RSerPoolError);
});

Deno.test("health: probes see a listening port, a refused one, HTTP statuses and exit statuses", async () => {
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === "/ok" ? 204 : 503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    assert.equal(await probeHealth({ kind: "tcp", address: "127.0.0.1", port }, 1000), undefined);
    assert.equal(
      await probeHealth({ kind: "http", url: `http://127.0.0.1:${port}/ok` }, 1000),
      undefined,
    );
    assert.equal(
      await probeHealth({ kind: "http", url: `http://127.0.0.1:${port}/down` }, 1000),
      "HTTP status 503",
    );
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  // Nothing listens there any more.
  assert.match(
    (await probeHealth({ kind: "tcp", address: "127.0.0.1", port }, 1000))!,
    /ECONNREFUSED|refused/i,
  );
  assert.equal(await probeHealth({ kind: "exec", command: "exit 0" }, 2000), undefined);
  assert.equal(await probeHealth({ kind: "exec", command: "exit 3" }, 2000), "exit status 3");
  assert.match((await probeHealth({ kind: "exec", command: "sleep 5" }, 200))!, /still running/);
});

Deno.test("forward: the PROXY v2 header carries both addresses and ports (IPv4, IPv6, mixed)", () => {
  const v4 = proxyV2Header({ address: "10.1.2.3", port: 0x1234 }, {
    address: "192.168.0.1",
    port: 80,
  });
  assert.deepEqual(
    [...v4],
    [
      ...[0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a],
      0x21,
      0x11,
      0,
      12,
      10,
      1,
      2,
      3,
      192,
      168,
      0,
      1,
      0x12,
      0x34,
      0,
      80,
    ],
  );
  const v6 = proxyV2Header({ address: "2001:db8::1", port: 1 }, { address: "::1", port: 2 });
  assert.equal(v6[13], 0x21);
  assert.equal((v6[14] << 8) | v6[15], 36);
  assert.deepEqual([...v6.subarray(16, 20)], [0x20, 0x01, 0x0d, 0xb8]);
  assert.equal(v6[31], 1);
  assert.equal(v6[47], 1);
  assert.deepEqual([...v6.subarray(48, 52)], [0, 1, 0, 2]);
  // Families differ: LOCAL, no addresses.
  const local = proxyV2Header({ address: "10.0.0.1", port: 1 }, { address: "::1", port: 2 });
  assert.deepEqual([...local.subarray(12)], [0x20, 0, 0, 0]);
});
