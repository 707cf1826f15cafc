/**
 * A pool user (RFC 5352, RFC 5356's pool user considerations), the suite
 * acting as its registrar and as the pool's elements.
 *
 * @module
 */

import { ErrorCauseCode, TransportUse } from "../../lib/protocol/constants.ts";
import type { PoolElementParameter, PoolMemberSelectionPolicy } from "../../lib/protocol/types.ts";
import { type Endpoint, transportParameter } from "../../lib/runtime/endpoint.ts";
import type { CaseContext, RunningUser, SuiteListener } from "../context.ts";
import type { Arrival, Peer } from "../peer.ts";
import type { ConformanceCase, TargetTimers } from "../types.ts";
import {
  announceEvery200ms,
  blackHole,
  closingListener,
  firstConnection,
  hexId,
  listenerAtAnnouncePort,
  noReconnectionStorm,
  receivedSince,
  sameBytes,
  waitFor,
} from "./helpers.ts";
import { FALSE_FAILURE } from "./registrar_policy.ts";
import { binomialRegion } from "./stats.ts";

const startup = (t: TargetTimers) => 10_000 + 2 * t.slack;

/** A pool element the suite plays: a session listener and the parameter that names it. */
interface SuiteElement {
  readonly listener: SuiteListener;
  readonly element: PoolElementParameter;
}

interface Setup {
  readonly pool: Uint8Array;
  readonly registrar: Peer;
  readonly elements: SuiteElement[];
  readonly user: RunningUser;
  readonly send: (line: string) => void;
  /** Handle Resolutions of the pool the registrar received so far. */
  readonly resolutions: () => number;
}

/** Session listeners playing pool elements with these policies (one home for all). */
async function suiteElements(
  ctx: CaseContext,
  policies: readonly PoolMemberSelectionPolicy[],
): Promise<SuiteElement[]> {
  const home = ctx.identifier();
  const elements: SuiteElement[] = [];
  for (const policy of policies) {
    const listener = await ctx.listen("session");
    elements.push({
      listener,
      element: ctx.poolElement(ctx.identifier(), {
        home,
        policy,
        transport: {
          type: "TCP",
          port: listener.endpoint.port,
          transportUse: TransportUse.DataPlusControl,
          addresses: [listener.endpoint.address],
        },
      }),
    });
  }
  return elements;
}

/** Starts the user under test for a pool of the suite, with these registrars. */
async function startUser(
  ctx: CaseContext,
  registrars: Endpoint[],
): Promise<{ pool: Uint8Array; user: RunningUser }> {
  const pool = ctx.poolHandle();
  const user = await ctx.config.user!.start({
    registrar: registrars[0],
    registrars,
    pool: new TextDecoder().decode(pool),
  });
  ctx.onCleanup(() => user.kill());
  return { pool, user };
}

/** A Handle Resolution for `pool` (what a registrar of the suite sees from the user). */
function resolutionOf(pool: Uint8Array): (m: Arrival) => boolean {
  return (m) => m.type === "HandleResolution" && sameBytes(m.poolHandle, pool);
}

/** Answers every Handle Resolution of the pool on `registrar` (also one already received). */
function serve(
  registrar: Peer,
  pool: Uint8Array,
  answer: () => { elements: PoolElementParameter[]; policy?: PoolMemberSelectionPolicy },
): void {
  const isResolution = resolutionOf(pool);
  const send = () => {
    const { elements, policy } = answer();
    registrar.send({
      type: "HandleResolutionResponse",
      poolHandle: pool,
      ...(policy === undefined ? {} : { policy }),
      poolElements: elements,
      ...(elements.length === 0
        ? { operationError: [{ code: ErrorCauseCode.UnknownPoolHandle, info: new Uint8Array() }] }
        : {}),
    });
  };
  registrar.respond((m) => {
    if (isResolution(m)) send();
    return false;
  });
  for (const m of registrar.received) {
    if (isResolution(m)) send();
  }
}

/**
 * Starts the user under test against a suite registrar that resolves the
 * pool to suite elements of these policies (two Round Robin ones unless
 * told), listed in this order.
 */
async function setup(
  ctx: CaseContext,
  policies: readonly PoolMemberSelectionPolicy[] = [{ type: "RoundRobin" }, {
    type: "RoundRobin",
  }],
  options: { overallPolicy?: boolean } = {},
): Promise<Setup> {
  const registrarListener = await ctx.listen("asap");
  const elements = await suiteElements(ctx, policies);
  const { pool, user } = await startUser(ctx, [registrarListener.endpoint]);
  const registrar = await registrarListener.next(
    startup(ctx.timers),
    "the user connecting to its registrar",
  );
  serve(registrar, pool, () => ({
    elements: elements.map((e) => e.element),
    ...(options.overallPolicy === false ? {} : { policy: policies[0] }),
  }));
  return {
    pool,
    registrar,
    elements,
    user,
    send: (line) => user.send(line),
    resolutions: () => registrar.received.filter(resolutionOf(pool)).length,
  };
}

/**
 * At the user's first Handle Resolution of the pool, sends `first` (messages
 * the user must not be thrown by), then serves the pool 100 ms later.
 */
function serveAfter(
  registrar: Peer,
  pool: Uint8Array,
  first: () => void,
  answer: Parameters<typeof serve>[2],
): void {
  const isResolution = resolutionOf(pool);
  let answered = false;
  const once = () => {
    if (answered) return;
    answered = true;
    first();
    setTimeout(() => serve(registrar, pool, answer), 100);
  };
  registrar.respond((m) => {
    if (isResolution(m)) once();
    return false;
  });
  if (registrar.received.some((m) => m.type === "HandleResolution")) once();
}

/** Fails the session's element and requires the session to move to the other of two. */
async function requireFailoverToOther(ctx: CaseContext, s: Setup): Promise<void> {
  const { session, index } = await firstSession(ctx, s);
  const before = sessionCounts(s);
  session.close(true);
  await waitFor(ctx, () => sessionCounts(s).some((c, i) => c !== before[i]), startup(ctx.timers));
  const now = sessionCounts(s);
  ctx.must(
    now[1 - index] > before[1 - index],
    `the session moved to element ${2 - index}`,
    now[index] > before[index] ? "it went back to the failed element" : "no new session",
  );
}

