/**
 * The suite's own statistics and policy model: the bounds its randomized
 * policy cases rest on, and the predictions its ordered policy cases
 * compare with.
 */

import assert from "node:assert/strict";
import { OrderedPoolModel, percent } from "./policy_model.ts";
import { binomialRegion, inclusionProbabilities, lnGamma, SuiteRandom } from "./stats.ts";

function pmf(n: number, p: number, k: number): number {
  let c = 1;
  for (let i = 0; i < k; i++) c = c * (n - i) / (i + 1);
  return c * p ** k * (1 - p) ** (n - k);
}

Deno.test("lnGamma matches factorials", () => {
  let f = 1;
  for (let n = 1; n <= 20; n++) {
    f *= n;
    assert.ok(Math.abs(lnGamma(n + 1) - Math.log(f)) < 1e-10, `${n}!`);
  }
});

Deno.test("binomial acceptance regions: each tail at most alpha/2, and as tight as that allows", () => {
  for (const [n, p, alpha] of [[100, 0.5, 0.05], [600, 0.05, 1e-7], [64, 0.75, 3e-7]]) {
    const { lo, hi } = binomialRegion(n, p, alpha);
    let below = 0;
    for (let k = 0; k < lo; k++) below += pmf(n, p, k);
    let above = 0;
    for (let k = hi + 1; k <= n; k++) above += pmf(n, p, k);
    assert.ok(below <= alpha / 2 + 1e-15 && above <= alpha / 2 + 1e-15, `${n} ${p}`);
    assert.ok(below + pmf(n, p, lo) > alpha / 2, "lo is the tightest");
    assert.ok(above + pmf(n, p, hi) > alpha / 2, "hi is the tightest");
  }
  const { lo, hi } = binomialRegion(100, 0.5, 0.05);
  assert.deepEqual([lo, hi], [40, 60]);
});

Deno.test("inclusion probabilities of weighted sampling without replacement", () => {
  assert.deepEqual(inclusionProbabilities([1, 1, 1, 1], 2).map((x) => x.toFixed(6)), [
    "0.500000",
    "0.500000",
    "0.500000",
    "0.500000",
  ]);
  const p = inclusionProbabilities([1, 2, 4, 8, 16, 3], 3);
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 3) < 1e-12, "they sum to the draws");
  assert.ok(p.every((x, i) => i === 0 || x >= p[0]), "heavier is likelier");
  // Two items, one draw: proportional; a zero weight is never drawn.
  assert.deepEqual(inclusionProbabilities([1, 3], 1), [0.25, 0.75]);
  assert.deepEqual(inclusionProbabilities([0, 5, 5], 2), [0, 1, 1]);
  // Checked against sampling.
  const random = new SuiteRandom(7);
  const weights = [1, 2, 4];
  const hits = [0, 0, 0];
  for (let r = 0; r < 20000; r++) {
    const left = [0, 1, 2];
    for (let d = 0; d < 2; d++) {
      const sum = left.reduce((a, i) => a + weights[i], 0);
      let x = random.next() * sum;
      const at = left.findIndex((i) => (x -= weights[i]) < 0);
      hits[left[at]]++;
      left.splice(at, 1);
    }
  }
  inclusionProbabilities(weights, 2).forEach((q, i) =>
    assert.ok(Math.abs(hits[i] / 20000 - q) < 0.02, `item ${i}`)
  );
});

Deno.test("the ordered policy model: round robin, ties, degradation, weighted rounds", () => {
  const rr = new OrderedPoolModel(0);
  for (const id of [1, 2, 3, 4]) rr.add(id, { type: "RoundRobin" });
  assert.deepEqual([rr.select(3), rr.select(3), rr.select(3)], [[1, 2, 3], [2, 3, 4], [3, 4, 1]]);
  const rr3 = new OrderedPoolModel(3);
  for (const id of [1, 2, 3, 4]) rr3.add(id, { type: "RoundRobin" });
  assert.deepEqual([rr3.select(3), rr3.select(3)], [[1, 2, 3], [4, 1, 2]]);
  const lud = new OrderedPoolModel(0);
  lud.add(1, { type: "LeastUsedDegradation", load: percent(10), loadDegradation: percent(50) });
  lud.add(2, { type: "LeastUsedDegradation", load: percent(20), loadDegradation: 0 });
  lud.add(3, { type: "LeastUsedDegradation", load: percent(30), loadDegradation: 0 });
  lud.add(4, { type: "LeastUsedDegradation", load: percent(40), loadDegradation: 0 });
  assert.deepEqual(lud.select(3), [1, 2, 3]);
  assert.deepEqual(lud.select(3), [2, 3, 4], "1 degraded to 60 %");
  lud.update(1, { type: "LeastUsedDegradation", load: percent(10), loadDegradation: percent(50) });
  assert.deepEqual(lud.select(1), [1], "a re-registration resets the degradation");
  const wrr = new OrderedPoolModel(0);
  wrr.add(1, { type: "WeightedRoundRobin", weight: 3 });
  wrr.add(2, { type: "WeightedRoundRobin", weight: 1 });
  const firsts = Array.from({ length: 8 }, () => wrr.select(1)[0]);
  assert.deepEqual([0, 4].map((s) => firsts.slice(s, s + 4).filter((x) => x === 1).length), [3, 3]);
});
