/**
 * The registrar's pool member selection (RFC 5356, and RSPLIB's policies):
 * which elements a handle resolution lists. Deterministic policies are
 * checked exactly against the suite's own model (`policy_model.ts`, the
 * rules of docs/policies.md) with the target's `maxIncrement`; randomized
 * ones statistically, with exact binomial bounds whose false-failure
 * probability is below 1e-6 per case.
 *
 * Every case lists the elements by letter (A, B, …, in registration order)
 * in its evidence.
 *
 * @module
 */

import type {
  HandleResolutionResponse,
  Identifier,
  PoolMemberSelectionPolicy,
} from "../../lib/protocol/types.ts";
import type { CaseContext } from "../context.ts";
import type { Peer } from "../peer.ts";
import type { ConformanceCase, Feature, TargetTimers } from "../types.ts";
import { causes, hexId, registerOk, sameBytes } from "./helpers.ts";
import { degrades, FULL, OrderedPoolModel, percent } from "./policy_model.ts";
import { binomialRegion, inclusionProbabilities } from "./stats.ts";

/** The false-failure probability each statistical case allows in all. */
export const FALSE_FAILURE = 1e-6;

/** Time limit of a policy case. */
export const policyTime = (t: TargetTimers) => 10 * t.slack + 20_000;

/** A pool registered at the target, its elements named A, B, C, … */
export interface TestPool {
  readonly handle: Uint8Array;
  readonly ids: Identifier[];
  readonly peer: Peer;
  readonly name: (id: Identifier) => string;
}

/** How many pools each running case registered so far. */
const poolsOf = new WeakMap<CaseContext, number>();

/** Registers one element per policy, in order, and answers their keep-alives. */
export async function registerPool(
  ctx: CaseContext,
  policies: readonly PoolMemberSelectionPolicy[],
): Promise<TestPool> {
  const peer = await ctx.asap();
  // A case's first pool has the case's handle, further ones a suffix.
  const count = poolsOf.get(ctx) ?? 0;
  poolsOf.set(ctx, count + 1);
  const handle = ctx.poolHandle(count === 0 ? "" : `-${count + 1}`);
  const ids = policies.map(() => ctx.identifier());
  peer.answerKeepAlives(handle, ...ids);
  for (let i = 0; i < ids.length; i++) {
    await registerOk(ctx, peer, handle, ids[i], { policy: policies[i] });
  }
  const letter = (i: number) => String.fromCharCode(65 + i);
  ctx.note(
    `pool: ${
      ids.map((id, i) => `${letter(i)}=${hexId(id)} ${JSON.stringify(policies[i])}`).join("; ")
    }`,
  );
  return {
    handle,
    ids,
    peer,
    name: (id) => ids.includes(id) ? letter(ids.indexOf(id)) : hexId(id),
  };
}

/** Registers one more element in a pool (it gets the next letter). */
export async function addElement(
  ctx: CaseContext,
  pool: TestPool,
  policy: PoolMemberSelectionPolicy,
): Promise<Identifier> {
  const id = ctx.identifier();
  pool.peer.answerKeepAlives(pool.handle, id);
  await registerOk(ctx, pool.peer, pool.handle, id, { policy });
  pool.ids.push(id);
  ctx.note(`${pool.name(id)}=${hexId(id)} ${JSON.stringify(policy)} registered`);
  return id;
}

/** Deregisters an element of a pool and waits for the Deregistration Response. */
export async function deregister(ctx: CaseContext, pool: TestPool, id: Identifier): Promise<void> {
  pool.peer.send({ type: "Deregistration", poolHandle: pool.handle, poolElementId: id });
  await ctx.expecting(() =>
    pool.peer.expectType(
      "DeregistrationResponse",
      ctx.answerTime,
      `a Deregistration Response for ${pool.name(id)}`,
    )
  );
}

/** Re-registers element `index` of a pool with a new policy. */
export async function reregister(
  ctx: CaseContext,
  pool: TestPool,
  index: number,
  policy: PoolMemberSelectionPolicy,
): Promise<void> {
  await registerOk(ctx, pool.peer, pool.handle, pool.ids[index], { policy });
  ctx.note(`${pool.name(pool.ids[index])} re-registered with ${JSON.stringify(policy)}`);
}

/**
 * Sends `count` handle resolutions (pipelined, in batches) and returns the
 * responses in order. Each must list only distinct elements of the pool.
 */
export async function resolveMany(
  ctx: CaseContext,
  pool: TestPool,
  count: number,
  peer?: Peer,
): Promise<HandleResolutionResponse[]> {
  const pu = peer ?? await ctx.asap();
  const out: HandleResolutionResponse[] = [];
  const known = new Set(pool.ids);
  for (let done = 0; done < count;) {
    const batch = Math.min(50, count - done);
    for (let i = 0; i < batch; i++) pu.send({ type: "HandleResolution", poolHandle: pool.handle });
    for (let i = 0; i < batch; i++) {
      const r = await ctx.expecting(() =>
        pu.expectType(
          "HandleResolutionResponse",
          ctx.answerTime + 2 * ctx.timers.slack,
          `Handle Resolution Response ${done + i + 1} of ${count}`,
          (m) => sameBytes(m.poolHandle, pool.handle),
        )
      );
      const ids = r.poolElements.map((e) => e.identifier);
      ctx.must(
        ids.length > 0,
        "elements in every response",
        `none (${causes(r.operationError)})`,
      );
      ctx.must(
        new Set(ids).size === ids.length,
        "no element twice in one response",
        ids.map(pool.name).join(","),
      );
      ctx.must(
        ids.every((id) => known.has(id)),
        "only elements of the pool",
        `unknown ${ids.filter((id) => !known.has(id)).map(hexId).join(", ")}`,
      );
      out.push(r);
    }
    done += batch;
  }
  return out;
}

/** A response's elements by letter. */
export const listOf = (pool: TestPool, r: HandleResolutionResponse) =>
  r.poolElements.map((e) => pool.name(e.identifier)).join(",");

/** Effective max increment of an ordered policy. */
function increment(ctx: CaseContext): number {
  return ctx.timers.maxIncrement === 0 ? 1 : ctx.timers.maxIncrement;
}

/**
 * Compares every response with the model's prediction; a difference is a
 * SHOULD shortfall (the exact order is RSPLIB's rule, docs/policies.md).
 */
