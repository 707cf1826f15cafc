/**
 * A pool element (RFC 5352), the suite acting as its registrars.
 *
 * @module
 */

import { TransportUse } from "../../lib/protocol/constants.ts";
import type { Registration } from "../../lib/protocol/types.ts";
import type { CaseContext, RunningTarget, SuiteListener } from "../context.ts";
import type { Peer } from "../peer.ts";
import type { ConformanceCase, TargetTimers } from "../types.ts";
import { hexId, sameBytes } from "./helpers.ts";

/** How long an element may take to start and register (a new process, a hunt). */
const startup = (t: TargetTimers) => 10_000 + 2 * t.slack;

/** Starts the element under test with the suite's registrars, for one pool. */
async function startElement(
  ctx: CaseContext,
  registrars: SuiteListener[],
): Promise<{ pool: Uint8Array; element: RunningTarget }> {
  const pool = ctx.poolHandle();
  const element = await ctx.config.element!.start({
    registrars: registrars.map((r) => r.endpoint),
    pool: new TextDecoder().decode(pool),
  });
  ctx.onCleanup(() => element.kill());
  return { pool, element };
}

/** Waits for the element's connection to a registrar and its Registration there. */
async function registration(
  ctx: CaseContext,
  registrar: SuiteListener,
  within = startup(ctx.timers),
): Promise<{ peer: Peer; registration: Registration }> {
  const peer = await registrar.next(within, "the element connecting to its registrar");
  const registration = await ctx.expecting(() =>
    peer.expectType("Registration", within, "an ASAP Registration")
  );
  return { peer, registration };
}

/** Accepts a registration. */
function accept(peer: Peer, r: Registration): void {
  peer.send({
    type: "RegistrationResponse",
    reject: false,
    poolHandle: r.poolHandle,
    poolElementId: r.poolElement.identifier,
  });
}

