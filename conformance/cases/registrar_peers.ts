/**
 * A registrar's peers over ENRP (RFC 5353 §3.2–§3.4, §3.6): keeping in
 * contact with them (heartbeats, reconnections, one connection each),
 * start-up with a mentor, failure detection, handle tables that need
 * paging or splitting, and resynchronisations that go wrong.
 *
 * @module
 */

import { handlespaceChecksum } from "../../lib/protocol/checksum.ts";
import { encodedLength } from "../../lib/protocol/codec.ts";
import { TransportUse, UpdateAction } from "../../lib/protocol/constants.ts";
import type {
  EnrpMessage,
  HandleResolutionResponse,
  HandleTableRequest,
  HandleTableResponse,
  HandleUpdate,
  Identifier,
  Presence,
  ServerInformation,
  TransportParameter,
} from "../../lib/protocol/types.ts";
import type { Endpoint } from "../../lib/runtime/endpoint.ts";
import type { CaseContext, RegistrarDriver } from "../context.ts";
import type { Arrival, Peer } from "../peer.ts";
import type { ConformanceCase, TargetTimers } from "../types.ts";
import { FakeRegistrar, type OwnedElement, tableIds } from "./fake_registrar.ts";
import { causes, element, eventually, hexId, idsOf, receivedSince, resolveAt } from "./helpers.ts";

const quick = (t: TargetTimers) => 6 * t.slack + 8000;

/** Registers `n` elements at the target over ASAP, answering their keep-alives. */
async function registerMany(
  ctx: CaseContext,
  handle: Uint8Array,
  n: number,
  options: (i: number) => Parameters<CaseContext["registration"]>[2] = () => ({}),
): Promise<Identifier[]> {
  const pe = await ctx.asap();
  const ids = Array.from({ length: n }, () => ctx.identifier());
  pe.answerKeepAlives(handle, ...ids);
  ids.forEach((id, i) => pe.send(ctx.registration(handle, id, options(i))));
  for (const id of ids) {
    const r = await ctx.expecting(() =>
      pe.expectType(
        "RegistrationResponse",
        ctx.answerTime,
        `a Registration Response for ${hexId(id)}`,
        (m) => m.poolElementId === id,
      )
    );
    ctx.must(
      !r.reject,
      `registration of ${hexId(id)} accepted`,
      `R=1, ${causes(r.operationError)}`,
    );
  }
  return ids;
}

/** The registrar driver, or UNSUPPORTED. */
function driverOf(ctx: CaseContext): RegistrarDriver {
  return ctx.config.registrar ??
    ctx.unsupported("the runner cannot start a registrar here (built-in run only)");
}

/** The PE checksum over a list of elements in the run's profile. */
function checksumOf(ctx: CaseContext, elements: readonly OwnedElement[] = []): number {
  return handlespaceChecksum(
    elements.map((e) => [e.handle, e.element.identifier] as const),
    ctx.config.profile === "nextgen" ? 32 : 16,
  );
}

/** Polls `holds` until it is true (returns true) or `ms` pass (returns false). */
async function until(ctx: CaseContext, holds: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!holds()) {
    if (performance.now() >= deadline) return false;
    await ctx.sleep(10);
  }
  return true;
}

/**
 * Answers arrivals on `peer` with `handler`, also those that arrived
 * before (still in its inbox); `handler` returns true when it consumed one.
 */
function answerOn(peer: Peer, handler: (m: Arrival) => boolean): void {
  for (const m of peer.inbox.splice(0)) if (!handler(m)) peer.inbox.push(m);
  peer.respond(handler);
}

/** How the suite plays a registrar on a connection a registrar under test opened. */
interface PlayedRegistrar {
  /** Its identifier. */
  readonly id: Identifier;
  /** Its ENRP endpoint (its Server Information). */
  readonly endpoint: Endpoint;
  /** The peers its List Responses name (default none). */
  readonly servers?: () => ServerInformation[];
  /** The checksum of its Presences (default: over nothing). */
  readonly checksum?: () => number;
  /**
   * Its answer to a Handle Table Request: a response, `null` for none
   * (default: an empty table).
   */
  readonly table?: (request: HandleTableRequest) => HandleTableResponse | null;
  /** How many reply-required Presences it answers (default all). */
  readonly probeAnswers?: number;
  /** What the registrar under test sent, in order. */
  readonly log?: string[];
}

/** Plays a registrar (a mentor or another peer) on a connection: answers what a peer must. */
function playRegistrar(ctx: CaseContext, peer: Peer, played: PlayedRegistrar): void {
  let answered = 0;
  answerOn(peer, (m) => {
    if (m.type === "Undecodable" || !("sendingRegistrarId" in m)) return false;
    const e = m as EnrpMessage;
    const ids = { sendingRegistrarId: played.id, receivingRegistrarId: e.sendingRegistrarId };
    if (e.type === "Presence" && e.replyRequired) {
      played.log?.push("Presence (R=1)");
      if (answered++ < (played.probeAnswers ?? Infinity)) {
        peer.send({
          type: "Presence",
          ...ids,
          replyRequired: false,
          checksum: played.checksum?.() ?? checksumOf(ctx),
          serverInformation: ctx.serverInformation(played.id, played.endpoint),
        });
      }
    } else if (e.type === "ListRequest") {
      played.log?.push("List Request");
      peer.send({ type: "ListResponse", ...ids, reject: false, servers: played.servers?.() ?? [] });
    } else if (e.type === "HandleTableRequest") {
      played.log?.push(`Handle Table Request (W=${e.ownChildrenOnly ? 1 : 0})`);
      const r = played.table === undefined ? emptyTable(played.id, e.sendingRegistrarId) : played
        .table(e);
      if (r !== null) peer.send(r);
    }
    return false;
  });
}

/** A Handle Table Response without entries (or rejected). */
function emptyTable(from: Identifier, to: Identifier, reject = false): HandleTableResponse {
  return {
    type: "HandleTableResponse",
    sendingRegistrarId: from,
    receivingRegistrarId: to,
    reject,
    moreToSend: false,
    pools: [],
  };
}

/** The time (ms into the case) of the first entry of `times` after `after`, waiting up to `ms`. */
async function firstAfter(
  ctx: CaseContext,
  times: readonly number[],
  after: number,
  ms: number,
): Promise<number | undefined> {
  await until(ctx, () => times.some((x) => x > after), ms);
  return times.find((x) => x > after);
}