function compareWithModel(
  ctx: CaseContext,
  pool: TestPool,
  responses: readonly HandleResolutionResponse[],
  predict: () => Identifier[],
  what: string,
  level: "should" | "note" = "should",
): void {
  for (let i = 0; i < responses.length; i++) {
    const expected = predict();
    const got = responses[i].poolElements.map((e) => e.identifier);
    if (expected.length !== got.length || expected.some((id, k) => id !== got[k])) {
      const requirement = `${what}: response ${i + 1} lists ${expected.map(pool.name).join(",")}`;
      const seen = `${got.map(pool.name).join(",")} (responses so far: ${
        responses.slice(0, i + 1).map((r) => listOf(pool, r)).join(" | ")
      })`;
      if (level === "should") ctx.should(false, requirement, seen);
      else ctx.note(`not the model's order (the RFC leaves it open): ${requirement}; got ${seen}`);
      return;
    }
  }
  ctx.note(
    `every response as the model predicts: ${responses.map((r) => listOf(pool, r)).join(" | ")}`,
  );
}

/** The number of elements a response lists (from the first one), with a note. */
function itemsPerResponse(ctx: CaseContext, pool: TestPool, first: HandleResolutionResponse) {
  const n = first.poolElements.length;
  ctx.note(`the target lists ${n} of the pool's ${pool.ids.length} elements per resolution`);
  const declared = ctx.timers.handleResolutionItems;
  ctx.should(
    n === Math.min(declared, pool.ids.length),
    `as many elements per resolution as the target's declared number (${declared}), or all of a smaller pool`,
    `${n} of ${pool.ids.length}`,
  );
  return n;
}

/**
 * The distances the target selects by. Under draft-dreibholz-rserpool-delay
 * the home registrar sets a DPF element's Distance itself (RSPLIB: half the
 * SRTT of the element's ASAP association, in 50 ms steps) and ignores the
 * value the element registered, so the cases take each element's distance
 * from the responses that list it. An element never listed keeps its
 * registered distance when the target kept every listed one; otherwise it
 * gets the one distance the target reported for all listed elements (ours
 * all register over one association); anything else cannot be predicted.
 * `observable` is false when every element ends up with the same distance:
 * the penalty then orders nothing.
 */
function targetDistances(
  ctx: CaseContext,
  pool: TestPool,
  responses: readonly HandleResolutionResponse[],
  registered: readonly PoolMemberSelectionPolicy[],
): { policies: PoolMemberSelectionPolicy[]; observable: boolean } {
  const reported = new Map<Identifier, number>();
  for (const r of responses) {
    for (const e of r.poolElements) {
      if ("distance" in e.policy) reported.set(e.identifier, e.policy.distance);
    }
  }
  const distanceOf = (p: PoolMemberSelectionPolicy) => "distance" in p ? p.distance : 0;
  const kept = pool.ids.every((id, i) =>
    !reported.has(id) || reported.get(id) === distanceOf(registered[i])
  );
  const listed = [...new Set(reported.values())];
  if (!kept && listed.length !== 1) {
    ctx.unsupported(
      `the target set the elements' distances itself (${
        pool.ids.map((id) => `${pool.name(id)} ${reported.get(id) ?? "?"} ms`).join(", ")
      }), differently for elements of one association: what it selects cannot be predicted`,
    );
  }
  const fallback = (i: number) => kept ? distanceOf(registered[i]) : listed[0];
  const policies = registered.map((p, i) =>
    "distance" in p ? { ...p, distance: reported.get(pool.ids[i]) ?? fallback(i) } : p
  );
  const effective = policies.map(distanceOf);
  if (!kept) {
    ctx.note(
      `the target set the distances itself (draft-dreibholz-rserpool-delay: the home registrar ` +
        `measures them), using ${
          pool.ids.map((id, i) => `${pool.name(id)} ${effective[i]} ms`).join(", ")
        } (registered ${registered.map(distanceOf).join(", ")})`,
    );
  }
  return { policies, observable: new Set(effective).size > 1 };
}

/** Ends a DPF case whose distances were all the same as not observable (after its checks held). */
function penaltyObserved(ctx: CaseContext, observable: boolean): void {
  if (!observable) {
    ctx.unsupported(
      "the target gave every element the same distance (it measures them itself, and ours all " +
        "come over one association): the distance penalty was not observable; everything else held",
    );
  }
}

/** An ordered-policy case: MUST `check` on the responses, SHOULD the model's exact sequence. */
function orderedCase(spec: {
  readonly id: string;
  readonly ref: string;
  readonly requirement: string;
  readonly feature: Feature;
  readonly policies: (n: number) => PoolMemberSelectionPolicy[];
  readonly resolutions: number;
  /** Steps between resolutions: after resolution `after`, re-register element `index`. */
  readonly updates?: readonly { after: number; index: number; policy: PoolMemberSelectionPolicy }[];
  /**
   * DPF policies: judge by the distances the target reports (`targetDistances`);
   * "penalty": the case is about the penalty, so it cannot pass unless the
   * distances differ; "incidental": a note is enough.
   */
  readonly distances?: "penalty" | "incidental";
  /**
   * How a difference from the model's exact sequence counts: "should" (the
   * default), or "note" where the RFC leaves the order open.
   */
  readonly exactOrder?: "should" | "note";
  readonly check: (
    ctx: CaseContext,
    pool: TestPool,
    responses: HandleResolutionResponse[],
    policies: PoolMemberSelectionPolicy[],
  ) => void;
}): ConformanceCase {
  return {
    id: spec.id,
    ref: spec.ref,
    requirement: spec.requirement,
    level: "MUST",
    role: "registrar-asap",
    features: [spec.feature],
    timeout: policyTime,
    async run(ctx) {
      const declared = ctx.timers.handleResolutionItems;
      const registered = spec.policies(declared);
      const pool = await registerPool(ctx, registered);
      const pu = await ctx.asap();
      const responses: HandleResolutionResponse[] = [];
      let n = 0;
      for (let i = 0; i < spec.resolutions; i++) {
        const [r] = await resolveMany(ctx, pool, 1, pu);
        if (i === 0) n = itemsPerResponse(ctx, pool, r);
        responses.push(r);
        for (const u of spec.updates ?? []) {
          if (u.after === i + 1) await reregister(ctx, pool, u.index, u.policy);
        }
      }
      ctx.note(`responses: ${responses.map((r) => listOf(pool, r)).join(" | ")}`);
      const effective = spec.distances === undefined
        ? { policies: registered, observable: true }
        : targetDistances(ctx, pool, responses, registered);
      // The model replays the case: the same resolutions and re-registrations.
      const policies = [...effective.policies];
      const model = new OrderedPoolModel(ctx.timers.maxIncrement);
      policies.forEach((p, i) => model.add(pool.ids[i], p));
      const predictions: Identifier[][] = [];
      for (let i = 0; i < responses.length; i++) {
        predictions.push(model.select(n));
        for (const u of spec.updates ?? []) {
          if (u.after !== i + 1) continue;
          model.update(pool.ids[u.index], u.policy);
          policies[u.index] = u.policy;
        }
      }
      spec.check(ctx, pool, responses, policies);
      let k = 0;
      compareWithModel(
        ctx,
        pool,
        responses,
        () => predictions[k++],
        `with max increment ${increment(ctx)}, ties round robin`,
        spec.exactOrder ?? "should",
      );
      if (spec.distances === "penalty") penaltyObserved(ctx, effective.observable);
      else if (!effective.observable) {
        ctx.note("every element had the same distance: the distance penalty ordered nothing");
      }
    },
  };
}