/** The cases. */
export const ELEMENT_CASES: readonly ConformanceCase[] = [
  {
    id: "asap/element/registration/content",
    ref: "RFC 5352 §3.1, RFC 5354 §3.10",
    requirement:
      "A pool element registers its pool handle with a Pool Element parameter: a non-zero identifier, a positive registration life, a user transport with an address and a port, a policy; a first registration names no home registrar and carries no ASAP Transport.",
    level: "MUST",
    role: "element",
    timeout: (t) => startup(t) + 4 * t.slack,
    async run(ctx) {
      const a = await ctx.listen("asap");
      const { pool } = await startElement(ctx, [a]);
      const { peer, registration: r } = await registration(ctx, a);
      accept(peer, r);
      const e = r.poolElement;
      ctx.must(
        sameBytes(r.poolHandle, pool),
        "the pool handle it was started with",
        new TextDecoder().decode(r.poolHandle),
      );
      ctx.must(e.identifier !== ctx.zero, "a non-zero PE identifier", "0");
      ctx.must(e.registrationLife > 0, "a positive registration life", `${e.registrationLife}`);
      ctx.must(
        e.userTransport.addresses.length >= 1 && e.userTransport.port !== 0,
        "a user transport with an address and a port",
        JSON.stringify(e.userTransport),
      );
      ctx.must(e.policy.type !== "Unknown", "a known selection policy", e.policy.type);
      ctx.should(
        e.homeRegistrarId === ctx.zero,
        "Home Registrar Identifier 0 in a first registration",
        hexId(e.homeRegistrarId),
      );
      ctx.should(
        e.asapTransport === undefined,
        "no ASAP Transport (the registrar fills it in)",
        "one",
      );
    },
  },
  {
    id: "asap/element/keepalive/ack",
    ref: "RFC 5352 §3.4",
    requirement:
      "A pool element answers an Endpoint Keep-Alive with an Endpoint Keep-Alive Ack carrying its pool handle and identifier.",
    level: "MUST",
    role: "element",
    timeout: (t) => startup(t) + 4 * t.slack,
    async run(ctx) {
      const a = await ctx.listen("asap");
      const { pool } = await startElement(ctx, [a]);
      const { peer, registration: r } = await registration(ctx, a);
      accept(peer, r);
      peer.send({
        type: "EndpointKeepAlive",
        home: false,
        registrarId: ctx.identifier(),
        poolHandle: pool,
      });
      const ack = await ctx.expecting(() =>
        peer.expectType("EndpointKeepAliveAck", ctx.answerTime, "an Endpoint Keep-Alive Ack")
      );
      ctx.must(
        ack.poolElementId === r.poolElement.identifier,
        "its identifier",
        hexId(ack.poolElementId),
      );
      ctx.must(sameBytes(ack.poolHandle, pool), "its pool handle", "another");
    },
  },
  {
    id: "asap/element/reregistration/timing",
    ref: "RFC 5352 §3.1 (T4-reregistration)",
    requirement:
      "A pool element registers again, with the same identifier, before its registration life ends.",
    level: "MUST",
    role: "element",
    timeout: (t) => startup(t) + 120_000,
    async run(ctx) {
      const a = await ctx.listen("asap");
      await startElement(ctx, [a]);
      const { peer, registration: r } = await registration(ctx, a);
      accept(peer, r);
      const life = r.poolElement.registrationLife;
      ctx.note(`registration life ${life} ms`);
      if (life > 110_000) {
        ctx.unsupported(`a registration life of ${life} ms is longer than this case may wait`);
      }
      const started = performance.now();
      const again = await ctx.expecting(() =>
        peer.expectType("Registration", life, "a re-registration within the registration life")
      );
      ctx.note(`re-registered after ${Math.round(performance.now() - started)} ms`);
      ctx.must(
        again.poolElement.identifier === r.poolElement.identifier,
        "the same identifier",
        hexId(again.poolElement.identifier),
      );
      accept(peer, again);
    },
  },
  {
    id: "asap/element/hunt/registrar-lost",
    ref: "RFC 5352 §3.6, §3.7.1",
    requirement:
      "A pool element whose registrar connection fails finds another registrar and registers there.",
    level: "MUST",
    role: "element",
    timeout: (t) => 2 * startup(t) + 4 * t.slack,
    async run(ctx) {
      const a = await ctx.listen("asap");
      const b = await ctx.listen("asap");
      await startElement(ctx, [a, b]);
      // It may pick either first.
      const first = await Promise.race([
        a.next(startup(ctx.timers), "a connection").then((peer) => ({ peer, at: a, other: b })),
        b.next(startup(ctx.timers), "a connection").then((peer) => ({ peer, at: b, other: a })),
      ]);
      const r = await ctx.expecting(() =>
        first.peer.expectType("Registration", startup(ctx.timers), "a Registration")
      );
      accept(first.peer, r);
      ctx.note(
        `registered at ${first.at === a ? "the first" : "the second"} registrar; it fails now`,
      );
      first.peer.close(true);
      await first.at.close();
      const { peer, registration: again } = await registration(
        ctx,
        first.other,
        startup(ctx.timers),
      );
      ctx.must(
        again.poolElement.identifier === r.poolElement.identifier,
        "the same identifier",
        hexId(again.poolElement.identifier),
      );
      accept(peer, again);
    },
  },
  {
    id: "asap/element/keepalive/home",
    ref: "RFC 5352 §3.4, RFC 5353 §3.7",
    requirement:
      "A pool element that receives an Endpoint Keep-Alive with the Home flag from another registrar answers it and adopts that registrar as its home, registering with it.",
    level: "MUST",
    role: "element",
    features: ["home-keepalive"],
    timeout: (t) => startup(t) + 6 * t.slack,
    async run(ctx) {
      const a = await ctx.listen("asap");
      const { pool } = await startElement(ctx, [a]);
      const { peer, registration: r } = await registration(ctx, a);
      accept(peer, r);
      const t = r.poolElement.userTransport;
      if (t.type !== "TCP" || t.transportUse !== TransportUse.DataPlusControl) {
        ctx.unsupported(
          "the element's user transport is not TCP with DATA PLUS CONTROL: no ASAP endpoint to reach over TCP",
        );
      }
      const newHome = ctx.identifier();
      const session = await ctx.session({ address: t.addresses[0], port: t.port });
      session.send({
        type: "EndpointKeepAlive",
        home: true,
        registrarId: newHome,
        poolHandle: pool,
      });
      const ack = await ctx.expecting(() =>
        session.expectType("EndpointKeepAliveAck", ctx.answerTime, "an Endpoint Keep-Alive Ack")
      );
      ctx.must(
        ack.poolElementId === r.poolElement.identifier,
        "its identifier",
        hexId(ack.poolElementId),
      );
      const again = await ctx.expecting(() =>
        session.expectType("Registration", ctx.answerTime, "a Registration with the new home")
      );
      ctx.must(
        again.poolElement.identifier === r.poolElement.identifier,
        "the same identifier",
        hexId(again.poolElement.identifier),
      );
      session.send({
        type: "RegistrationResponse",
        reject: false,
        poolHandle: pool,
        poolElementId: again.poolElement.identifier,
      });
    },
  },
  {
    id: "asap/element/deregistration",
    ref: "RFC 5352 §3.2",
    requirement: "A pool element that stops in an orderly way deregisters first.",
    level: "SHOULD",
    role: "element",
    features: ["controlled"],
    timeout: (t) => startup(t) + 6 * t.slack,
    async run(ctx) {
      const a = await ctx.listen("asap");
      const { pool, element } = await startElement(ctx, [a]);
      const { peer, registration: r } = await registration(ctx, a);
      accept(peer, r);
      const stopping = element.stop();
      const d = await ctx.expecting(() =>
        peer.expectType("Deregistration", ctx.answerTime + 2000, "an ASAP Deregistration")
      );
      ctx.must(
        d.poolElementId === r.poolElement.identifier && sameBytes(d.poolHandle, pool),
        "its pool handle and identifier",
        hexId(d.poolElementId),
      );
      peer.send({
        type: "DeregistrationResponse",
        poolHandle: pool,
        poolElementId: d.poolElementId,
      });
      await stopping;
    },
  },
];
