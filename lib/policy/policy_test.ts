/**
 * Per-policy properties, exercised through the handlespace with a seeded
 * random source (RFC 5356 §3 semantics; docs/policies.md).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Handlespace } from "../handlespace/handlespace.ts";
import type { PoolElementNode } from "../handlespace/node.ts";
import type { PoolMemberSelectionPolicy } from "../protocol/types.ts";
import { MAX_POLICY_VALUE } from "./entry.ts";
import { SeededRandom } from "./random.ts";

const POOL = new TextEncoder().encode("Pool");

function space(seed = 1, maxIncrement = 0): Handlespace {
  return new Handlespace({ random: new SeededRandom(seed), maxIncrement });
}

function add(
  h: Handlespace,
  id: number,
  policy: PoolMemberSelectionPolicy,
  now = 0,
): PoolElementNode {
  return h.register(POOL, {
    identifier: id,
    homeRegistrarId: 0,
    registrationLife: 1e9,
    userTransport: { type: "SCTP", port: 1000 + id, transportUse: 0, addresses: ["10.0.0.1"] },
    policy,
  }, { now, homeRegistrarId: 7 }).node;
}

const ids = (nodes: PoolElementNode[]) => nodes.map((n) => n.identifier as number);

Deno.test("Round Robin visits every element once per cycle, in registration order", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 4 }), (n, cycles) => {
      const h = space();
      for (let i = 1; i <= n; i++) add(h, i, { type: "RoundRobin" });
      for (let c = 0; c < cycles; c++) {
        const seen = [];
        for (let i = 0; i < n; i++) seen.push(...ids(h.resolve(POOL, 1)));
        assert.deepEqual(seen, Array.from({ length: n }, (_, i) => i + 1));
      }
    }),
  );
});

Deno.test("Round Robin with several items moves on by the max increment (RSPLIB rule)", () => {
  const h = space();
  for (let i = 1; i <= 5; i++) add(h, i, { type: "RoundRobin" });
  assert.deepEqual(ids(h.resolve(POOL, 3)), [1, 2, 3]);
  assert.deepEqual(ids(h.resolve(POOL, 3)), [2, 3, 4]);
  assert.deepEqual(ids(h.resolve(POOL, 3)), [3, 4, 5]);
  const wide = space(1, 3);
  for (let i = 1; i <= 5; i++) add(wide, i, { type: "RoundRobin" });
  assert.deepEqual(ids(wide.resolve(POOL, 3)), [1, 2, 3]);
  assert.deepEqual(ids(wide.resolve(POOL, 3)), [4, 5, 1]);
  // Asking for more than the pool has returns each element once.
  assert.deepEqual(ids(wide.resolve(POOL, 9)), [2, 3, 4, 5, 1]);
});

Deno.test("Weighted Round Robin selects each element weight times per round", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 8 }),
      (weights) => {
        const h = space();
        weights.forEach((weight, i) => add(h, i + 1, { type: "WeightedRoundRobin", weight }));
        const total = weights.reduce((a, b) => a + b, 0);
        for (let round = 0; round < 3; round++) {
          const counts = new Map<number, number>();
          for (let k = 0; k < total; k++) {
            const [id] = ids(h.resolve(POOL, 1));
            counts.set(id, (counts.get(id) ?? 0) + 1);
          }
          weights.forEach((weight, i) => assert.equal(counts.get(i + 1), weight, `round ${round}`));
        }
      },
    ),
  );
});

Deno.test("Priority never selects a lower priority while a higher one exists", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 12 }),
      (priorities) => {
        const h = space();
        priorities.forEach((priority, i) => add(h, i + 1, { type: "Priority", priority }));
        const best = Math.max(...priorities);
        const atBest = priorities.filter((p) => p === best).length;
        const seen = new Set<number>();
        for (let k = 0; k < 2 * atBest; k++) {
          const [node] = h.resolve(POOL, 1);
          assert.equal(node.weight, best);
          seen.add(node.identifier as number);
        }
        assert.equal(seen.size, atBest, "round robin among equal priorities");
      },
    ),
  );
});

Deno.test("Least Used never selects a strictly more loaded element; ties go round robin", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 12 }),
      (loads) => {
        const h = space();
        loads.forEach((load, i) => add(h, i + 1, { type: "LeastUsed", load: load * 1000 }));
        const least = Math.min(...loads) * 1000;
        const tied = loads.filter((l) => l * 1000 === least).length;
        const seen = new Set<number>();
        for (let k = 0; k < tied; k++) {
          const [node] = h.resolve(POOL, 1);
          assert.equal(node.load, least);
          seen.add(node.identifier as number);
        }
        assert.equal(seen.size, tied);
        // Several items come out in load order.
        const many = h.resolve(POOL, loads.length);
        for (let i = 1; i < many.length; i++) assert.ok(many[i - 1].load <= many[i].load);
      },
    ),
  );
});

Deno.test("Least Used resolutions of 1 to 5 are the least loaded, in load order, whatever the heap's shape", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 24 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 10 }),
      (loads, removals, counts) => {
        const h = space();
        const load = new Map<number, number>();
        loads.forEach((l, i) => {
          add(h, i + 1, { type: "LeastUsed", load: l * 1000 });
          load.set(i + 1, l * 1000);
        });
        for (const r of removals) {
          if (load.size <= 1) break;
          const id = [...load.keys()][r % load.size];
          h.deregister(POOL, id);
          load.delete(id);
        }
        const sorted = [...load.values()].sort((a, b) => a - b);
        for (const count of counts) {
          const got = h.resolve(POOL, count).map((n) => n.load);
          assert.deepEqual(got, sorted.slice(0, count), `loads ${sorted} count ${count}`);
        }
      },
    ),
  );
});

Deno.test("Least Used with Degradation: each selection adds the degradation, re-registration resets it", () => {
  const h = space();
  const a = add(h, 1, { type: "LeastUsedDegradation", load: 100, loadDegradation: 50 });
  const b = add(h, 2, { type: "LeastUsedDegradation", load: 120, loadDegradation: 50 });
  assert.deepEqual([a.degradation, b.degradation], [0, 0]);
  assert.deepEqual(ids(h.resolve(POOL, 1)), [1]); // 100 < 120
  assert.equal(a.degradation, 50); // now 150 > 120
  assert.deepEqual(ids(h.resolve(POOL, 1)), [2]);
  assert.equal(b.degradation, 50); // 170 > 150
  assert.deepEqual(ids(h.resolve(POOL, 1)), [1]);
  assert.equal(a.degradation, 100);
  add(h, 1, { type: "LeastUsedDegradation", load: 100, loadDegradation: 50 }, 10); // re-registers
  assert.equal(a.degradation, 0);
  assert.deepEqual(ids(h.resolve(POOL, 1)), [1]);
  // Degradation saturates at 100 %.
  const s = space();
  const full = add(s, 1, {
    type: "LeastUsedDegradation",
    load: MAX_POLICY_VALUE - 10,
    loadDegradation: 100,
  });
  s.resolve(POOL, 1);
  assert.equal(full.key1, MAX_POLICY_VALUE);
});

Deno.test("Priority Least Used orders by load plus increment, without accumulating", () => {
  const h = space();
  add(h, 1, { type: "PriorityLeastUsed", load: 100, loadDegradation: 50 });
  add(h, 2, { type: "PriorityLeastUsed", load: 120, loadDegradation: 10 });
  for (let k = 0; k < 4; k++) assert.deepEqual(ids(h.resolve(POOL, 1)), [2]); // 130 < 150, every time
});

Deno.test("Priority Least Used with Degradation and the DPF policies order by their sums", () => {
  const h = space();
  add(h, 1, { type: "PriorityLeastUsedDegradation", load: 100, loadDegradation: 40 });
  add(h, 2, { type: "PriorityLeastUsedDegradation", load: 150, loadDegradation: 0 });
  assert.deepEqual(ids(h.resolve(POOL, 1)), [1]); // 140 < 150; now 180
  assert.deepEqual(ids(h.resolve(POOL, 1)), [2]);
  // LU-DPF: load + distance · factor · 100 %: a near element wins over a slightly less loaded far one.
  const d = space();
  const tenth = Math.round(MAX_POLICY_VALUE / 10); // 10 % load
  const perMs = Math.round(MAX_POLICY_VALUE / 1000); // 0.1 % load per ms of distance
  add(d, 1, { type: "LeastUsedDPF", load: tenth, loadDpf: perMs, distance: 100 }); // 10 % + 10 %
  add(d, 2, { type: "LeastUsedDPF", load: 2 * tenth, loadDpf: perMs, distance: 0 }); // 20 %
  add(d, 3, { type: "LeastUsedDPF", load: tenth + tenth / 2, loadDpf: perMs, distance: 0 }); // 15 %
  assert.deepEqual(ids(d.resolve(POOL, 3)), [3, 1, 2]);
});

function frequencies(h: Handlespace, draws: number, count = 1): Map<number, number> {
  const counts = new Map<number, number>();
  for (let k = 0; k < draws; k++) {
    for (const node of h.resolve(POOL, count)) {
      counts.set(node.identifier as number, (counts.get(node.identifier as number) ?? 0) + 1);
    }
  }
  return counts;
}

/** Asserts observed frequencies within 5 % (relative) of expected shares, over enough draws. */
function assertShares(
  counts: Map<number, number>,
  shares: Map<number, number>,
  draws: number,
): void {
  const total = [...shares.values()].reduce((a, b) => a + b, 0);
  for (const [id, share] of shares) {
    const expected = draws * share / total;
    const observed = counts.get(id) ?? 0;
    assert.ok(
      Math.abs(observed - expected) <= 0.05 * expected,
      `element ${id}: ${observed} draws, expected ${expected.toFixed(0)} ± 5 %`,
    );
  }
}