/**
 * MUST: every response lists the best elements by `rank` (lower is
 * better): no listed element ranks worse than one left out.
 */
function bestFirst(
  ctx: CaseContext,
  pool: TestPool,
  responses: readonly HandleResolutionResponse[],
  rank: (index: number, response: number) => number,
  what: string,
): void {
  responses.forEach((r, k) => {
    const listed = new Set(r.poolElements.map((e) => e.identifier));
    const worstIn = Math.max(
      ...pool.ids.map((id, i) => listed.has(id) ? rank(i, k) : -Infinity),
    );
    const bestOut = Math.min(
      ...pool.ids.map((id, i) => listed.has(id) ? Infinity : rank(i, k)),
    );
    ctx.must(
      worstIn <= bestOut,
      `response ${k + 1} listing the elements with the ${what}`,
      `${listOf(pool, r)}, leaving out a better one`,
    );
  });
}

/** MUST: ties are shared: every element of a tie is listed within `within` resolutions. */
function tiesShared(
  ctx: CaseContext,
  pool: TestPool,
  responses: readonly HandleResolutionResponse[],
  tied: readonly number[],
): void {
  const seen = new Set<Identifier>();
  for (const r of responses) for (const e of r.poolElements) seen.add(e.identifier);
  const missing = tied.filter((i) => !seen.has(pool.ids[i]));
  ctx.must(
    missing.length === 0,
    `every one of the equally good elements ${
      tied.map((i) => pool.name(pool.ids[i])).join(",")
    } listed in turn (round robin among equals)`,
    `${
      missing.map((i) => pool.name(pool.ids[i])).join(",")
    } never listed in ${responses.length} resolutions`,
  );
}

/** The elements each response selected: its first min(N, max increment). */
export function selections(ctx: CaseContext, responses: readonly HandleResolutionResponse[]) {
  const m = increment(ctx);
  return responses.flatMap((r) => r.poolElements.slice(0, m).map((e) => e.identifier));
}

/** A randomized-policy case: inclusion counts within exact binomial bounds. */
function randomCase(spec: {
  readonly id: string;
  readonly ref: string;
  readonly requirement: string;
  readonly feature: Feature;
  readonly policies: PoolMemberSelectionPolicy[];
  /** The selection weight of each element (DPF: of each policy with the target's distances). */
  readonly weights: readonly number[] | ((policies: PoolMemberSelectionPolicy[]) => number[]);
  readonly resolutions: number;
  /** DPF policies: weigh by the distances the target reports (`targetDistances`). */
  readonly distances?: "penalty";
}): ConformanceCase {
  return {
    id: spec.id,
    ref: spec.ref,
    requirement: spec.requirement,
    level: "MUST",
    role: "registrar-asap",
    features: [spec.feature],
    timeout: (t) => policyTime(t) + 20_000,
    async run(ctx) {
      const pool = await registerPool(ctx, spec.policies);
      const responses = await resolveMany(ctx, pool, spec.resolutions);
      const n = itemsPerResponse(ctx, pool, responses[0]);
      ctx.must(
        responses.every((r) => r.poolElements.length === n),
        `${n} elements in every response`,
        `sizes ${[...new Set(responses.map((r) => r.poolElements.length))].join(", ")}`,
      );
      if (n >= pool.ids.length) {
        ctx.unsupported(
          `the target lists all ${pool.ids.length} elements in every response: its random selection is not observable`,
        );
      }
      const effective = spec.distances === undefined
        ? { policies: spec.policies, observable: true }
        : targetDistances(ctx, pool, responses, spec.policies);
      const weights = typeof spec.weights === "function"
        ? spec.weights(effective.policies)
        : spec.weights;
      const expected = inclusionProbabilities(weights, n);
      const alpha = FALSE_FAILURE / pool.ids.length;
      const counts = pool.ids.map((id) =>
        responses.filter((r) => r.poolElements.some((e) => e.identifier === id)).length
      );
      ctx.note(
        `${spec.resolutions} resolutions of ${n}; each element's count must lie in its exact binomial ` +
          `acceptance region (two-sided, ${
            alpha.toExponential(1)
          } per element, ${FALSE_FAILURE} in all)`,
      );
      const bad: string[] = [];
      pool.ids.forEach((id, i) => {
        const { lo, hi } = binomialRegion(spec.resolutions, expected[i], alpha);
        const line = `${pool.name(id)}: listed ${counts[i]} times, expected ${
          (expected[i] * spec.resolutions).toFixed(1)
        } (accepted ${lo}–${hi})`;
        ctx.note(line);
        if (counts[i] < lo || counts[i] > hi) bad.push(line);
      });
      ctx.must(
        bad.length === 0,
        "every element listed about as often as its selection weight makes it (inclusion probabilities of weighted sampling without replacement)",
        bad.join("; "),
      );
      if (spec.distances !== undefined) penaltyObserved(ctx, effective.observable);
    },
  };
}

/**
 * A degradation case for the randomized policies with degradation: A is
 * at first the likelier pick, but once drawn first `times` times its
 * degradation leaves it the least capacity: it is then (all but) never
 * drawn first again until it re-registers.
 */