/** Waits for the user's session to one of the elements. */
async function firstSession(
  ctx: CaseContext,
  s: { elements: SuiteElement[] },
): Promise<{ session: Peer; index: number }> {
  const deadline = performance.now() + startup(ctx.timers);
  for (;;) {
    for (let i = 0; i < s.elements.length; i++) {
      const accepted = s.elements[i].listener.accepted;
      if (accepted.length > 0) return { session: accepted[accepted.length - 1], index: i };
    }
    if (performance.now() > deadline) {
      return ctx.fail("a session to an element of the pool", "no connection to any element");
    }
    await ctx.sleep(20);
  }
}

/** Sessions accepted by each element so far. */
function sessionCounts(s: { elements: SuiteElement[] }): number[] {
  return s.elements.map((e) => e.listener.accepted.length);
}

/** Waits until the elements accepted `total` sessions in all; fails after `ms`. */
async function sessionsInAll(
  ctx: CaseContext,
  s: { elements: SuiteElement[] },
  total: number,
  ms: number,
): Promise<number[]> {
  const deadline = performance.now() + ms;
  for (;;) {
    const counts = sessionCounts(s);
    if (counts.reduce((a, b) => a + b, 0) >= total) return counts;
    if (performance.now() > deadline) {
      return ctx.fail(`${total} sessions in all`, `${counts.join(" + ")} within ${ms} ms`);
    }
    await ctx.sleep(10);
  }
}

/** A free port on the suite's host, closed again (for a registrar that comes later). */
async function closedPort(ctx: CaseContext, kind: "asap" | "session"): Promise<number> {
  const l = await ctx.listen(kind);
  const port = l.endpoint.port;
  await l.close();
  return port;
}

/** The user's openSession, or UNSUPPORTED. */
function opener(ctx: CaseContext, user: RunningUser): (line: string) => void {
  return user.openSession?.bind(user) ??
    ctx.unsupported("the user driver cannot open more sessions in one user (built-in run only)");
}

