/**
 * Model-based test: random sequences of register / update / deregister /
 * expire / resolve / takeover against a deliberately naive reference model
 * (plain maps, a full sort per selection, checksums recomputed from
 * scratch). After every command the two must agree on contents, owners,
 * expiry, checksums and, for the deterministic policies, on exactly which
 * elements a resolution returns.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ProtocolError } from "../errors.ts";
import { MAX_POLICY_VALUE } from "../policy/entry.ts";
import { SeededRandom } from "../policy/random.ts";
import { handlespaceChecksum } from "../protocol/checksum.ts";
import type { PoolMemberSelectionPolicy } from "../protocol/types.ts";
import { Handlespace } from "./handlespace.ts";

const HANDLES = ["A", "Echo", "PingPong", "Odd"].map((s) => new TextEncoder().encode(s));

interface ModelElement {
  id: number;
  owner: number;
  policy: PoolMemberSelectionPolicy;
  expiresAt: number;
  seq: number;
  degradation: number;
  round: number;
  virtual: number;
}

interface ModelPool {
  policy: string;
  sequence: number;
  elements: Map<number, ModelElement>;
}

const v = (p: PoolMemberSelectionPolicy, field: string) =>
  (p as unknown as Record<string, number | undefined>)[field] ?? 0;
const sat = (x: number) => Math.min(x, MAX_POLICY_VALUE);

/** Sort key of the deterministic policies, written out plainly. */
function key(e: ModelElement): number[] {
  const p = e.policy;
  switch (p.type) {
    case "RoundRobin":
      return [e.seq];
    case "WeightedRoundRobin":
      return [e.round, e.virtual, e.seq];
    case "Priority":
      return [-p.priority, e.seq];
    case "LeastUsed":
      return [p.load, e.seq];
    case "LeastUsedDegradation":
      return [sat(p.load + e.degradation), e.seq];
    case "PriorityLeastUsed":
      return [sat(p.load + p.loadDegradation), e.seq];
    default:
      throw new Error(`no model order for ${p.type}`);
  }
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

class Model {
  now = 0;
  pools = new Map<number, ModelPool>();
}

type Real = Handlespace;

const DETERMINISTIC = new Set([
  "RoundRobin",
  "WeightedRoundRobin",
  "Priority",
  "LeastUsed",
  "LeastUsedDegradation",
  "PriorityLeastUsed",
]);

function check(m: Model, r: Real): void {
  const expected: string[] = [];
  const owned = new Map<number, [Uint8Array, number][]>();
  let next: number | undefined;
  for (const [h, pool] of m.pools) {
    for (const e of pool.elements.values()) {
      expected.push(`${h}/${e.id}/${e.owner}/${e.policy.type}/${e.expiresAt}`);
      const list = owned.get(e.owner) ?? [];
      list.push([HANDLES[h], e.id]);
      owned.set(e.owner, list);
      next = next === undefined ? e.expiresAt : Math.min(next, e.expiresAt);
    }
  }
  const actual: string[] = [];
  for (const pool of r.allPools()) {
    const h = HANDLES.findIndex((x) =>
      x.length === pool.handle.length && x.every((b, i) => b === pool.handle[i])
    );
    for (const node of pool.elements.values()) {
      actual.push(
        `${h}/${node.identifier}/${node.homeRegistrarId}/${node.policy.type}/${node.expiresAt}`,
      );
    }
  }
  assert.deepEqual(actual.sort(), expected.sort());
  assert.equal(r.nextExpiry(), next);
  assert.equal(r.poolCount, m.pools.size);
  const all = [...owned.values()].flat();
  assert.equal(r.checksum(), handlespaceChecksum(all));
  assert.equal(r.checksum(undefined, "internet32"), handlespaceChecksum(all, 32));
  for (const owner of [1, 2, 3]) {
    const mine = owned.get(owner) ?? [];
    assert.equal(r.ownedCount(owner), mine.length);
    assert.equal(r.checksum(owner), handlespaceChecksum(mine));
    assert.equal(r.checksum(owner, "internet32"), handlespaceChecksum(mine, 32));
    assert.equal(r.checksum(owner, "rsplib16"), handlespaceChecksum(mine));
  }
}

class Register implements fc.Command<Model, Real> {
  constructor(
    readonly handle: number,
    readonly id: number,
    readonly policy: PoolMemberSelectionPolicy,
    readonly owner: number,
    readonly life: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const pool = m.pools.get(this.handle);
    const element = {
      identifier: this.id,
      homeRegistrarId: 0,
      registrationLife: this.life,
      userTransport: { type: "SCTP" as const, port: 1, transportUse: 0, addresses: ["10.0.0.1"] },
      policy: this.policy,
    };
    const ctx = { now: m.now, homeRegistrarId: this.owner };
    if (pool !== undefined && pool.policy !== this.policy.type) {
      assert.throws(
        () => r.register(HANDLES[this.handle], element, ctx),
        (e) => e instanceof ProtocolError && e.errorCause === 5,
      );
    } else {
      const result = r.register(HANDLES[this.handle], element, ctx);
      const target = pool ?? { policy: this.policy.type, sequence: 0, elements: new Map() };
      m.pools.set(this.handle, target);
      const existing = target.elements.get(this.id);
      assert.equal(result.added, existing === undefined);
      const weight = v(this.policy, "weight");
      if (existing === undefined) {
        // New: next sequence number; WRR joins the round of the first in order.
        const first = this.policy.type === "WeightedRoundRobin"
          ? [...target.elements.values()].sort((a, b) => compareKeys(key(a), key(b)))[0]
          : undefined;
        target.elements.set(this.id, {
          id: this.id,
          owner: this.owner,
          policy: this.policy,
          expiresAt: m.now + this.life,
          seq: target.sequence++,
          degradation: 0,
          round: this.policy.type === "WeightedRoundRobin" && first ? first.round : 0,
          virtual: this.policy.type === "WeightedRoundRobin" ? weight : 0,
        });
      } else {
        // Update: same place in the order, degradation reset, WRR counter capped.
        existing.owner = this.owner;
        existing.policy = this.policy;
        existing.expiresAt = m.now + this.life;
        existing.degradation = 0;
        if (existing.virtual > weight) existing.virtual = weight;
      }
    }
    check(m, r);
  }
  toString(): string {
    return `register(${this.handle}, ${this.id}, ${this.policy.type}, owner ${this.owner}, life ${this.life})`;
  }
}

class Deregister implements fc.Command<Model, Real> {
  constructor(readonly handle: number, readonly id: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const pool = m.pools.get(this.handle);
    const had = pool?.elements.delete(this.id) ?? false;
    if (pool && pool.elements.size === 0) m.pools.delete(this.handle);
    assert.equal(r.deregister(HANDLES[this.handle], this.id) !== undefined, had);
    check(m, r);
  }
  toString(): string {
    return `deregister(${this.handle}, ${this.id})`;
  }
}

class Advance implements fc.Command<Model, Real> {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    m.now += this.ms;
    const expired: string[] = [];
    for (const [h, pool] of m.pools) {
      for (const e of [...pool.elements.values()]) {
        if (e.expiresAt <= m.now) {
          pool.elements.delete(e.id);
          expired.push(`${h}/${e.id}`);
        }
      }
      if (pool.elements.size === 0) m.pools.delete(h);
    }
    const removed = r.expire(m.now).map((n) =>
      `${HANDLES.indexOf(HANDLES.find((x) => poolEq(x, n.poolHandle))!)}/${n.identifier}`
    );
    assert.deepEqual(removed.sort(), expired.sort());
    check(m, r);
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

function poolEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

class Resolve implements fc.Command<Model, Real> {
  constructor(readonly handle: number, readonly count: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const got = r.resolve(HANDLES[this.handle], this.count).map((n) => n.identifier as number);
    const pool = m.pools.get(this.handle);
    if (pool === undefined) {
      assert.deepEqual(got, []);
    } else if (DETERMINISTIC.has(pool.policy)) {
      const ordered = [...pool.elements.values()].sort((a, b) => compareKeys(key(a), key(b)));
      const chosen = ordered.slice(0, this.count);
      assert.deepEqual(got, chosen.map((e) => e.id));
      // Move on the first (max increment 1): new sequence number, policy update.
      const e = chosen[0];
      e.seq = pool.sequence++;
      if (e.policy.type === "LeastUsedDegradation") {
        e.degradation = sat(e.degradation + e.policy.loadDegradation);
      }
      if (e.policy.type === "WeightedRoundRobin") {
        if (e.virtual > 1) e.virtual--;
        else {
          e.round++;
          e.virtual = e.policy.weight;
        }
      }
    } else {
      // Randomized: distinct members of the pool, as many as possible (weights are never 0 here).
      assert.equal(got.length, Math.min(this.count, pool.elements.size));
      assert.equal(new Set(got).size, got.length);
      for (const id of got) assert.ok(pool.elements.has(id));
      // Every selection draws a new sequence number per element drawn.
      pool.sequence += got.length;
    }
    check(m, r);
  }
  toString(): string {
    return `resolve(${this.handle}, ${this.count})`;
  }
}

class Takeover implements fc.Command<Model, Real> {
  constructor(readonly from: number, readonly to: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    let moved = 0;
    for (const pool of m.pools.values()) {
      for (const e of pool.elements.values()) {
        if (e.owner === this.from) {
          e.owner = this.to;
          moved++;
        }
      }
    }
    assert.equal(
      r.changeOwner(this.from, this.to).length,
      this.from === this.to ? r.ownedCount(this.to) : moved,
    );
    check(m, r);
  }
  toString(): string {
    return `takeover(${this.from} -> ${this.to})`;
  }
}

const load = fc.oneof(
  fc.constantFrom(0, 1000, MAX_POLICY_VALUE),
  fc.integer({ min: 0, max: 5000 }),
);
const policy: fc.Arbitrary<PoolMemberSelectionPolicy> = fc.oneof(
  fc.constant({ type: "RoundRobin" as const }),
  fc.integer({ min: 1, max: 4 }).map((weight) => ({ type: "WeightedRoundRobin" as const, weight })),
  fc.integer({ min: 0, max: 3 }).map((priority) => ({ type: "Priority" as const, priority })),
  load.map((l) => ({ type: "LeastUsed" as const, load: l })),
  fc.tuple(load, load).map(([l, d]) => ({
    type: "LeastUsedDegradation" as const,
    load: l,
    loadDegradation: d,
  })),
  fc.tuple(load, load).map(([l, d]) => ({
    type: "PriorityLeastUsed" as const,
    load: l,
    loadDegradation: d,
  })),
  fc.constant({ type: "Random" as const }),
  fc.integer({ min: 1, max: 9 }).map((weight) => ({ type: "WeightedRandom" as const, weight })),
  load.map((l) => ({ type: "RandomizedLeastUsed" as const, load: l })),
);

const handle = fc.integer({ min: 0, max: HANDLES.length - 1 });
const id = fc.constantFrom(1, 2, 3, 0x1234, 0x12345678, 0xfffffffe);
const owner = fc.integer({ min: 1, max: 3 });

const commands = [
  fc.tuple(handle, id, policy, owner, fc.integer({ min: 1, max: 400 })).map(([h, i, p, o, l]) =>
    new Register(h, i, p, o, l)
  ),
  fc.tuple(handle, id).map(([h, i]) => new Deregister(h, i)),
  fc.integer({ min: 0, max: 150 }).map((ms) => new Advance(ms)),
  fc.tuple(handle, fc.integer({ min: 1, max: 5 })).map(([h, n]) => new Resolve(h, n)),
  fc.tuple(owner, owner).map(([from, to]) => new Takeover(from, to)),
];

Deno.test("the handlespace behaves like the naive model under random command sequences", () => {
  fc.assert(
    fc.property(
      fc.integer(),
      fc.commands(commands, { maxCommands: 80, size: "max" }),
      (seed, cmds) => {
        fc.modelRun(
          () => ({ model: new Model(), real: new Handlespace({ random: new SeededRandom(seed) }) }),
          cmds,
        );
      },
    ),
    { numRuns: 300 },
  );
});
