/**
 * The registrar's pool member selection (RFC 5356) while the pool changes:
 * re-registrations with new (or the same) policy values, elements joining
 * a Weighted Round Robin pool between rounds, elements leaving, weights of
 * zero, fresh pools, elements without free capacity, and the number of
 * elements a resolution lists for each kind of policy.
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
import type { ConformanceCase } from "../types.ts";
import { causes, resolveAt } from "./helpers.ts";
import { percent } from "./policy_model.ts";
import {
  addElement,
  deregister,
  listOf,
  policyTime,
  registerPool,
  reregister,
  resolveMany,
  selections,
  type TestPool,
} from "./registrar_policy.ts";

const wrr = (weight: number): PoolMemberSelectionPolicy => ({ type: "WeightedRoundRobin", weight });
const wrand = (weight: number): PoolMemberSelectionPolicy => ({ type: "WeightedRandom", weight });

/**
 * MUST: split into rounds of sum(weights) selections from the start, each
 * complete round selects every element exactly as often as its weight.
 */
function roundsHold(
  ctx: CaseContext,
  pool: TestPool,
  chosen: readonly Identifier[],
  ids: readonly Identifier[],
  weights: readonly number[],
  what: string,
  log: readonly string[],
): void {
  const round = weights.reduce((a, b) => a + b, 0);
  for (let start = 0; start + round <= chosen.length; start += round) {
    const block = chosen.slice(start, start + round);
    const counts = ids.map((id) => block.filter((x) => x === id).length);
    ctx.must(
      counts.every((c, i) => c === weights[i]),
      `${what}, round ${start / round + 1}: ${
        ids.map((id, i) => `${pool.name(id)} ${weights[i]}`).join(", ")
      } selections (the weights)`,
      `${ids.map((id, i) => `${pool.name(id)} ${counts[i]}`).join(", ")}; selected ${
        block.map(pool.name).join(",")
      } (responses: ${log.join(" | ")})`,
    );
  }
}

/** Resolves one at a time until `count` more selections were made; returns them. */
async function selectMore(
  ctx: CaseContext,
  pool: TestPool,
  count: number,
  log: string[],
  after?: (chosen: Identifier[]) => Promise<void>,
): Promise<Identifier[]> {
  const pu = await ctx.asap();
  const chosen: Identifier[] = [];
  for (let i = 0; chosen.length < count && i < 4 * count; i++) {
    const [r] = await resolveMany(ctx, pool, 1, pu);
    log.push(listOf(pool, r));
    chosen.push(...selections(ctx, [r]));
    await after?.(chosen);
  }
  return chosen;
}

/** How often each element of `ids` is listed in the responses. */
function listedCounts(
  responses: readonly HandleResolutionResponse[],
  ids: readonly Identifier[],
): number[] {
  return ids.map((id) =>
    responses.filter((r) => r.poolElements.some((e) => e.identifier === id)).length
  );
}

