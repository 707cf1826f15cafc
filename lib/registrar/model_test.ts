/**
 * Model-based test of one registrar: random sequences of connections,
 * registrations, deregistrations, resolutions, unreachable reports,
 * silent elements, garbage bytes and passing time, against a naive model
 * of what the handlespace must hold and what each answer must say.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { SeededRandom } from "../policy/random.ts";
import { handlespaceChecksum } from "../protocol/checksum.ts";
import type { PoolMemberSelectionPolicy, RSerPoolMessage } from "../protocol/types.ts";
import { Driver } from "../testing/driver.ts";
import type { RegistrarEvent } from "./options.ts";
import { Registrar } from "./registrar.ts";

const HANDLES = ["A", "Echo", "Ping"].map((s) => new TextEncoder().encode(s));
const INTERVAL = 1000;
const TIMEOUT = 500;

interface ModelElement {
  connection: string;
  expiresAt: number;
  reports: number;
  /** Last registration or answered keep-alive. */
  lastAlive: number;
  /** A keep-alive went unanswered: it may be removed for that. */
  doomed: boolean;
}

class Model {
  now = 0;
  open = new Set<string>();
  silentSince = new Map<string, number>();
  pools = new Map<number, { policy: string; elements: Map<number, ModelElement> }>();

  remove(h: number, id: number): void {
    const pool = this.pools.get(h);
    if (pool === undefined) return;
    pool.elements.delete(id);
    if (pool.elements.size === 0) this.pools.delete(h);
  }
}

interface Real {
  r: Registrar;
  d: Driver<RegistrarEvent>;
}

function replies(real: Real, c: string, fn: () => void): RSerPoolMessage[] {
  return Driver.sent(real.d.do(fn), c);
}

function check(m: Model, real: Real): void {
  const expected: string[] = [];
  for (const [h, pool] of m.pools) {
    for (const id of pool.elements.keys()) expected.push(`${h}/${id}`);
  }
  const actual: string[] = [];
  const all: [Uint8Array, number][] = [];
  for (const pool of real.r.handlespace.allPools()) {
    const h = HANDLES.findIndex((x) =>
      x.every((b, i) => b === pool.handle[i]) && x.length === pool.handle.length
    );
    for (const node of pool.elements.values()) {
      actual.push(`${h}/${node.identifier}`);
      all.push([pool.handle, node.identifier as number]);
      assert.equal(node.homeRegistrarId, real.r.id);
    }
  }
  assert.deepEqual(actual.sort(), expected.sort());
  assert.equal(real.r.status().checksum, handlespaceChecksum(all));
}

/**
 * Carries out a registrar's actions as the elements would: keep-alives on
 * connections that are not silent are answered, on silent ones they doom
 * their elements; removals are checked against the model.
 */
function play(m: Model, real: Real, out: ReturnType<Driver<RegistrarEvent>["advance"]>): void {
  for (const a of out) {
    if (
      a.type === "send" && a.message.type === "EndpointKeepAlive" &&
      !m.silentSince.has(a.connection)
    ) {
      const ka = a.message;
      for (const [h, pool] of m.pools) {
        for (const [id, e] of pool.elements) {
          if (
            e.connection === a.connection && HANDLES[h].every((b, i) => b === ka.poolHandle[i])
          ) {
            e.lastAlive = real.d.now;
            real.d.do(() =>
              real.r.receive(a.connection, {
                type: "EndpointKeepAliveAck",
                poolHandle: ka.poolHandle,
                poolElementId: id,
              }, real.d.now)
            );
          }
        }
      }
    }
    if (
      a.type === "send" && a.message.type === "EndpointKeepAlive" &&
      m.silentSince.has(a.connection)
    ) {
      const ka = a.message;
      for (const [h, pool] of m.pools) {
        for (const e of pool.elements.values()) {
          if (
            e.connection === a.connection && HANDLES[h].every((b, i) => b === ka.poolHandle[i])
          ) e.doomed = true;
        }
      }
    }
    if (a.type === "event" && a.event.kind === "removed") {
      const node = a.event.node;
      const h = HANDLES.findIndex((x) =>
        x.length === node.poolHandle.length && x.every((b, i) => b === node.poolHandle[i])
      );
      const e = m.pools.get(h)?.elements.get(node.identifier as number);
      assert.ok(e, "removed an element the model has");
      if (a.event.reason === "keep-alive") {
        assert.ok(e.doomed, "only elements that left a keep-alive unanswered fail it");
      } else if (a.event.reason === "unreachable") {
        assert.ok(e.reports >= 3, "removed for unreachability only at MAX-BAD-PE-REPORT (3)");
      } else {
        assert.equal(a.event.reason, "expired");
        assert.ok(e.expiresAt <= real.d.now, "expired only when its life is over");
      }
      m.remove(h, node.identifier as number);
    }
  }
}