function randomDegradationCase(spec: {
  readonly id: string;
  readonly ref: string;
  readonly requirement: string;
  readonly feature: Feature;
  readonly type: "RandomizedLeastUsedDegradation" | "RandomizedPriorityLeastUsedDegradation";
}): ConformanceCase {
  return {
    id: spec.id,
    ref: spec.ref,
    requirement: spec.requirement,
    level: "MUST",
    role: "registrar-asap",
    features: [spec.feature],
    timeout: (t) => policyTime(t) + 20_000,
    async run(ctx) {
      // A's free capacity: RLUD 100 % − degradation, RPLUD 100 % − 40 % − degradation;
      // either way it is down to the minimum (1) after two selections.
      const a = {
        type: spec.type,
        load: 0,
        loadDegradation: percent(spec.type === "RandomizedLeastUsedDegradation" ? 60 : 40),
      } as const;
      const b = { type: spec.type, load: percent(50), loadDegradation: 0 } as const;
      const pool = await registerPool(ctx, [a, b]);
      const pu = await ctx.asap();
      let firsts = 0;
      let i = 0;
      const seen: string[] = [];
      while (firsts < 2 && i < 200) {
        const [r] = await resolveMany(ctx, pool, 1, pu);
        seen.push(listOf(pool, r));
        if (r.poolElements[0].identifier === pool.ids[0]) firsts++;
        i++;
      }
      ctx.must(
        firsts === 2,
        "A (the most free capacity at first) drawn first twice within 200 resolutions",
        `${firsts} time(s): ${seen.join(" | ")}`,
      );
      ctx.note(`A drawn first twice after ${i} resolutions: ${seen.join(" | ")}`);
      // A's capacity is now 1 (of 2^32 − 1), B's 50 %: P(A first) < 1e-9 per draw.
      const after = await resolveMany(ctx, pool, 60, pu);
      const again = after.filter((r) => r.poolElements[0].identifier === pool.ids[0]).length;
      ctx.must(
        again === 0,
        "A never drawn first again once its degradation used up its free capacity",
        `A drawn first ${again} of 60 times: ${after.map((r) => listOf(pool, r)).join(" | ")}`,
      );
      // A re-registration resets the degradation: A (60 % or 100 % free against B's 50 %) is
      // drawn first with probability above 1/2 each time until it is; never in 60: < 2^-60.
      await reregister(ctx, pool, 0, a);
      const reset = await resolveMany(ctx, pool, 60, pu);
      ctx.must(
        reset.some((r) => r.poolElements[0].identifier === pool.ids[0]),
        "A drawn first again after re-registering (the degradation reset)",
        reset.map((r) => listOf(pool, r)).join(" | "),
      );
    },
  };
}

const RR: PoolMemberSelectionPolicy = { type: "RoundRobin" };

