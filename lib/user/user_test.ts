import assert from "node:assert/strict";
import { SeededRandom } from "../policy/random.ts";
import type { PoolElementParameter, TransportParameter } from "../protocol/types.ts";
import type { Action } from "../role/actions.ts";
import { Driver } from "../testing/driver.ts";
import { PoolUser, type PoolUserEvent, type PoolUserOptions } from "./user.ts";

const POOL = new TextEncoder().encode("EchoPool");
const sctp = (address: string, port: number): TransportParameter => ({
  type: "SCTP",
  port,
  transportUse: 1,
  addresses: [address],
});
const element = (id: number, load = 0): PoolElementParameter => ({
  identifier: id,
  homeRegistrarId: 0x100,
  registrationLife: 30_000,
  userTransport: sctp(`10.0.1.${id}`, 7000),
  policy: { type: "LeastUsed", load },
});

function setup(options: Partial<PoolUserOptions> = {}) {
  const pu = new PoolUser({
    registrars: [sctp("10.0.0.1", 3863), sctp("10.0.0.2", 3863)],
    timers: { requestTimeout: 1000, staleCache: 5000, connectTimeout: 2000 },
    random: new SeededRandom(5),
    ...options,
  });
  const d = new Driver<PoolUserEvent>(pu);
  const start = d.do(() => pu.start(0));
  const home = start.find((a) => a.type === "connect");
  const id = home?.type === "connect" ? home.connection : assert.fail("no connect");
  d.do(() => pu.connectionUp(id, 0));
  d.take();
  return { pu, d, home: id };
}

function answer(
  pu: PoolUser,
  d: Driver<PoolUserEvent>,
  home: string,
  elements: PoolElementParameter[],
) {
  return d.do(() =>
    pu.receive(home, {
      type: "HandleResolutionResponse",
      poolHandle: POOL,
      policy: { type: "LeastUsed", load: 0 },
      poolElements: elements,
    }, d.now)
  );
}

function connectsOf(actions: Action<PoolUserEvent>[]) {
  return actions.flatMap((a) => a.type === "connect" ? [a] : []);
}

/** Opens a session, answers its resolution with elements 1 and 2, brings its first connection up. */
function sessionUp(pu: PoolUser, d: Driver<PoolUserEvent>, home: string) {
  let id = "";
  d.do(() => {
    id = pu.openSession(POOL, 0);
  });
  answer(pu, d, home, [element(1, 1), element(2, 2)]);
  const [first] = connectsOf(d.actions);
  d.do(() => pu.connectionUp(first.connection, 10));
  return { id, first };
}

Deno.test("resolution goes to the home registrar and fills a cache that goes stale", () => {
  const { pu, d, home } = setup({ items: 4 });
  const out = d.do(() => assert.equal(pu.resolve(POOL, 0), undefined));
  assert.deepEqual(Driver.sent(out, home), [{
    type: "HandleResolution",
    poolHandle: POOL,
    items: 4,
  }]);
  const got = answer(pu, d, home, [element(1), element(2)]);
  assert.deepEqual(Driver.events(got).map((e) => e.kind), ["resolved"]);
  // Fresh: from the cache, nothing sent.
  d.now = 4999;
  const cached = d.do(() => assert.equal(pu.resolve(POOL, 4999)?.length, 2));
  assert.deepEqual(Driver.sent(cached), []);
  // Stale: asked again.
  const stale = d.do(() => assert.equal(pu.resolve(POOL, 5000), undefined));
  assert.equal(Driver.sent(stale, home).length, 1);
});

Deno.test("T1: retransmits MAX-REQUEST-RETRANSMIT times, then hunts another registrar", () => {
  const { pu, d, home } = setup({ maxRequestRetransmit: 2 });
  d.do(() => pu.resolve(POOL, 0));
  const sends = [1000, 2000].map((t) => Driver.sent(d.advance(t), home).length);
  assert.deepEqual(sends, [1, 1]);
  const out = d.advance(3000);
  assert.ok(out.some((a) => a.type === "close" && a.connection === home));
  const [next] = connectsOf(out);
  assert.deepEqual(next.remote, sctp("10.0.0.2", 3863));
  // The outstanding request goes to the new registrar once it is connected.
  const up = d.do(() => pu.connectionUp(next.connection, d.now));
  assert.deepEqual(Driver.sent(up, next.connection).map((m) => m.type), ["HandleResolution"]);
});

Deno.test("selection from the cache follows the pool's policy", () => {
  const { pu, d, home } = setup();
  d.do(() => pu.resolve(POOL, 0));
  answer(pu, d, home, [element(1, 500), element(2, 100), element(3, 300)]);
  assert.equal(pu.select(POOL, 1)?.identifier, 2, "least used");
  assert.equal(pu.select(POOL, 6000), undefined, "stale");
});