Deno.test("Random selects uniformly; several items are distinct", () => {
  const h = space(42);
  for (let i = 1; i <= 5; i++) add(h, i, { type: "Random" });
  const draws = 100_000;
  assertShares(frequencies(h, draws), new Map([1, 2, 3, 4, 5].map((i) => [i, 1])), draws);
  for (let k = 0; k < 100; k++) {
    const picked = ids(h.resolve(POOL, 3));
    assert.equal(new Set(picked).size, 3);
  }
  assert.equal(h.resolve(POOL, 10).length, 5);
});

Deno.test("Weighted Random converges to the weights; weight 0 is never selected", () => {
  const h = space(7);
  const weights = [1, 2, 3, 10, 0];
  weights.forEach((weight, i) => add(h, i + 1, { type: "WeightedRandom", weight }));
  const draws = 100_000;
  const counts = frequencies(h, draws);
  assertShares(counts, new Map(weights.map((w, i) => [i + 1, w])), draws);
  assert.equal(counts.get(5), undefined);
  // Without replacement: a two-item selection never repeats an element.
  for (let k = 0; k < 200; k++) assert.equal(new Set(ids(h.resolve(POOL, 2))).size, 2);
  assert.equal(h.resolve(POOL, 9).length, 4, "the weight-0 element is never drawn");
});