/** The cases. */
export const REGISTRAR_POLICY_CASES: readonly ConformanceCase[] = [
  orderedCase({
    id: "asap/registrar/policy/round-robin/cycle",
    ref: "RFC 5356 §4.1",
    requirement:
      "Round Robin: successive resolutions go round the pool in a fixed order, each element coming first in turn.",
    feature: "policy-round-robin",
    policies: (n) => Array.from({ length: n + 3 }, () => RR),
    resolutions: 12,
    check(ctx, pool, responses) {
      const firsts = responses.map((r) => r.poolElements[0].identifier);
      const cycle = pool.ids.length;
      for (let k = 0; k + cycle <= firsts.length; k++) {
        const window = new Set(firsts.slice(k, k + cycle));
        ctx.must(
          window.size === Math.min(cycle, Math.ceil(cycle / 1)) ||
            window.size * increment(ctx) >= cycle,
          `every element first once in any ${cycle} successive resolutions`,
          `first elements ${firsts.map(pool.name).join(",")}`,
        );
      }
      tiesShared(ctx, pool, responses, pool.ids.map((_, i) => i));
    },
  }),
  orderedCase({
    id: "asap/registrar/policy/weighted-round-robin/counts",
    ref: "RFC 5356 §4.2",
    requirement:
      "Weighted Round Robin: in every round an element of weight w is selected w times (the selected elements being the first max-increment ones of each response).",
    feature: "policy-round-robin",
    policies: (n) =>
      [3, 1, 2, 1, 1, ...Array.from({ length: Math.max(0, n - 3) }, () => 1)].map((weight) => ({
        type: "WeightedRoundRobin",
        weight,
      })),
    resolutions: 24,
    // RFC 5356 §4.2 fixes how often each element is selected per round, not the order
    // within a round (RSPLIB's differs: it counts the registration as a selection).
    exactOrder: "note",
    check(ctx, pool, responses, policies) {
      const weights = policies.map((p) => "weight" in p ? p.weight : 1);
      const round = weights.reduce((a, b) => a + b, 0);
      const chosen = selections(ctx, responses);
      for (let start = 0; start + round <= chosen.length; start += round) {
        const block = chosen.slice(start, start + round);
        const off = pool.ids.filter((id, i) => block.filter((x) => x === id).length !== weights[i]);
        ctx.must(
          off.length === 0,
          `round ${start / round + 1}: each element selected as often as its weight (${
            weights.join(",")
          })`,
          `selected ${pool.ids.map((id) => block.filter((x) => x === id).length).join(",")} times`,
        );
      }
    },
  }),
  randomCase({
    id: "asap/registrar/policy/random/uniform",
    ref: "RFC 5356 §4.3",
    requirement:
      "Random: every element of the pool is equally likely to be listed (a statistical test with an exact binomial bound per element).",
    feature: "policy-random",
    policies: Array.from({ length: 6 }, () => ({ type: "Random" as const })),
    weights: [1, 1, 1, 1, 1, 1],
    resolutions: 600,
  }),
  randomCase({
    id: "asap/registrar/policy/weighted-random/proportional",
    ref: "RFC 5356 §4.4",
    requirement:
      "Weighted Random: an element is selected with probability proportional to its weight (a statistical test with exact binomial bounds).",
    feature: "policy-random",
    policies: [1, 2, 4, 8, 16, 3].map((weight) => ({ type: "WeightedRandom" as const, weight })),
    weights: [1, 2, 4, 8, 16, 3],
    resolutions: 600,
  }),
  orderedCase({
    id: "asap/registrar/policy/priority/highest",
    ref: "RFC 5356 §4.5",
    requirement:
      "Priority: a resolution lists the elements with the highest priorities, never one of lower priority in place of a higher one.",
    feature: "policy-priority",
    policies: (n) =>
      [3, 9, 1, 7, 5, 8, ...Array.from({ length: Math.max(0, n - 3) }, (_, i) => 2 + i % 2)].map((
        priority,
      ) => ({ type: "Priority", priority })),
    resolutions: 6,
    check(ctx, pool, responses, policies) {
      bestFirst(
        ctx,
        pool,
        responses,
        (i) => FULL - (policies[i] as { priority: number }).priority,
        "highest priorities",
      );
    },
  }),
  orderedCase({
    id: "asap/registrar/policy/priority/ties-round-robin",
    ref: "RFC 5356 §4.5",
    requirement:
      "Priority: elements of the same (highest) priority are listed in turn, round robin, and a lower priority is never listed while enough higher ones exist.",
    feature: "policy-priority",
    policies: (n) => [
      ...Array.from({ length: n + 1 }, () => ({ type: "Priority" as const, priority: 8 })),
      { type: "Priority", priority: 2 },
    ],
    resolutions: 8,
    check(ctx, pool, responses, policies) {
      bestFirst(
        ctx,
        pool,
        responses,
        (i) => FULL - (policies[i] as { priority: number }).priority,
        "highest priorities",
      );
      tiesShared(ctx, pool, responses, policies.map((_, i) => i).slice(0, -1));
    },
  }),
  orderedCase({
    id: "asap/registrar/policy/least-used/lowest",
    ref: "RFC 5356 §5.1",
    requirement:
      "Least Used: a resolution lists the elements with the lowest loads, never a more loaded one in place of a less loaded one.",
    feature: "policy-least-used",
    policies: (n) =>
      [50, 10, 90, 30, 70, 20, ...Array.from({ length: Math.max(0, n - 3) }, (_, i) => 80 + i)]
        .map((p) => ({ type: "LeastUsed", load: percent(p) })),
    resolutions: 6,
    check(ctx, pool, responses, policies) {
      bestFirst(
        ctx,
        pool,
        responses,
        (i) => (policies[i] as { load: number }).load,
        "lowest loads",
      );
    },
  }),
  orderedCase({
    id: "asap/registrar/policy/least-used/ties-round-robin",
    ref: "RFC 5356 §5.1",
    requirement: "Least Used: elements of the same (lowest) load are listed in turn, round robin.",
    feature: "policy-least-used",
    policies: (n) => [
      ...Array.from({ length: n + 1 }, () => ({ type: "LeastUsed" as const, load: percent(20) })),
      { type: "LeastUsed", load: percent(60) },
    ],
    resolutions: 8,
    check(ctx, pool, responses, policies) {
      bestFirst(
        ctx,
        pool,
        responses,
        (i) => (policies[i] as { load: number }).load,
        "lowest loads",
      );
      tiesShared(ctx, pool, responses, policies.map((_, i) => i).slice(0, -1));
    },
  }),
  orderedCase({
    id: "asap/registrar/policy/least-used/load-update",
    ref: "RFC 5356 §5.1, RFC 5352 §3.1",
    requirement:
      "Least Used: a re-registration with a new load changes the selection at once (the least loaded element, now the most loaded, is no longer listed).",
    feature: "policy-least-used",
    policies: (n) =>
      [10, 20, 30, 40, 50, ...Array.from({ length: Math.max(0, n - 3) }, (_, i) => 60 + i)]
        .map((p) => ({ type: "LeastUsed", load: percent(p) })),
    resolutions: 5,
    updates: [{ after: 2, index: 0, policy: { type: "LeastUsed", load: percent(95) } }],
    check(ctx, pool, responses, policies) {
      bestFirst(
        ctx,
        pool,
        responses.slice(2),
        (i) => (policies[i] as { load: number }).load,
        "lowest loads after the update",
      );
      ctx.must(
        responses.slice(2).every((r) => r.poolElements[0].identifier !== pool.ids[0]),
        "A (now 95 %) no longer listed first",
        responses.slice(2).map((r) => listOf(pool, r)).join(" | "),
      );
    },
  }),
  orderedCase({
    id: "asap/registrar/policy/least-used/load-decrease",
    ref: "RFC 5356 §5.1, RFC 5352 §3.1",
    requirement:
      "Least Used: an element re-registering with a lower load than the least loaded one is listed first at once.",
    feature: "policy-least-used",
    policies: (n) =>
      [10, 20, 30, 40, ...Array.from({ length: Math.max(0, n - 3) }, (_, i) => 50 + i)]
        .map((p) => ({ type: "LeastUsed", load: percent(p) })),
    resolutions: 3,
    updates: [{ after: 1, index: 1, policy: { type: "LeastUsed", load: percent(5) } }],
    check(ctx, pool, responses, policies) {
      bestFirst(
        ctx,
        pool,
        responses.slice(1),
        (i) => (policies[i] as { load: number }).load,
        "lowest loads after the update",
      );
      ctx.must(
        responses.slice(1).every((r) => r.poolElements[0].identifier === pool.ids[1]),
        "B (now 5 %) listed first",
        responses.slice(1).map((r) => listOf(pool, r)).join(" | "),
      );
    },
  }),
  orderedCase({
    id: "asap/registrar/policy/least-used-dpf/exact-load",
    ref: "draft-dreibholz-rserpool-delay (RSPLIB 3.4.4), RFC 5356 §5.1",
    requirement:
      "Least Used with DPF and no distance penalty (Load DPF 0) orders by the exact load: an element one unit (2^-32) more loaded than three others is left out of a resolution of three.",
    feature: "policy-dpf",
    policies: (n) =>
      [11, 10, 10, 10, ...Array.from({ length: Math.max(0, n - 3) }, (_, i) => 12 + i)]
        .map((load) => ({ type: "LeastUsedDPF", load, loadDpf: 0, distance: 0 })),
    resolutions: 2,
    distances: "incidental",
    check(ctx, pool, responses, policies) {
      bestFirst(
        ctx,
        pool,
        responses,
        (i) => (policies[i] as { load: number }).load,
        "lowest loads (exact, in units of 2^-32)",
      );
    },
  }),
  orderedCase({
    id: "asap/registrar/policy/priority-least-used/saturation",
    ref: "RFC 5356 §5.3 (RSPLIB 3.4.4: load + increment saturates at 100 %)",
    requirement:
      "Priority Least Used: an element with room for the request (10 % + 0) comes before elements whose load plus increment exceeds 100 % (60 % + 60 %, 55 % + 55 %); those are equally full (the sums saturate at 100 %) and share by round robin.",
    feature: "policy-least-used",
    policies: (n) =>
      [
        [60, 60],
        [55, 55],
        [10, 0],
        ...Array.from({ length: Math.max(0, n - 3) }, () => [100, 0]),
      ].map(([load, d]) => ({
        type: "PriorityLeastUsed",
        load: percent(load),
        loadDegradation: percent(d),
      })),
    resolutions: 3,
    check(ctx, pool, responses) {
      ctx.must(
        responses.every((r) => r.poolElements[0].identifier === pool.ids[2]),
        "C (10 % + 0) listed first every time",
        responses.map((r) => listOf(pool, r)).join(" | "),
      );
    },
  }),
  orderedCase({
    id: "asap/registrar/policy/least-used-degradation/degrades",
    ref: "RFC 5356 §5.2",
    requirement:
      "Least Used with Degradation: each selection adds the element's load degradation to its degradation counter, and the registrar orders by load plus that counter.",
    feature: "policy-least-used",
    policies: (n) =>
      [
        [10, 50],
        [20, 0],
        [30, 0],
        [40, 0],
        [60, 0],
        ...Array.from(
          { length: Math.max(0, n - 3) },
          (_, i) => [70 + i, 0],
        ),
      ].map(([load, d]) => ({
        type: "LeastUsedDegradation",
        load: percent(load),
        loadDegradation: percent(d),
      })),
    resolutions: 4,
    check(ctx, pool, responses) {
      ctx.must(
        responses[0].poolElements[0].identifier === pool.ids[0],
        "A (10 %) listed first at first",
        listOf(pool, responses[0]),
      );
      ctx.must(
        responses.slice(1).every((r) => r.poolElements[0].identifier !== pool.ids[0]),
        "A no longer first once selected (10 % + 50 % degradation)",
        responses.map((r) => listOf(pool, r)).join(" | "),
      );
    },
  }),
  orderedCase({
    id: "asap/registrar/policy/least-used-degradation/reset",
    ref: "RFC 5356 §5.2",
    requirement:
      "Least Used with Degradation: a re-registration (a fresh load report) resets the element's degradation counter.",
    feature: "policy-least-used",
    policies: (n) =>
      [
        [10, 50],
        [20, 0],
        [30, 0],
        [40, 0],
        [60, 0],
        ...Array.from(
          { length: Math.max(0, n - 3) },
          (_, i) => [70 + i, 0],
        ),
      ].map(([load, d]) => ({
        type: "LeastUsedDegradation",
        load: percent(load),
        loadDegradation: percent(d),
      })),
    resolutions: 4,
    updates: [{
      after: 2,
      index: 0,
      policy: { type: "LeastUsedDegradation", load: percent(10), loadDegradation: percent(50) },
    }],
    check(ctx, pool, responses) {
      ctx.must(
        responses[1].poolElements[0].identifier !== pool.ids[0],
        "A degraded after its first selection",
        listOf(pool, responses[1]),
      );
      ctx.must(
        responses[2].poolElements[0].identifier === pool.ids[0],
        "A first again after re-registering (degradation reset)",
        listOf(pool, responses[2]),
      );
    },
  }),
  orderedCase({
    id: "asap/registrar/policy/priority-least-used/increment",
    ref: "RFC 5356 §5.3",
    requirement:
      "Priority Least Used: the registrar orders by load plus load increment (the load after taking the request), and the increment does not accumulate over selections.",
    feature: "policy-least-used",
    policies: (n) =>
      [
        [10, 80],
        [20, 5],
        [30, 0],
        [40, 0],
        [55, 0],
        ...Array.from(
          { length: Math.max(0, n - 3) },
          (_, i) => [70 + i, 0],
        ),
      ].map(([load, d]) => ({
        type: "PriorityLeastUsed",
        load: percent(load),
        loadDegradation: percent(d),
      })),
    resolutions: 5,
    check(ctx, pool, responses, policies) {
      bestFirst(
        ctx,
        pool,
        responses,
        (i) => {
          const p = policies[i] as { load: number; loadDegradation: number };
          return p.load + p.loadDegradation;
        },
        "lowest load plus increment",
      );
      ctx.must(
        responses.every((r) => r.poolElements[0].identifier === pool.ids[1]),
        "B (20 % + 5 %) first every time: the increment is not accumulated",
        responses.map((r) => listOf(pool, r)).join(" | "),
      );
    },
  }),
  randomCase({
    id: "asap/registrar/policy/randomized-least-used/proportional",
    ref: "RFC 5356 §5.4",
    requirement:
      "Randomized Least Used: an element is selected with probability proportional to its unused capacity (100 % − load; a statistical test).",
    feature: "policy-least-used",
    policies: [0, 25, 50, 75, 99, 90].map((p) => ({
      type: "RandomizedLeastUsed" as const,
      load: percent(p),
    })),
    weights: [0, 25, 50, 75, 99, 90].map((p) => FULL - percent(p)),
    resolutions: 600,
  }),
  randomCase({
    id: "asap/registrar/policy/randomized-priority-least-used/proportional",
    ref: "RSPLIB 3.4.4 (RFC 5356 §5.3, §5.4)",
    requirement:
      "Randomized Priority Least Used (RSPLIB): an element is selected with probability proportional to 100 % − load − load increment (a statistical test).",
    feature: "policy-rsplib",
    policies: [[0, 60], [25, 0], [50, 40], [10, 0], [70, 20], [5, 90]].map(([l, d]) => ({
      type: "RandomizedPriorityLeastUsed" as const,
      load: percent(l),
      loadDegradation: percent(d),
    })),
    weights: [[0, 60], [25, 0], [50, 40], [10, 0], [70, 20], [5, 90]].map(([l, d]) =>
      Math.max(1, FULL - percent(l) - percent(d))
    ),
    resolutions: 600,
  }),
  randomDegradationCase({
    id: "asap/registrar/policy/randomized-least-used-degradation/degrades",
    ref: "RSPLIB 3.4.4 (RFC 5356 §5.2, §5.4)",
    requirement:
      "Randomized Least Used with Degradation (RSPLIB): the element drawn first gains its load degradation, which lowers its chance (100 % − load − degradation) until it re-registers.",
    feature: "policy-rsplib",
    type: "RandomizedLeastUsedDegradation",
  }),
  orderedCase({
    id: "asap/registrar/policy/priority-least-used-degradation/degrades",
    ref: "RSPLIB 3.4.4 (RFC 5356 §5.2, §5.3)",
    requirement:
      "Priority Least Used with Degradation (RSPLIB): ordered by load + load increment + degradation, the degradation growing by the increment with each selection.",
    feature: "policy-rsplib",
    policies: (n) =>
      [
        [10, 30],
        [45, 0],
        [50, 0],
        [55, 0],
        [80, 0],
        ...Array.from(
          { length: Math.max(0, n - 3) },
          (_, i) => [85 + i, 0],
        ),
      ].map(([load, d]) => ({
        type: "PriorityLeastUsedDegradation",
        load: percent(load),
        loadDegradation: percent(d),
      })),
    resolutions: 4,
    check(ctx, pool, responses) {
      ctx.must(
        responses[0].poolElements[0].identifier === pool.ids[0],
        "A (10 % + 30 %) listed first at first",
        listOf(pool, responses[0]),
      );
      ctx.must(
        responses.slice(1).every((r) => r.poolElements[0].identifier !== pool.ids[0]),
        "A no longer first once selected (10 % + 30 % + 30 %)",
        responses.map((r) => listOf(pool, r)).join(" | "),
      );
    },
  }),
  randomDegradationCase({
    id: "asap/registrar/policy/randomized-priority-least-used-degradation/degrades",
    ref: "RSPLIB 3.4.4 (RFC 5356 §5.2, §5.3, §5.4)",
    requirement:
      "Randomized Priority Least Used with Degradation (RSPLIB): the element drawn first gains its load degradation, which lowers its chance (100 % − load − increment − degradation) until it re-registers.",
    feature: "policy-rsplib",
    type: "RandomizedPriorityLeastUsedDegradation",
  }),
  randomCase({
    id: "asap/registrar/policy/weighted-random-dpf/proportional",
    ref: "draft-dreibholz-rserpool-delay (RSPLIB 3.4.4)",
    requirement:
      "Weighted Random with Distance Penalty Factor: an element is selected with probability proportional to weight − weight × distance × weight DPF (a statistical test).",
    feature: "policy-dpf",
    policies: [[100, 0], [100, 400], [100, 800], [50, 0], [200, 900], [100, 200]].map((
      [weight, distance],
    ) => ({
      type: "WeightedRandomDPF" as const,
      weight,
      weightDpf: percent(0.1),
      distance,
    })),
    // weight − rint(weight · distance · 0.1 %), with the distances the target uses
    weights: (policies) =>
      policies.map((p) => {
        const { weight, distance, weightDpf } = p as {
          weight: number;
          distance: number;
          weightDpf: number;
        };
        const v = weight - Math.round(weight * distance * weightDpf / FULL);
        return v < 0 ? 1 : v;
      }),
    resolutions: 600,
    distances: "penalty",
  }),
  orderedCase({
    id: "asap/registrar/policy/least-used-dpf/distance",
    ref: "draft-dreibholz-rserpool-delay (RSPLIB 3.4.4)",
    requirement:
      "Least Used with Distance Penalty Factor: ordered by load + distance × load DPF, so a near element with more load can come before a distant one with less.",
    feature: "policy-dpf",
    policies: (n) =>
      [
        [10, 500],
        [20, 0],
        [30, 0],
        [40, 0],
        [35, 300],
        ...Array.from(
          { length: Math.max(0, n - 3) },
          (_, i) => [60 + i, 0],
        ),
      ].map(([load, distance]) => ({
        type: "LeastUsedDPF",
        load: percent(load),
        loadDpf: percent(0.1),
        distance,
      })),
    resolutions: 4,
    distances: "penalty",
    check(ctx, pool, responses, policies) {
      bestFirst(
        ctx,
        pool,
        responses,
        (i) => {
          const p = policies[i] as { load: number; loadDpf: number; distance: number };
          return p.load + p.distance * p.loadDpf;
        },
        "lowest load plus distance penalty",
      );
    },
  }),
  orderedCase({
    id: "asap/registrar/policy/least-used-degradation-dpf/degrades",
    ref: "draft-dreibholz-rserpool-delay (RSPLIB 3.4.4)",
    requirement:
      "Least Used with Degradation and DPF: ordered by load + degradation + distance penalty, the degradation growing with each selection.",
    feature: "policy-dpf",
    policies: (n) =>
      [
        [10, 40, 50],
        [25, 0, 0],
        [30, 0, 0],
        [20, 0, 200],
        [70, 0, 0],
        ...Array.from(
          { length: Math.max(0, n - 3) },
          (_, i) => [75 + i, 0, 0],
        ),
      ].map(([load, d, distance]) => ({
        type: "LeastUsedDegradationDPF",
        load: percent(load),
        loadDegradation: percent(d),
        loadDpf: percent(0.1),
        distance,
      })),
    resolutions: 4,
    distances: "incidental",
    check(ctx, pool, responses) {
      ctx.must(
        responses[0].poolElements[0].identifier === pool.ids[0],
        "A (10 % + its distance penalty, the least) listed first at first",
        listOf(pool, responses[0]),
      );
      ctx.must(
        responses.slice(1).every((r) => r.poolElements[0].identifier !== pool.ids[0]),
        "A no longer first once selected (its degradation 40 % added)",
        responses.map((r) => listOf(pool, r)).join(" | "),
      );
    },
  }),
  orderedCase({
    id: "asap/registrar/policy/priority-least-used-dpf/distance",
    ref: "draft-dreibholz-rserpool-delay (this library's encoding, docs/wire.md)",
    requirement:
      "Priority Least Used with DPF: ordered by load + load increment + distance penalty, the increment not accumulating.",
    feature: "policy-dpf-priority",
    policies: (n) =>
      [
        [10, 50, 0],
        [20, 0, 100],
        [30, 0, 0],
        [15, 10, 300],
        [60, 0, 0],
        ...Array.from(
          { length: Math.max(0, n - 3) },
          (_, i) => [70 + i, 0, 0],
        ),
      ].map(([load, d, distance]) => ({
        type: "PriorityLeastUsedDPF",
        load: percent(load),
        loadDegradation: percent(d),
        loadDpf: percent(0.1),
        distance,
      })),
    resolutions: 4,
    distances: "penalty",
    check(ctx, pool, responses, policies) {
      bestFirst(
        ctx,
        pool,
        responses,
        (i) => {
          const p = policies[i] as {
            load: number;
            loadDegradation: number;
            loadDpf: number;
            distance: number;
          };
          return p.load + p.loadDegradation + p.distance * p.loadDpf;
        },
        "lowest load plus increment plus distance penalty",
      );
    },
  }),
  orderedCase({
    id: "asap/registrar/policy/priority-least-used-degradation-dpf/degrades",
    ref: "draft-dreibholz-rserpool-delay (this library's encoding, docs/wire.md)",
    requirement:
      "Priority Least Used with Degradation and DPF: ordered by load + increment + degradation + distance penalty, the degradation growing by the increment with each selection.",
    feature: "policy-dpf-priority",
    policies: (n) =>
      [
        [10, 30, 50],
        [45, 0, 0],
        [40, 0, 100],
        [55, 0, 0],
        [80, 0, 0],
        ...Array.from(
          { length: Math.max(0, n - 3) },
          (_, i) => [85 + i, 0, 0],
        ),
      ].map(([load, d, distance]) => ({
        type: "PriorityLeastUsedDegradationDPF",
        load: percent(load),
        loadDegradation: percent(d),
        loadDpf: percent(0.1),
        distance,
      })),
    resolutions: 4,
    distances: "incidental",
    check(ctx, pool, responses) {
      ctx.must(
        responses[0].poolElements[0].identifier === pool.ids[0],
        "A (10 % + 30 % + 5 %) listed first at first",
        listOf(pool, responses[0]),
      );
      ctx.must(
        responses.slice(1).every((r) => r.poolElements[0].identifier !== pool.ids[0]),
        "A no longer first once selected (another 30 % of degradation)",
        responses.map((r) => listOf(pool, r)).join(" | "),
      );
    },
  }),
  ...([
    {
      family: "least-used",
      feature: "policy-least-used",
      // F (35 %) is registered last and stays last in any binary heap by load, yet it would be
      // listed before D (40 %) if it stayed.
      policies: [10, 20, 30, 40, 50, 35].map((l): PoolMemberSelectionPolicy => ({
        type: "LeastUsed",
        load: percent(l),
      })),
      resolutions: 3,
    },
    {
      family: "random",
      feature: "policy-random",
      policies: Array.from({ length: 6 }, (): PoolMemberSelectionPolicy => ({ type: "Random" })),
      resolutions: 60,
    },
    {
      family: "weighted-random",
      feature: "policy-random",
      policies: [1, 2, 3, 4, 5, 6].map((w): PoolMemberSelectionPolicy => ({
        type: "WeightedRandom",
        weight: w,
      })),
      // B, the lightest remaining (2 of 10), missed 120 times: (8/10)^120 < 1e-11.
      resolutions: 120,
    },
  ] as const).map((spec): ConformanceCase => ({
    id: `asap/registrar/policy/${spec.family}/deregistered-not-selected`,
    ref: "RFC 5352 §3.3, RFC 5356 §4",
    requirement:
      `In a ${spec.family} pool, elements deregistered (the first registered, the last, then the one last in the selection structure) are never selected again, and the selection among the others goes on (${
        spec.family === "least-used"
          ? "the least loaded remaining element first"
          : "every remaining element can still be drawn"
      }).`,
    level: "MUST",
    role: "registrar-asap",
    features: [spec.feature],
    timeout: policyTime,
    async run(ctx) {
      const pool = await registerPool(ctx, spec.policies);
      // The first registered (the last may move into its place), then the last (wherever it
      // is now), then D (by then last in an array in registration order).
      const n = pool.ids.length;
      // Least Used: E rather than D, which by then is last in a heap ordered by load.
      const gone = [pool.ids[0], pool.ids[n - 1], pool.ids[spec.family === "least-used" ? 4 : 3]];
      for (const id of gone) await deregister(ctx, pool, id);
      ctx.note(`${gone.map(pool.name).join(" and ")} deregistered`);
      const responses = await resolveMany(ctx, pool, spec.resolutions);
      const listed = responses.map((r) => listOf(pool, r));
      ctx.must(
        responses.every((r) => r.poolElements.every((e) => !gone.includes(e.identifier))),
        `${gone.map(pool.name).join(" and ")} never listed after their deregistration`,
        listed.join(" | "),
      );
      if (spec.family === "least-used") {
        ctx.must(
          responses[0].poolElements[0]?.identifier === pool.ids[1],
          "B (20 %, now the least used) listed first",
          listed[0],
        );
      } else {
        const drawn = new Set(responses.map((r) => r.poolElements[0].identifier));
        ctx.must(
          [1, 2, n - 2].every((i) => drawn.has(pool.ids[i])),
          `every remaining element (B, C, E) drawn first at least once in ${spec.resolutions} resolutions`,
          `first: ${[...drawn].map(pool.name).join(",")}`,
        );
      }
    },
  })),
  {
    id: "asap/registrar/policy/weighted-random/large-pool",
    ref: "RFC 5356 §4.3",
    requirement:
      "Weighted Random in a pool of 32 elements (A weight 20, the 31 others weight 1): A is drawn first with probability 20/51, every other element is listed too, and none twice in one response (exact binomial bounds over 1000 resolutions).",
    level: "MUST",
    role: "registrar-asap",
    features: ["policy-random"],
    timeout: policyTime,
    async run(ctx) {
      // 32 = 2 × 16: a selection structure sized in powers of two is full here.
      const weights = [20, ...Array.from({ length: 31 }, () => 1)];
      const total = weights.reduce((a, b) => a + b, 0);
      const pool = await registerPool(
        ctx,
        weights.map((w): PoolMemberSelectionPolicy => ({ type: "WeightedRandom", weight: w })),
      );
      const n = 1000;
      const responses = await resolveMany(ctx, pool, n);
      const first = responses.map((r) => r.poolElements[0].identifier);
      const a = first.filter((id) => id === pool.ids[0]).length;
      // Half of the false-failure budget for A's count; the rest covers the 31 light elements,
      // each left out of all 1000 responses (even of one element each) with probability below
      // (50/51)^1000 < 2.6e-9, 8e-8 for all 31.
      const { lo, hi } = binomialRegion(n, 20 / total, FALSE_FAILURE / 2);
      ctx.note(`A drawn first ${a} of ${n} times (expected ${(n * 20 / total).toFixed(1)})`);
      ctx.must(
        a >= lo && a <= hi,
        `A drawn first ${lo}–${hi} times of ${n} (probability 20/${total})`,
        `${a}`,
      );
      const listed = new Set(responses.flatMap((r) => r.poolElements.map((e) => e.identifier)));
      const missing = pool.ids.slice(1).filter((id) => !listed.has(id));
      ctx.must(
        missing.length === 0,
        `every light element (weight 1 of ${total}) listed at least once`,
        `never: ${missing.map(pool.name).join(",")}`,
      );
    },
  },
];

/** Whether a policy degrades on selection (re-exported for the user cases). */
export { degrades };