/** Lets time pass in steps, answering keep-alives on connections that are not silent. */
function advance(m: Model, real: Real, to: number): void {
  for (let t = Math.min(real.d.now + 100, to);; t = Math.min(t + 100, to)) {
    play(m, real, real.d.advance(t));
    if (t >= to) break;
  }
  m.now = to;
  // Whatever must be gone by now is gone.
  for (const [h, pool] of m.pools) {
    for (const [id, e] of pool.elements) {
      assert.ok(e.expiresAt > m.now, `${h}/${id} outlived its registration`);
      const since = m.silentSince.get(e.connection);
      const limit = since === undefined
        ? Infinity
        : Math.max(since, e.lastAlive) + INTERVAL + TIMEOUT + 1;
      assert.ok(m.now < limit, `${h}/${id} silent but kept`);
    }
  }
}

type Cmd = fc.Command<Model, Real>;

const command = (
  name: string,
  run: (m: Model, r: Real) => void,
  ok: (m: Model) => boolean = () => true,
): Cmd => ({
  check: ok,
  run: (m, r) => {
    run(m, r);
    check(m, r);
  },
  toString: () => name,
});

const policies: PoolMemberSelectionPolicy[] = [{ type: "RoundRobin" }, {
  type: "LeastUsed",
  load: 9,
}];

const connection = fc.constantFrom("c0", "c1", "c2");
const handle = fc.integer({ min: 0, max: HANDLES.length - 1 });
const id = fc.integer({ min: 1, max: 5 });