/** The cases. */
export const REGISTRAR_POLICY_CHANGE_CASES: readonly ConformanceCase[] = [
  {
    id: "asap/registrar/policy/weighted-round-robin/reregistration",
    ref: "RFC 5356 §4.2, RFC 5352 §3.1",
    requirement:
      "Weighted Round Robin: a re-registration gives an element no extra selections in the current round: refreshed with the same weight mid-round, it is still selected weight times per round; lowered to weight 1 before the first round, it is selected once per round.",
    level: "MUST",
    role: "registrar-asap",
    features: ["policy-round-robin"],
    timeout: policyTime,
    async run(ctx) {
      // 1. A refresh (same weight) of an element already selected in the running round.
      const weights = [3, 2, 1];
      const pool = await registerPool(ctx, weights.map(wrr));
      const round = 6;
      const log: string[] = [];
      let refreshed: number | undefined;
      const chosen = await selectMore(ctx, pool, 3 * round, log, async (so) => {
        if (refreshed !== undefined) return;
        const current = so.slice(so.length - (so.length % round));
        const i = pool.ids.findIndex((id, k) => {
          const c = current.filter((x) => x === id).length;
          return weights[k] >= 2 && c >= 1 && c < weights[k];
        });
        if (i < 0) return;
        await reregister(ctx, pool, i, wrr(weights[i]));
        refreshed = i;
        log.push(`${pool.name(pool.ids[i])} refreshed`);
      });
      ctx.must(
        refreshed !== undefined,
        "an element of weight 2 or 3 selected once within a round (to refresh it there)",
        log.join(" | "),
      );
      roundsHold(ctx, pool, chosen, pool.ids, weights, "after a refresh mid-round", log);

      // 2. A lowered weight before any selection caps what is left of the round.
      const lowered = await registerPool(ctx, [3, 1, 1].map(wrr));
      await reregister(ctx, lowered, 0, wrr(1));
      const log2: string[] = [];
      const chosen2 = await selectMore(ctx, lowered, 9, log2);
      roundsHold(ctx, lowered, chosen2, lowered.ids, [1, 1, 1], "A lowered to weight 1", log2);
    },
  },
  {
    id: "asap/registrar/policy/weighted-round-robin/late-registration",
    ref: "RFC 5356 §4.2",
    requirement:
      "Weighted Round Robin: an element registering after some rounds joins the rounds as they are: from then on every round selects each element as often as its weight (a newcomer does not catch up on the rounds it missed).",
    level: "MUST",
    role: "registrar-asap",
    features: ["policy-round-robin"],
    timeout: policyTime,
    async run(ctx) {
      const pool = await registerPool(ctx, [wrr(1), wrr(1)]);
      const log: string[] = [];
      // Two complete rounds of A and B (a response may select more than one).
      const before = await selectMore(ctx, pool, 4, log);
      if (before.length % 2 !== 0) before.push(...await selectMore(ctx, pool, 1, log));
      roundsHold(ctx, pool, before, pool.ids, [1, 1], "before C registers", log);
      const c = await addElement(ctx, pool, wrr(1));
      log.push(`${pool.name(c)} registered`);
      const after = await selectMore(ctx, pool, 9, log);
      roundsHold(ctx, pool, after, pool.ids, [1, 1, 1], "after C registered", log);
    },
  },
  {
    id: "asap/registrar/policy/weighted-random/reregistration",
    ref: "RFC 5356 §4.4, RFC 5352 §3.1",
    requirement:
      "Weighted Random: a re-registration with a new weight changes the selection at once: an element re-registered with weight 0 is never drawn again, the others still are.",
    level: "MUST",
    role: "registrar-asap",
    features: ["policy-random"],
    timeout: policyTime,
    async run(ctx) {
      const pool = await registerPool(ctx, [5, 5, 5, 5, 5, 5].map(wrand));
      // Some resolutions first, so that A may have been drawn before its weight changes.
      await resolveMany(ctx, pool, 5);
      await reregister(ctx, pool, 0, wrand(0));
      const responses = await resolveMany(ctx, pool, 80);
      const counts = listedCounts(responses, pool.ids);
      ctx.must(
        counts[0] === 0,
        "A (now weight 0) never listed",
        `listed ${counts[0]} of 80 times: ${responses.map((r) => listOf(pool, r)).join(" | ")}`,
      );
      // Each of B–F is left out of a response with probability at most 4/5 (even with one
      // element per response): out of all 80 with at most (4/5)^80 < 2e-8, 1e-7 for all five.
      const never = pool.ids.slice(1).filter((_, i) => counts[i + 1] === 0);
      ctx.must(
        never.length === 0,
        "B–F (weight 5 each) each listed within 80 resolutions",
        `never: ${never.map(pool.name).join(",")}`,
      );
    },
  },
  {
    id: "asap/registrar/policy/weighted-random/zero-weight",
    ref: "RFC 5356 §4.4",
    requirement:
      "Weighted Random: an element of weight 0 has no chance of being drawn and is never listed; a pool of one element of weight 1 lists it in every response.",
    level: "MUST",
    role: "registrar-asap",
    features: ["policy-random"],
    timeout: policyTime,
    async run(ctx) {
      const single = await registerPool(ctx, [wrand(1)]);
      const one = await resolveMany(ctx, single, 5);
      ctx.must(
        one.every((r) => r.poolElements.length === 1),
        "the single element listed in every response",
        one.map((r) => listOf(single, r)).join(" | "),
      );
      const pool = await registerPool(ctx, [wrand(5), wrand(0)]);
      const responses = await resolveMany(ctx, pool, 20);
      const counts = listedCounts(responses, pool.ids);
      ctx.must(
        counts[0] === 20 && counts[1] === 0,
        "A (weight 5) in every response, B (weight 0) in none",
        responses.map((r) => listOf(pool, r)).join(" | "),
      );
    },
  },
  {
    id: "asap/registrar/policy/weighted-random-dpf/zero-weight",
    ref: "draft-dreibholz-rserpool-delay (RSPLIB 3.4.4), RFC 5356 §4.4",
    requirement:
      "Weighted Random with DPF: an element of weight 0 (no penalty) is never listed while another element has a positive weight.",
    level: "MUST",
    role: "registrar-asap",
    features: ["policy-dpf"],
    timeout: policyTime,
    async run(ctx) {
      const dpf = (weight: number): PoolMemberSelectionPolicy => ({
        type: "WeightedRandomDPF",
        weight,
        weightDpf: 0,
        distance: 0,
      });
      const pool = await registerPool(ctx, [dpf(0), dpf(1), dpf(3)]);
      const responses = await resolveMany(ctx, pool, 20);
      const counts = listedCounts(responses, pool.ids);
      ctx.must(
        counts[0] === 0,
        "A (weight 0) never listed",
        responses.map((r) => listOf(pool, r)).join(" | "),
      );
    },
  },
  {
    id: "asap/registrar/policy/weighted-random/moved-weight",
    ref: "RFC 5356 §4.4, RFC 5352 §3.2",
    requirement:
      "Weighted Random: when a heavy element deregisters, its weight goes with it: the first resolution afterwards draws among the remaining elements by their own weights (8 pools of A weight 1000 and 15 elements of weight 1; the last registered is drawn first with probability 1/15 each time, so in at most 6 of the 8 pools: false failure below 2e-7).",
    level: "MUST",
    role: "registrar-asap",
    features: ["policy-random"],
    timeout: (t) => policyTime(t) + 20_000,
    async run(ctx) {
      const pools = 8;
      const log: string[] = [];
      let lastFirst = 0;
      for (let k = 0; k < pools; k++) {
        const pool = await registerPool(
          ctx,
          [1000, ...Array.from({ length: 15 }, () => 1)].map(wrand),
        );
        await deregister(ctx, pool, pool.ids[0]);
        const [r] = await resolveMany(ctx, pool, 1);
        ctx.must(
          r.poolElements.every((e) => e.identifier !== pool.ids[0]),
          "A never listed after its deregistration",
          listOf(pool, r),
        );
        if (r.poolElements[0].identifier === pool.ids[pool.ids.length - 1]) lastFirst++;
        log.push(listOf(pool, r));
      }
      // P(≥ 7 of 8 | p = 1/15) = 8·(1/15)^7·(14/15) + (1/15)^8 < 1.2e-7.
      ctx.must(
        lastFirst <= 6,
        "the last registered element (P) drawn first in at most 6 of the 8 pools (its weight is 1 of 15)",
        `in ${lastFirst}: ${log.join(" | ")}`,
      );
    },
  },
  {
    id: "asap/registrar/policy/random/first-resolution",
    ref: "RFC 5356 §4.3",
    requirement:
      "Random: already the first resolution of a fresh pool draws at random: over 9 fresh pools of 6 elements, the element listed first is not the one of the same registration position every time (false failure 6·(1/6)^9 < 6e-7).",
    level: "MUST",
    role: "registrar-asap",
    features: ["policy-random"],
    timeout: policyTime,
    async run(ctx) {
      const positions: number[] = [];
      const log: string[] = [];
      for (let k = 0; k < 9; k++) {
        const pool = await registerPool(ctx, Array.from({ length: 6 }, () => ({ type: "Random" })));
        const [r] = await resolveMany(ctx, pool, 1);
        positions.push(pool.ids.indexOf(r.poolElements[0].identifier));
        log.push(listOf(pool, r));
      }
      ctx.must(
        new Set(positions).size > 1,
        "different registration positions first across the 9 fresh pools",
        log.join(" | "),
      );
    },
  },
  {
    id: "asap/registrar/policy/randomized-priority-least-used/no-capacity",
    ref: "RSPLIB 3.4.4 (RFC 5356 §5.3, §5.4), RFC 5352 §3.3",
    requirement:
      "Randomized Priority Least Used (RSPLIB): an element whose load plus increment exceeds 100 % does not stop the selection: the other element, with free capacity, is listed in every response.",
    level: "MUST",
    role: "registrar-asap",
    features: ["policy-rsplib"],
    timeout: policyTime,
    async run(ctx) {
      const pool = await registerPool(ctx, [
        { type: "RandomizedPriorityLeastUsed", load: percent(70), loadDegradation: percent(70) },
        { type: "RandomizedPriorityLeastUsed", load: percent(60), loadDegradation: 0 },
      ]);
      const responses = await resolveMany(ctx, pool, 20);
      const counts = listedCounts(responses, pool.ids);
      ctx.must(
        counts[1] === 20,
        "B (60 %, no increment) listed in every response",
        responses.map((r) => listOf(pool, r)).join(" | "),
      );
    },
  },
  {
    id: "asap/registrar/resolution/hropt-items-every-policy",
    ref: "draft-dreibholz-rserpool-asap-hropt, RFC 5352 §3.3",
    requirement:
      "With the Handle Resolution Option, the number of elements asked for is honoured whatever the pool's policy (Round Robin, Least Used, Priority, Random, Weighted Random, Weighted Round Robin): 2 elements for Items 2, all 5 for 0xffffffff, and the registrar's own number for 0.",
    level: "MUST",
    role: "registrar-asap",
    features: ["hropt"],
    timeout: policyTime,
    async run(ctx) {
      const families: [string, (i: number) => PoolMemberSelectionPolicy][] = [
        ["Least Used", (i) => ({ type: "LeastUsed", load: percent(10 * (i + 1)) })],
        ["Priority", (i) => ({ type: "Priority", priority: i })],
        ["Random", () => ({ type: "Random" })],
        ["Weighted Random", (i) => wrand(i + 1)],
        ["Weighted Round Robin", (i) => wrr(i + 1)],
      ];
      const pu = await ctx.asap();
      const declared = Math.min(5, ctx.timers.handleResolutionItems);
      for (const [family, policy] of families) {
        const pool = await registerPool(ctx, Array.from({ length: 5 }, (_, i) => policy(i)));
        for (const [items, want] of [[2, 2], [0xffffffff, 5]] as const) {
          const r = await resolveAt(ctx, pu, pool.handle, items);
          ctx.must(
            r.poolElements.length === want,
            `${family}: ${want} elements for Items ${items === 2 ? 2 : "0xffffffff"}`,
            `${r.poolElements.length}: ${listOf(pool, r)} (${causes(r.operationError)})`,
          );
        }
        const zero = await resolveAt(ctx, pu, pool.handle, 0);
        ctx.should(
          zero.poolElements.length === declared,
          `${family}: the registrar's default number (${declared}) for Items 0`,
          `${zero.poolElements.length}: ${listOf(pool, zero)}`,
        );
      }
    },
  },
];