/** The cases. */
export const REGISTRAR_PEER_CASES: readonly ConformanceCase[] = [
  // Q1
  {
    id: "enrp/registrar/presence/probe-while-peers-join",
    ref: "RFC 5353 §3.4.3",
    requirement:
      "A peer not heard from for max-time-last-heard is sent a Presence with the Reply-required flag, also while other peers keep joining (one every third of max-time-last-heard).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => t.maxTimeLastHeard + 2 * t.peerHeartbeatCycle + 12 * t.slack + 12_000,
    async run(ctx) {
      const t = ctx.timers;
      const silent = await FakeRegistrar.join(ctx);
      const joined = ctx.elapsed();
      const within = t.maxTimeLastHeard + t.peerHeartbeatCycle + 2 * t.slack;
      const deadline = performance.now() + within;
      let nextJoin = performance.now() + t.maxTimeLastHeard / 3;
      let newcomers = 0;
      while (performance.now() < deadline && !silent.probes.some((at) => at > joined)) {
        if (performance.now() >= nextJoin) {
          await FakeRegistrar.join(ctx);
          newcomers++;
          nextJoin += t.maxTimeLastHeard / 3;
        }
        await ctx.sleep(10);
      }
      const probe = silent.probes.find((at) => at > joined);
      ctx.note(`${newcomers} other peers joined meanwhile`);
      ctx.must(
        probe !== undefined,
        `a Presence with the Reply-required flag within ${within} ms of silence, while ${newcomers} other peers joined`,
        "none",
      );
      ctx.note(`probed ${probe! - joined} ms after the peer's last message`);
    },
  },
  // Q2
  {
    id: "enrp/registrar/takeover/failure-detection-staggered",
    ref: "RFC 5353 §3.4.3, §3.5.1",
    requirement:
      "Two peers that fall silent a little apart are each declared dead max-time-no-response after their own probe, not before and not never; a takeover with no other peer left to ask completes at once (also after a time without any peer; SHOULD: also when the only peer left to ask is one the registrar declared dead before).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) =>
      3 * t.maxTimeLastHeard + 3 * t.maxTimeNoResponse + 4 * t.peerHeartbeatCycle +
      16 * t.slack + 12_000,
    async run(ctx) {
      const t = ctx.timers;
      // Peers of earlier cases are gone by then: the target has had no peer for a while.
      const idle = t.maxTimeLastHeard + t.maxTimeNoResponse + t.peerHeartbeatCycle + 2 * t.slack;
      ctx.note(`idle for ${idle} ms, so that peers of earlier cases are forgotten`);
      await ctx.sleep(idle);
      const a = await FakeRegistrar.join(ctx);
      const b = await FakeRegistrar.join(ctx);
      const bJoined = ctx.elapsed();
      a.ackTakeovers = false;
      b.ackTakeovers = false;
      const la = await ctx.listen("session");
      const lb = await ctx.listen("session");
      const ha = ctx.poolHandle("a");
      const hb = ctx.poolHandle("b");
      const ea = a.ownElement(ha, la);
      const eb = b.ownElement(hb, lb);
      a.update("add", ha, ea);
      b.update("add", hb, eb);
      const pu = await ctx.asap();
      for (const [h, e] of [[ha, ea], [hb, eb]] as const) {
        await eventually(
          ctx,
          pu,
          h,
          (r) => idsOf(r).includes(e.identifier),
          `the element ${hexId(e.identifier)} learnt`,
          ctx.answerTime,
        );
      }
      // A is heard a little later than B (its checksum matches: no resynchronisation).
      await ctx.sleep(t.maxTimeNoResponse / 2);
      a.presence(false);
      const aHeard = ctx.elapsed();
      a.answerProbes = false;
      b.answerProbes = false;
      ctx.note(`peers ${hexId(a.id)} (A) and ${hexId(b.id)} (B) fall silent, B first`);
      const probeWait = t.maxTimeLastHeard + t.peerHeartbeatCycle + 2 * t.slack;
      const pb = await firstAfter(ctx, b.probes, bJoined, probeWait);
      ctx.must(pb !== undefined, `a probe of B within ${probeWait} ms`, "none");
      const init = await ctx.expecting(() =>
        a.peer.expectType(
          "InitTakeover",
          t.maxTimeNoResponse + t.slack,
          `an Init Takeover of B (${hexId(b.id)}) at A, max-time-no-response after B's probe`,
          (m) => m.targetRegistrarId === b.id,
        )
      );
      const ib = ctx.elapsed();
      ctx.note(`B probed at ${pb} ms, its takeover started at ${ib} ms`);
      ctx.must(
        ib - pb! >= t.maxTimeNoResponse - 50,
        `B declared dead no earlier than max-time-no-response (${t.maxTimeNoResponse} ms) after its probe`,
        `${ib - pb!} ms after`,
      );
      ctx.must(
        init.sendingRegistrarId === a.targetId,
        "the Init Takeover from the target",
        hexId(init.sendingRegistrarId),
      );
      const pa = await firstAfter(ctx, a.probes, aHeard, probeWait - (ctx.elapsed() - aHeard));
      ctx.must(pa !== undefined, `a probe of A within ${probeWait} ms of its last message`, "none");
      ctx.note(`A probed at ${pa} ms`);
      // B is gone, A is dead: nobody is left to acknowledge A's takeover, which completes at once.
      const bound = pa! + t.maxTimeNoResponse + t.slack + ctx.answerTime;
      const within = t.maxTimeNoResponse + t.slack + ctx.answerTime;
      const takenOver = (r: HandleResolutionResponse) =>
        element(r.poolElements, ea.identifier)?.homeRegistrarId === a.targetId;
      /** When (ms into the case) an Init Takeover of A first reached a fake, if one did. */
      const initOfA = (): number | undefined => {
        let at: number | undefined;
        for (const f of [a, b]) {
          f.peer.received.forEach((m, i) => {
            if (m.type === "InitTakeover" && m.targetRegistrarId === a.id) {
              const when = ctx.elapsed() - Math.round(performance.now() - f.peer.receivedAt[i]);
              at = Math.min(at ?? when, when);
            }
          });
        }
        return at;
      };
      // A declared dead shows as an Init Takeover of A (to a peer still connected, such as B,
      // which the target may still count until B's own takeover ends) or, with nobody left to
      // ask, as A's element taken over at once.
      let r = await resolveAt(ctx, pu, ha, 0xffffffff);
      while (!takenOver(r) && initOfA() === undefined && ctx.elapsed() < bound) {
        await ctx.sleep(100);
        r = await resolveAt(ctx, pu, ha, 0xffffffff);
      }
      const ia = initOfA();
      ctx.must(
        ia !== undefined || takenOver(r),
        `A declared dead within ${within} ms of its probe: an Init Takeover of A, or its element taken over by the target`,
        `neither after ${ctx.elapsed() - pa!} ms`,
      );
      if (ia !== undefined) {
        ctx.note(`A's takeover started at ${ia} ms`);
        ctx.must(
          ia - pa! >= t.maxTimeNoResponse - 50,
          `A declared dead no earlier than max-time-no-response (${t.maxTimeNoResponse} ms) after its probe`,
          `${ia - pa!} ms after`,
        );
      }
      const complete = async () => {
        if (ctx.config.features.has("home-keepalive")) {
          const pe = await la.next(
            Math.max(1, bound - ctx.elapsed()),
            "the target connecting to A's element as its new home",
          );
          const k = await ctx.expecting(() =>
            pe.expectType("EndpointKeepAlive", ctx.answerTime, "an Endpoint Keep-Alive")
          );
          ctx.must(k.home, "the Home flag set", "H=0");
          pe.send({ type: "EndpointKeepAliveAck", poolHandle: ha, poolElementId: ea.identifier });
          pe.answerKeepAlives(ha, ea.identifier);
        }
        await eventually(
          ctx,
          pu,
          ha,
          takenOver,
          `A's element taken over by the target within ${within} ms of A's probe`,
          Math.max(1, bound - ctx.elapsed()),
        );
      };
      if (ia === undefined || takenOver(r)) {
        await complete();
      } else {
        // The target asked a peer it had already declared dead (B) for its acknowledgement.
        // RFC 5353 §3.5.1 wants one from every peer and says nothing of peers that fail during
        // the arbitration (RSPLIB waits for B, then gives the takeover up at its expiry).
        while (!takenOver(r) && ctx.elapsed() < bound) {
          await ctx.sleep(250);
          r = await resolveAt(ctx, pu, ha, 0xffffffff);
        }
        ctx.should(
          takenOver(r),
          `A's element taken over by the target within ${within} ms of A's probe, without waiting for the acknowledgement of B, declared dead before`,
          `after ${ctx.elapsed() - pa!} ms the pool lists it with home ${
            hexId(element(r.poolElements, ea.identifier)?.homeRegistrarId ?? 0)
          }`,
        );
        if (!takenOver(r)) return;
        await complete();
      }
      ctx.note(`A's element taken over at ${ctx.elapsed()} ms`);
    },
  },
  // Q3
  {
    id: "enrp/registrar/presence/heartbeat-reconnects",
    ref: "RFC 5353 §3.4.2, §3.1, §2.1",
    requirement:
      "A peer whose connection broke while its ENRP endpoint still accepts keeps receiving Presences: within a heartbeat cycle the registrar connects to the endpoint of the peer's Server Information and sends a Presence there (also while it knows a peer that never sent Server Information, which §2.1 requires only in answers).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 2 * t.peerHeartbeatCycle,
    async run(ctx) {
      const t = ctx.timers;
      const raw = await ctx.enrp();
      const anonymous = ctx.identifier();
      const presence: Presence = {
        type: "Presence",
        sendingRegistrarId: anonymous,
        receivingRegistrarId: ctx.zero,
        replyRequired: true,
        checksum: checksumOf(ctx),
      };
      raw.send(presence);
      await ctx.expecting(() =>
        raw.expectType(
          "Presence",
          ctx.answerTime,
          "a Presence in answer to one without Server Information",
        )
      );
      const f = await FakeRegistrar.join(ctx);
      f.send({ type: "ListRequest" });
      const list = await ctx.expecting(() =>
        f.peer.expectType("ListResponse", ctx.answerTime, "a List Response")
      );
      ctx.should(
        !list.servers.some((s) => s.registrarId === anonymous),
        "no List Response entry for the peer that sent no Server Information",
        "listed",
      );
      ctx.note("both connections close; the fake's ENRP endpoint still accepts");
      raw.close();
      f.peer.close();
      const p = await f.listener.next(
        t.peerHeartbeatCycle + t.slack,
        `the registrar connecting to the peer's ENRP endpoint within a heartbeat cycle (${t.peerHeartbeatCycle} ms)`,
      );
      const sent = await receivedSince(
        ctx,
        p,
        0,
        (m) => m.type === "Presence",
        ctx.answerTime,
      );
      ctx.must(sent !== undefined, "a Presence on the new connection", "none");
    },
  },
  // Q4
  {
    id: "enrp/registrar/peer/second-connection",
    ref: "RFC 5353 §3.3.1",
    requirement:
      "A peer that also talks over a second connection, which then closes, stays reachable: the Handle Update for an element registered right after still reaches it.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 3 * t.peerHeartbeatCycle,
    async run(ctx) {
      const t = ctx.timers;
      const f = await FakeRegistrar.join(ctx);
      const extra = await ctx.enrp();
      extra.send({
        type: "Presence",
        sendingRegistrarId: f.id,
        receivingRegistrarId: f.targetId!,
        replyRequired: false,
        checksum: f.checksum(),
        serverInformation: ctx.serverInformation(f.id, f.listener.endpoint),
      });
      // Time the next steps right after a heartbeat: the next is a whole cycle away.
      const sinceF = f.peer.received.length;
      const sinceX = extra.received.length;
      const beat = await until(
        ctx,
        () =>
          f.peer.received.slice(sinceF).some((m) => f.isTargetPresence(m)) ||
          extra.received.slice(sinceX).some((m) => f.isTargetPresence(m)),
        1.5 * t.peerHeartbeatCycle + 2 * t.slack,
      );
      ctx.must(beat, "a heartbeat Presence of the target (to time the steps after it)", "none");
      extra.close();
      ctx.note("the second connection closed");
      await ctx.sleep(50);
      const handle = ctx.poolHandle();
      const since = f.peer.received.length;
      const [id] = await registerMany(ctx, handle, 1);
      const update = await receivedSince(
        ctx,
        f.peer,
        since,
        (m) =>
          m.type === "HandleUpdate" && m.updateAction === UpdateAction.AddPoolElement &&
          m.poolElement.identifier === id,
        ctx.answerTime,
      );
      ctx.must(
        update !== undefined,
        `a Handle Update (ADD_PE) for ${hexId(id)} to the peer on its first connection`,
        "none",
      );
      ctx.should(
        f.listener.accepted.length === 0,
        "no new connection to the peer (its first one is still open)",
        `${f.listener.accepted.length} connection(s) to its ENRP endpoint`,
      );
    },
  },
  // Q5
  {
    id: "enrp/registrar/peer/one-connection",
    ref: "RFC 5353 §3.1",
    requirement:
      "A registrar keeps at most one ENRP connection to a peer's endpoint: a List Response naming a connected peer (also with identifier 0), or a configured peer whose connection is open, makes it open no other.",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 8 * t.peerHeartbeatCycle + 6 * t.slack,
    async run(ctx) {
      const t = ctx.timers;
      // (a) The main target, two peers; one names the other twice.
      const a = await FakeRegistrar.join(ctx);
      const b = await FakeRegistrar.join(ctx);
      b.send({
        type: "ListResponse",
        reject: false,
        servers: [
          ctx.serverInformation(ctx.zero, a.listener.endpoint),
          ctx.serverInformation(a.id, a.listener.endpoint),
        ],
      });
      await ctx.sleep(t.peerHeartbeatCycle + t.slack);
      ctx.should(
        a.listener.accepted.length === 0,
        "no second connection to a connected peer named in a List Response",
        `${a.listener.accepted.length} connection(s) to its ENRP endpoint`,
      );
      // (b) A registrar the runner starts, with two configured peers.
      const driver = ctx.config.registrar;
      if (driver === undefined) {
        ctx.note("the runner cannot start a registrar here: configured peers not checked");
        return;
      }
      const l1 = await ctx.listen("enrp");
      const l2 = await ctx.listen("enrp");
      const mentorId = ctx.identifier();
      const silentId = ctx.identifier();
      const started = await driver.start({ peers: [l1.endpoint, l2.endpoint] });
      ctx.onCleanup(() => started.stop());
      const c1 = await l1.next(
        ctx.answerTime + t.slack,
        "the new registrar connecting to its first configured peer",
      );
      playRegistrar(ctx, c1, {
        id: mentorId,
        endpoint: l1.endpoint,
        servers: () => [ctx.serverInformation(silentId, l2.endpoint)],
      });
      await ctx.sleep(3 * t.peerHeartbeatCycle + t.slack);
      ctx.should(
        l2.accepted.length === 1,
        "exactly one connection to the configured peer that accepts but never answers (also named in the List Response)",
        `${l2.accepted.length}`,
      );
      ctx.note("the connection to the first configured peer is aborted");
      const before = l2.accepted.length;
      c1.close(true);
      await ctx.sleep(t.peerHeartbeatCycle + t.slack);
      ctx.should(
        l2.accepted.length === before,
        "no new connection to the silent configured peer when another connection breaks",
        `${l2.accepted.length - before} more`,
      );
    },
  },
  // Q6
  {
    id: "enrp/registrar/startup/configured-peers-retried",
    ref: "RFC 5353 §3.4.2, §3.2.2",
    requirement:
      "A registrar keeps in contact with its configured peers: a mentor whose connection broke is connected again within a heartbeat cycle (MUST); one unreachable at start-up is contacted once it listens, and one declared dead is tried again (SHOULD).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) =>
      t.maxTimeLastHeard + t.maxTimeNoResponse + 8 * t.peerHeartbeatCycle + 16 * t.slack + 16_000,
    async run(ctx) {
      const t = ctx.timers;
      const driver = driverOf(ctx);
      // (i) A configured peer that does not listen yet.
      const reserved = await ctx.listen("enrp");
      const endpoint = reserved.endpoint;
      await reserved.close();
      const first = await driver.start({ peers: [endpoint] });
      let firstStopped = false;
      const stopFirst = async () => {
        if (firstStopped) return;
        firstStopped = true;
        await first.stop();
      };
      ctx.onCleanup(stopFirst);
      await ctx.sleep(2 * t.peerHeartbeatCycle);
      const late = await ctx.listen("enrp", endpoint.port);
      const contacted = await until(
        ctx,
        () => late.accepted.length > 0,
        t.peerHeartbeatCycle + t.slack,
      );
      ctx.should(
        contacted,
        `a configured peer that did not listen at start-up contacted within a heartbeat cycle (${t.peerHeartbeatCycle} ms) once it listens`,
        "no connection",
      );
      if (contacted) {
        const p = await receivedSince(
          ctx,
          late.accepted[0],
          0,
          (m) => m.type === "Presence" && m.replyRequired,
          ctx.answerTime,
        );
        ctx.should(p !== undefined, "a Presence with the Reply-required flag to it", "none");
      }
      await stopFirst();
      // (ii) The mentor's connection breaks.
      const l1 = await ctx.listen("enrp");
      const lo = await ctx.listen("enrp");
      const mentorId = ctx.identifier();
      const otherId = ctx.identifier();
      const second = await driver.start({ peers: [l1.endpoint] });
      ctx.onCleanup(() => second.stop());
      const c1 = await l1.next(
        ctx.answerTime + t.slack,
        "the new registrar connecting to its mentor",
      );
      playRegistrar(ctx, c1, {
        id: mentorId,
        endpoint: l1.endpoint,
        servers: () => [ctx.serverInformation(otherId, lo.endpoint)],
      });
      const co = await lo.next(
        ctx.answerTime + t.peerHeartbeatCycle + t.slack,
        "the new registrar connecting to the peer the List Response named",
      );
      playRegistrar(ctx, co, { id: otherId, endpoint: lo.endpoint });
      const toOther = await receivedSince(
        ctx,
        co,
        0,
        (m) => m.type === "Presence",
        ctx.answerTime,
      );
      ctx.must(toOther !== undefined, "a Presence to the listed peer", "none");
      ctx.note("the mentor's connection is aborted (its endpoint still accepts)");
      c1.close(true);
      const c3 = await l1.next(
        t.peerHeartbeatCycle + t.slack,
        `the registrar connecting to its mentor again within a heartbeat cycle (${t.peerHeartbeatCycle} ms)`,
      );
      // The mentor answers the first probe on the new connection, then nothing more.
      playRegistrar(ctx, c3, { id: mentorId, endpoint: l1.endpoint, probeAnswers: 1 });
      const again = await receivedSince(
        ctx,
        c3,
        0,
        (m) => m.type === "Presence",
        ctx.answerTime,
      );
      ctx.must(again !== undefined, "a Presence on the new connection to the mentor", "none");
      // (iii) The mentor falls silent: declared dead, then tried again.
      const closed = await c3.waitClosed(
        t.maxTimeLastHeard + t.maxTimeNoResponse + t.peerHeartbeatCycle + 2 * t.slack,
      );
      if (!closed) {
        ctx.note(
          "the registrar kept the connection to the silent mentor open: retrying a dead peer not checked",
        );
        return;
      }
      ctx.note("the registrar closed the connection to the silent mentor");
      const count = l1.accepted.length;
      const retried = await until(
        ctx,
        () => l1.accepted.length > count,
        t.peerHeartbeatCycle + t.slack,
      );
      ctx.should(
        retried,
        `the configured peer declared dead connected again within a heartbeat cycle (${t.peerHeartbeatCycle} ms)`,
        "no connection",
      );
    },
  },
  // Q7 (P13 of the ASAP analysis)
  {
    id: "enrp/registrar/startup/alone",
    ref: "RFC 5353 §3.2.2.1",
    requirement:
      "A registrar started without peers is alone and has completed its initialisation: a peer that contacts it later is not taken as its mentor (no List Request, no Handle Table Request for the whole table).",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 2 * t.peerHeartbeatCycle,
    async run(ctx) {
      const driver = driverOf(ctx);
      const started = await driver.start({ peers: [] });
      ctx.onCleanup(() => started.stop());
      const f = await FakeRegistrar.join(ctx, { enrp: started.enrp });
      await ctx.sleep(ctx.answerTime + ctx.timers.peerHeartbeatCycle);
      const lists = f.peer.received.filter((m) => m.type === "ListRequest").length;
      const full = f.tableRequests.filter((r) => !r.ownChildrenOnly).length;
      ctx.should(lists === 0, "no List Request to the first peer", `${lists}`);
      ctx.should(
        full === 0,
        "no Handle Table Request for the whole table (W=0) to the first peer",
        `${full}`,
      );
    },
  },
  {
    id: "enrp/registrar/startup/mentor-hunt-ends",
    ref: "RFC 5353 §3.2.2.1",
    requirement:
      "A registrar whose configured peer stays silent for the mentor-hunt timeout starts alone: when that peer answers later, it is not taken as a mentor (no List Request, no Handle Table Request for the whole table).",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: (t) => t.mentorHuntTimeout + quick(t) + 2 * t.peerHeartbeatCycle,
    async run(ctx) {
      const t = ctx.timers;
      const driver = driverOf(ctx);
      const listener = await ctx.listen("enrp");
      const peerId = ctx.identifier();
      const started = await driver.start({ peers: [listener.endpoint] });
      ctx.onCleanup(() => started.stop());
      const peer = await listener.next(
        ctx.answerTime + t.slack,
        "the new registrar connecting to its configured peer",
      );
      ctx.note(
        `the configured peer accepts the connection and stays silent for the mentor-hunt timeout (${t.mentorHuntTimeout} ms)`,
      );
      await ctx.sleep(t.mentorHuntTimeout + t.slack);
      const log: string[] = [];
      playRegistrar(ctx, peer, { id: peerId, endpoint: listener.endpoint, log });
      const first = peer.received.find((m) => m.type === "Presence");
      ctx.must(first !== undefined, "a Presence from the new registrar", "none");
      peer.send({
        type: "Presence",
        sendingRegistrarId: peerId,
        receivingRegistrarId: (first as Presence).sendingRegistrarId,
        replyRequired: false,
        checksum: checksumOf(ctx),
        serverInformation: ctx.serverInformation(peerId, listener.endpoint),
      });
      await ctx.sleep(ctx.answerTime + t.peerHeartbeatCycle);
      ctx.should(
        !log.some((x) => x === "List Request" || x.endsWith("(W=0)")),
        "no List Request and no Handle Table Request (W=0) to the peer that answered after the mentor-hunt timeout",
        log.join(", ") || "nothing",
      );
    },
  },
  // Q8
  {
    id: "enrp/registrar/startup/one-mentor",
    ref: "RFC 5353 §3.2.2.1",
    requirement:
      "A registrar starting with several configured peers picks one of them as its mentor and keeps the others as backups: a second peer that answers while the download from the first is under way is sent no List Request and no Handle Table Request for the whole table.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => 12 * t.slack + 20_000,
    async run(ctx) {
      const t = ctx.timers;
      const driver = driverOf(ctx);
      const listeners = [await ctx.listen("enrp"), await ctx.listen("enrp")];
      const ids = [ctx.identifier(), ctx.identifier()];
      const handle = ctx.poolHandle();
      const logs: string[][] = [[], []];
      let mentor: number | undefined;
      const held: { peer: Peer; request: HandleTableRequest; index: number }[] = [];
      const elementOf = ids.map((id) => ctx.poolElement(ctx.identifier(), { home: id }));
      const started = await driver.start({ peers: listeners.map((l) => l.endpoint) });
      ctx.onCleanup(() => started.stop());
      const pending: (() => void)[] = [];
      const attached = new Set<Peer>();
      const attach = () => {
        listeners.forEach((l, index) => {
          for (const p of l.accepted) {
            if (attached.has(p)) continue;
            attached.add(p);
            const answerPresence = (to: Identifier) =>
              p.send({
                type: "Presence",
                sendingRegistrarId: ids[index],
                receivingRegistrarId: to,
                replyRequired: false,
                checksum: checksumOf(ctx, [{ handle, element: elementOf[index] }]),
                serverInformation: ctx.serverInformation(ids[index], l.endpoint),
              });
            answerOn(p, (m) => {
              if (m.type === "Undecodable" || !("sendingRegistrarId" in m)) return false;
              const e = m as EnrpMessage;
              const ids2 = {
                sendingRegistrarId: ids[index],
                receivingRegistrarId: e.sendingRegistrarId,
              };
              if (e.type === "Presence" && e.replyRequired) {
                logs[index].push("Presence (R=1)");
                // The first peer answers at once; the second once a mentor was chosen.
                if (index === 0 || mentor !== undefined) answerPresence(e.sendingRegistrarId);
                else pending.push(() => answerPresence(e.sendingRegistrarId));
              } else if (e.type === "ListRequest") {
                logs[index].push("List Request");
                mentor ??= index;
                p.send({ type: "ListResponse", ...ids2, reject: false, servers: [] });
              } else if (e.type === "HandleTableRequest") {
                logs[index].push(`Handle Table Request (W=${e.ownChildrenOnly ? 1 : 0})`);
                if (!e.ownChildrenOnly) mentor ??= index;
                held.push({ peer: p, request: e, index });
              }
              return false;
            });
          }
        });
      };
      const timer = setInterval(attach, 10);
      ctx.onCleanup(() => clearInterval(timer));
      attach();
      const chosen = await until(ctx, () => mentor !== undefined, ctx.answerTime + 2 * t.slack);
      if (!chosen) {
        // Nobody chosen yet: maybe the registrar waits for both answers.
        for (const f of pending.splice(0)) f();
        await until(ctx, () => mentor !== undefined, ctx.answerTime + t.slack);
      }
      ctx.must(
        mentor !== undefined,
        "a List Request or a Handle Table Request (W=0) to one configured peer (the mentor)",
        `nothing: ${logs.map((l, i) => `peer ${i + 1}: ${l.join(", ") || "nothing"}`).join("; ")}`,
      );
      const backup = 1 - mentor!;
      ctx.note(`peer ${mentor! + 1} taken as mentor; its handle table is held back`);
      const waited = await until(
        ctx,
        () => {
          for (const f of pending.splice(0)) f();
          return logs[backup].includes("Presence (R=1)");
        },
        ctx.answerTime + t.peerHeartbeatCycle + t.slack,
      );
      if (!waited) ctx.note(`peer ${backup + 1} was not contacted during the download`);
      else ctx.note(`peer ${backup + 1} answered the Presence during the download`);
      await ctx.sleep(ctx.answerTime);
      ctx.must(
        !logs[backup].some((x) => x === "List Request" || x.endsWith("(W=0)")),
        `no List Request and no Handle Table Request (W=0) to the backup peer ${backup + 1}`,
        logs[backup].join(", "),
      );
      // The mentor's table arrives: its element is served.
      for (const h of held.splice(0)) {
        h.peer.send({
          ...emptyTable(ids[h.index], h.request.sendingRegistrarId),
          pools: h.index === mentor && !h.request.ownChildrenOnly
            ? [{ poolHandle: handle, poolElements: [elementOf[h.index]] }]
            : [],
        });
      }
      const answerLater = setInterval(() => {
        for (const h of held.splice(0)) {
          h.peer.send({
            ...emptyTable(ids[h.index], h.request.sendingRegistrarId),
            pools: [{ poolHandle: handle, poolElements: [elementOf[h.index]] }],
          });
        }
      }, 10);
      ctx.onCleanup(() => clearInterval(answerLater));
      await eventually(
        ctx,
        await ctx.asap(started.asap),
        handle,
        (r) => idsOf(r).includes(elementOf[mentor!].identifier),
        "the mentor's element served by the new registrar",
        ctx.answerTime + t.slack,
      );
      ctx.note(logs.map((l, i) => `peer ${i + 1} got: ${l.join(", ")}`).join("; "));
    },
  },
  // Q9
  {
    id: "enrp/registrar/startup/mentor-heartbeat-mid-download",
    ref: "RFC 5353 §3.2.3, §3.6.2",
    requirement:
      "A registrar downloading its mentor's handle table in pages serves the elements of every page also when the mentor's Presence (whose checksum cannot match yet) arrives during the download.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => 10 * t.slack + 20_000,
    async run(ctx) {
      const driver = driverOf(ctx);
      const listener = await ctx.listen("enrp");
      const mentorId = ctx.identifier();
      const handle = ctx.poolHandle();
      const elements = [0, 1].map(() => ctx.poolElement(ctx.identifier(), { home: mentorId }));
      const owned = elements.map((element) => ({ handle, element }));
      const started = await driver.start({ peers: [listener.endpoint] });
      ctx.onCleanup(() => started.stop());
      const peer = await listener.next(
        ctx.answerTime + ctx.timers.slack,
        "the new registrar connecting to its configured peer",
      );
      const log: string[] = [];
      let served = 0;
      playRegistrar(ctx, peer, {
        id: mentorId,
        endpoint: listener.endpoint,
        checksum: () => checksumOf(ctx, owned),
        log,
        table: (request) => {
          if (served >= 2) return null; // nothing more: no second chance
          if (served === 1) {
            // The mentor's heartbeat before the second page.
            peer.send({
              type: "Presence",
              sendingRegistrarId: mentorId,
              receivingRegistrarId: request.sendingRegistrarId,
              replyRequired: false,
              checksum: checksumOf(ctx, owned),
              serverInformation: ctx.serverInformation(mentorId, listener.endpoint),
            });
            log.push("(mentor's Presence)");
          }
          const page = served++;
          return {
            ...emptyTable(mentorId, request.sendingRegistrarId),
            moreToSend: page === 0,
            pools: [{ poolHandle: handle, poolElements: [elements[page]] }],
          };
        },
      });
      await eventually(
        ctx,
        await ctx.asap(started.asap),
        handle,
        (r) => elements.every((e) => idsOf(r).includes(e.identifier)),
        "the elements of both pages served by the new registrar",
        ctx.answerTime + 2 * ctx.timers.slack,
      );
      ctx.note(`the new registrar sent: ${log.join(", ")}`);
      ctx.should(
        !log.includes("Handle Table Request (W=1)"),
        "no resynchronisation (W=1) during the download",
        log.join(", "),
      );
    },
  },
  // Q10
  {
    id: "enrp/registrar/handle-update/learnt-expiry",
    ref: "RFC 5354 §3.10, RFC 5353 §3.3.1, §3.6.3 (registration life; docs/roles.md)",
    requirement:
      "Elements learnt from a peer, from a Handle Table Response and from a Handle Update, are removed when their registration life ends.",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 12 * t.slack,
    async run(ctx) {
      const t = ctx.timers;
      const f = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const life = 3 * t.slack;
      const e1 = f.ownElement(handle, undefined, { life });
      const e2 = f.ownElement(handle, undefined, { life });
      // e1 is owned but never announced: learnt from the table of a resynchronisation.
      f.elements.push({ handle, element: e1 });
      f.presence(false);
      const pu = await ctx.asap();
      await eventually(
        ctx,
        pu,
        handle,
        (r) => idsOf(r).includes(e1.identifier),
        "the element learnt from the peer's handle table",
        ctx.answerTime + t.slack,
      );
      // From here on resynchronisations are rejected: only its life can remove the element.
      f.tableMode = "reject";
      await eventually(
        ctx,
        pu,
        handle,
        (r) => !idsOf(r).includes(e1.identifier),
        `the element from the handle table removed when its life (${life} ms) ends`,
        life + 2 * t.slack,
      );
      ctx.note("the element from the handle table expired");
      f.update("add", handle, e2);
      await eventually(
        ctx,
        pu,
        handle,
        (r) => idsOf(r).includes(e2.identifier),
        "the element from the Handle Update resolvable",
        ctx.answerTime,
      );
      await eventually(
        ctx,
        pu,
        handle,
        (r) => !idsOf(r).includes(e2.identifier),
        `the element from the Handle Update removed when its life (${life} ms) ends`,
        life + 2 * t.slack,
      );
    },
  },
  // Q11
  {
    id: "enrp/registrar/handle-table/new-session",
    ref: "RFC 5353 §2.2, §3.6.3",
    requirement:
      "A Handle Table Request with the Own-children-only flag after an abandoned download of the whole table is answered from the start: every element the registrar owns is listed.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 2 * t.slack,
    async run(ctx) {
      // A pool handle that sorts first: the first page of the whole table is this case's.
      const handle = new Uint8Array([0, ...ctx.poolHandle()].slice(0, 32));
      const ids = await registerMany(ctx, handle, ctx.timers.handleTablePage + 4);
      const f = await FakeRegistrar.join(ctx);
      f.send({ type: "HandleTableRequest", ownChildrenOnly: false });
      const first = await ctx.expecting(() =>
        f.peer.expectType("HandleTableResponse", ctx.answerTime, "a Handle Table Response")
      );
      ctx.note(
        `first page of the whole table: ${tableIds([first]).length} elements, M=${
          first.moreToSend ? 1 : 0
        }; the download is abandoned`,
      );
      const pages = await f.handleTableOf(true);
      const listed = new Set(tableIds(pages));
      const missing = ids.filter((id) => !listed.has(id));
      ctx.must(
        missing.length === 0,
        `all ${ids.length} elements registered with the target in its own handle table`,
        `${missing.length} missing (${missing.slice(0, 5).map(hexId).join(", ")}${
          missing.length > 5 ? ", …" : ""
        })`,
      );
    },
  },
  // Q13
  {
    id: "enrp/registrar/audit/resync-rejected-and-paged",
    ref: "RFC 5353 §3.6.3, §2.3",
    requirement:
      "A resynchronisation the peer rejects (R=1, no entries) removes nothing; one the peer answers in pages is followed with the Own-children-only flag on every request and learns every page.",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 4 * t.slack,
    async run(ctx) {
      const f = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const e1 = f.ownElement(handle, undefined);
      const e2 = f.ownElement(handle, undefined);
      f.update("add", handle, e1);
      f.update("add", handle, e2);
      const pu = await ctx.asap();
      await eventually(
        ctx,
        pu,
        handle,
        (r) => idsOf(r).includes(e1.identifier) && idsOf(r).includes(e2.identifier),
        "both elements learnt",
        ctx.answerTime,
      );
      // (R) A checksum that misses e2; the resynchronisation is rejected.
      f.tableMode = "reject";
      const sinceR = ctx.elapsed();
      f.presence(
        false,
        f.checksum(f.elements.filter((e) => e.element.identifier === e1.identifier)),
      );
      const asked = await until(
        ctx,
        () => f.tableRequests.some((r) => r.at >= sinceR),
        ctx.answerTime,
      );
      ctx.must(asked, "a Handle Table Request after the checksum mismatch", "none");
      await ctx.sleep(ctx.answerTime);
      const r = await resolveAt(ctx, pu, handle, 0xffffffff);
      ctx.must(
        idsOf(r).includes(e1.identifier) && idsOf(r).includes(e2.identifier),
        "both elements still resolvable after the rejected resynchronisation",
        `the pool lists ${idsOf(r).map(hexId).join(", ") || "nothing"}`,
      );
      // (P) An element never announced; the resynchronisation is answered one element a page.
      f.tableMode = { page: 1 };
      const e3 = f.ownElement(handle, undefined);
      f.elements.push({ handle, element: e3 });
      const sinceP = ctx.elapsed();
      f.presence(false);
      await eventually(
        ctx,
        pu,
        handle,
        (r) => [e1, e2, e3].every((e) => idsOf(r).includes(e.identifier)),
        "all three elements resolvable after the paged resynchronisation",
        ctx.answerTime + ctx.timers.slack,
      );
      const requests = f.tableRequests.filter((x) => x.at >= sinceP);
      ctx.note(
        `resynchronisation requests: ${
          requests.map((x) => (x.ownChildrenOnly ? "W=1" : "W=0")).join(", ")
        }`,
      );
      ctx.should(
        requests.length >= 3 && requests.every((x) => x.ownChildrenOnly),
        "the Own-children-only flag on every request of the paged resynchronisation (three pages)",
        requests.map((x) => (x.ownChildrenOnly ? "W=1" : "W=0")).join(", ") || "none",
      );
    },
  },
  // Q15
  {
    id: "enrp/registrar/handle-update/refused-element",
    ref: "RFC 5353 §3.3.1, RFC 5352 §3.1",
    requirement:
      "A Handle Update (here with the Takeover-suggested flag) for an element the registrar's handlespace refuses (another policy than its pool's) leaves the registrar serving and the pool unchanged.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 2 * t.peerHeartbeatCycle,
    async run(ctx) {
      const handle = ctx.poolHandle();
      const [id] = await registerMany(ctx, handle, 1);
      const f = await FakeRegistrar.join(ctx);
      const refused = f.ownElement(handle, undefined, { policy: { type: "LeastUsed", load: 0 } });
      f.update("add", handle, refused, true);
      const p = await f.prompt(() => f.presence(true));
      ctx.must(
        p !== undefined,
        `a Presence in answer within ${f.promptWindow} ms after the refused element`,
        "none",
      );
      const r = await resolveAt(ctx, await ctx.asap(), handle, 0xffffffff);
      ctx.must(
        idsOf(r).length === 1 && idsOf(r)[0] === id,
        `the pool with its Round Robin element ${hexId(id)} only`,
        idsOf(r).map(hexId).join(", ") || "nothing",
      );
      ctx.must(
        r.poolElements[0].homeRegistrarId === f.targetId,
        "the element's home still the target",
        hexId(r.poolElements[0].homeRegistrarId),
      );
    },
  },
  // Q16
  {
    id: "enrp/registrar/handle-update/delete-robust",
    ref: "RFC 5353 §3.3.2, §2.4",
    requirement:
      "A Handle Update (DEL_PE) for an element the registrar does not know changes nothing and the registrar keeps serving; one from a peer for an element the registrar owns itself does not remove it (only its home announces it).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 2 * t.peerHeartbeatCycle,
    async run(ctx) {
      const f = await FakeRegistrar.join(ctx);
      // (a) An unknown element of an unknown pool.
      const unknown = ctx.poolHandle("x");
      f.update("delete", unknown, f.ownElement(unknown, undefined));
      const p = await f.prompt(() => f.presence(true));
      ctx.must(
        p !== undefined,
        `a Presence in answer within ${f.promptWindow} ms after the DEL_PE of an unknown element`,
        "none",
      );
      // (b) An element the target owns, "deleted" by a peer claiming to be its home.
      const handle = ctx.poolHandle();
      const [id] = await registerMany(ctx, handle, 1);
      const pu = await ctx.asap();
      const listed = element((await resolveAt(ctx, pu, handle)).poolElements, id);
      ctx.must(listed !== undefined, `PE ${hexId(id)} resolvable`, "not listed");
      // A Handle Update names the element's ASAP endpoint (RFC 5354 §3.10; a registrar may
      // refuse one without it): the one the target announced to this peer for the element.
      let asapTransport: TransportParameter | undefined;
      for (let waited = 0; waited <= ctx.answerTime && asapTransport === undefined; waited += 50) {
        asapTransport = f.peer.received.find((m): m is HandleUpdate =>
          m.type === "HandleUpdate" && m.poolElement.identifier === id
        )?.poolElement.asapTransport;
        if (asapTransport === undefined) await ctx.sleep(50);
      }
      const since = f.peer.received.length;
      f.update("delete", handle, {
        ...listed!,
        homeRegistrarId: f.id,
        ...(asapTransport === undefined ? {} : { asapTransport }),
      });
      await ctx.sleep(ctx.answerTime);
      const after = element((await resolveAt(ctx, pu, handle)).poolElements, id);
      ctx.should(
        after !== undefined && after.homeRegistrarId === f.targetId,
        `PE ${hexId(id)} still listed with the target as its home`,
        after === undefined ? "removed" : `home ${hexId(after.homeRegistrarId)}`,
      );
      const announced = f.peer.received.slice(since).some((m) =>
        m.type === "HandleUpdate" && m.updateAction === UpdateAction.DeletePoolElement &&
        m.poolElement.identifier === id
      );
      ctx.should(!announced, `no DEL_PE for ${hexId(id)} to the peer`, "announced");
    },
  },
  // Q17
  {
    id: "enrp/registrar/peer/own-identifier",
    ref: "RFC 5353 §3.2.1, §3.4",
    requirement:
      "A message that claims the registrar's own identifier as its sender does not make the registrar its own peer: it is not listed in List Responses, nor probed and taken over.",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: (t) =>
      quick(t) + t.maxTimeLastHeard + t.maxTimeNoResponse + t.peerHeartbeatCycle + 2 * t.slack,
    async run(ctx) {
      const t = ctx.timers;
      const a = await FakeRegistrar.join(ctx);
      const own = a.targetId!;
      // The target owns an element: a takeover of itself would show.
      await registerMany(ctx, ctx.poolHandle(), 1);
      const impostorEndpoint = await ctx.listen("enrp");
      const raw = await ctx.enrp();
      raw.send({
        type: "Presence",
        sendingRegistrarId: own,
        receivingRegistrarId: ctx.zero,
        replyRequired: true,
        checksum: checksumOf(ctx),
        serverInformation: ctx.serverInformation(own, impostorEndpoint.endpoint),
      });
      await ctx.sleep(200);
      a.send({ type: "ListRequest" });
      const list = await ctx.expecting(() =>
        a.peer.expectType("ListResponse", ctx.answerTime, "a List Response")
      );
      ctx.should(
        !list.servers.some((s) => s.registrarId === own),
        `the target's own identifier ${hexId(own)} not in its List Response`,
        "listed",
      );
      const wait = t.maxTimeLastHeard + t.maxTimeNoResponse + t.peerHeartbeatCycle + 2 * t.slack;
      await ctx.sleep(wait);
      const init = a.peer.received.some((m) =>
        m.type === "InitTakeover" && m.targetRegistrarId === own
      );
      ctx.should(!init, "no Init Takeover naming the target itself", "one");
    },
  },
  // Q19
  {
    id: "enrp/registrar/list/no-dead-peers",
    ref: "RFC 5353 §3.5.2, §3.4.3, §3.2.2.2",
    requirement:
      "List Responses do not name a registrar another peer took over (Takeover Server), nor a peer the registrar declared dead.",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: (t) =>
      quick(t) + t.maxTimeLastHeard + t.maxTimeNoResponse + 2 * t.peerHeartbeatCycle +
      4 * t.slack,
    async run(ctx) {
      const t = ctx.timers;
      // (A) Taken over by another peer.
      const taker = await FakeRegistrar.join(ctx);
      const failed = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const e = failed.ownElement(handle, undefined);
      failed.update("add", handle, e);
      await eventually(
        ctx,
        await ctx.asap(),
        handle,
        (r) => idsOf(r).includes(e.identifier),
        "the element learnt",
        ctx.answerTime,
      );
      await failed.vanish();
      taker.send({ type: "InitTakeover", targetRegistrarId: failed.id });
      await ctx.expecting(() =>
        taker.peer.expectType("InitTakeoverAck", ctx.answerTime, "an Init Takeover Ack")
      );
      taker.send({ type: "TakeoverServer", targetRegistrarId: failed.id });
      taker.send({ type: "ListRequest" });
      const listA = await ctx.expecting(() =>
        taker.peer.expectType("ListResponse", ctx.answerTime, "a List Response")
      );
      ctx.should(
        !listA.servers.some((s) => s.registrarId === failed.id),
        `the taken-over registrar ${hexId(failed.id)} not listed after the Takeover Server`,
        "listed",
      );
      // (B) Declared dead by the target itself (it owns nothing, so nobody takes it over).
      const mute = await FakeRegistrar.join(ctx);
      const witness = await FakeRegistrar.join(ctx);
      mute.answerProbes = false;
      const joined = ctx.elapsed();
      await ctx.sleep(
        t.maxTimeLastHeard + t.maxTimeNoResponse + t.peerHeartbeatCycle + 2 * t.slack,
      );
      ctx.note(
        `the silent peer was probed at ${
          mute.probes.filter((x) => x >= joined).map((x) => `${x - joined} ms`).join(", ") ||
          "no time"
        } after it joined`,
      );
      witness.send({ type: "ListRequest" });
      const listB = await ctx.expecting(() =>
        witness.peer.expectType("ListResponse", ctx.answerTime, "a List Response")
      );
      ctx.should(
        !listB.servers.some((s) => s.registrarId === mute.id),
        `the peer ${hexId(mute.id)} declared dead not listed`,
        "listed",
      );
    },
  },
  {
    id: "asap/registrar/resolution/large-elements",
    ref: "RFC 5352 §3.3, §2.2.6",
    requirement:
      "A Handle Resolution asking for more elements than fit into one message (64 KiB; here elements of 64 addresses each) is still answered, with the elements that fit (SHOULD: as many as fit).",
    level: "MUST",
    role: "registrar-asap",
    timeout: (t) => quick(t) + 4 * t.slack,
    async run(ctx) {
      const handle = ctx.poolHandle();
      const addresses = [
        ctx.config.listenHost,
        ...Array.from({ length: 63 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`),
      ];
      // About 1.3 KB each: 60 of them do not fit into 64 KiB.
      const n = 60;
      const ids = await registerMany(ctx, handle, n, (i) => ({
        transport: {
          type: "SCTP",
          port: 20000 + i,
          transportUse: TransportUse.DataOnly,
          addresses,
        },
      }));
      const pu = await ctx.asap();
      const r = await resolveAt(ctx, pu, handle, 0xffffffff);
      const listed = idsOf(r);
      ctx.note(`${listed.length} of ${n} elements in the response`);
      const kept = r.poolElements[0]?.userTransport.addresses.length ?? 0;
      if (kept < addresses.length) {
        ctx.unsupported(
          `the target keeps ${kept} of an element's ${addresses.length} addresses: its elements are too small for this case`,
        );
      }
      ctx.must(
        listed.length > 0 && listed.every((id) => ids.includes(id)),
        "a response listing some of the pool's elements",
        listed.length === 0 ? "none listed" : "elements of another pool",
      );
      // As many as fit: one more (a copy of the last) would not.
      const more = { ...r, poolElements: [...r.poolElements, r.poolElements.at(-1)!] };
      let bigger = Infinity;
      try {
        bigger = encodedLength(more, { profile: ctx.config.profile });
      } catch { /* too large to encode at all */ }
      ctx.should(
        listed.length === n || bigger > 0xffff,
        "as many elements as fit into one message",
        `${listed.length}, while one more would still fit (${bigger} bytes)`,
      );
    },
  },
  {
    id: "enrp/registrar/handle-table/large-elements",
    ref: "RFC 5353 §3.2.3, §2.3",
    requirement:
      "A handle table whose pages of page-size elements would not fit into one message (64 KiB) is still sent whole, in smaller pages: every element is listed, with Own-children-only and without.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 4 * t.slack,
    async run(ctx) {
      const t = ctx.timers;
      const handle = ctx.poolHandle();
      // 64 addresses per transport (RSPLIB's limit and this library's); a DATA PLUS CONTROL
      // transport that the registrar may also take as the element's ASAP endpoint. The first is
      // the suite's own (the one the target sees): a registrar that checks registered addresses
      // against the association (RSPLIB, RFC 5355's threats) then still accepts the element.
      const addresses = [
        ctx.config.listenHost,
        ...Array.from({ length: 63 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`),
      ];
      const transport = (i: number): TransportParameter => ({
        type: "SCTP",
        port: 20000 + i,
        transportUse: TransportUse.DataPlusControl,
        addresses,
      });
      const n = t.handleTablePage + 8;
      const ids = await registerMany(ctx, handle, n, (i) => ({ transport: transport(i) }));
      const kept = (await resolveAt(ctx, await ctx.asap(), handle, 0xffffffff)).poolElements
        .find((e) => ids.includes(e.identifier))?.userTransport.addresses;
      if (kept !== undefined && kept.length < addresses.length && kept.includes(addresses[0])) {
        ctx.unsupported(
          `the target keeps only the registering association's addresses of an element (${kept.length} of ${addresses.length}): elements this large cannot be made over one association`,
        );
      }
      const f = await FakeRegistrar.join(ctx);
      for (const own of [true, false]) {
        const pages = await f.handleTableOf(own);
        const listed = new Set(tableIds(pages));
        const missing = ids.filter((id) => !listed.has(id));
        const ours = pages.map((p) =>
          p.pools.filter((pool) =>
            pool.poolHandle.length === handle.length &&
            pool.poolHandle.every((x, i) => x === handle[i])
          ).reduce((s, pool) => s + pool.poolElements.length, 0)
        ).filter((x) => x > 0);
        ctx.note(
          `W=${own ? 1 : 0}: ${pages.length} pages; this case's elements per page: ${
            ours.join(", ")
          }`,
        );
        ctx.must(
          missing.length === 0,
          `all ${n} large elements in the handle table (W=${own ? 1 : 0})`,
          `${missing.length} missing`,
        );
      }
    },
  },
];
