/**
 * A pool element (RFC 5352), the suite acting as its registrars.
 *
 * @module
 */

import { TransportUse } from "../../lib/protocol/constants.ts";
import type { PoolMemberSelectionPolicy, Registration } from "../../lib/protocol/types.ts";
import { type Endpoint, transportParameter } from "../../lib/runtime/endpoint.ts";
import type { CaseContext, RunningElement, SuiteListener } from "../context.ts";
import type { Peer } from "../peer.ts";
import type { ConformanceCase, TargetTimers } from "../types.ts";
import {
  announceEvery200ms,
  blackHole,
  closingListener,
  firstConnection,
  hexId,
  listenerAtAnnouncePort,
  noReconnectionStorm,
  sameBytes,
} from "./helpers.ts";

/** How long an element may take to start and register (a new process, a hunt). */
const startup = (t: TargetTimers) => 10_000 + 2 * t.slack;

/** Starts the element under test with the suite's registrars, for one pool. */
async function startElement(
  ctx: CaseContext,
  registrars: (SuiteListener | Endpoint)[],
  policy?: PoolMemberSelectionPolicy,
): Promise<{ pool: Uint8Array; element: RunningElement }> {
  const pool = ctx.poolHandle();
  const driver = ctx.config.element!;
  if (policy !== undefined && driver.choosesPolicy !== true) {
    ctx.unsupported("the element driver cannot choose the policy ({policy} in --spawn-element)");
  }
  const element = await driver.start({
    registrars: registrars.map((r) => "endpoint" in r ? r.endpoint : r),
    pool: new TextDecoder().decode(pool),
    ...(policy === undefined ? {} : { policy }),
  });
  ctx.onCleanup(() => element.kill());
  return { pool, element };
}

