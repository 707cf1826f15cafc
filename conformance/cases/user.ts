/**
 * A pool user (RFC 5352), the suite acting as its registrar and as the
 * pool's elements.
 *
 * @module
 */

import { TransportUse } from "../../lib/protocol/constants.ts";
import type { PoolElementParameter } from "../../lib/protocol/types.ts";
import type { CaseContext, SuiteListener } from "../context.ts";
import type { Peer } from "../peer.ts";
import type { ConformanceCase, TargetTimers } from "../types.ts";
import { hexId, sameBytes } from "./helpers.ts";

const startup = (t: TargetTimers) => 10_000 + 2 * t.slack;

interface Setup {
  readonly pool: Uint8Array;
  readonly registrar: Peer;
  readonly elements: { listener: SuiteListener; element: PoolElementParameter }[];
  readonly send: (line: string) => void;
}

/** Starts the user under test against a suite registrar that resolves the pool to two suite elements. */
async function setup(ctx: CaseContext): Promise<Setup> {
  const registrarListener = await ctx.listen("asap");
  const home = ctx.identifier();
  const elements: Setup["elements"] = [];
  for (let i = 0; i < 2; i++) {
    const listener = await ctx.listen("session");
    elements.push({
      listener,
      element: ctx.poolElement(ctx.identifier(), {
        home,
        transport: {
          type: "TCP",
          port: listener.endpoint.port,
          transportUse: TransportUse.DataPlusControl,
          addresses: [listener.endpoint.address],
        },
      }),
    });
  }
  const pool = ctx.poolHandle();
  const user = await ctx.config.user!.start({
    registrar: registrarListener.endpoint,
    registrars: [registrarListener.endpoint],
    pool: new TextDecoder().decode(pool),
  });
  ctx.onCleanup(() => user.kill());
  const registrar = await registrarListener.next(
    startup(ctx.timers),
    "the user connecting to its registrar",
  );
  // Every resolution of the pool lists both elements (also one that came before this was set up).
  const answer = () =>
    registrar.send({
      type: "HandleResolutionResponse",
      poolHandle: pool,
      policy: { type: "RoundRobin" },
      poolElements: elements.map((e) => e.element),
    });
  registrar.respond((m) => {
    if (m.type === "HandleResolution" && sameBytes(m.poolHandle, pool)) answer();
    return false;
  });
  if (registrar.received.some((m) => m.type === "HandleResolution")) answer();
  return { pool, registrar, elements, send: (line) => user.send(line) };
}

/** Waits for the user's session to one of the elements. */
async function firstSession(
  ctx: CaseContext,
  s: Setup,
): Promise<{ session: Peer; index: number }> {
  const deadline = performance.now() + startup(ctx.timers);
  for (;;) {
    for (let i = 0; i < s.elements.length; i++) {
      const accepted = s.elements[i].listener.accepted;
      if (accepted.length > 0) return { session: accepted[accepted.length - 1], index: i };
    }
    if (performance.now() > deadline) {
      return ctx.fail("a session to an element of the pool", "no connection to either element");
    }
    await ctx.sleep(20);
  }
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
];