Deno.test("sessions waiting for a resolution start round robin at the first element listed", () => {
  const { pu, d, home } = setup();
  d.do(() => pu.openSession(POOL, 0));
  d.do(() =>
    pu.receive(home, {
      type: "HandleResolutionResponse",
      poolHandle: POOL,
      policy: { type: "RoundRobin" },
      poolElements: [1, 2, 3].map((i) => ({ ...element(i), policy: { type: "RoundRobin" } })),
    }, d.now)
  );
  const [first] = connectsOf(d.actions);
  assert.deepEqual(first.remote, sctp("10.0.1.1", 7000), "the first listed, not the second");
  d.do(() => pu.openSession(POOL, 10));
  const [, second] = connectsOf(d.actions);
  assert.deepEqual(second.remote, sctp("10.0.1.2", 7000));
});

Deno.test("an unreachable element is reported and leaves the cache", () => {
  const { pu, d, home } = setup();
  d.do(() => pu.resolve(POOL, 0));
  answer(pu, d, home, [element(1, 1), element(2, 2)]);
  const out = d.do(() => pu.reportUnreachable(POOL, 1, 10));
  assert.deepEqual(Driver.sent(out, home), [{
    type: "EndpointUnreachable",
    poolHandle: POOL,
    poolElementId: 1,
  }]);
  assert.deepEqual(pu.cached(POOL, 10)?.map((e) => e.identifier), [2]);
  assert.equal(pu.select(POOL, 10)?.identifier, 2);
});

Deno.test("an unknown pool: resolution-failed with the registrar's causes", () => {
  const { pu, d, home } = setup();
  d.do(() => pu.resolve(POOL, 0));
  const out = d.do(() =>
    pu.receive(home, {
      type: "HandleResolutionResponse",
      poolHandle: POOL,
      poolElements: [],
      operationError: [{ code: 9, info: new Uint8Array() }],
    }, 1)
  );
  assert.deepEqual(Driver.events(out), [{
    kind: "resolution-failed",
    poolHandle: POOL,
    causes: [{ code: 9, info: new Uint8Array() }],
  }]);
});

Deno.test("a session fails over, reports the failed element and echoes the last cookie", () => {
  const { pu, d, home } = setup();
  const { id, first } = sessionUp(pu, d, home);
  assert.deepEqual([first.protocol, first.remote], ["session", sctp("10.0.1.1", 7000)]);
  d.do(() => pu.receive(first.connection, { type: "Cookie", cookie: new Uint8Array([7, 7]) }, 20));
  d.take();
  const lost = d.do(() => pu.connectionDown(first.connection, 30));
  assert.deepEqual(Driver.sent(lost, home), [{
    type: "EndpointUnreachable",
    poolHandle: POOL,
    poolElementId: 1,
  }]);
  const [second] = connectsOf(lost);
  assert.deepEqual(second.remote, sctp("10.0.1.2", 7000));
  const up = d.do(() => pu.connectionUp(second.connection, 40));
  assert.deepEqual(Driver.sent(up, second.connection), [{
    type: "CookieEcho",
    cookie: new Uint8Array([7, 7]),
  }]);
  assert.deepEqual(
    Driver.events(up).map((e) => e.kind === "session-up" && [e.element.identifier, e.failover]),
    [[2, true]],
  );
  assert.equal(pu.session(id)?.failovers, 1);
});

Deno.test("failSession aborts the session's connection, reports the element and fails over", () => {
  const { pu, d, home } = setup();
  const { id, first } = sessionUp(pu, d, home);
  d.take();
  const failed = d.do(() => pu.failSession(id, "no answer", 20));
  assert.deepEqual(
    failed.filter((a) => a.type === "close"),
    [{ type: "close", connection: first.connection, abort: true }],
  );
  assert.deepEqual(Driver.sent(failed, home), [{
    type: "EndpointUnreachable",
    poolHandle: POOL,
    poolElementId: 1,
  }]);
  assert.deepEqual(connectsOf(failed).map((c) => c.remote), [sctp("10.0.1.2", 7000)]);
  // The old connection's loss afterwards changes nothing: it is no longer the session's.
  assert.deepEqual(d.do(() => pu.connectionDown(first.connection, 30)), []);
  assert.equal(pu.session(id)?.failovers, 1);
});

Deno.test("a Business Card decides where a session fails over to", () => {
  const { pu, d, home } = setup();
  d.do(() => pu.openSession(POOL, 0));
  answer(pu, d, home, [element(1, 1), element(2, 2), element(3, 3)]);
  const [first] = connectsOf(d.actions);
  d.do(() => pu.connectionUp(first.connection, 10));
  d.do(() =>
    pu.receive(first.connection, {
      type: "BusinessCard",
      poolHandle: POOL,
      poolElements: [element(3)],
    }, 20)
  );
  d.take();
  const [next] = connectsOf(d.do(() => pu.connectionDown(first.connection, 30)));
  assert.deepEqual(next.remote, sctp("10.0.1.3", 7000), "the card's candidate, not the least used");
});