/** A free port on the suite's host, closed again (for a registrar that comes later). */
async function closedPort(ctx: CaseContext): Promise<number> {
  const l = await ctx.listen("asap");
  const port = l.endpoint.port;
  await l.close();
  return port;
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

/**
 * Waits for two periodic re-registrations on `peer` (accepting them) and
 * returns the time between them: right after it, the next one is a whole
 * interval away.
 */
async function reregistrationInterval(
  ctx: CaseContext,
  peer: Peer,
  life: number,
): Promise<number> {
  const periodic = await ctx.expecting(() =>
    peer.expectType("Registration", life, "a periodic re-registration")
  );
  accept(peer, periodic);
  const at = performance.now();
  const next = await ctx.expecting(() =>
    peer.expectType("Registration", life, "the next periodic re-registration")
  );
  accept(peer, next);
  const interval = performance.now() - at;
  ctx.note(`re-registers every ${Math.round(interval)} ms`);
  return interval;
}

/**
 * Accepts the element's registration at `a`, waits for two periodic
 * re-registrations (to learn the interval), changes the load, and requires a
 * registration with the new load within half an interval.
 */
async function loadUpdatedAtOnce(
  ctx: CaseContext,
  a: SuiteListener,
  element: RunningElement,
): Promise<void> {
  const updatePolicy = element.updatePolicy?.bind(element) ??
    ctx.unsupported("the element driver cannot change the element's load");
  const { peer, registration: r } = await registration(ctx, a);
  accept(peer, r);
  const interval = await reregistrationInterval(ctx, peer, r.poolElement.registrationLife);
  updatePolicy({ type: "LeastUsed", load: 0xc0000000 });
  const window = Math.max(100, Math.min(interval / 2, ctx.answerTime));
  const update = await ctx.expecting(() =>
    peer.expectType(
      "Registration",
      window,
      `a registration with the new load within ${Math.round(window)} ms`,
    )
  );
  accept(peer, update);
  const p = update.poolElement.policy;
  ctx.must(
    p.type === "LeastUsed" && p.load === 0xc0000000,
    "the new load 0xc0000000",
    JSON.stringify(p),
  );
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
      const connected = await firstConnection(ctx, [a, b], startup(ctx.timers), "a connection");
      const first = { ...connected, other: connected.at === a ? b : a };
      const r = await ctx.expecting(() =>
        first.peer.expectType("Registration", startup(ctx.timers), "a Registration")
      );
      accept(first.peer, r);
      ctx.note(
        `registered at ${first.at === a ? "the first" : "the second"} registrar; it fails now`,
      );
      const lostAt = performance.now();
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
      // The lost association is the home's failure (RFC 5352 §3.7.1): no waiting for a timer.
      const t = ctx.timers;
      const took = Math.round(performance.now() - lostAt);
      ctx.should(
        took <= t.registrationTimeout + t.slack / 2,
        `registered at the other registrar within T2 (${t.registrationTimeout} ms) and half the slack of losing the first`,
        `after ${took} ms`,
      );
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
  ...([
    ["registered", "once its registration was confirmed (a keep-alive answered)"],
    ["registering", "right after its registration was accepted"],
  ] as const).map(([when, what]): ConformanceCase => ({
    id: `asap/element/deregistration/waits-${when}`,
    ref: "RFC 5352 §3.2 (T3-Deregistration), §3.1",
    requirement:
      `A pool element stopping ${what} deregisters with its pool handle and identifier, sends no Registration while it waits for the Deregistration Response (not for a load update, nor for a Home keep-alive or a Deregistration Response on another connection), and ends the association once it gets it.`,
    level: "SHOULD",
    role: "element",
    features: ["controlled"],
    timeout: (t) => startup(t) + 8 * t.slack + 3000,
    async run(ctx) {
      const a = await ctx.listen("asap");
      const { pool, element } = await startElement(ctx, [a]);
      const { peer, registration: r } = await registration(ctx, a);
      accept(peer, r);
      if (when === "registered") {
        peer.send({
          type: "EndpointKeepAlive",
          poolHandle: pool,
          registrarId: ctx.identifier(),
          home: false,
        });
        await ctx.expecting(() =>
          peer.expectType("EndpointKeepAliveAck", ctx.answerTime, "an Endpoint Keep-Alive Ack")
        );
      }
      const stopping = element.stop();
      const d = await ctx.expecting(() =>
        peer.expectType("Deregistration", ctx.answerTime + 2000, "an ASAP Deregistration")
      );
      ctx.must(
        d.poolElementId === r.poolElement.identifier && sameBytes(d.poolHandle, pool),
        "its pool handle and identifier",
        hexId(d.poolElementId),
      );
      // Held back longer than T2 and the re-registration interval of the built-in run.
      const since = peer.received.length;
      const u = r.poolElement.userTransport;
      if (u.type === "TCP" && u.transportUse === TransportUse.DataPlusControl) {
        // A Deregistration Response on another connection is not its registrar's answer.
        const session = await ctx.session({ address: u.addresses[0], port: u.port });
        session.send({
          type: "DeregistrationResponse",
          poolHandle: pool,
          poolElementId: d.poolElementId,
        });
        ctx.note("a Deregistration Response sent on a connection to its ASAP endpoint first");
        // Nor does a Home keep-alive from another registrar make it register there.
        session.send({
          type: "EndpointKeepAlive",
          home: true,
          registrarId: ctx.identifier(),
          poolHandle: pool,
        });
        ctx.note("then an Endpoint Keep-Alive with the Home flag on that connection");
      }
      // Nor a load update by its application.
      if (element.updatePolicy !== undefined) {
        element.updatePolicy({ type: "LeastUsed", load: 0x40000000 });
        ctx.note("its application updated its load meanwhile");
      }
      await ctx.sleep(1200);
      const meanwhile = peer.received.slice(since).map((m) => m.type);
      ctx.should(
        !meanwhile.includes("Registration") && !peer.closed,
        "nothing but waiting for the Deregistration Response (no Registration, the association kept)",
        `${meanwhile.join(", ") || "nothing"}${peer.closed ? ", then closed" : ""}`,
      );
      if (peer.closed) return;
      const answeredAt = performance.now();
      peer.send({
        type: "DeregistrationResponse",
        poolHandle: pool,
        poolElementId: d.poolElementId,
      });
      while (!peer.closed && performance.now() - answeredAt < 700) await ctx.sleep(10);
      ctx.should(
        peer.closed,
        "the association ended within 700 ms of the Deregistration Response",
        "still open",
      );
      await stopping;
    },
  })),
  {
    id: "asap/element/robustness/stray-deregistration-response",
    ref: "RFC 5352 §3.2, §3.1",
    requirement:
      "A registered pool element that gets a Deregistration Response it never asked for ignores it: it keeps its association and re-registers as before.",
    level: "SHOULD",
    role: "element",
    timeout: (t) => startup(t) + 120_000,
    async run(ctx) {
      const a = await ctx.listen("asap");
      const { pool } = await startElement(ctx, [a]);
      const { peer, registration: r } = await registration(ctx, a);
      accept(peer, r);
      peer.send({
        type: "DeregistrationResponse",
        poolHandle: pool,
        poolElementId: r.poolElement.identifier,
      });
      const life = r.poolElement.registrationLife;
      if (life > 110_000) {
        ctx.unsupported(`a registration life of ${life} ms is longer than this case may wait`);
      }
      const again = await peer.expect(
        (m) => m.type === "Registration",
        "a re-registration on the same association",
        life,
      ).catch(() => undefined);
      ctx.should(
        again !== undefined && !peer.closed,
        "the association kept and a re-registration within the registration life",
        peer.closed ? "the association closed" : "no re-registration",
      );
    },
  },
  {
    id: "asap/element/registration/policy",
    ref: "RFC 5352 §3.1, RFC 5356 §4.2",
    requirement:
      "A pool element registers the selection policy and values it was given (here Weighted Round Robin, weight 7).",
    level: "MUST",
    role: "element",
    timeout: (t) => startup(t) + 4 * t.slack,
    async run(ctx) {
      const a = await ctx.listen("asap");
      await startElement(ctx, [a], { type: "WeightedRoundRobin", weight: 7 });
      const { peer, registration: r } = await registration(ctx, a);
      accept(peer, r);
      const p = r.poolElement.policy;
      ctx.must(
        p.type === "WeightedRoundRobin" && p.weight === 7,
        "Weighted Round Robin with weight 7",
        JSON.stringify(p),
      );
    },
  },
  {
    id: "asap/element/reregistration/content",
    ref: "RFC 5352 §3.1",
    requirement:
      "A re-registration repeats the registration: the same pool handle, identifier, user transport and policy.",
    level: "MUST",
    role: "element",
    timeout: (t) => startup(t) + 120_000,
    async run(ctx) {
      const a = await ctx.listen("asap");
      const { pool } = await startElement(ctx, [a]);
      const { peer, registration: r } = await registration(ctx, a);
      accept(peer, r);
      const life = r.poolElement.registrationLife;
      if (life > 110_000) {
        ctx.unsupported(`a registration life of ${life} ms is longer than this case may wait`);
      }
      const again = await ctx.expecting(() =>
        peer.expectType("Registration", life, "a re-registration within the registration life")
      );
      accept(peer, again);
      const e1 = r.poolElement;
      const e2 = again.poolElement;
      ctx.must(sameBytes(again.poolHandle, pool), "the same pool handle", "another");
      ctx.must(e2.identifier === e1.identifier, "the same identifier", hexId(e2.identifier));
      ctx.must(
        JSON.stringify(e2.userTransport) === JSON.stringify(e1.userTransport),
        "the same user transport",
        `${JSON.stringify(e1.userTransport)} then ${JSON.stringify(e2.userTransport)}`,
      );
      ctx.must(
        JSON.stringify(e2.policy) === JSON.stringify(e1.policy),
        "the same policy",
        `${JSON.stringify(e1.policy)} then ${JSON.stringify(e2.policy)}`,
      );
    },
  },
  {
    id: "asap/element/registration/load-update",
    ref: "RFC 5356 §5, RFC 5352 §3.1",
    requirement:
      "A pool element of an adaptive policy whose load changes re-registers with the new load at once, not only at its next re-registration.",
    level: "SHOULD",
    role: "element",
    timeout: (t) => startup(t) + 60_000,
    async run(ctx) {
      const a = await ctx.listen("asap");
      const { element } = await startElement(ctx, [a], { type: "LeastUsed", load: 0x20000000 });
      await loadUpdatedAtOnce(ctx, a, element);
    },
  },
  {
    id: "asap/element/registration/load-update-hearing-announces",
    ref: "RFC 5356 §5, RFC 5352 §3.1, §3.6",
    requirement:
      "A registered pool element that keeps hearing Server Announces still re-registers with a new load at once: announces feed its hunt only while it hunts.",
    level: "SHOULD",
    role: "element",
    features: ["announce"],
    timeout: (t) => startup(t) + 60_000,
    async run(ctx) {
      const driver = ctx.config.element!;
      if (driver.hearsAnnounces !== true || driver.choosesPolicy !== true) {
        ctx.unsupported("the element driver cannot hunt by announces with a policy of the suite's");
      }
      const a = await ctx.listen("asap");
      const channel = await ctx.announceChannel();
      announceEvery200ms(ctx, channel, [transportParameter(a.endpoint)]);
      const element = await driver.start({
        registrars: [],
        pool: new TextDecoder().decode(ctx.poolHandle()),
        policy: { type: "LeastUsed", load: 0x20000000 },
        announce: channel.settings,
      });
      ctx.onCleanup(() => element.kill());
      await loadUpdatedAtOnce(ctx, a, element);
    },
  },
  {
    id: "asap/element/registration/load-update-while-registering",
    ref: "RFC 5356 §5, RFC 5352 §3.1",
    requirement:
      "A pool element of an adaptive policy whose load changes while its first registration is still unanswered registers the new load at once, not only when T2 runs out.",
    level: "SHOULD",
    role: "element",
    timeout: (t) => startup(t) + 6 * t.slack,
    async run(ctx) {
      const a = await ctx.listen("asap");
      const { element } = await startElement(ctx, [a], { type: "LeastUsed", load: 0x20000000 });
      const updatePolicy = element.updatePolicy?.bind(element) ??
        ctx.unsupported("the element driver cannot change the element's load");
      const { peer } = await registration(ctx, a);
      // The Registration is left unanswered.
      const t = ctx.timers;
      updatePolicy({ type: "LeastUsed", load: 0xc0000000 });
      const window = Math.max(100, t.registrationTimeout / 2);
      const update = await peer.expect(
        (m) => m.type === "Registration",
        "a registration with the new load",
        window,
      ).catch(() => undefined);
      ctx.should(
        update?.type === "Registration" && update.poolElement.policy.type === "LeastUsed" &&
          update.poolElement.policy.load === 0xc0000000,
        `a registration with the new load within ${Math.round(window)} ms (half of T2)`,
        update === undefined ? "none" : JSON.stringify(update),
      );
    },
  },
  {
    id: "asap/element/registration/load-update-after-rehoming",
    ref: "RFC 5356 §5, RFC 5352 §3.1, §3.6",
    requirement:
      "A pool element of an adaptive policy that moved to another registrar (its first one failed) still registers a changed load there at once.",
    level: "SHOULD",
    role: "element",
    timeout: (t) => 2 * startup(t) + 60_000,
    async run(ctx) {
      const a = await ctx.listen("asap");
      const b = await ctx.listen("asap");
      const { element } = await startElement(ctx, [a, b], {
        type: "LeastUsed",
        load: 0x20000000,
      });
      const updatePolicy = element.updatePolicy?.bind(element) ??
        ctx.unsupported("the element driver cannot change the element's load");
      const connected = await firstConnection(ctx, [a, b], startup(ctx.timers), "a connection");
      const first = { ...connected, other: connected.at === a ? b : a };
      const r = await ctx.expecting(() =>
        first.peer.expectType("Registration", startup(ctx.timers), "a Registration")
      );
      accept(first.peer, r);
      // Its acceptance processed (a keep-alive answered) before the registrar fails.
      first.peer.send({
        type: "EndpointKeepAlive",
        poolHandle: r.poolHandle,
        registrarId: ctx.identifier(),
        home: false,
      });
      await ctx.expecting(() =>
        first.peer.expectType("EndpointKeepAliveAck", ctx.answerTime, "a Keep-Alive Ack")
      );
      first.peer.close(true);
      await first.at.close();
      const { peer, registration: again } = await registration(ctx, first.other);
      accept(peer, again);
      const interval = await reregistrationInterval(
        ctx,
        peer,
        again.poolElement.registrationLife,
      );
      updatePolicy({ type: "LeastUsed", load: 0xc0000000 });
      const window = Math.max(100, Math.min(interval / 2, ctx.answerTime));
      const update = await peer.expect(
        (m) => m.type === "Registration",
        "a registration with the new load",
        window,
      ).catch(() => undefined);
      ctx.should(
        update?.type === "Registration" && update.poolElement.policy.type === "LeastUsed" &&
          update.poolElement.policy.load === 0xc0000000,
        `a registration with the new load within ${Math.round(window)} ms`,
        update === undefined ? "none" : JSON.stringify(update.poolElement.policy),
      );
    },
  },
  {
    id: "asap/element/registration/unanswered",
    ref: "RFC 5352 §3.1 (T2-registration), §3.6, §7.3 (MAX-REG-ATTEMPT)",
    requirement:
      "A pool element whose registration goes unanswered tries again after T2-registration, not sooner, and after MAX-REG-ATTEMPT attempts (SHOULD: exactly that many) registers with another registrar.",
    level: "MUST",
    role: "element",
    timeout: (t) =>
      startup(t) + (t.maxRegistrationAttempts + 2) * t.registrationTimeout + 10 * t.slack,
    async run(ctx) {
      const silent = await ctx.listen("asap");
      const laterPort = await closedPort(ctx);
      await startElement(ctx, [silent, { address: ctx.config.listenHost, port: laterPort }]);
      const t = ctx.timers;
      const first = await registration(ctx, silent);
      const firstAt = performance.now();
      const later = await ctx.listen("asap", laterPort);
      const within = t.maxRegistrationAttempts * t.registrationTimeout + startup(t);
      const { peer, registration: again } = await registration(ctx, later, within);
      accept(peer, again);
      const attempts = first.peer.received.filter((m) => m.type === "Registration").length;
      const took = performance.now() - firstAt;
      ctx.note(
        `${attempts} attempt(s) at the silent registrar, then moved on after ${
          Math.round(took)
        } ms`,
      );
      ctx.must(
        again.poolElement.identifier === first.registration.poolElement.identifier,
        "the same identifier at the other registrar",
        hexId(again.poolElement.identifier),
      );
      ctx.should(
        attempts === t.maxRegistrationAttempts,
        `MAX-REG-ATTEMPT (${t.maxRegistrationAttempts}) attempts at the silent registrar, not fewer, not more`,
        `${attempts}`,
      );
      ctx.must(
        took >= Math.min(attempts, t.maxRegistrationAttempts) * t.registrationTimeout - 100,
        `no new attempt before T2-registration (${t.registrationTimeout} ms) ran out`,
        `moved on after ${Math.round(took)} ms and ${attempts} attempt(s)`,
      );
    },
  },
  {
    id: "asap/element/robustness/responses-on-another-connection",
    ref: "RFC 5352 §3.1 (T2-registration), §7.3 (MAX-REG-ATTEMPT)",
    requirement:
      "A Registration Response that arrives on another connection (here the element's own ASAP endpoint) is not its registrar's answer: the element still retries after T2-registration and gives up after MAX-REG-ATTEMPT unanswered attempts.",
    level: "SHOULD",
    role: "element",
    timeout: (t) =>
      startup(t) + (t.maxRegistrationAttempts + 2) * t.registrationTimeout + 10 * t.slack,
    async run(ctx) {
      const silent = await ctx.listen("asap");
      const laterPort = await closedPort(ctx);
      const { pool } = await startElement(ctx, [silent, {
        address: ctx.config.listenHost,
        port: laterPort,
      }]);
      const t = ctx.timers;
      const first = await registration(ctx, silent);
      const u = first.registration.poolElement.userTransport;
      if (u.type !== "TCP" || u.transportUse !== TransportUse.DataPlusControl) {
        ctx.unsupported(
          "the element's user transport is not TCP with DATA PLUS CONTROL: no ASAP endpoint to reach over TCP",
        );
      }
      const session = await ctx.session({ address: u.addresses[0], port: u.port });
      session.send({
        type: "RegistrationResponse",
        reject: false,
        poolHandle: pool,
        poolElementId: first.registration.poolElement.identifier,
      });
      ctx.note("a Registration Response accepting it sent on a connection to its ASAP endpoint");
      const later = await ctx.listen("asap", laterPort);
      const within = t.maxRegistrationAttempts * t.registrationTimeout + startup(t);
      const { peer, registration: again } = await registration(ctx, later, within);
      accept(peer, again);
      const attempts = first.peer.received.filter((m) => m.type === "Registration").length;
      ctx.should(
        attempts === t.maxRegistrationAttempts,
        `MAX-REG-ATTEMPT (${t.maxRegistrationAttempts}) attempts at the silent registrar, the response elsewhere not counted`,
        `${attempts}`,
      );
    },
  },
  {
    id: "asap/element/hunt/unreachable-registrar",
    ref: "RFC 5352 §3.6",
    requirement:
      "A pool element that cannot connect to one of its registrars registers with another.",
    level: "MUST",
    role: "element",
    timeout: (t) => 2 * startup(t) + 4 * t.slack,
    async run(ctx) {
      const deadPort = await closedPort(ctx);
      const b = await ctx.listen("asap");
      await startElement(ctx, [{ address: ctx.config.listenHost, port: deadPort }, b]);
      const { peer, registration: r } = await registration(ctx, b, 2 * startup(ctx.timers));
      accept(peer, r);
    },
  },
  {
    id: "asap/element/hunt/black-holed-registrar",
    ref: "RFC 5352 §3.6",
    requirement:
      "A pool element whose connection attempt to a registrar neither succeeds nor fails (its SYNs go unanswered) gives it up after its connect timeout (the suite's connectTimeout) and registers with another registrar.",
    level: "MUST",
    role: "element",
    timeout: (t) => 2 * startup(t) + 4 * t.slack,
    async run(ctx) {
      const t = ctx.timers;
      const hole = await blackHole(ctx);
      const b = await ctx.listen("asap");
      const started = performance.now();
      await startElement(ctx, [hole, b]);
      const { peer, registration: r } = await registration(ctx, b, 2 * startup(t));
      accept(peer, r);
      const took = performance.now() - started;
      ctx.must(
        took <= t.connectTimeout + ctx.answerTime + 2 * t.slack,
        `registered elsewhere within the connect timeout (${t.connectTimeout} ms) and an answer time`,
        `${Math.round(took)} ms`,
      );
    },
  },
  {
    id: "asap/element/hunt/closing-registrar",
    ref: "RFC 5352 §3.6, RFC 5355 §2.13",
    requirement:
      "A pool element whose only registrar closes every connection at once keeps trying, but without a storm: at most 10 connections per second.",
    level: "SHOULD",
    role: "element",
    timeout: (t) => startup(t) + 4 * t.slack + 3000,
    async run(ctx) {
      const a = await closingListener(ctx);
      await startElement(ctx, [a]);
      await noReconnectionStorm(ctx, a, startup(ctx.timers));
    },
  },
  {
    id: "asap/element/hunt/registrar-later",
    ref: "RFC 5352 §3.6",
    requirement:
      "A pool element whose only registrar is not there yet keeps hunting (without a storm of attempts) and registers once it is.",
    level: "MUST",
    role: "element",
    timeout: (t) => 2 * startup(t) + 4 * t.slack,
    async run(ctx) {
      const port = await closedPort(ctx);
      await startElement(ctx, [{ address: ctx.config.listenHost, port }]);
      await ctx.sleep(1500);
      const later = await ctx.listen("asap", port);
      const { peer, registration: r } = await registration(ctx, later, startup(ctx.timers));
      accept(peer, r);
    },
  },
  {
    id: "asap/element/registration/distinct-identifiers",
    ref: "RFC 5352 §3.1, RFC 5354 §3.10",
    requirement:
      "Two pool elements of one pool register with different, non-zero PE identifiers (each chosen at random: a false failure 2^-32).",
    level: "MUST",
    role: "element",
    timeout: (t) => 2 * startup(t) + 4 * t.slack,
    async run(ctx) {
      const a = await ctx.listen("asap");
      const { pool } = await startElement(ctx, [a]);
      const first = await registration(ctx, a);
      accept(first.peer, first.registration);
      const driver = ctx.config.element!;
      const second = await driver.start({
        registrars: [a.endpoint],
        pool: new TextDecoder().decode(pool),
      });
      ctx.onCleanup(() => second.kill());
      const other = await registration(ctx, a);
      accept(other.peer, other.registration);
      const [x, y] = [first, other].map((r) => r.registration.poolElement.identifier);
      ctx.must(
        x !== y && x !== ctx.zero && y !== ctx.zero,
        "two different non-zero identifiers",
        `${hexId(x)} and ${hexId(y)}`,
      );
    },
  },
  {
    id: "asap/element/keepalive/other-pool-discarded",
    ref: "RFC 5352 §3.4 (KA1)",
    requirement:
      "A pool element silently discards an Endpoint Keep-Alive for a pool handle it is not registered under: no Keep-Alive Ack.",
    level: "MUST",
    role: "element",
    timeout: (t) => startup(t) + 4 * t.slack,
    async run(ctx) {
      const a = await ctx.listen("asap");
      const { pool } = await startElement(ctx, [a]);
      const { peer, registration: r } = await registration(ctx, a);
      accept(peer, r);
      // Longer, of the same length but for the last byte, and a prefix of its own.
      const sameLength = pool.slice();
      sameLength[sameLength.length - 1] ^= 0x01;
      for (const other of [ctx.poolHandle("-other"), sameLength, pool.slice(0, -1)]) {
        peer.send({
          type: "EndpointKeepAlive",
          home: false,
          registrarId: ctx.identifier(),
          poolHandle: other,
        });
      }
      await ctx.expecting(() =>
        peer.expectNothing(
          (m) => m.type === "EndpointKeepAliveAck",
          "Keep-Alive Ack for another pool (a longer handle, one differing in its last byte, a prefix)",
          ctx.answerTime,
        )
      );
      peer.send({
        type: "EndpointKeepAlive",
        home: false,
        registrarId: ctx.identifier(),
        poolHandle: pool,
      });
      await ctx.expecting(() =>
        peer.expectType("EndpointKeepAliveAck", ctx.answerTime, "an Ack for its own pool")
      );
    },
  },
  {
    id: "asap/element/keepalive/not-home",
    ref: "RFC 5352 §3.4 (KA2.4)",
    requirement:
      "An Endpoint Keep-Alive without the Home flag from another registrar is answered, but the element keeps its home: it does not register with that registrar.",
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
      const session = await ctx.session({ address: t.addresses[0], port: t.port });
      session.send({
        type: "EndpointKeepAlive",
        home: false,
        registrarId: ctx.identifier(),
        poolHandle: pool,
      });
      await ctx.expecting(() =>
        session.expectType("EndpointKeepAliveAck", ctx.answerTime, "an Endpoint Keep-Alive Ack")
      );
      await ctx.expecting(() =>
        session.expectNothing(
          (m) => m.type === "Registration",
          "Registration with the registrar that is not its home",
          ctx.answerTime,
        )
      );
      ctx.must(!peer.closed, "the connection to its home registrar kept", "closed");
    },
  },
  {
    id: "asap/element/hunt/server-announce-without-transports",
    ref: "RFC 5352 §3.6, §2.2.10; RSPLIB (docs/interop.md)",
    requirement:
      "A pool element that hears a Server Announce without Transport parameters (as RSPLIB's registrars send them) takes the announce's source address and port for the registrar's and registers there over its own transport.",
    level: "SHOULD",
    role: "element",
    features: ["announce"],
    timeout: (t) => startup(t) + 6 * t.slack,
    async run(ctx) {
      const driver = ctx.config.element!;
      if (driver.hearsAnnounces !== true) {
        ctx.unsupported(
          "the element driver cannot hunt by announces ({announce} in --spawn-element)",
        );
      }
      const { listener, channel } = await listenerAtAnnouncePort(ctx);
      announceEvery200ms(ctx, channel, []);
      const element = await driver.start({
        registrars: [],
        pool: new TextDecoder().decode(ctx.poolHandle()),
        announce: channel.settings,
      });
      ctx.onCleanup(() => element.kill());
      await listener.arrival(startup(ctx.timers));
      ctx.should(
        listener.unclaimed > 0,
        `a connection to the announce's source ${listener.endpoint.address}:${listener.endpoint.port}`,
        "none",
      );
      if (listener.unclaimed === 0) return;
      const peer = await listener.next(0, "the connection");
      const r = await ctx.expecting(() =>
        peer.expectType("Registration", startup(ctx.timers), "an ASAP Registration")
      );
      accept(peer, r);
    },
  },
  {
    id: "asap/element/hunt/server-announce",
    ref: "RFC 5352 §3.6",
    requirement:
      "A pool element with no registrar configured finds one by the ASAP Server Announces it hears (other ASAP messages on the channel ignored) and registers there.",
    level: "MUST",
    role: "element",
    features: ["announce"],
    timeout: (t) => startup(t) + 6 * t.slack,
    async run(ctx) {
      const driver = ctx.config.element!;
      if (driver.hearsAnnounces !== true) {
        ctx.unsupported(
          "the element driver cannot hunt by announces ({announce} in --spawn-element)",
        );
      }
      const a = await ctx.listen("asap");
      const channel = await ctx.announceChannel();
      announceEvery200ms(ctx, channel, [transportParameter(a.endpoint)]);
      const pool = ctx.poolHandle();
      const element = await driver.start({
        registrars: [],
        pool: new TextDecoder().decode(pool),
        announce: channel.settings,
      });
      ctx.onCleanup(() => element.kill());
      const { peer, registration: r } = await registration(ctx, a);
      accept(peer, r);
      ctx.must(sameBytes(r.poolHandle, pool), "its pool handle", "another");
    },
  },
];