Deno.test("Randomized Least Used converges to the free capacities", () => {
  const h = space(9);
  const loads = [0, 0.25, 0.5, 0.75].map((f) => Math.round(f * MAX_POLICY_VALUE));
  loads.forEach((load, i) => add(h, i + 1, { type: "RandomizedLeastUsed", load }));
  const draws = 100_000;
  assertShares(
    frequencies(h, draws),
    new Map(loads.map((l, i) => [i + 1, MAX_POLICY_VALUE - l])),
    draws,
  );
});

Deno.test("Weighted Random DPF discounts the weight by distance", () => {
  const h = space(11);
  const half = Math.round(MAX_POLICY_VALUE / 200); // 0.5 % per ms
  add(h, 1, { type: "WeightedRandomDPF", weight: 1000, weightDpf: half, distance: 100 }); // 1000 · (1 − 0.5) = 500
  add(h, 2, { type: "WeightedRandomDPF", weight: 1000, weightDpf: half, distance: 0 }); // 1000
  const draws = 60_000;
  assertShares(frequencies(h, draws), new Map([[1, 500], [2, 1000]]), draws);
});

Deno.test("Randomized degradation policies shift the odds after selections", () => {
  const h = space(13);
  const a = add(h, 1, {
    type: "RandomizedLeastUsedDegradation",
    load: 0,
    loadDegradation: MAX_POLICY_VALUE / 4,
  });
  const before = a.value;
  for (let k = 0; k < 50 && a.selectionCounter === 0; k++) h.resolve(POOL, 1);
  assert.ok(
    a.degradation > 0 && a.value < before,
    "selected: its degradation grows and its value shrinks",
  );
  add(h, 1, {
    type: "RandomizedLeastUsedDegradation",
    load: 0,
    loadDegradation: MAX_POLICY_VALUE / 4,
  }, 5);
  assert.equal(a.degradation, 0);
  assert.equal(a.value, before);
});

Deno.test("every policy returns min(count, pool size) distinct elements", () => {
  const policies: PoolMemberSelectionPolicy[] = [
    { type: "RoundRobin" },
    { type: "WeightedRoundRobin", weight: 2 },
    { type: "Random" },
    { type: "WeightedRandom", weight: 3 },
    { type: "Priority", priority: 1 },
    { type: "LeastUsed", load: 5 },
    { type: "LeastUsedDegradation", load: 5, loadDegradation: 1 },
    { type: "PriorityLeastUsed", load: 5, loadDegradation: 1 },
    { type: "RandomizedLeastUsed", load: 5 },
    { type: "RandomizedPriorityLeastUsed", load: 5, loadDegradation: 1 },
    { type: "RandomizedLeastUsedDegradation", load: 5, loadDegradation: 1 },
    { type: "PriorityLeastUsedDegradation", load: 5, loadDegradation: 1 },
    { type: "RandomizedPriorityLeastUsedDegradation", load: 5, loadDegradation: 1 },
    { type: "WeightedRandomDPF", weight: 3, weightDpf: 1, distance: 2 },
    { type: "LeastUsedDPF", load: 5, loadDpf: 1, distance: 2 },
    { type: "LeastUsedDegradationDPF", load: 5, loadDegradation: 1, loadDpf: 1, distance: 2 },
    { type: "PriorityLeastUsedDPF", load: 5, loadDegradation: 1, loadDpf: 1, distance: 2 },
    {
      type: "PriorityLeastUsedDegradationDPF",
      load: 5,
      loadDegradation: 1,
      loadDpf: 1,
      distance: 2,
    },
  ];
  fc.assert(fc.property(
    fc.constantFrom(...policies),
    fc.integer({ min: 1, max: 20 }),
    fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1, maxLength: 10 }),
    fc.integer({ min: 1, max: 1000 }),
    (policy, n, counts, seed) => {
      const h = space(seed);
      for (let i = 1; i <= n; i++) add(h, i, policy);
      for (const count of counts) {
        const got = ids(h.resolve(POOL, count));
        assert.equal(got.length, Math.min(count, n), policy.type);
        assert.equal(new Set(got).size, got.length, `${policy.type}: distinct`);
      }
    },
  ));
});