const commands = [
  connection.map((c) =>
    command(`open ${c}`, (m, r) => {
      r.d.do(() =>
        r.r.accepted(c, "asap", { address: "10.0.0.9", port: 40000 + c.charCodeAt(1) }, r.d.now)
      );
      m.open.add(c);
    }, (m) => !m.open.has(c))
  ),
  connection.map((c) =>
    command(`close ${c}`, (m, r) => {
      r.d.do(() => r.r.connectionDown(c, r.d.now));
      m.open.delete(c);
      m.silentSince.delete(c);
      for (const [h, pool] of [...m.pools]) {
        for (const [i, e] of [...pool.elements]) if (e.connection === c) m.remove(h, i);
      }
    }, (m) => m.open.has(c))
  ),
  connection.map((c) =>
    command(`silence ${c}`, (m, r) => {
      m.silentSince.set(c, r.d.now);
    }, (m) => m.open.has(c) && !m.silentSince.has(c))
  ),
  fc.tuple(connection, handle, id, fc.constantFrom(0, 1), fc.integer({ min: 500, max: 5000 })).map((
    [c, h, i, p, life],
  ) =>
    command(`register ${c} ${h}/${i} ${policies[p].type} life ${life}`, (m, r) => {
      const [response] = replies(r, c, () =>
        r.r.receive(c, {
          type: "Registration",
          poolHandle: HANDLES[h],
          poolElement: {
            identifier: i,
            homeRegistrarId: 0,
            registrationLife: life,
            userTransport: { type: "SCTP", port: 7000, transportUse: 0, addresses: ["10.0.0.9"] },
            policy: policies[p],
          },
        }, r.d.now));
      assert.equal(response.type, "RegistrationResponse");
      const pool = m.pools.get(h);
      if (pool !== undefined && pool.policy !== policies[p].type) {
        assert.equal(
          response.type === "RegistrationResponse" && response.operationError?.[0].code,
          5,
        );
        return;
      }
      assert.equal(response.type === "RegistrationResponse" && response.reject, false);
      const target = pool ?? { policy: policies[p].type, elements: new Map() };
      m.pools.set(h, target);
      target.elements.set(i, {
        connection: c,
        expiresAt: r.d.now + life,
        // Unreachable reports count until the element re-registers.
        reports: 0,
        lastAlive: r.d.now,
        doomed: false,
      });
    }, (m) => m.open.has(c))
  ),
  fc.tuple(connection, handle, id).map(([c, h, i]) =>
    command(`deregister ${c} ${h}/${i}`, (m, r) => {
      const [response] = replies(
        r,
        c,
        () =>
          r.r.receive(
            c,
            { type: "Deregistration", poolHandle: HANDLES[h], poolElementId: i },
            r.d.now,
          ),
      );
      assert.equal(response.type, "DeregistrationResponse");
      const e = m.pools.get(h)?.elements.get(i);
      if (e !== undefined && e.connection !== c) {
        // Not by proxy (RFC 5352 §2.2.2): refused, the element stays.
        assert.equal(
          response.type === "DeregistrationResponse" && response.operationError?.[0].code,
          0x000a,
        );
        return;
      }
      // Granted, also for an element or pool the registrar does not know (RFC 5352 §3.2).
      assert.equal(
        response.type === "DeregistrationResponse" && response.operationError,
        undefined,
      );
      m.remove(h, i);
    }, (m) => m.open.has(c))
  ),
  fc.tuple(connection, handle, fc.integer({ min: 0, max: 6 })).map(([c, h, items]) =>
    command(`resolve ${c} ${h} items ${items}`, (m, r) => {
      const [response] = replies(
        r,
        c,
        () =>
          r.r.receive(c, {
            type: "HandleResolution",
            poolHandle: HANDLES[h],
            ...(items ? { items } : {}),
          }, r.d.now),
      );
      assert.equal(response.type, "HandleResolutionResponse");
      if (response.type !== "HandleResolutionResponse") return;
      const pool = m.pools.get(h);
      if (pool === undefined) {
        assert.equal(response.operationError?.[0].code, 9);
        return;
      }
      const ids = response.poolElements.map((e) => e.identifier as number);
      assert.equal(ids.length, Math.min(items || 3, pool.elements.size));
      assert.equal(new Set(ids).size, ids.length);
      for (const x of ids) assert.ok(pool.elements.has(x));
    }, (m) => m.open.has(c))
  ),
  fc.tuple(connection, handle, id).map(([c, h, i]) =>
    command(`unreachable ${c} ${h}/${i}`, (m, r) => {
      const e = m.pools.get(h)?.elements.get(i);
      if (e !== undefined) e.reports++;
      // Below the threshold the registrar checks on the element at once (RFC 5352 §3.5);
      // at it, the registrar removes the element (its "removed" event updates the model).
      play(
        m,
        r,
        r.d.do(() =>
          r.r.receive(
            c,
            { type: "EndpointUnreachable", poolHandle: HANDLES[h], poolElementId: i },
            r.d.now,
          )
        ),
      );
      if (e !== undefined && e.reports >= 3) {
        assert.ok(!m.pools.get(h)?.elements.has(i), "removed at MAX-BAD-PE-REPORT (3)");
      }
    }, (m) => m.open.has(c))
  ),
  fc.tuple(connection, fc.uint8Array({ minLength: 0, maxLength: 40 })).map(([c, bytes]) =>
    command(`garbage on ${c}`, (_m, r) => {
      const out = replies(r, c, () => r.r.receiveBytes(c, bytes, r.d.now));
      for (const m of out) assert.ok(m.type === "AsapError" || m.type.endsWith("Response"), m.type);
    }, (m) => m.open.has(c))
  ),
  fc.integer({ min: 1, max: 3000 }).map((ms) =>
    command(`advance ${ms}`, (m, r) => advance(m, r, r.d.now + ms))
  ),
];

Deno.test("one registrar behaves like the model under random event sequences", () => {
  fc.assert(
    fc.property(fc.commands(commands, { maxCommands: 100, size: "max" }), (cmds) => {
      fc.modelRun(() => {
        const r = new Registrar({
          id: 0x1,
          enrpTransport: { type: "SCTP", port: 9901, transportUse: 0, addresses: ["10.0.0.1"] },
          random: new SeededRandom(1),
          announce: false,
          timers: { keepAliveInterval: INTERVAL, keepAliveTimeout: TIMEOUT },
        });
        const d = new Driver<RegistrarEvent>(r);
        d.do(() => r.start(0));
        return { model: new Model(), real: { r, d } };
      }, cmds);
    }),
    { numRuns: 500 },
  );
});