/** The cases. */
export const USER_CASES: readonly ConformanceCase[] = [
  {
    id: "asap/user/resolution/request",
    ref: "RFC 5352 §3.3",
    requirement:
      "A pool user asks its registrar for the pool it uses with a Handle Resolution for that pool handle.",
    level: "MUST",
    role: "user",
    timeout: (t) => startup(t) + 4 * t.slack,
    async run(ctx) {
      const s = await setup(ctx);
      const hr = s.registrar.received.find((m) => m.type === "HandleResolution") ??
        await ctx.expecting(() =>
          s.registrar.expectType("HandleResolution", startup(ctx.timers), "a Handle Resolution")
        );
      ctx.must(
        hr.type === "HandleResolution" && sameBytes(hr.poolHandle, s.pool),
        "the pool's handle",
        "another handle",
      );
      await firstSession(ctx, s);
    },
  },
  {
    id: "asap/user/failover/cookie-echo",
    ref: "RFC 5352 §3.8",
    requirement:
      "A pool user failing over to another element first sends it an ASAP Cookie Echo with the last cookie the failed element sent.",
    level: "MUST",
    role: "user",
    features: ["control-channel"],
    timeout: (t) => startup(t) + 8 * t.slack,
    async run(ctx) {
      const s = await setup(ctx);
      s.send("hello");
      const { session, index } = await firstSession(ctx, s);
      const cookie = new TextEncoder().encode(`state of ${ctx.caseId}`);
      session.send({ type: "Cookie", cookie });
      await ctx.sleep(ctx.timers.slack / 2);
      ctx.note(`element ${index + 1} fails`);
      session.close(true);
      const other = s.elements[1 - index].listener;
      const next = await other.next(startup(ctx.timers), "a session to the other element");
      const echo = await ctx.expecting(() =>
        next.expect(
          (m) => m.type !== "Undecodable",
          "the first ASAP message on the new session",
          ctx.answerTime,
        )
      );
      ctx.must(echo.type === "CookieEcho", "a Cookie Echo first", echo.type);
      ctx.must(
        echo.type === "CookieEcho" && sameBytes(echo.cookie, cookie),
        "the last cookie",
        "other bytes",
      );
    },
  },
  {
    id: "asap/user/unreachable/report",
    ref: "RFC 5352 §3.5",
    requirement:
      "A pool user that cannot reach an element reports it to its registrar with an Endpoint Unreachable.",
    level: "SHOULD",
    role: "user",
    timeout: (t) => startup(t) + 8 * t.slack,
    async run(ctx) {
      const s = await setup(ctx);
      s.send("hello");
      const { session, index } = await firstSession(ctx, s);
      session.close(true);
      const failed = s.elements[index].element.identifier;
      const report = await ctx.expecting(() =>
        s.registrar.expectType(
          "EndpointUnreachable",
          ctx.answerTime + ctx.timers.slack,
          "an Endpoint Unreachable",
          (m) => m.poolElementId === failed,
        )
      );
      ctx.must(sameBytes(report.poolHandle, s.pool), "the pool's handle", "another");
      ctx.note(`reported ${hexId(report.poolElementId)}`);
    },
  },
  {
    id: "asap/user/selection/priority",
    ref: "RFC 5356 §4.5.3",
    requirement:
      "A pool user of a Priority pool selects the element with the highest priority among those resolved, wherever the list puts it.",
    level: "MUST",
    role: "user",
    timeout: (t) => startup(t) + 4 * t.slack,
    async run(ctx) {
      const s = await setup(ctx, [1, 9, 5].map((priority) => ({ type: "Priority", priority })));
      s.send("hello");
      const { index } = await firstSession(ctx, s);
      ctx.must(
        index === 1,
        "a session to the priority-9 element (listed second)",
        `element ${index + 1}`,
      );
    },
  },
  {
    id: "asap/user/selection/round-robin",
    ref: "RFC 5356 §4.1.3",
    requirement:
      "A pool user of a Round Robin pool uses the resolved list round robin: successive sessions go to successive elements, starting with the first.",
    level: "MUST",
    role: "user",
    timeout: (t) => startup(t) + 6 * t.slack,
    async run(ctx) {
      const s = await setup(ctx, [{ type: "RoundRobin" }, { type: "RoundRobin" }, {
        type: "RoundRobin",
      }]);
      const open = opener(ctx, s.user);
      s.send("one");
      await sessionsInAll(ctx, s, 1, startup(ctx.timers));
      const order: number[] = [];
      const record = () => {
        const counts = sessionCounts(s);
        const total = counts.reduce((a, b) => a + b, 0);
        for (let i = 0; i < counts.length; i++) {
          if (counts[i] > order.filter((x) => x === i).length) order.push(i);
        }
        return total;
      };
      record();
      for (let k = 2; k <= 3; k++) {
        open(`session ${k}`);
        await sessionsInAll(ctx, s, k, ctx.answerTime);
        record();
      }
      ctx.note(`sessions went to elements ${order.map((i) => i + 1).join(", ")}`);
      ctx.must(
        new Set(order).size === 3,
        "three sessions on three elements",
        order.map((i) => i + 1).join(", "),
      );
      ctx.should(
        order.join() === "0,1,2",
        "in list order, starting with the first",
        order.map((i) => i + 1).join(", "),
      );
    },
  },
  {
    id: "asap/user/selection/round-robin-without-overall-policy",
    ref: "RFC 5352 §2.2.6, RFC 5356 §4.1.3",
    requirement:
      "A Handle Resolution Response without the (optional) overall Policy parameter still tells the pool's policy through its elements' own: a pool user of such a Round Robin pool sends successive sessions to successive elements.",
    level: "MUST",
    role: "user",
    timeout: (t) => startup(t) + 6 * t.slack,
    async run(ctx) {
      const rr: PoolMemberSelectionPolicy = { type: "RoundRobin" };
      const s = await setup(ctx, [rr, rr, rr], { overallPolicy: false });
      const open = opener(ctx, s.user);
      s.send("one");
      await sessionsInAll(ctx, s, 1, startup(ctx.timers));
      for (let k = 2; k <= 3; k++) {
        open(`session ${k}`);
        await sessionsInAll(ctx, s, k, ctx.answerTime);
      }
      const counts = sessionCounts(s);
      ctx.must(
        counts.every((c) => c === 1),
        "three sessions on three elements",
        counts.join(" + "),
      );
    },
  },
  {
    id: "asap/user/selection/unknown-policy",
    ref: "RFC 5352 §3.3, §3.8, RFC 5354 §3.5 (policy parameters)",
    requirement:
      "A pool user given elements with a pool member selection policy it does not know still uses them, and when the one it uses fails it moves the session to the other one, not back to the failed one.",
    level: "MUST",
    role: "user",
    timeout: (t) => startup(t) + 8 * t.slack,
    async run(ctx) {
      const unknown: PoolMemberSelectionPolicy = {
        type: "Unknown",
        policyType: 0x7f,
        data: new Uint8Array([0, 0, 0, 1]),
      };
      const s = await setup(ctx, [unknown, unknown]);
      s.send("hello");
      await requireFailoverToOther(ctx, s);
    },
  },
  {
    id: "asap/user/resolution/stray-messages",
    ref: "RFC 5352 §3.3, §2.2.14",
    requirement:
      "A pool user whose registrar sends it an ASAP Error and an Endpoint Keep-Alive before answering its Handle Resolution is not thrown by them: it uses the answer when it comes.",
    level: "MUST",
    role: "user",
    timeout: (t) => startup(t) + 6 * t.slack,
    async run(ctx) {
      const registrarListener = await ctx.listen("asap");
      const [e] = await suiteElements(ctx, [{ type: "RoundRobin" }]);
      const { pool, user } = await startUser(ctx, [registrarListener.endpoint]);
      const registrar = await registrarListener.next(startup(ctx.timers), "the user connecting");
      serveAfter(registrar, pool, () => {
        registrar.send({
          type: "AsapError",
          operationError: [{ code: 0x0002, info: new Uint8Array([0x05, 0, 0, 4]) }],
        });
        registrar.send({
          type: "EndpointKeepAlive",
          poolHandle: pool,
          registrarId: ctx.identifier(),
          home: false,
        });
      }, () => ({ elements: [e.element] }));
      user.send("hello");
      await e.listener.next(startup(ctx.timers), "a session to the element");
    },
  },
  {
    id: "asap/user/session/stray-messages",
    ref: "RFC 5352 §3.8, §3.9",
    requirement:
      "A pool user whose element sends it ASAP messages other than Cookie and Business Card on the session (an Endpoint Keep-Alive, a Handle Resolution Response) keeps the session: no failover, no Endpoint Unreachable.",
    level: "MUST",
    role: "user",
    timeout: (t) => startup(t) + 6 * t.slack,
    async run(ctx) {
      const s = await setup(ctx);
      s.send("hello");
      const { session, index } = await firstSession(ctx, s);
      session.send({
        type: "EndpointKeepAlive",
        poolHandle: s.pool,
        registrarId: ctx.identifier(),
        home: false,
      });
      session.send({
        type: "HandleResolutionResponse",
        poolHandle: s.pool,
        poolElements: [s.elements[1 - index].element],
      });
      await ctx.sleep(ctx.answerTime);
      const counts = sessionCounts(s);
      const reports = s.registrar.received.filter((m) => m.type === "EndpointUnreachable").length;
      ctx.must(
        !session.closed && counts.reduce((a, b) => a + b, 0) === 1 && reports === 0,
        "the session kept (no new session, no Endpoint Unreachable)",
        `${session.closed ? "closed; " : ""}sessions ${counts.join(" + ")}, ${reports} report(s)`,
      );
    },
  },
  {
    id: "asap/user/resolution/other-pool-ignored",
    ref: "RFC 5352 §2.2.6, §3.3",
    requirement:
      "A Handle Resolution Response is for the pool it names: a pool user given one for another pool first does not use its elements, and uses the answer for its own pool.",
    level: "MUST",
    role: "user",
    timeout: (t) => startup(t) + 6 * t.slack,
    async run(ctx) {
      const registrarListener = await ctx.listen("asap");
      const [mine] = await suiteElements(ctx, [{ type: "RoundRobin" }]);
      const [stranger] = await suiteElements(ctx, [{ type: "RoundRobin" }]);
      const { pool, user } = await startUser(ctx, [registrarListener.endpoint]);
      const registrar = await registrarListener.next(startup(ctx.timers), "the user connecting");
      const other = ctx.poolHandle("-other");
      serveAfter(registrar, pool, () =>
        registrar.send({
          type: "HandleResolutionResponse",
          poolHandle: other,
          policy: { type: "RoundRobin" },
          poolElements: [stranger.element],
        }), () => ({ elements: [mine.element] }));
      user.send("hello");
      await mine.listener.next(startup(ctx.timers), "a session to the pool's own element");
      ctx.must(
        stranger.listener.accepted.length === 0,
        "no session to the element of the other pool",
        `${stranger.listener.accepted.length}`,
      );
    },
  },
  {
    id: "asap/user/selection/weighted-random",
    ref: "RFC 5356 §4.4.3",
    requirement:
      "A pool user of a Weighted Random pool picks an element for each session with probability proportional to its weight (a statistical test over 64 sessions, exact binomial bounds).",
    level: "MUST",
    role: "user",
    timeout: (t) => startup(t) + 20 * t.slack + 20_000,
    async run(ctx) {
      const weights = [1, 3, 12];
      const s = await setup(ctx, weights.map((weight) => ({ type: "WeightedRandom", weight })));
      const open = opener(ctx, s.user);
      s.send("one");
      await sessionsInAll(ctx, s, 1, startup(ctx.timers));
      const n = 64;
      for (let k = 2; k <= n; k++) {
        open(`session ${k}`);
        await sessionsInAll(ctx, s, k, ctx.answerTime);
      }
      const counts = sessionCounts(s);
      const sum = weights.reduce((a, b) => a + b, 0);
      const alpha = FALSE_FAILURE / weights.length;
      const bad: string[] = [];
      weights.forEach((w, i) => {
        const { lo, hi } = binomialRegion(n, w / sum, alpha);
        const line = `element ${i + 1} (weight ${w}): ${
          counts[i]
        } of ${n} sessions, accepted ${lo}–${hi}`;
        ctx.note(line);
        if (counts[i] < lo || counts[i] > hi) bad.push(line);
      });
      ctx.must(bad.length === 0, "sessions shared in proportion to the weights", bad.join("; "));
    },
  },
  {
    id: "asap/user/failover/other-element",
    ref: "RFC 5352 §3.8, §3.5",
    requirement:
      "A pool user whose element fails moves the session to another element of the pool, not back to the failed one.",
    level: "MUST",
    role: "user",
    timeout: (t) => startup(t) + 8 * t.slack,
    async run(ctx) {
      const s = await setup(ctx);
      s.send("hello");
      await requireFailoverToOther(ctx, s);
    },
  },
  {
    id: "asap/user/failover/every-policy",
    ref: "RFC 5352 §3.5, §3.8, RFC 5356 §4",
    requirement:
      "Whatever the pool's policy (Random, Weighted Random, Priority, Least Used), a pool user whose element fails reports it with an Endpoint Unreachable and moves the session to the pool's other element.",
    level: "MUST",
    role: "user",
    timeout: (t) => 4 * (startup(t) + 8 * t.slack),
    async run(ctx) {
      const families: [string, PoolMemberSelectionPolicy[]][] = [
        ["Random", [{ type: "Random" }, { type: "Random" }]],
        ["Weighted Random", [{ type: "WeightedRandom", weight: 3 }, {
          type: "WeightedRandom",
          weight: 2,
        }]],
        ["Priority", [{ type: "Priority", priority: 9 }, { type: "Priority", priority: 1 }]],
        ["Least Used", [{ type: "LeastUsed", load: 1000 }, { type: "LeastUsed", load: 2000 }]],
      ];
      for (const [family, policies] of families) {
        const s = await setup(ctx, policies);
        s.send("hello");
        const { session, index } = await firstSession(ctx, s);
        const failed = s.elements[index].element.identifier;
        session.close(true);
        await ctx.expecting(() =>
          s.registrar.expectType(
            "EndpointUnreachable",
            ctx.answerTime + ctx.timers.slack,
            `${family}: an Endpoint Unreachable for the failed element`,
            (m) => m.poolElementId === failed,
          )
        );
        await s.elements[1 - index].listener.next(
          startup(ctx.timers),
          `${family}: the session moved to the other element`,
        );
        ctx.note(
          `${family}: element ${index + 1} failed, reported, session on element ${2 - index}`,
        );
      }
    },
  },
  {
    id: "asap/user/failover/round-robin-sessions",
    ref: "RFC 5352 §3.8, §3.5, RFC 5356 §4.1",
    requirement:
      "A pool user of a Round Robin pool with two sessions on its two elements moves the session of the failed element to the other one, not back to the failed one.",
    level: "MUST",
    role: "user",
    timeout: (t) => startup(t) + 8 * t.slack,
    async run(ctx) {
      const s = await setup(ctx);
      const open = opener(ctx, s.user);
      s.send("one");
      await sessionsInAll(ctx, s, 1, startup(ctx.timers));
      open("two");
      const counts = await sessionsInAll(ctx, s, 2, ctx.answerTime);
      ctx.must(counts[0] === 1 && counts[1] === 1, "one session on each element", counts.join("+"));
      // Hand out the two sessions, so that next() waits for new ones.
      const first = await s.elements[0].listener.next(ctx.answerTime, "the first session");
      await s.elements[1].listener.next(ctx.answerTime, "the second session");
      first.close(true);
      const listeners = [0, 1].map((i) => s.elements[i].listener);
      const { at } = await firstConnection(ctx, listeners, startup(ctx.timers), "a new session");
      const next = listeners.indexOf(at);
      ctx.must(
        next === 1,
        "the failed element's session moved to element 2",
        "it went back to element 1, the failed one",
      );
    },
  },
  {
    id: "asap/user/failover/only-element",
    ref: "RFC 5352 §3.3, §3.5, §3.8",
    requirement:
      "A pool user whose only cached element fails reports it, asks its registrar again (a new Handle Resolution: its cache is empty) and opens the session with what the registrar lists, whatever the pool's policy (Priority, Random).",
    level: "MUST",
    role: "user",
    timeout: (t) => 2 * (startup(t) + 8 * t.slack),
    async run(ctx) {
      const families: [string, PoolMemberSelectionPolicy][] = [
        ["Priority", { type: "Priority", priority: 5 }],
        ["Random", { type: "Random" }],
      ];
      for (const [family, policy] of families) {
        const s = await setup(ctx, [policy]);
        s.send("hello");
        await firstSession(ctx, s);
        // Handed out, so that next() below waits for a new session.
        const session = await s.elements[0].listener.next(ctx.answerTime, "the session");
        const asked = s.resolutions();
        const since = s.registrar.received.length;
        session.close(true);
        const again = await receivedSince(
          ctx,
          s.registrar,
          since,
          resolutionOf(s.pool),
          ctx.answerTime + ctx.timers.slack,
        );
        ctx.must(
          again !== undefined,
          `${family}: a new Handle Resolution once the only element failed`,
          `none (${s.resolutions() - asked} more)`,
        );
        await s.elements[0].listener.next(
          startup(ctx.timers),
          `${family}: a new session to the element the registrar listed again`,
        );
      }
    },
  },
  {
    id: "asap/user/failover/business-card",
    ref: "RFC 5352 §3.9 (BC2)",
    requirement:
      "A pool user whose element sent it a Business Card fails over to the first element the card names, before the one the pool's policy would choose.",
    level: "SHOULD",
    role: "user",
    features: ["control-channel"],
    timeout: (t) => startup(t) + 8 * t.slack,
    async run(ctx) {
      const s = await setup(ctx, [9, 5, 3, 1].map((priority) => ({ type: "Priority", priority })));
      s.send("hello");
      const { session, index } = await firstSession(ctx, s);
      ctx.must(index === 0, "a session to the priority-9 element", `element ${index + 1}`);
      // The card names the priority-1 element first, then the priority-3 one.
      session.send({
        type: "BusinessCard",
        poolHandle: s.pool,
        poolElements: [s.elements[3].element, s.elements[2].element],
      });
      await ctx.sleep(ctx.timers.slack / 2);
      session.close(true);
      const listeners = [1, 2, 3].map((i) => s.elements[i].listener);
      const moved = await firstConnection(
        ctx,
        listeners,
        startup(ctx.timers),
        "a session to another element",
      );
      const next = 1 + listeners.indexOf(moved.at);
      ctx.must(
        next !== 1,
        "the session moved to an element on the Business Card",
        "it went to element 2 (the policy's choice)",
      );
      ctx.should(
        next === 3,
        "the session moved to the first element on the Business Card (priority 1)",
        `it went to element ${next + 1}, the card's second`,
      );
    },
  },
  {
    id: "asap/user/unreachable/healthy-not-reported",
    ref: "RFC 5352 §3.5",
    requirement:
      "A pool user does not report an element it reached: a working session, and the user stopping, send no Endpoint Unreachable.",
    level: "MUST",
    role: "user",
    timeout: (t) => startup(t) + 8 * t.slack,
    async run(ctx) {
      const s = await setup(ctx);
      s.send("hello");
      await firstSession(ctx, s);
      await ctx.sleep(ctx.timers.slack);
      await s.user.stop();
      await ctx.sleep(ctx.answerTime / 2);
      const reports = s.registrar.received.filter((m) => m.type === "EndpointUnreachable");
      ctx.must(
        reports.length === 0,
        "no Endpoint Unreachable",
        reports.map((m) => m.type === "EndpointUnreachable" ? hexId(m.poolElementId) : "").join(
          ", ",
        ),
      );
    },
  },
  {
    id: "asap/user/unreachable/once-per-failure",
    ref: "RFC 5352 §3.5",
    requirement:
      "A pool user reports an element that failed it once for that failure, not over and over.",
    level: "MUST",
    role: "user",
    timeout: (t) => startup(t) + 8 * t.slack,
    async run(ctx) {
      const s = await setup(ctx);
      s.send("hello");
      const { session, index } = await firstSession(ctx, s);
      session.close(true);
      const failed = s.elements[index].element.identifier;
      await ctx.sleep(ctx.answerTime + ctx.timers.slack);
      const reports =
        s.registrar.received.filter((m) =>
          m.type === "EndpointUnreachable" && m.poolElementId === failed
        ).length;
      ctx.must(reports === 1, `one Endpoint Unreachable for ${hexId(failed)}`, `${reports}`);
    },
  },
  {
    id: "asap/user/cache/fresh-reused",
    ref: "RFC 5352 §3.3 (C4), §6.5.3",
    requirement:
      "While its cached resolution is fresh (younger than stale.cache.value), a pool user opening another session uses the cache instead of asking the registrar again.",
    level: "SHOULD",
    role: "user",
    timeout: (t) => startup(t) + 6 * t.slack,
    async run(ctx) {
      const s = await setup(ctx);
      const open = opener(ctx, s.user);
      s.send("one");
      await sessionsInAll(ctx, s, 1, startup(ctx.timers));
      const before = s.resolutions();
      open("two");
      await sessionsInAll(ctx, s, 2, Math.min(ctx.answerTime, ctx.timers.staleCache / 2));
      ctx.should(
        s.resolutions() === before,
        "no new Handle Resolution for a session within stale.cache.value",
        `${s.resolutions() - before} more`,
      );
    },
  },
  {
    id: "asap/user/cache/stale-refreshed",
    ref: "RFC 5352 §3.3 (C2), §6.5.3",
    requirement:
      "Once its cached resolution is stale (older than stale.cache.value), a pool user opening another session asks the registrar again.",
    level: "SHOULD",
    role: "user",
    timeout: (t) => startup(t) + t.staleCache + 6 * t.slack,
    async run(ctx) {
      const s = await setup(ctx);
      const open = opener(ctx, s.user);
      s.send("one");
      await sessionsInAll(ctx, s, 1, startup(ctx.timers));
      await ctx.sleep(ctx.timers.staleCache + ctx.timers.slack / 2);
      const since = s.registrar.received.length;
      open("two");
      const asked = await receivedSince(
        ctx,
        s.registrar,
        since,
        resolutionOf(s.pool),
        ctx.answerTime,
      );
      ctx.should(
        asked !== undefined,
        `a new Handle Resolution after stale.cache.value (${ctx.timers.staleCache} ms)`,
        "none",
      );
      // The new resolution serves the new session only: the working one stays where it is.
      await sessionsInAll(ctx, s, 2, ctx.answerTime);
      await ctx.sleep(ctx.timers.slack / 2);
      const counts = sessionCounts(s);
      const first = s.elements.flatMap((e) => e.listener.accepted)[0];
      ctx.should(
        counts.reduce((x, y) => x + y, 0) === 2 && !first.closed,
        "one new session connection in all, the first session's connection kept",
        `${counts.join(" + ")} connections${first.closed ? ", the first one closed" : ""}`,
      );
    },
  },
  {
    id: "asap/user/resolution/retransmit",
    ref: "RFC 5352 §3.7.2 (T1-ENRPrequest)",
    requirement:
      "A pool user whose Handle Resolution goes unanswered sends it again when T1-ENRPrequest runs out, not before.",
    level: "SHOULD",
    role: "user",
    timeout: (t) => startup(t) + 2 * t.requestTimeout + 6 * t.slack,
    async run(ctx) {
      const registrarListener = await ctx.listen("asap");
      const { pool, user } = await startUser(ctx, [registrarListener.endpoint]);
      user.send("hello");
      const registrar = await registrarListener.next(startup(ctx.timers), "the user connecting");
      const isResolution = resolutionOf(pool);
      const first = await receivedSince(ctx, registrar, 0, isResolution, startup(ctx.timers));
      ctx.must(first !== undefined, "a Handle Resolution", "none");
      const firstAt = registrar.receivedAt[registrar.received.indexOf(first!)];
      const t = ctx.timers;
      const again = await receivedSince(
        ctx,
        registrar,
        registrar.received.indexOf(first!) + 1,
        isResolution,
        t.requestTimeout + t.slack,
      );
      ctx.should(
        again !== undefined,
        `the request again within T1 (${t.requestTimeout} ms)`,
        "none",
      );
      if (again !== undefined) {
        const gap = registrar.receivedAt[registrar.received.indexOf(again)] - firstAt;
        ctx.note(`sent again after ${Math.round(gap)} ms`);
        ctx.must(
          gap >= t.requestTimeout - 100,
          `not before T1-ENRPrequest (${t.requestTimeout} ms)`,
          `after ${Math.round(gap)} ms`,
        );
      }
    },
  },
  {
    id: "asap/user/resolution/hunt",
    ref: "RFC 5352 §3.6, §3.7.2",
    requirement:
      "A pool user whose registrar never answers finds another registrar, resolves the pool there, and reaches an element; SHOULD: after sending the request once and retransmitting it MAX-REQUEST-RETRANSMIT times, not fewer, not more.",
    level: "MUST",
    role: "user",
    timeout: (t) =>
      startup(t) + (t.maxRequestRetransmit + 2) * t.requestTimeout + 2 * startup(t) + 6 * t.slack,
    async run(ctx) {
      if (ctx.config.user!.severalRegistrars !== true) {
        ctx.unsupported("the user driver takes one registrar ({registrars} in --spawn-user)");
      }
      const silent = await ctx.listen("asap");
      const laterPort = await closedPort(ctx, "asap");
      const elements = await suiteElements(ctx, [{ type: "RoundRobin" }]);
      const { pool, user } = await startUser(ctx, [
        silent.endpoint,
        { address: ctx.config.listenHost, port: laterPort },
      ]);
      user.send("hello");
      const first = await silent.next(
        startup(ctx.timers),
        "the user connecting to the first registrar",
      );
      const later = await ctx.listen("asap", laterPort);
      const t = ctx.timers;
      const registrar = await later.next(
        (t.maxRequestRetransmit + 2) * t.requestTimeout + startup(t),
        "the user hunting the other registrar",
      );
      // MAX-REQUEST-RETRANSMIT exactly: the first request and that many retransmissions.
      const sent = first.received.filter(resolutionOf(pool))
        .length;
      ctx.should(
        sent === t.maxRequestRetransmit + 1,
        `the Handle Resolution sent ${
          t.maxRequestRetransmit + 1
        } times to the silent registrar (once and MAX-REQUEST-RETRANSMIT = ${t.maxRequestRetransmit} retransmissions) before hunting`,
        `${sent} times`,
      );
      serve(registrar, pool, () => ({ elements: elements.map((e) => e.element) }));
      await firstSession(ctx, { elements });
    },
  },
  {
    id: "asap/user/hunt/black-holed-registrar",
    ref: "RFC 5352 §3.6",
    requirement:
      "A pool user whose connection attempt to a registrar neither succeeds nor fails (its SYNs go unanswered) gives it up after its connect timeout (the suite's connectTimeout) and resolves the pool at another registrar.",
    level: "MUST",
    role: "user",
    timeout: (t) => 2 * startup(t) + 6 * t.slack,
    async run(ctx) {
      if (ctx.config.user!.severalRegistrars !== true) {
        ctx.unsupported("the user driver takes one registrar ({registrars} in --spawn-user)");
      }
      const t = ctx.timers;
      const hole = await blackHole(ctx);
      const b = await ctx.listen("asap");
      const [e] = await suiteElements(ctx, [{ type: "RoundRobin" }]);
      const started = performance.now();
      const { pool, user } = await startUser(ctx, [hole, b.endpoint]);
      user.send("hello");
      const registrar = await b.next(2 * startup(t), "the user at the other registrar");
      const took = performance.now() - started;
      ctx.must(
        took <= t.connectTimeout + ctx.answerTime + 2 * t.slack,
        `at the other registrar within the connect timeout (${t.connectTimeout} ms) and an answer time`,
        `${Math.round(took)} ms`,
      );
      serve(registrar, pool, () => ({ elements: [e.element] }));
      await e.listener.next(startup(ctx.timers), "a session to the element");
    },
  },
  {
    id: "asap/user/hunt/closing-registrar",
    ref: "RFC 5352 §3.6, RFC 5355 §2.13",
    requirement:
      "A pool user whose only registrar closes every connection at once keeps trying, but without a storm: at most 10 connections per second.",
    level: "SHOULD",
    role: "user",
    timeout: (t) => startup(t) + 4 * t.slack + 3000,
    async run(ctx) {
      const a = await closingListener(ctx);
      const { user } = await startUser(ctx, [a.endpoint]);
      user.send("hello");
      await noReconnectionStorm(ctx, a, startup(ctx.timers));
    },
  },
  {
    id: "asap/user/hunt/registrar-later",
    ref: "RFC 5352 §3.6",
    requirement:
      "A pool user whose only registrar is not there yet keeps hunting and resolves the pool once it is.",
    level: "MUST",
    role: "user",
    timeout: (t) => 2 * startup(t) + 6 * t.slack,
    async run(ctx) {
      const port = await closedPort(ctx, "asap");
      const [e] = await suiteElements(ctx, [{ type: "RoundRobin" }]);
      const { pool, user } = await startUser(ctx, [{ address: ctx.config.listenHost, port }]);
      user.send("hello");
      await ctx.sleep(1500);
      const later = await ctx.listen("asap", port);
      const registrar = await later.next(startup(ctx.timers), "the user connecting once it is up");
      serve(registrar, pool, () => ({ elements: [e.element] }));
      await e.listener.next(startup(ctx.timers), "a session to the element");
    },
  },
  {
    id: "asap/user/hunt/registrar-lost",
    ref: "RFC 5352 §3.6, §3.7.1, §3.5, §3.8",
    requirement:
      "A pool user whose registrar connection fails finds its other registrar: when its element fails afterwards, it reports the element there (Endpoint Unreachable), asks there again, and the session comes back.",
    level: "MUST",
    role: "user",
    timeout: (t) => 3 * startup(t) + 8 * t.slack,
    async run(ctx) {
      if (ctx.config.user!.severalRegistrars !== true) {
        ctx.unsupported("the user driver takes one registrar ({registrars} in --spawn-user)");
      }
      const a = await ctx.listen("asap");
      const b = await ctx.listen("asap");
      const [e] = await suiteElements(ctx, [{ type: "RoundRobin" }]);
      const { pool, user } = await startUser(ctx, [a.endpoint, b.endpoint]);
      const connected = await firstConnection(ctx, [a, b], startup(ctx.timers), "a connection");
      const first = { ...connected, other: connected.at === a ? b : a };
      serve(first.peer, pool, () => ({ elements: [e.element] }));
      user.send("hello");
      const session = await e.listener.next(startup(ctx.timers), "a session to the element");
      ctx.note("the registrar fails, then the element's session");
      first.peer.close(true);
      const second = await first.other.next(startup(ctx.timers), "the user at the other registrar");
      serve(second, pool, () => ({ elements: [e.element] }));
      await ctx.sleep(ctx.timers.slack / 2);
      session.close(true);
      const report = await receivedSince(
        ctx,
        second,
        0,
        (m) => m.type === "EndpointUnreachable" && m.poolElementId === e.element.identifier,
        ctx.answerTime + ctx.timers.slack,
      );
      ctx.should(report !== undefined, "an Endpoint Unreachable for the element there", "none");
      await e.listener.next(startup(ctx.timers), "the session back on the element");
      ctx.must(
        second.received.some(resolutionOf(pool)),
        "a Handle Resolution at the other registrar",
        "none",
      );
    },
  },
  {
    id: "asap/user/resolution/no-storm",
    ref: "RFC 5352 §3.3, RFC 5355 §2.13",
    requirement:
      "A pool user told that the pool does not exist (Unknown Pool Handle) does not keep asking in a loop: a handful of Handle Resolutions per T1-ENRPrequest at most.",
    level: "SHOULD",
    role: "user",
    timeout: (t) => startup(t) + 4 * t.requestTimeout + 6 * t.slack,
    async run(ctx) {
      const registrarListener = await ctx.listen("asap");
      const { pool, user } = await startUser(ctx, [registrarListener.endpoint]);
      user.send("hello");
      const registrar = await registrarListener.next(startup(ctx.timers), "the user connecting");
      serve(registrar, pool, () => ({ elements: [] }));
      const t = ctx.timers;
      const window = 2 * t.requestTimeout + t.slack;
      await ctx.sleep(window);
      const asked = registrar.received.filter((m) => m.type === "HandleResolution").length;
      const bound = 2 + Math.ceil(window / t.requestTimeout);
      ctx.note(`${asked} Handle Resolution(s) in ${window} ms`);
      ctx.should(asked <= bound, `at most ${bound} Handle Resolutions in ${window} ms`, `${asked}`);
    },
  },
  {
    id: "asap/user/resolution/one-outstanding",
    ref: "RFC 5352 §3.3, RFC 5355 §2.13",
    requirement:
      "Sessions opened together for one pool share one Handle Resolution: while it is outstanding (before T1-ENRPrequest runs out) the pool user sends no second one for that pool, and every session connects once it is answered.",
    level: "SHOULD",
    role: "user",
    timeout: (t) => 2 * startup(t) + t.requestTimeout + 6 * t.slack,
    async run(ctx) {
      const registrarListener = await ctx.listen("asap");
      const [e] = await suiteElements(ctx, [{ type: "RoundRobin" }]);
      const { pool, user } = await startUser(ctx, [registrarListener.endpoint]);
      const open = opener(ctx, user);
      user.send("hello");
      const registrar = await registrarListener.next(startup(ctx.timers), "the user connecting");
      const isResolution = resolutionOf(pool);
      const first = await receivedSince(ctx, registrar, 0, isResolution, startup(ctx.timers));
      ctx.must(first !== undefined, "a Handle Resolution", "none");
      // Two more sessions while the first one's request is outstanding (the registrar
      // connected), unanswered for half of T1: no retransmission is due yet.
      open("second");
      open("third");
      await ctx.sleep(ctx.timers.requestTimeout / 2);
      const asked = registrar.received.filter(isResolution).length;
      ctx.should(
        asked === 1,
        `one Handle Resolution for three sessions while it is outstanding (${
          ctx.timers.requestTimeout / 2
        } ms, half of T1)`,
        `${asked}`,
      );
      serve(registrar, pool, () => ({ elements: [e.element] }));
      await waitFor(ctx, () => e.listener.accepted.length >= 3, startup(ctx.timers));
      ctx.must(
        e.listener.accepted.length >= 3,
        "three sessions to the element once the resolution is answered",
        `${e.listener.accepted.length}`,
      );
    },
  },
  {
    id: "asap/user/session/data",
    ref: "RFC 5351 §3, RFC 5352 §3.3",
    requirement:
      "What the pool user's application sends on a session reaches the element the user chose, in order: a line sent before the session was up and one sent after it.",
    level: "MUST",
    role: "user",
    timeout: (t) => 2 * startup(t) + 6 * t.slack,
    async run(ctx) {
      const registrarListener = await ctx.listen("asap");
      const [e] = await suiteElements(ctx, [{ type: "RoundRobin" }]);
      const { pool, user } = await startUser(ctx, [registrarListener.endpoint]);
      const first = `first ${ctx.identifier()}`;
      const second = `second ${ctx.identifier()}`;
      user.send(first);
      const registrar = await registrarListener.next(startup(ctx.timers), "the user connecting");
      serve(registrar, pool, () => ({ elements: [e.element] }));
      const session = await e.listener.next(startup(ctx.timers), "a session to the element");
      await waitFor(ctx, () => session.dataText().includes(first), ctx.answerTime);
      user.send(second);
      await waitFor(ctx, () => session.dataText().includes(second), ctx.answerTime);
      const text = session.dataText();
      ctx.must(
        text.includes(first) && text.includes(second) && text.indexOf(first) < text.indexOf(second),
        `"${first}" then "${second}" on the session`,
        JSON.stringify(text.slice(0, 200)),
      );
    },
  },
  {
    id: "asap/user/resolution/failed-session-stays-failed",
    ref: "RFC 5352 §3.3",
    requirement:
      "A session that failed because the pool had no element stays failed: once the pool has one, a new session connects to it, and only that one.",
    level: "SHOULD",
    role: "user",
    timeout: (t) => startup(t) + 4 * t.requestTimeout + 6 * t.slack,
    async run(ctx) {
      const registrarListener = await ctx.listen("asap");
      const [e] = await suiteElements(ctx, [{ type: "RoundRobin" }]);
      const { pool, user } = await startUser(ctx, [registrarListener.endpoint]);
      const open = opener(ctx, user);
      user.send("hello");
      const registrar = await registrarListener.next(startup(ctx.timers), "the user connecting");
      let elements: PoolElementParameter[] = [];
      serve(registrar, pool, () => ({ elements }));
      // Answered with Unknown Pool Handle: the first session fails.
      await ctx.sleep(ctx.answerTime);
      elements = [e.element];
      open("second");
      await e.listener.next(startup(ctx.timers), "a session to the element");
      await ctx.sleep(ctx.timers.slack);
      ctx.should(
        e.listener.accepted.length === 1,
        "one session connection (the failed session does not come back)",
        `${e.listener.accepted.length}`,
      );
    },
  },
  {
    id: "asap/user/hunt/server-announce-without-transports",
    ref: "RFC 5352 §3.6, §2.2.10; RSPLIB (docs/interop.md)",
    requirement:
      "A pool user that hears a Server Announce without Transport parameters (as RSPLIB's registrars send them) takes the announce's source address and port for the registrar's and resolves the pool there over its own transport.",
    level: "SHOULD",
    role: "user",
    features: ["announce"],
    timeout: (t) => startup(t) + 6 * t.slack,
    async run(ctx) {
      const driver = ctx.config.user!;
      if (driver.hearsAnnounces !== true) {
        ctx.unsupported("the user driver cannot hunt by announces ({announce} in --spawn-user)");
      }
      const { listener, channel } = await listenerAtAnnouncePort(ctx);
      announceEvery200ms(ctx, channel, []);
      const user = await driver.start({
        registrar: listener.endpoint,
        registrars: [],
        pool: new TextDecoder().decode(ctx.poolHandle()),
        announce: channel.settings,
      });
      ctx.onCleanup(() => user.kill());
      user.send("hello");
      await listener.arrival(startup(ctx.timers));
      ctx.should(
        listener.unclaimed > 0,
        `a connection to the announce's source ${listener.endpoint.address}:${listener.endpoint.port}`,
        "none",
      );
      if (listener.unclaimed === 0) return;
      const peer = await listener.next(0, "the connection");
      await ctx.expecting(() =>
        peer.expectType("HandleResolution", startup(ctx.timers), "a Handle Resolution")
      );
    },
  },
  {
    id: "asap/user/hunt/server-announce",
    ref: "RFC 5352 §3.6",
    requirement:
      "A pool user with no registrar configured finds one by the ASAP Server Announces it hears (other ASAP messages on the channel ignored) and resolves the pool there.",
    level: "MUST",
    role: "user",
    features: ["announce"],
    timeout: (t) => startup(t) + 6 * t.slack,
    async run(ctx) {
      const driver = ctx.config.user!;
      if (driver.hearsAnnounces !== true) {
        ctx.unsupported("the user driver cannot hunt by announces ({announce} in --spawn-user)");
      }
      const a = await ctx.listen("asap");
      const channel = await ctx.announceChannel();
      announceEvery200ms(ctx, channel, [transportParameter(a.endpoint)]);
      const pool = ctx.poolHandle();
      const user = await driver.start({
        registrar: a.endpoint,
        registrars: [],
        pool: new TextDecoder().decode(pool),
        announce: channel.settings,
      });
      ctx.onCleanup(() => user.kill());
      user.send("hello");
      const registrar = await a.next(
        startup(ctx.timers),
        "the user connecting to the announced registrar",
      );
      const hr = await ctx.expecting(() =>
        registrar.expectType("HandleResolution", startup(ctx.timers), "a Handle Resolution")
      );
      ctx.must(sameBytes(hr.poolHandle, pool), "its pool handle", "another");
    },
  },
];
