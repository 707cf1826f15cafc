/**
 * A registrar over ASAP (RFC 5352), the suite acting as pool elements and
 * pool users.
 *
 * @module
 */

import { encodeMessage } from "../../lib/protocol/codec.ts";
import { ErrorCauseCode, Port } from "../../lib/protocol/constants.ts";
import type { ServerAnnounce } from "../../lib/protocol/types.ts";
import type { ConformanceCase } from "../types.ts";
import {
  causes,
  element,
  eventually,
  hexId,
  idsOf,
  registerAt,
  registerOk,
  resolveAt,
  sameBytes,
} from "./helpers.ts";

const quick = (t: { slack: number }) => 4 * t.slack + 8000;

/** The cases. */
export const REGISTRAR_ASAP_CASES: readonly ConformanceCase[] = [
  {
    id: "asap/registrar/registration/accept",
    ref: "RFC 5352 §3.1",
    requirement:
      "A registration of a new pool element is answered with a Registration Response without the Reject flag, for the same pool handle and PE identifier.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      const r = await registerAt(ctx, pe, handle, id);
      ctx.must(!r.reject, "R=0", `R=1, ${causes(r.operationError)}`);
      ctx.must(sameBytes(r.poolHandle, handle), "the same pool handle", "another pool handle");
      ctx.should(
        r.operationError === undefined,
        "no Operation Error in an acceptance",
        causes(r.operationError),
      );
    },
  },
  {
    id: "asap/registrar/registration/resolvable",
    ref: "RFC 5352 §3.1, §3.3",
    requirement:
      "A registered pool element is listed by handle resolution with its identifier, user transport, policy and registration life as registered, and the registrar as its home (non-zero Home Registrar Identifier).",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      const transport = ctx.userTransport(4711);
      await registerOk(ctx, pe, handle, id, {
        transport,
        policy: { type: "WeightedRoundRobin", weight: 7 },
        life: 54_321,
      });
      const pu = await ctx.asap();
      const r = await resolveAt(ctx, pu, handle);
      const e = element(r.poolElements, id);
      if (e === undefined) {
        return ctx.fail(
          `PE ${hexId(id)} listed`,
          `listed: ${idsOf(r).map(hexId).join(", ") || "none"} (${causes(r.operationError)})`,
        );
      }
      ctx.must(
        e.userTransport.type === "TCP" && e.userTransport.port === 4711 &&
          e.userTransport.addresses.includes(transport.addresses[0]),
        "its user transport as registered",
        JSON.stringify(e.userTransport),
      );
      ctx.must(
        e.policy.type === "WeightedRoundRobin" && "weight" in e.policy && e.policy.weight === 7,
        "its policy as registered (Weighted Round Robin, weight 7)",
        JSON.stringify(e.policy),
      );
      ctx.must(e.homeRegistrarId !== ctx.zero, "a non-zero Home Registrar Identifier", "0");
      ctx.must(
        e.registrationLife === 54_321,
        "its registration life as registered (54321)",
        `${e.registrationLife}`,
      );
    },
  },
  {
    id: "asap/registrar/registration/update",
    ref: "RFC 5352 §3.1",
    requirement:
      "A registration for a pool element already registered updates it (here its Least Used load) instead of adding another.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      const low = Math.round(0.1 * 0xffffffff);
      const high = Math.round(0.7 * 0xffffffff);
      await registerOk(ctx, pe, handle, id, { policy: { type: "LeastUsed", load: low } });
      await registerOk(ctx, pe, handle, id, { policy: { type: "LeastUsed", load: high } });
      const pu = await ctx.asap();
      const r = await resolveAt(ctx, pu, handle);
      const listed = r.poolElements.filter((e) => e.identifier === id);
      ctx.must(listed.length === 1, "the element listed once", `${listed.length} times`);
      const load = "load" in listed[0].policy ? listed[0].policy.load : undefined;
      ctx.must(load === high, "the updated load (70 %)", `load ${load}`);
    },
  },
  ...(
    [
      [
        "policy-mismatch",
        "a different pool member selection policy than the pool's",
        ErrorCauseCode.InconsistentPoolingPolicy,
        { policy: { type: "LeastUsed" as const, load: 0 } },
      ],
      [
        "transport-mismatch",
        "a different transport protocol (UDP) than the pool's (TCP)",
        ErrorCauseCode.InconsistentTransportType,
        { transport: { type: "UDP" as const, port: 4000, addresses: ["127.0.0.1"] } },
      ],
      [
        "transport-use-mismatch",
        "a different Transport Use (DATA PLUS CONTROL) than the pool's (DATA ONLY)",
        ErrorCauseCode.InconsistentDataControlConfiguration,
        {
          transport: {
            type: "TCP" as const,
            port: 4000,
            transportUse: 1,
            addresses: ["127.0.0.1"],
          },
        },
      ],
    ] as const
  ).map(([name, what, code, options]): ConformanceCase => ({
    id: `asap/registrar/registration/${name}`,
    ref: "RFC 5352 §3.1, RFC 5354 §3.12",
    requirement:
      `A registration into an existing pool with ${what} is refused (Reject flag) with cause 0x${
        code.toString(16).padStart(4, "0")
      }, and the pool keeps its members.`,
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const first = ctx.identifier();
      await registerOk(ctx, pe, handle, first);
      const second = ctx.identifier();
      // The suite's own address: registrars may drop addresses of a narrower scope.
      const local = { addresses: [ctx.config.listenHost] };
      const r = await registerAt(ctx, pe, handle, second, {
        ...options,
        transport: "transport" in options ? { ...options.transport, ...local } : undefined,
      });
      ctx.must(r.reject, "R=1 (refused)", "R=0 (accepted)");
      ctx.must(
        sameBytes(r.poolHandle, handle),
        "the request's Pool Handle in the refusal (RFC 5352 §2.2.2)",
        "another handle",
      );
      ctx.must(
        (r.operationError ?? []).some((c) => c.code === code),
        `cause 0x${code.toString(16).padStart(4, "0")}`,
        causes(r.operationError),
      );
      const pu = await ctx.asap();
      const listed = idsOf(await resolveAt(ctx, pu, handle));
      ctx.must(
        listed.includes(first) && !listed.includes(second),
        "the pool still listing only the first element",
        listed.map(hexId).join(", ") || "none",
      );
    },
  })),
  {
    id: "asap/registrar/deregistration/remove",
    ref: "RFC 5352 §3.2",
    requirement:
      "A deregistration is answered with a Deregistration Response for the same pool handle and PE identifier, and the element is no longer listed.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      const other = ctx.identifier();
      await registerOk(ctx, pe, handle, id);
      await registerOk(ctx, pe, handle, other);
      pe.send({ type: "Deregistration", poolHandle: handle, poolElementId: id });
      const r = await ctx.expecting(() =>
        pe.expectType("DeregistrationResponse", ctx.answerTime, "a Deregistration Response")
      );
      ctx.must(r.poolElementId === id, "the same PE identifier", hexId(r.poolElementId));
      ctx.must(r.operationError === undefined, "no Operation Error", causes(r.operationError));
      const pu = await ctx.asap();
      const listed = idsOf(await resolveAt(ctx, pu, handle));
      ctx.must(
        !listed.includes(id) && listed.includes(other),
        "only the other element listed",
        listed.map(hexId).join(", "),
      );
    },
  },
  {
    id: "asap/registrar/deregistration/unknown-pool",
    ref: "RFC 5352 §3.2",
    requirement:
      "A deregistration from a pool the registrar does not know is answered with a Deregistration Response for that pool handle and identifier; it should be granted (no Operational Error: the element is gone already).",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle("-nx");
      const id = ctx.identifier();
      pe.send({ type: "Deregistration", poolHandle: handle, poolElementId: id });
      const r = await ctx.expecting(() =>
        pe.expectType("DeregistrationResponse", ctx.answerTime, "a Deregistration Response")
      );
      ctx.must(
        sameBytes(r.poolHandle, handle) && r.poolElementId === id,
        "the same pool handle and identifier",
        hexId(r.poolElementId),
      );
      ctx.should(
        r.operationError === undefined,
        "no Operational Error (RFC 5352 §3.2: consider it granted and completed)",
        causes(r.operationError),
      );
    },
  },
  {
    id: "asap/registrar/deregistration/empty-pool-forgotten",
    ref: "RFC 5351 §2, RFC 5352 §3.2",
    requirement:
      "A pool whose last element left ceases to exist: a new registration with another policy creates it anew.",
    level: "SHOULD",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      await registerOk(ctx, pe, handle, id);
      pe.send({ type: "Deregistration", poolHandle: handle, poolElementId: id });
      await ctx.expecting(() => pe.expectType("DeregistrationResponse", ctx.answerTime));
      const r = await registerAt(ctx, pe, handle, ctx.identifier(), {
        policy: { type: "LeastUsed", load: 0 },
      });
      ctx.should(
        !r.reject,
        "the registration with a new policy accepted",
        `R=1, ${causes(r.operationError)}`,
      );
    },
  },
  {
    id: "asap/registrar/resolution/unknown-pool",
    ref: "RFC 5352 §3.3, RFC 5354 §3.12",
    requirement:
      "A handle resolution for a pool the registrar does not know is answered with cause 0x0009 (Unknown Pool Handle) and no pool elements.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pu = await ctx.asap();
      const r = await resolveAt(ctx, pu, ctx.poolHandle("-nx"));
      ctx.must(r.poolElements.length === 0, "no pool elements", `${r.poolElements.length}`);
      ctx.must(
        (r.operationError ?? []).some((c) => c.code === ErrorCauseCode.UnknownPoolHandle),
        "cause 0x0009 (Unknown Pool Handle)",
        causes(r.operationError),
      );
    },
  },
  {
    id: "asap/registrar/resolution/policy-parameter",
    ref: "RFC 5352 §3.3, §2.2.6",
    requirement:
      "A successful Handle Resolution Response for a pool whose policy is not Round Robin carries the pool's overall selection policy.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      await registerOk(ctx, pe, handle, ctx.identifier(), { policy: { type: "Random" } });
      const r = await resolveAt(ctx, await ctx.asap(), handle);
      ctx.must(r.policy?.type === "Random", "the pool policy (Random)", r.policy?.type ?? "none");
    },
  },
  {
    id: "asap/registrar/resolution/round-robin-rotates",
    ref: "RFC 5352 §3.3, RFC 5356 §4.1",
    requirement:
      "When a resolution returns fewer elements than a Round Robin pool has, successive resolutions go round the pool instead of returning the same subset.",
    level: "SHOULD",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const ids = Array.from({ length: 8 }, () => ctx.identifier());
      for (const id of ids) await registerOk(ctx, pe, handle, id);
      const pu = await ctx.asap();
      const first = idsOf(await resolveAt(ctx, pu, handle));
      if (first.length >= ids.length) {
        ctx.note(`the registrar returns the whole pool (${first.length}): nothing to rotate`);
        return;
      }
      const seen = new Set(first);
      for (let i = 0; i < 8; i++) {
        for (const id of idsOf(await resolveAt(ctx, pu, handle))) seen.add(id);
      }
      ctx.should(
        seen.size > first.length,
        "other elements in later resolutions",
        `always ${[...seen].map(hexId).join(", ")}`,
      );
    },
  },
  {
    id: "asap/registrar/resolution/hropt-items",
    ref: "draft-dreibholz-rserpool-asap-hropt",
    requirement:
      "With the Handle Resolution Option, the response lists as many elements as asked for (2), all of them for 0xffffffff, and the registrar's own number (at least one) for 0.",
    level: "MUST",
    role: "registrar-asap",
    features: ["hropt"],
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      for (let i = 0; i < 5; i++) await registerOk(ctx, pe, handle, ctx.identifier());
      const pu = await ctx.asap();
      const two = await resolveAt(ctx, pu, handle, 2);
      ctx.must(
        two.poolElements.length === 2,
        "2 elements for Items 2",
        `${two.poolElements.length}`,
      );
      const all = await resolveAt(ctx, pu, handle, 0xffffffff);
      ctx.must(
        all.poolElements.length === 5,
        "all 5 elements for Items 0xffffffff",
        `${all.poolElements.length}`,
      );
      // Items 0: the registrar's own number; a positive response lists at least one (§2.2.6).
      const zero = await resolveAt(ctx, pu, handle, 0);
      ctx.must(
        zero.poolElements.length >= 1,
        "at least one element for Items 0 (RFC 5352 §2.2.6)",
        `${zero.poolElements.length} (${causes(zero.operationError)})`,
      );
      ctx.should(
        zero.poolElements.length === Math.min(5, ctx.timers.handleResolutionItems),
        `the registrar's default number (${ctx.timers.handleResolutionItems}) for Items 0`,
        `${zero.poolElements.length}`,
      );
    },
  },
  {
    id: "asap/registrar/registration/update-transport",
    ref: "RFC 5352 §3.1",
    requirement:
      "A re-registration replaces the element's attributes: a new user transport port and registration life are what resolution lists afterwards, once.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      await registerOk(ctx, pe, handle, id, { transport: ctx.userTransport(4801), life: 50_000 });
      await registerOk(ctx, pe, handle, id, { transport: ctx.userTransport(4802), life: 40_000 });
      const r = await resolveAt(ctx, await ctx.asap(), handle, undefined);
      const listed = r.poolElements.filter((e) => e.identifier === id);
      ctx.must(listed.length === 1, "the element listed once", `${listed.length} times`);
      ctx.must(
        listed[0].userTransport.port === 4802,
        "the new user transport port 4802",
        `${listed[0].userTransport.port}`,
      );
      ctx.must(
        listed[0].registrationLife === 40_000,
        "the new registration life 40000",
        `${listed[0].registrationLife}`,
      );
    },
  },
  {
    id: "asap/registrar/registration/same-identifier-other-pool",
    ref: "RFC 5352 §3.1, RFC 5351 §2",
    requirement:
      "The same PE identifier in two pools makes two independent elements: each pool lists its own, and deregistering one leaves the other.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const a = ctx.poolHandle("a");
      const b = ctx.poolHandle("b");
      const id = ctx.identifier();
      await registerOk(ctx, pe, a, id, { transport: ctx.userTransport(4811) });
      await registerOk(ctx, pe, b, id, { transport: ctx.userTransport(4812) });
      const pu = await ctx.asap();
      const ra = await resolveAt(ctx, pu, a);
      const rb = await resolveAt(ctx, pu, b);
      ctx.must(
        element(ra.poolElements, id)?.userTransport.port === 4811 &&
          element(rb.poolElements, id)?.userTransport.port === 4812,
        "each pool listing the element with its own transport (4811, 4812)",
        `${element(ra.poolElements, id)?.userTransport.port}, ${
          element(rb.poolElements, id)?.userTransport.port
        }`,
      );
      pe.send({ type: "Deregistration", poolHandle: a, poolElementId: id });
      await ctx.expecting(() => pe.expectType("DeregistrationResponse", ctx.answerTime));
      const after = await resolveAt(ctx, pu, b);
      ctx.must(
        element(after.poolElements, id) !== undefined,
        "the element still listed in the other pool",
        `${causes(after.operationError)}, ${idsOf(after).map(hexId).join(", ") || "nothing"}`,
      );
    },
  },
  {
    id: "asap/registrar/registration/invalid-policy",
    ref: "RFC 5352 §3.1, RFC 5354 §3.12",
    requirement:
      "A registration with a pool member selection policy the registrar does not know is refused (Reject flag), preferably with cause 0x0003 (Invalid Values), and nothing is registered.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      const r = await registerAt(ctx, pe, handle, id, {
        policy: { type: "Unknown", policyType: 0x3fff0077, data: new Uint8Array(4) },
      });
      ctx.must(r.reject, "R=1 (refused)", "R=0 (accepted)");
      ctx.should(
        (r.operationError ?? []).some((c) => c.code === ErrorCauseCode.InvalidValues),
        "cause 0x0003 (Invalid Values)",
        causes(r.operationError),
      );
      const listed = await resolveAt(ctx, await ctx.asap(), handle);
      ctx.must(
        element(listed.poolElements, id) === undefined,
        "the element not listed",
        "listed",
      );
    },
  },
  {
    id: "asap/registrar/registration/life-expiry",
    ref: "RFC 5352 §3.2, RFC 5354 §3.10",
    requirement:
      "An element that does not re-register within its registration life is removed when the life ends (also while it answers keep-alives), not before.",
    level: "SHOULD",
    role: "registrar-asap",
    timeout: (t) => 12 * t.slack + 15_000,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      const keep = ctx.identifier();
      const later = ctx.identifier();
      const life = Math.max(3 * ctx.timers.slack, 2000);
      const laterLife = Math.round(1.6 * life);
      pe.answerKeepAlives(handle, id, keep, later);
      await registerOk(ctx, pe, handle, keep);
      await registerOk(ctx, pe, handle, id, { life });
      const registered = performance.now();
      await registerOk(ctx, pe, handle, later, { life: laterLife });
      const pu = await ctx.asap();
      await ctx.sleep(life / 2);
      const half = idsOf(await resolveAt(ctx, pu, handle));
      ctx.must(
        half.includes(id),
        `the element listed halfway through its life (${life} ms)`,
        "already removed",
      );
      await eventually(
        ctx,
        pu,
        handle,
        (r) => !idsOf(r).includes(id) && idsOf(r).includes(keep),
        `the element removed after its registration life of ${life} ms, the other kept`,
        life - (performance.now() - registered) + 2 * ctx.timers.slack,
      );
      // A second, later expiry: each element's own life counts.
      await eventually(
        ctx,
        pu,
        handle,
        (r) => !idsOf(r).includes(later) && idsOf(r).includes(keep),
        `the element registered with a life of ${laterLife} ms removed when that ends too`,
        laterLife - (performance.now() - registered) + 2 * ctx.timers.slack,
      );
    },
  },
  {
    id: "asap/registrar/registration/life-renewed",
    ref: "RFC 5352 §3.1, RFC 5354 §3.10",
    requirement:
      "A re-registration before the registration life ends starts the life anew: the element stays beyond its first life.",
    level: "MUST",
    role: "registrar-asap",
    timeout: (t) => 8 * t.slack + 15_000,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      const life = Math.max(3 * ctx.timers.slack, 2000);
      pe.answerKeepAlives(handle, id);
      await registerOk(ctx, pe, handle, id, { life });
      for (let i = 0; i < 3; i++) {
        await ctx.sleep(life / 2);
        await registerOk(ctx, pe, handle, id, { life });
      }
      await ctx.sleep(life / 2);
      const listed = idsOf(await resolveAt(ctx, await ctx.asap(), handle));
      ctx.must(
        listed.includes(id),
        `the element listed ${
          2 * life
        } ms after its first registration (life ${life} ms, renewed every ${life / 2} ms)`,
        "removed",
      );
    },
  },
  {
    id: "asap/registrar/registration/life-each-element",
    ref: "RFC 5352 §3.1, §3.2, RFC 5354 §3.10",
    requirement:
      "Each element's registration life counts on its own, from its latest registration: elements registered in any order, lives extended and shortened by re-registration, each removed when its own life ends (within the slack), never before, and an element with a long life kept throughout.",
    level: "SHOULD",
    role: "registrar-asap",
    timeout: (t) => 20 * t.slack + 15_000,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const u = Math.max(ctx.timers.slack, 400);
      // [name, first life, life of the re-registration (if any)], registered in this order.
      // The lives end 2, 4, ... 14 units after the registrations, each in a heap position
      // where a registrar that misplaces an element (e.g. one that does not re-sort a
      // renewed or shortened life) keeps some element at least six units too long.
      const plan: [string, number, number | undefined][] = [
        ["E1", 6 * u, undefined],
        ["E2", 9 * u, 10 * u],
        ["E3", 11 * u, 12 * u],
        ["E4", 14 * u, undefined],
        ["E5", 15 * u, 4 * u],
        ["E6", 2 * u, undefined],
        ["E7", 3 * u, 8 * u],
        ["keep", 60_000, undefined],
      ];
      const ids = new Map(plan.map(([name]) => [name, ctx.identifier()]));
      pe.answerKeepAlives(handle, ...ids.values());
      /** When each element's life ends, at the earliest (sent) and at the latest (answered). */
      const due = new Map<string, { earliest: number; latest: number }>();
      const registerFor = async (name: string, life: number) => {
        const sent = performance.now();
        await registerOk(ctx, pe, handle, ids.get(name)!, { life });
        due.set(name, { earliest: sent + life, latest: performance.now() + life });
      };
      for (const [name, life] of plan) await registerFor(name, life);
      for (const [name, , again] of plan) if (again !== undefined) await registerFor(name, again);
      ctx.note(
        `lives (ms): ${
          plan.map(([n, first, again]) => `${n} ${first}${again === undefined ? "" : `→${again}`}`)
            .join(", ")
        }`,
      );
      const pu = await ctx.asap();
      const pending = new Set(plan.map(([name]) => name).filter((n) => n !== "keep"));
      const deadline = Math.max(...[...pending].map((n) => due.get(n)!.latest)) +
        2 * ctx.timers.slack;
      let previous = performance.now();
      while (pending.size > 0 && performance.now() < deadline) {
        await ctx.sleep(Math.min(200, u / 3));
        const listed = idsOf(await resolveAt(ctx, pu, handle, 0xffffffff));
        const now = performance.now();
        ctx.must(
          listed.includes(ids.get("keep")!),
          "the element with a 60 s life listed throughout",
          `gone after ${Math.round(now - due.get("keep")!.earliest + 60_000)} ms`,
        );
        for (const name of [...pending]) {
          if (listed.includes(ids.get(name)!)) continue;
          pending.delete(name);
          const { earliest, latest } = due.get(name)!;
          ctx.must(
            now >= earliest,
            `${name} listed until its life ends`,
            `gone ${Math.round(earliest - now)} ms before`,
          );
          ctx.must(
            previous <= latest + ctx.timers.slack,
            `${name} removed within ${ctx.timers.slack} ms after its life ends`,
            `still listed ${Math.round(previous - latest)} ms after`,
          );
        }
        previous = now;
      }
      const end = performance.now();
      ctx.must(
        pending.size === 0,
        "every element removed",
        `still listed: ${
          [...pending].map((n) =>
            `${n} (${Math.round(end - due.get(n)!.latest)} ms after its life)`
          )
            .join(", ")
        }`,
      );
    },
  },
  {
    id: "asap/registrar/deregistration/unknown-element",
    ref: "RFC 5352 §3.2",
    requirement:
      "A deregistration of an element a known pool does not have is answered with a Deregistration Response, and the pool keeps its elements.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      await registerOk(ctx, pe, handle, id);
      const absent = ctx.identifier();
      pe.send({ type: "Deregistration", poolHandle: handle, poolElementId: absent });
      const r = await ctx.expecting(() =>
        pe.expectType("DeregistrationResponse", ctx.answerTime, "a Deregistration Response")
      );
      ctx.must(r.poolElementId === absent, "the identifier asked for", hexId(r.poolElementId));
      const listed = idsOf(await resolveAt(ctx, await ctx.asap(), handle));
      ctx.must(listed.includes(id), "the pool's element still listed", "removed");
    },
  },
  {
    id: "asap/registrar/deregistration/stops-keepalives",
    ref: "RFC 5352 §3.2, §3.4",
    requirement:
      "Once an element is deregistered, its registrar sends no more Endpoint Keep-Alives for it, while the elements that stay go on getting them.",
    level: "MUST",
    role: "registrar-asap",
    timeout: (t) => 4 * (t.keepAliveInterval + t.keepAliveTimeout) + 6 * t.slack + 5000,
    async run(ctx) {
      const pe = await ctx.asap();
      const gone = ctx.poolHandle("g");
      const kept = ctx.poolHandle("k");
      const goneId = ctx.identifier();
      const keptId = ctx.identifier();
      pe.answerKeepAlives(gone, goneId);
      pe.answerKeepAlives(kept, keptId);
      await registerOk(ctx, pe, gone, goneId);
      await registerOk(ctx, pe, kept, keptId);
      pe.send({ type: "Deregistration", poolHandle: gone, poolElementId: goneId });
      await ctx.expecting(() => pe.expectType("DeregistrationResponse", ctx.answerTime));
      const since = pe.received.length;
      const t = ctx.timers;
      await ctx.sleep(2 * (t.keepAliveInterval + t.keepAliveTimeout) + t.slack);
      const later = pe.received.slice(since);
      const forGone =
        later.filter((m) => m.type === "EndpointKeepAlive" && sameBytes(m.poolHandle, gone)).length;
      const forKept =
        later.filter((m) => m.type === "EndpointKeepAlive" && sameBytes(m.poolHandle, kept)).length;
      ctx.must(forKept > 0, "keep-alives for the element that stays", "none");
      ctx.must(forGone === 0, "no keep-alive for the deregistered element", `${forGone}`);
    },
  },
  {
    id: "asap/registrar/deregistration/not-by-proxy",
    ref: "RFC 5352 §2.2.2",
    requirement:
      "De-registration is not allowed by proxy: a Deregistration of an element that arrives over another connection than the element's own is refused (an Operational Error) and the element stays.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      pe.answerKeepAlives(handle, id);
      await registerOk(ctx, pe, handle, id);
      const proxy = await ctx.asap();
      proxy.send({ type: "Deregistration", poolHandle: handle, poolElementId: id });
      const r = await ctx.expecting(() =>
        proxy.expectType("DeregistrationResponse", ctx.answerTime, "a Deregistration Response")
      );
      ctx.should(
        r.operationError !== undefined && r.operationError.length > 0,
        "an Operational Error refusing it (cause 0x000a, say)",
        "none",
      );
      ctx.must(
        sameBytes(r.poolHandle, handle) && r.poolElementId === id,
        "the request's Pool Handle and PE Identifier in the response (RFC 5352 §2.2.4)",
        `${hexId(r.poolElementId)}`,
      );
      const listed = idsOf(await resolveAt(ctx, proxy, handle));
      ctx.must(listed.includes(id), "the element still listed", "removed by a proxy");
    },
  },
  {
    id: "asap/registrar/decoding/padding-ignored",
    ref: "RFC 5354 §2",
    requirement:
      "The receiver ignores padding bytes: a Registration whose Pool Handle parameter is padded with non-zero bytes is processed like any other.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      let handle = ctx.poolHandle("p");
      if (handle.length % 4 === 0) handle = new Uint8Array([...handle, 0x70]);
      const id = ctx.identifier();
      const bytes = encodeMessage(ctx.registration(handle, id), { profile: ctx.config.profile });
      // The Pool Handle parameter comes first: its value at offset 8, then the padding.
      const end = 8 + handle.length;
      const padded = 8 + ((handle.length + 3) & ~3);
      for (let i = end; i < padded; i++) bytes[i] = 0xff;
      const pe = await ctx.asap();
      pe.sendRaw(bytes, `a Registration with padding bytes 0xff after the pool handle`);
      const r = await ctx.expecting(() =>
        pe.expectType(
          "RegistrationResponse",
          ctx.answerTime,
          "a Registration Response",
          (m) => m.poolElementId === id,
        )
      );
      ctx.must(!r.reject, "R=0 (accepted)", `R=1, ${causes(r.operationError)}`);
      const listed = idsOf(await resolveAt(ctx, await ctx.asap(), handle));
      ctx.must(listed.includes(id), "the element listed", "not listed");
    },
  },
  {
    id: "asap/registrar/resolution/emptied-pool",
    ref: "RFC 5352 §3.3, RFC 5353 §3.3.2",
    requirement:
      "Once the last element of a pool deregistered, a resolution of the pool is answered with cause 0x0009 (Unknown Pool Handle) and no elements.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      await registerOk(ctx, pe, handle, id);
      pe.send({ type: "Deregistration", poolHandle: handle, poolElementId: id });
      await ctx.expecting(() => pe.expectType("DeregistrationResponse", ctx.answerTime));
      const r = await resolveAt(ctx, await ctx.asap(), handle);
      ctx.must(r.poolElements.length === 0, "no elements", idsOf(r).map(hexId).join(", "));
      ctx.must(
        (r.operationError ?? []).some((c) => c.code === ErrorCauseCode.UnknownPoolHandle),
        "cause 0x0009 (Unknown Pool Handle)",
        causes(r.operationError),
      );
    },
  },
  {
    id: "asap/registrar/resolution/exact-handle",
    ref: "RFC 5352 §3.3, RFC 5354 §3.9",
    requirement:
      "Pool handles are compared as whole byte strings: a pool whose handle is a prefix of another's, or differs in its last byte, is a pool of its own.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const base = ctx.poolHandle("x");
      const longer = new Uint8Array([...base, 0x61]);
      const other = base.slice();
      other[other.length - 1] ^= 0x01;
      const ids = [ctx.identifier(), ctx.identifier(), ctx.identifier()];
      const handles = [base, longer, other];
      for (let i = 0; i < 3; i++) await registerOk(ctx, pe, handles[i], ids[i]);
      const pu = await ctx.asap();
      for (let i = 0; i < 3; i++) {
        const listed = idsOf(await resolveAt(ctx, pu, handles[i]));
        ctx.must(
          listed.length === 1 && listed[0] === ids[i],
          `pool ${i + 1} listing only its own element ${hexId(ids[i])}`,
          listed.map(hexId).join(", ") || "nothing",
        );
      }
    },
  },
  {
    id: "asap/registrar/resolution/hropt-limits",
    ref: "draft-dreibholz-rserpool-asap-hropt",
    requirement:
      "With the Handle Resolution Option a response lists no more elements than asked for (1), and all of them when more are asked for than the pool has.",
    level: "MUST",
    role: "registrar-asap",
    features: ["hropt"],
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      for (let i = 0; i < 4; i++) await registerOk(ctx, pe, handle, ctx.identifier());
      const pu = await ctx.asap();
      const one = await resolveAt(ctx, pu, handle, 1);
      ctx.must(
        one.poolElements.length === 1,
        "1 element for Items 1",
        `${one.poolElements.length}`,
      );
      const more = await resolveAt(ctx, pu, handle, 9);
      ctx.must(
        more.poolElements.length === 4,
        "all 4 elements for Items 9",
        `${more.poolElements.length}`,
      );
    },
  },
  {
    id: "asap/registrar/announce/sent",
    ref: "RFC 5352 §3.6",
    requirement:
      "A registrar that announces itself sends ASAP Server Announces every T6-Serverannounce on its announce channel, with its identifier and the ASAP endpoint it serves (or none: its address at the ASAP port).",
    level: "MUST",
    role: "registrar-asap",
    features: ["announce"],
    timeout: (t) => 6 * t.serverAnnounceCycle + 6 * t.slack + 5000,
    async run(ctx) {
      const settings = ctx.config.announce ??
        ctx.unsupported("the target's announce channel is not known (--announce GROUP:PORT)");
      const heard: { at: number; message: ServerAnnounce }[] = [];
      await ctx.announceChannel(settings, (m) => {
        if (m.type === "ServerAnnounce") heard.push({ at: performance.now(), message: m });
      });
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      pe.answerKeepAlives(handle, id);
      await registerOk(ctx, pe, handle, id);
      const home = element((await resolveAt(ctx, await ctx.asap(), handle)).poolElements, id)
        ?.homeRegistrarId;
      const t = ctx.timers;
      await ctx.sleep(4.5 * t.serverAnnounceCycle + t.slack);
      const own = heard.filter((h) => h.message.registrarId === home);
      ctx.must(
        own.length >= 2,
        `at least two Server Announces of the target (${hexId(home ?? ctx.zero)}) in ${
          4.5 * t.serverAnnounceCycle + t.slack
        } ms`,
        `${own.length} (from ${
          [...new Set(heard.map((h) => hexId(h.message.registrarId)))].join(", ") || "nobody"
        })`,
      );
      const transports = own[0].message.transports;
      const asap = ctx.config.asap!;
      const type = asap.transport ?? "TCP";
      // No transport parameters means SCTP at the IANA port (§3.6): right only for such a target.
      ctx.must(
        transports.length === 0
          ? type === "SCTP" && asap.port === Port.Asap
          : transports.some((x) => x.port === asap.port && x.type === type),
        `its ASAP endpoint (${type}, port ${asap.port}) among the announced transports`,
        transports.map((x) => `${x.type} ${x.addresses.join(",")}:${x.port}`).join("; ") ||
          "none (SCTP at port 3863)",
      );
      const gaps = own.slice(1).map((h, i) => Math.round(h.at - own[i].at));
      ctx.should(
        gaps.every((g) => g >= t.serverAnnounceCycle / 2),
        `no more often than about every T6-Serverannounce (${t.serverAnnounceCycle} ms)`,
        `gaps ${gaps.join(", ")} ms`,
      );
      // One late gap may be the machine; their median is the target's cycle (±50 %).
      const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)];
      ctx.should(
        median <= 1.5 * t.serverAnnounceCycle,
        `the median gap at most one and a half T6-Serverannounce (${t.serverAnnounceCycle} ms)`,
        `${median} ms (gaps ${gaps.join(", ")})`,
      );
    },
  },
];
