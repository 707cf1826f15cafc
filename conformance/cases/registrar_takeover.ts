/**
 * Takeover of a failed registrar's elements (RFC 5353 §3.5): arbitration,
 * contests, expiry, and what the new home does with the elements it took;
 * the Takeover Suggestion draft's claims.
 *
 * @module
 */

import { TransportUse, UpdateAction } from "../../lib/protocol/constants.ts";
import { bytesToJson } from "../../lib/protocol/json.ts";
import type {
  EndpointKeepAlive,
  Identifier,
  PoolElementParameter,
} from "../../lib/protocol/types.ts";
import type { CaseContext, SuiteListener } from "../context.ts";
import type { Arrival, Peer } from "../peer.ts";
import type { ConformanceCase, TargetTimers } from "../types.ts";
import { FakeRegistrar } from "./fake_registrar.ts";
import {
  element,
  eventually,
  hexId,
  idsOf,
  receivedSince,
  registerOk,
  resolveAt,
  sameBytes,
  waitFor,
} from "./helpers.ts";

const quick = (t: TargetTimers) => 6 * t.slack + 8000;

/** From a peer falling silent to the target's Init Takeover of it, at the latest. */
const detection = (t: TargetTimers) =>
  t.maxTimeLastHeard + t.maxTimeNoResponse + t.peerHeartbeatCycle + 4 * t.slack;

/** A case that waits for one takeover to start. */
const oneTakeover = (t: TargetTimers) =>
  t.maxTimeLastHeard + t.maxTimeNoResponse + 2 * t.peerHeartbeatCycle + 12 * t.slack + 10000;

/** Has `owner` announce `e` (ADD_PE); waits until the target resolves it. Returns the pool user's connection. */
async function addedAndLearnt(
  ctx: CaseContext,
  owner: FakeRegistrar,
  handle: Uint8Array,
  e: PoolElementParameter,
): Promise<Peer> {
  owner.update("add", handle, e);
  const pu = await ctx.asap();
  await eventually(
    ctx,
    pu,
    handle,
    (r) => idsOf(r).includes(e.identifier),
    "the element learnt",
    ctx.answerTime,
  );
  return pu;
}

/** The highest identifier of the profile (it loses every contest). */
function highestId(ctx: CaseContext): Identifier {
  return ctx.config.profile === "nextgen" ? 0xffffffffffffffffn : 0xffffffff;
}

/** A fake registrar with the highest identifier (UNSUPPORTED if that is the target's own). */
async function joinHighest(ctx: CaseContext): Promise<FakeRegistrar> {
  const id = highestId(ctx);
  const fake = await FakeRegistrar.join(ctx, { id });
  if (fake.targetId === id) ctx.unsupported(`the target's own identifier is ${hexId(id)}`);
  return fake;
}

/** Matches an ENRP takeover message of a type about a target. */
function about(
  type: "InitTakeover" | "InitTakeoverAck" | "TakeoverServer",
  target: Identifier,
): (m: Arrival) => boolean {
  return (m) => m.type === type && m.targetRegistrarId === target;
}

/** An Endpoint Keep-Alive that arrived at an element's ASAP endpoint. */
interface KeepAliveSeen {
  /** The connection it came on. */
  readonly peer: Peer;
  /** The message. */
  readonly message: EndpointKeepAlive;
  /** When (`performance.now()`). */
  readonly at: number;
}

/**
 * Plays pool elements at a session listener (their ASAP endpoint): every
 * connection a registrar opens there answers Endpoint Keep-Alives (Home flag
 * or not) for the pools in `answered` with an Ack naming that pool's element,
 * `delay` ms later; other pools' stay unanswered (a dead element). Returns
 * what arrived so far.
 */
function playElements(
  ctx: CaseContext,
  listener: SuiteListener,
  answered: readonly { readonly handle: Uint8Array; readonly id: Identifier }[],
  delay = 0,
): () => KeepAliveSeen[] {
  const adopted = new Set<Peer>();
  const answer = (p: Peer, m: Arrival) => {
    if (m.type !== "EndpointKeepAlive") return;
    for (const a of answered) {
      if (!sameBytes(a.handle, m.poolHandle)) continue;
      setTimeout(() => {
        if (!p.closed) {
          p.send({ type: "EndpointKeepAliveAck", poolHandle: m.poolHandle, poolElementId: a.id });
        }
      }, delay);
    }
  };
  const adopt = () => {
    for (const p of listener.accepted) {
      if (adopted.has(p)) continue;
      adopted.add(p);
      for (const m of p.received) answer(p, m); // what came before this poll
      p.respond((m) => {
        answer(p, m);
        return false;
      });
    }
  };
  const timer = setInterval(adopt, 5);
  ctx.onCleanup(() => clearInterval(timer));
  return () => {
    adopt();
    return listener.accepted.flatMap((peer) =>
      peer.received.flatMap((m, i) =>
        m.type === "EndpointKeepAlive" ? [{ peer, message: m, at: peer.receivedAt[i] }] : []
      )
    );
  };
}

/** The cases. */
export const REGISTRAR_TAKEOVER_CASES: readonly ConformanceCase[] = [
  {
    id: "enrp/registrar/takeover/as-taker",
    ref: "RFC 5353 §3.5.1, §3.5.2",
    requirement:
      "When a peer owning elements falls silent, the registrar probes it, sends the other peers an Init Takeover, and after the acknowledgements of all of them (SHOULD: not after the first) a Takeover Server; it becomes the elements' home, tells them with an Endpoint Keep-Alive carrying the Home flag, and then acknowledges another peer's Init Takeover of the same registrar (its own takeover is over).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => oneTakeover(t) + t.takeoverExpiry + 2 * t.slack,
    async run(ctx) {
      const failing = await FakeRegistrar.join(ctx);
      const witness = await FakeRegistrar.join(ctx);
      // A second peer that acknowledges only when the case says so.
      const late = await FakeRegistrar.join(ctx);
      late.ackTakeovers = false;
      const elementEndpoint = await ctx.listen("session");
      const handle = ctx.poolHandle();
      const e = failing.ownElement(handle, elementEndpoint);
      const pu = await addedAndLearnt(ctx, failing, handle, e);
      ctx.note(`peer ${hexId(failing.id)} falls silent`);
      await failing.vanish();
      const t = ctx.timers;
      const init = await ctx.expecting(() =>
        witness.peer.expectType(
          "InitTakeover",
          detection(t),
          `an Init Takeover of ${hexId(failing.id)}`,
          (m) => m.targetRegistrarId === failing.id,
        )
      );
      ctx.must(
        init.sendingRegistrarId === witness.targetId,
        "sent by the target",
        hexId(init.sendingRegistrarId),
      );
      await ctx.expecting(() =>
        late.peer.expectType(
          "InitTakeover",
          ctx.answerTime,
          `an Init Takeover of ${hexId(failing.id)} to every peer`,
          (m) => m.targetRegistrarId === failing.id,
        )
      );
      // The witness acknowledged (automatically), the late peer not yet: no winner yet.
      // (Shorter than the takeover's expiry, so that the late acknowledgement still counts.)
      const hold = Math.min(ctx.answerTime, t.takeoverExpiry / 2);
      const early = await receivedSince(
        ctx,
        witness.peer,
        0,
        about("TakeoverServer", failing.id),
        hold,
      );
      ctx.should(
        early === undefined,
        `no Takeover Server within ${hold} ms while a peer has not acknowledged (RFC 5353 §3.5.1: an Ack from each known peer)`,
        "a Takeover Server after the first acknowledgement",
      );
      late.send({ type: "InitTakeoverAck", targetRegistrarId: failing.id });
      await ctx.expecting(() =>
        witness.peer.expectType(
          "TakeoverServer",
          ctx.answerTime + 2 * t.slack,
          `a Takeover Server for ${hexId(failing.id)}`,
          (m) => m.targetRegistrarId === failing.id,
        )
      );
      if (ctx.config.features.has("home-keepalive")) {
        const pe = await elementEndpoint.next(
          ctx.answerTime,
          "the new home connecting to the element",
        );
        const k = await ctx.expecting(() =>
          pe.expectType("EndpointKeepAlive", ctx.answerTime, "an Endpoint Keep-Alive")
        );
        ctx.must(k.home, "the Home flag set", "H=0");
        ctx.must(
          k.registrarId === witness.targetId,
          "the taker's identifier",
          hexId(k.registrarId),
        );
        pe.send({ type: "EndpointKeepAliveAck", poolHandle: handle, poolElementId: e.identifier });
      } else {
        ctx.note("home-keepalive not claimed: the Home keep-alive to the element is not checked");
      }
      const r = await eventually(
        ctx,
        pu,
        handle,
        (r) => element(r.poolElements, e.identifier)?.homeRegistrarId === witness.targetId,
        "the element's home changed to the target",
        ctx.answerTime,
      );
      ctx.note(`home now ${hexId(element(r.poolElements, e.identifier)!.homeRegistrarId)}`);
      // Its takeover is over: another initiator (one that would lose a contest) is acknowledged.
      const next = await joinHighest(ctx);
      next.send({ type: "InitTakeover", targetRegistrarId: failing.id });
      await ctx.expecting(() =>
        next.peer.expect(
          about("InitTakeoverAck", failing.id),
          `an Init Takeover Ack to a later initiator (${hexId(next.id)}) of the completed takeover`,
          ctx.answerTime,
        )
      );
    },
  },
  {
    id: "enrp/registrar/takeover/waits-only-for-connected-peers",
    ref: "RFC 5353 §3.5.1",
    requirement:
      "A takeover waits for the acknowledgements of the peers the registrar can reach: a peer whose association has just gone (not yet declared failed) cannot acknowledge and does not hold the Takeover Server back until the takeover expires.",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: (t) => oneTakeover(t) + t.takeoverExpiry + 4 * t.slack,
    async run(ctx) {
      const failing = await FakeRegistrar.join(ctx);
      const witness = await FakeRegistrar.join(ctx);
      const gone = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const e = failing.ownElement(handle, await ctx.listen("session"));
      await addedAndLearnt(ctx, failing, handle, e);
      const t = ctx.timers;
      ctx.note(`peer ${hexId(failing.id)} falls silent`);
      const since = witness.peer.received.length;
      await failing.vanish();
      // The other one leaves once the silent one is being probed (the witness, heard no more
      // recently, is probed with it), after answering its own probe: known, but no longer
      // reachable, when the silent one is declared failed.
      const probe = await receivedSince(
        ctx,
        witness.peer,
        since,
        (m) => m.type === "Presence" && m.replyRequired,
        t.maxTimeLastHeard + t.peerHeartbeatCycle + 2 * t.slack,
      );
      ctx.must(probe !== undefined, "a probe (Presence, Reply-required) of the peers", "none");
      await ctx.sleep(Math.min(50, t.maxTimeNoResponse / 4));
      ctx.note(`peer ${hexId(gone.id)} closes its association and stops listening`);
      await gone.vanish();
      await ctx.expecting(() =>
        witness.peer.expectType(
          "InitTakeover",
          detection(t),
          `an Init Takeover of ${hexId(failing.id)}`,
          (m) => m.targetRegistrarId === failing.id,
        )
      );
      const server = await receivedSince(
        ctx,
        witness.peer,
        0,
        about("TakeoverServer", failing.id),
        Math.min(t.takeoverExpiry / 2, ctx.answerTime + t.slack),
      );
      ctx.should(
        server !== undefined,
        `a Takeover Server once the reachable peer acknowledged, within ${
          Math.min(t.takeoverExpiry / 2, ctx.answerTime + t.slack)
        } ms (the peer that left cannot acknowledge)`,
        "none",
      );
    },
  },
  {
    id: "enrp/registrar/takeover/as-target",
    ref: "RFC 5353 §3.5.1",
    requirement:
      "A registrar that receives an Init Takeover naming itself does not acknowledge it, and at once (before its next heartbeat) announces a Presence to all its peers.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 2 * t.peerHeartbeatCycle,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const other = await FakeRegistrar.join(ctx);
      let since = 0;
      const p = await fake.prompt(() => {
        since = other.peer.received.length;
        fake.send({ type: "InitTakeover", targetRegistrarId: fake.targetId! });
      });
      ctx.must(
        p !== undefined,
        `a Presence to the sender within ${fake.promptWindow} ms`,
        "none",
      );
      const toOther = await receivedSince(
        ctx,
        other.peer,
        since,
        (m) => other.isTargetPresence(m),
        fake.promptWindow,
      );
      ctx.must(toOther !== undefined, "a Presence to the other peer as well", "none");
      await ctx.sleep(ctx.answerTime);
      ctx.must(
        !fake.peer.received.some((m) => m.type === "InitTakeoverAck"),
        "no Init Takeover Ack",
        "an acknowledgement of its own takeover",
      );
    },
  },
  {
    id: "enrp/registrar/takeover/ack-other",
    ref: "RFC 5353 §3.5.1, §3.5.2",
    requirement:
      "An Init Takeover of another registrar is acknowledged with an Init Takeover Ack naming that registrar, whatever the sender's identifier (here the highest there is).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      // The highest identifier: the acknowledgement cannot rest on the sender being the lower.
      const fake = await joinHighest(ctx);
      const other = ctx.identifier();
      fake.send({ type: "InitTakeover", targetRegistrarId: other });
      const ack = await ctx.expecting(() =>
        fake.peer.expectType("InitTakeoverAck", ctx.answerTime, "an Init Takeover Ack")
      );
      ctx.must(
        ack.targetRegistrarId === other,
        `target ${hexId(other)}`,
        hexId(ack.targetRegistrarId),
      );
    },
  },
  {
    id: "enrp/registrar/takeover/takeover-server",
    ref: "RFC 5353 §3.5.1, §3.5.2",
    requirement:
      "A Takeover Server makes its sender the home of every element the taken-over registrar owned (SHOULD: and one that names the receiver itself leaves the receiver's own elements alone).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const taker = await FakeRegistrar.join(ctx);
      const failed = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const e = failed.ownElement(handle, undefined);
      const pu = await addedAndLearnt(ctx, failed, handle, e);
      await failed.vanish();
      taker.send({ type: "InitTakeover", targetRegistrarId: failed.id });
      await ctx.expecting(() =>
        taker.peer.expectType("InitTakeoverAck", ctx.answerTime, "an Init Takeover Ack")
      );
      // The taker owns it now (its checksums count it).
      taker.elements.push({ handle, element: { ...e, homeRegistrarId: taker.id } });
      taker.send({ type: "TakeoverServer", targetRegistrarId: failed.id });
      // Before the target could probe the taker (it was just heard from) and resynchronise from its
      // checksum: only the Takeover Server itself can have moved the element.
      await eventually(
        ctx,
        pu,
        handle,
        (r) => element(r.poolElements, e.identifier)?.homeRegistrarId === taker.id,
        "the taker as the element's home, by the Takeover Server alone (before any audit)",
        Math.min(ctx.answerTime, ctx.timers.maxTimeLastHeard / 2),
      );
      // A Takeover Server naming the receiver: only its own takeover or a registration moves
      // the home of an element registered with it (RFC 5352 §3.1).
      const own = ctx.poolHandle("own");
      const pe = await ctx.asap();
      const id = ctx.identifier();
      pe.answerKeepAlives(own, id);
      await registerOk(ctx, pe, own, id);
      taker.send({ type: "TakeoverServer", targetRegistrarId: taker.targetId! });
      await ctx.sleep(ctx.answerTime);
      const listed = element((await resolveAt(ctx, pu, own)).poolElements, id);
      ctx.should(
        listed?.homeRegistrarId === taker.targetId,
        `its own element still its own (home ${
          hexId(taker.targetId!)
        }) after a Takeover Server naming itself`,
        listed === undefined ? "not listed" : `home ${hexId(listed.homeRegistrarId)}`,
      );
    },
  },
  {
    id: "enrp/registrar/takeover-suggestion",
    ref: "draft-dreibholz-rserpool-enrp-takeover",
    requirement:
      "A Handle Update with the Takeover-suggested flag makes the receiver claim the element: an Endpoint Keep-Alive with the Home flag to the element's ASAP endpoint.",
    level: "MUST",
    role: "registrar-enrp",
    features: ["takeover-suggestion", "home-keepalive"],
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const elementEndpoint = await ctx.listen("session");
      const handle = ctx.poolHandle();
      const e = fake.ownElement(handle, elementEndpoint);
      fake.update("add", handle, e, true);
      const pe = await elementEndpoint.next(
        ctx.answerTime,
        "the registrar connecting to the element",
      );
      const k = await ctx.expecting(() =>
        pe.expectType("EndpointKeepAlive", ctx.answerTime, "an Endpoint Keep-Alive")
      );
      ctx.must(k.home, "the Home flag", "H=0");
      ctx.must(sameBytes(k.poolHandle, handle), "the element's pool", "another pool");
      pe.send({ type: "EndpointKeepAliveAck", poolHandle: handle, poolElementId: e.identifier });
    },
  },
  {
    id: "enrp/registrar/takeover/failure-detection",
    ref: "RFC 5353 §3.4.3, §3.5.1",
    requirement:
      "A peer that stays connected but answers nothing is probed, and only after max-time-no-response without an answer declared dead: then the registrar starts taking over its elements.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) =>
      t.maxTimeLastHeard + t.maxTimeNoResponse + 2 * t.peerHeartbeatCycle + 10 * t.slack + 10000,
    async run(ctx) {
      const mute = await FakeRegistrar.join(ctx);
      const witness = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const e = mute.ownElement(handle, undefined);
      mute.update("add", handle, e);
      await eventually(
        ctx,
        await ctx.asap(),
        handle,
        (r) => idsOf(r).includes(e.identifier),
        "the element learnt",
        ctx.answerTime,
      );
      mute.answerProbes = false;
      const quiet = ctx.elapsed();
      ctx.note(`peer ${hexId(mute.id)} stops answering (its connection stays open)`);
      const t = ctx.timers;
      await ctx.expecting(() =>
        witness.peer.expectType(
          "InitTakeover",
          detection(t),
          `an Init Takeover of ${hexId(mute.id)}`,
          (m) => m.targetRegistrarId === mute.id,
        )
      );
      const started = ctx.elapsed();
      const probes = mute.probes.filter((at) => at >= quiet);
      ctx.note(
        `probes at ${probes.map((x) => x - quiet).join(", ")} ms, Init Takeover at ${
          started - quiet
        } ms after the peer fell quiet`,
      );
      ctx.must(probes.length > 0, "a probe (Reply-required Presence) before", "none");
      ctx.must(
        started - probes[0] >= t.maxTimeNoResponse - 50,
        `at least max-time-no-response (${t.maxTimeNoResponse} ms) between the probe and the takeover`,
        `${started - probes[0]} ms`,
      );
    },
  },
  ...([["lower", "loses to"], ["higher", "wins over"]] as const).map((
    [rank, outcome],
  ): ConformanceCase => ({
    id: `enrp/registrar/takeover/contest-${rank}`,
    ref: "RFC 5353 §3.5.1 (RSPLIB's rule: docs/roles.md)",
    requirement:
      `In a contest over the same failed peer, a registrar's takeover ${outcome} one started by a peer with a ${rank} identifier: ${
        rank === "lower"
          ? "it acknowledges the other's Init Takeover and sends no Takeover Server, and, having given up its own takeover, acknowledges a third peer's Init Takeover of the same registrar too"
          : "it does not acknowledge the other's Init Takeover and completes its own"
      } (the lower identifier wins).`,
    level: "MUST",
    role: "registrar-enrp",
    timeout: oneTakeover,
    async run(ctx) {
      const nextgen = ctx.config.profile === "nextgen";
      const id = rank === "lower"
        ? (nextgen ? 1n : 1)
        : (nextgen ? 0xffffffffffffffffn : 0xffffffff);
      const failing = await FakeRegistrar.join(ctx);
      const rival = await FakeRegistrar.join(ctx, { id });
      if (rival.targetId === id) ctx.unsupported(`the target's own identifier is ${hexId(id)}`);
      rival.ackTakeovers = false;
      // A third peer (acknowledging the target's takeover) that starts one after the contest.
      const third = rank === "lower" ? await joinHighest(ctx) : undefined;
      const handle = ctx.poolHandle();
      // The winner's element answers its new home's keep-alives: it stays listed, with the home.
      const elementEndpoint = third === undefined ? await ctx.listen("session") : undefined;
      const e = failing.ownElement(handle, elementEndpoint);
      if (elementEndpoint !== undefined) {
        playElements(ctx, elementEndpoint, [{ handle, id: e.identifier }]);
      }
      const pu = await addedAndLearnt(ctx, failing, handle, e);
      await failing.vanish();
      const t = ctx.timers;
      await ctx.expecting(() =>
        rival.peer.expectType(
          "InitTakeover",
          detection(t),
          `the target's Init Takeover of ${hexId(failing.id)}`,
          (m) => m.targetRegistrarId === failing.id,
        )
      );
      ctx.note(`rival ${hexId(rival.id)} starts its own takeover of ${hexId(failing.id)}`);
      rival.send({ type: "InitTakeover", targetRegistrarId: failing.id });
      const isAck = about("InitTakeoverAck", failing.id);
      const isServer = about("TakeoverServer", failing.id);
      if (third !== undefined) {
        await ctx.expecting(() =>
          rival.peer.expect(isAck, "an Init Takeover Ack for the lower rival", ctx.answerTime)
        );
        // The target gave up its takeover: a third initiator, whose identifier is higher than
        // the target's (it would lose to the target), is acknowledged as well.
        ctx.note(`peer ${hexId(third.id)} starts a takeover of ${hexId(failing.id)} too`);
        third.send({ type: "InitTakeover", targetRegistrarId: failing.id });
        await ctx.expecting(() =>
          third.peer.expect(
            isAck,
            `an Init Takeover Ack for ${hexId(third.id)} (the target's own takeover was given up)`,
            ctx.answerTime,
          )
        );
        await ctx.expecting(() =>
          rival.peer.expectNothing(isServer, "Takeover Server from the loser", ctx.answerTime)
        );
      } else {
        // Acknowledged at once: the target's takeover must not expire meanwhile.
        rival.send({
          type: "InitTakeoverAck",
          receivingRegistrarId: rival.targetId!,
          targetRegistrarId: failing.id,
        });
        // Its takeover completes: the element's home is the target's now. (That the completion
        // is announced with a Takeover Server is enrp/registrar/takeover/as-taker's check.)
        await eventually(
          ctx,
          pu,
          handle,
          (r) => element(r.poolElements, e.identifier)?.homeRegistrarId === rival.targetId,
          `the element's home moved to the target ${
            hexId(rival.targetId!)
          } (its takeover completed)`,
          ctx.answerTime,
        );
        ctx.must(
          !rival.peer.received.some(isAck),
          "no Init Takeover Ack for the higher rival",
          "the target acknowledged it",
        );
        const server = await receivedSince(ctx, rival.peer, 0, isServer, ctx.answerTime);
        ctx.note(
          server === undefined
            ? `no Takeover Server within ${ctx.answerTime} ms (enrp/registrar/takeover/as-taker)`
            : "a Takeover Server from the winner",
        );
      }
    },
  })),
  {
    id: "enrp/registrar/takeover/abandoned-on-presence",
    ref: "RFC 5353 §3.5.1",
    requirement:
      "A registrar taking over a peer stops as soon as that peer shows it is alive with a Presence: no Takeover Server, and the peer stays its elements' home.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: oneTakeover,
    async run(ctx) {
      const sleeper = await FakeRegistrar.join(ctx);
      const witness = await FakeRegistrar.join(ctx);
      witness.ackTakeovers = false;
      const handle = ctx.poolHandle();
      const e = sleeper.ownElement(handle, undefined);
      const pu = await addedAndLearnt(ctx, sleeper, handle, e);
      sleeper.answerProbes = false;
      const t = ctx.timers;
      await ctx.expecting(() =>
        witness.peer.expectType(
          "InitTakeover",
          detection(t),
          `an Init Takeover of ${hexId(sleeper.id)}`,
          (m) => m.targetRegistrarId === sleeper.id,
        )
      );
      // The sleeper wakes up: on its connection if the target kept it open (nothing obliges a
      // registrar to close a failed peer's connection; over SCTP a second association between
      // the same two endpoints cannot be opened beside it), else over a new one from its ENRP
      // port (a target that closed it, perhaps just before the Presence, is sent one there too).
      const wake = (p: Peer) =>
        p.send({
          type: "Presence",
          sendingRegistrarId: sleeper.id,
          receivingRegistrarId: sleeper.targetId!,
          replyRequired: false,
          checksum: sleeper.checksum(),
          serverInformation: ctx.serverInformation(sleeper.id, sleeper.listener.endpoint),
        });
      const woke = performance.now();
      let sent = false;
      if (!sleeper.peer.closed) {
        try {
          wake(sleeper.peer);
          sent = true;
        } catch {
          // Closed before its end was reported.
        }
      }
      if (!sent || await sleeper.peer.waitClosed(t.slack / 4)) {
        await sleeper.peer.waitClosed(t.slack / 4); // its end reported: the port is free again
        ctx.note(`the target closed ${sleeper.peer.name}: the Presence goes over a new connection`);
        wake(await ctx.enrp(sleeper.listener.endpoint.port));
      }
      await ctx.sleep(Math.max(0, t.slack / 2 - (performance.now() - woke)));
      witness.send({ type: "InitTakeoverAck", targetRegistrarId: sleeper.id });
      await ctx.expecting(() =>
        witness.peer.expectNothing(
          (m) => m.type === "TakeoverServer" && m.targetRegistrarId === sleeper.id,
          "Takeover Server after the target showed it is alive",
          ctx.answerTime,
        )
      );
      const listed = element((await resolveAt(ctx, pu, handle)).poolElements, e.identifier);
      ctx.must(
        listed?.homeRegistrarId === sleeper.id,
        `the element's home still ${hexId(sleeper.id)}`,
        listed === undefined ? "not listed" : hexId(listed.homeRegistrarId),
      );
    },
  },
  {
    id: "enrp/registrar/takeover/home-keepalives",
    ref: "RFC 5353 §3.5.2, RFC 5352 §3.4",
    requirement:
      "After taking over a peer, the registrar sends every element it took an Endpoint Keep-Alive with the Home flag at that element's own ASAP endpoint (each of two elements behind one endpoint included), and supervises them: the ones that acknowledge stay with it as their home, one that does not is removed after its keep-alive timeout (counted from the Home keep-alive) and its removal announced to the peers (DEL_PE), and when the connection to them is lost they are removed or reached again for their next keep-alive, never kept unsupervised; SHOULD: the periodic keep-alives start a keep-alive interval after the claim (half of it at the least), not at once.",
    level: "MUST",
    role: "registrar-enrp",
    features: ["home-keepalive"],
    timeout: (t) =>
      oneTakeover(t) + 3 * t.keepAliveTimeout + 3 * t.keepAliveInterval + 10 * t.slack,
    async run(ctx) {
      const failing = await FakeRegistrar.join(ctx);
      const witness = await FakeRegistrar.join(ctx);
      const shared = await ctx.listen("session");
      const alone = await ctx.listen("session");
      const [hA, hB, hC] = [ctx.poolHandle("a"), ctx.poolHandle("b"), ctx.poolHandle("c")];
      const eA = failing.ownElement(hA, shared);
      // Another element at the same ASAP endpoint (another pool of the same application).
      const eB = failing.ownElement(hB, shared, {
        transport: eA.userTransport,
        asapTransport: eA.asapTransport,
      });
      const eC = failing.ownElement(hC, alone);
      const owned = [[hA, eA], [hB, eB], [hC, eC]] as const;
      for (const [h, e] of owned) failing.update("add", h, e);
      const pu = await ctx.asap();
      for (const [h, e] of owned) {
        await eventually(
          ctx,
          pu,
          h,
          (r) => idsOf(r).includes(e.identifier),
          `element ${hexId(e.identifier)} learnt`,
          ctx.answerTime,
        );
      }
      // They take half the keep-alive timeout to answer: in time all the same.
      const t = ctx.timers;
      const atShared = playElements(ctx, shared, [
        { handle: hA, id: eA.identifier },
        { handle: hB, id: eB.identifier },
      ], t.keepAliveTimeout / 2);
      const atAlone = playElements(ctx, alone, []); // eC is dead: it never answers
      ctx.note(`peer ${hexId(failing.id)} falls silent`);
      await failing.vanish();
      await ctx.expecting(() =>
        witness.peer.expectType(
          "InitTakeover",
          detection(t),
          `an Init Takeover of ${hexId(failing.id)}`,
          (m) => m.targetRegistrarId === failing.id,
        )
      );
      await ctx.expecting(() =>
        witness.peer.expectType(
          "TakeoverServer",
          ctx.answerTime + 2 * t.slack,
          `a Takeover Server for ${hexId(failing.id)}`,
          (m) => m.targetRegistrarId === failing.id,
        )
      );
      const claims = [
        { h: hA, e: eA, seen: atShared, where: "the shared endpoint" },
        { h: hB, e: eB, seen: atShared, where: "the shared endpoint" },
        { h: hC, e: eC, seen: atAlone, where: "its own endpoint" },
      ];
      const claimOf = (c: (typeof claims)[number]) =>
        c.seen().find((k) => k.message.home && sameBytes(k.message.poolHandle, c.h));
      const deadline = performance.now() + ctx.answerTime;
      while (claims.some((c) => claimOf(c) === undefined) && performance.now() < deadline) {
        await ctx.sleep(10);
      }
      for (const c of claims) {
        const k = claimOf(c);
        ctx.must(
          k !== undefined,
          `an Endpoint Keep-Alive with the Home flag for element ${
            hexId(c.e.identifier)
          } at ${c.where}`,
          `${
            c.seen().map((x) =>
              `${x.message.home ? "H=1" : "H=0"} for "${bytesToJson(x.message.poolHandle)}"`
            ).join(", ") || "nothing"
          } there within ${ctx.answerTime} ms`,
        );
        ctx.must(
          k!.message.registrarId === witness.targetId,
          "the taker's identifier in it",
          hexId(k!.message.registrarId),
        );
      }
      ctx.note("the elements at the shared endpoint acknowledge; the other one stays silent");
      await ctx.sleep(t.keepAliveTimeout + t.slack);
      for (const [h, e] of owned.slice(0, 2)) {
        const listed = element((await resolveAt(ctx, pu, h)).poolElements, e.identifier);
        ctx.must(
          listed?.homeRegistrarId === witness.targetId,
          `element ${
            hexId(e.identifier)
          }, which acknowledged, still listed with the taker as its home`,
          listed === undefined ? "removed" : `home ${hexId(listed.homeRegistrarId)}`,
        );
      }
      await eventually(
        ctx,
        pu,
        hC,
        (r) => !idsOf(r).includes(eC.identifier),
        `element ${hexId(eC.identifier)}, which did not acknowledge, removed`,
        t.keepAliveTimeout + 3 * t.slack,
      );
      // Removed for the unanswered Home keep-alive itself: with a keep-alive interval longer
      // than the timeout, before its first periodic keep-alive was due.
      if (t.keepAliveInterval > t.keepAliveTimeout + 50) {
        const periodic = atAlone().filter((k) => !k.message.home).length;
        ctx.must(
          periodic === 0,
          `element ${
            hexId(eC.identifier)
          } removed once its Home keep-alive went unanswered for the keep-alive timeout, without a periodic keep-alive first`,
          `${periodic} periodic keep-alive(s) to it`,
        );
      }
      const del = await receivedSince(
        ctx,
        witness.peer,
        0,
        (m) =>
          m.type === "HandleUpdate" && m.poolElement.identifier === eC.identifier &&
          m.updateAction === UpdateAction.DeletePoolElement,
        ctx.answerTime,
      );
      ctx.must(
        del !== undefined,
        `a Handle Update (DEL_PE) for ${hexId(eC.identifier)} to the peers`,
        "none",
      );
      // The ones that acknowledged (and never re-register) stay supervised by their new home.
      const supervised = () =>
        [hA, hB].every((h) =>
          atShared().some((k) => !k.message.home && sameBytes(k.message.poolHandle, h))
        );
      await waitFor(ctx, supervised, 1.5 * t.keepAliveInterval + 2 * t.slack);
      ctx.must(
        supervised(),
        "periodic Endpoint Keep-Alives (H=0) for the elements that acknowledged, at their endpoint, within one and a half keep-alive intervals",
        atShared().map((x) =>
          `${x.message.home ? "H=1" : "H=0"} for "${bytesToJson(x.message.poolHandle)}"`
        ).join(", "),
      );
      // Supervised at the keep-alive interval from the claim on, not at once (RFC 5352 §3.4).
      const gaps = [hA, hB].flatMap((h) => {
        const mine = atShared().filter((k) => sameBytes(k.message.poolHandle, h));
        const claim = mine.findIndex((k) => k.message.home);
        const next = mine.slice(claim + 1).find((k) => !k.message.home);
        return claim < 0 || next === undefined ? [] : [Math.round(next.at - mine[claim].at)];
      });
      ctx.should(
        gaps.length === 2 && gaps.every((g) => g >= t.keepAliveInterval / 2),
        `the first periodic keep-alive no sooner than half a keep-alive interval (${
          t.keepAliveInterval / 2
        } ms) after the Home-flag one`,
        `${gaps.join(", ")} ms after it`,
      );
      // The connection to the taken-over elements is lost: the registrar removes them, or
      // reaches them again for their next keep-alive; it never keeps them unsupervised.
      const before = new Set(shared.accepted);
      for (const p of before) p.close();
      const reached = (h: Uint8Array) =>
        shared.accepted.some((p) =>
          !before.has(p) &&
          p.received.some((m) => m.type === "EndpointKeepAlive" && sameBytes(m.poolHandle, h))
        );
      const settled = async () => {
        for (const [h, e] of owned.slice(0, 2)) {
          const gone = !idsOf(await resolveAt(ctx, pu, h)).includes(e.identifier);
          if (!gone && !reached(h)) return false;
        }
        return true;
      };
      const bound = 1.5 * t.keepAliveInterval + t.keepAliveTimeout + 2 * t.slack;
      const until = performance.now() + bound;
      let done = await settled();
      while (!done && performance.now() < until) {
        await ctx.sleep(Math.min(250, bound / 10));
        done = await settled();
      }
      ctx.must(
        done,
        `the elements whose connection was lost removed, or reached again by a keep-alive, within ${
          Math.round(bound)
        } ms`,
        "still listed and not reached",
      );
    },
  },
  {
    id: "enrp/registrar/takeover/suggestion-adopted",
    ref: "draft-dreibholz-rserpool-enrp-takeover, RFC 5352 §3.1, §3.4",
    requirement:
      "An element that a registrar claimed after a Takeover-suggested Handle Update, and that adopts it, re-registers over the connection the claim came on: the registrar accepts it, tells its peers with a Handle Update (ADD_PE) naming itself as the home (SHOULD: with the element's ASAP endpoint as its ASAP Transport), and supervises it there with periodic Endpoint Keep-Alives.",
    level: "MUST",
    role: "registrar-enrp",
    features: ["takeover-suggestion", "home-keepalive"],
    timeout: (t) => quick(t) + 3 * t.keepAliveInterval + 2 * t.slack,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const elementEndpoint = await ctx.listen("session");
      const handle = ctx.poolHandle();
      const e = fake.ownElement(handle, elementEndpoint);
      fake.update("add", handle, e, true);
      const pe = await elementEndpoint.next(
        ctx.answerTime,
        "the registrar connecting to the element",
      );
      const k = await ctx.expecting(() =>
        pe.expectType(
          "EndpointKeepAlive",
          ctx.answerTime,
          "an Endpoint Keep-Alive with the Home flag",
          (m) => m.home,
        )
      );
      pe.send({ type: "EndpointKeepAliveAck", poolHandle: handle, poolElementId: e.identifier });
      ctx.note(`the element adopts ${hexId(k.registrarId)} and re-registers over its connection`);
      const since = fake.peer.received.length;
      await registerOk(ctx, pe, handle, e.identifier, { transport: e.userTransport });
      const u = await receivedSince(
        ctx,
        fake.peer,
        since,
        (m) => m.type === "HandleUpdate" && m.poolElement.identifier === e.identifier,
        ctx.answerTime,
      );
      if (u?.type !== "HandleUpdate") {
        return ctx.fail(`a Handle Update for ${hexId(e.identifier)} to the peers`, "none");
      }
      ctx.must(
        u.updateAction === UpdateAction.AddPoolElement,
        "ADD_PE",
        `action ${u.updateAction}`,
      );
      ctx.must(
        u.poolElement.homeRegistrarId === fake.targetId,
        `the registrar (${hexId(fake.targetId!)}) as the element's home`,
        hexId(u.poolElement.homeRegistrarId),
      );
      const a = u.poolElement.asapTransport;
      const use = a !== undefined && "transportUse" in a ? a.transportUse : undefined;
      ctx.should(
        a !== undefined && a.port === elementEndpoint.endpoint.port &&
          (ctx.overSctp || use === TransportUse.DataPlusControl),
        `the element's ASAP endpoint (port ${elementEndpoint.endpoint.port}${
          ctx.overSctp ? "" : ", DATA PLUS CONTROL"
        }) as its ASAP Transport`,
        a === undefined ? "none" : `${a.type} port ${a.port}, Transport Use ${use}`,
      );
      const t = ctx.timers;
      await ctx.expecting(() =>
        pe.expectType(
          "EndpointKeepAlive",
          1.5 * t.keepAliveInterval + 2 * t.slack,
          "a periodic Endpoint Keep-Alive (Home flag clear) over the registration's connection",
          (m) => !m.home && sameBytes(m.poolHandle, handle),
        )
      );
      pe.send({ type: "EndpointKeepAliveAck", poolHandle: handle, poolElementId: e.identifier });
      const listed = element(
        (await resolveAt(ctx, await ctx.asap(), handle)).poolElements,
        e.identifier,
      );
      ctx.must(
        listed?.homeRegistrarId === fake.targetId,
        "the element listed with the registrar as its home",
        listed === undefined ? "not listed" : `home ${hexId(listed.homeRegistrarId)}`,
      );
    },
  },
  {
    id: "enrp/registrar/takeover/suggestion-without-asap-transport",
    ref: "draft-dreibholz-rserpool-enrp-takeover, RFC 5354 §3.10",
    requirement:
      "A Takeover-suggested Handle Update for an element without an ASAP Transport (nowhere to claim it) leaves the registrar serving: the element is learnt and resolvable, and Presences are still answered.",
    level: "MUST",
    role: "registrar-enrp",
    features: ["takeover-suggestion"],
    timeout: (t) => quick(t) + 2 * t.peerHeartbeatCycle,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const e = ctx.poolElement(ctx.identifier(), { home: fake.id }); // no ASAP Transport
      fake.update("add", handle, e, true);
      await ctx.sleep(ctx.timers.slack / 2);
      await eventually(
        ctx,
        await ctx.asap(),
        handle,
        (r) => idsOf(r).includes(e.identifier),
        "the element resolvable (the registrar still serving)",
        ctx.answerTime,
      );
      const p = await fake.prompt(() => fake.presence(true));
      ctx.must(p !== undefined, "a Presence in answer (ENRP still served)", "none");
    },
  },
  {
    id: "enrp/registrar/takeover/expires",
    ref: "RFC 5353 §3.5.1 (silent on failed arbitration; RSPLIB's expiry: docs/roles.md)",
    requirement:
      "A takeover that does not get every acknowledgement within the takeover expiry is given up: acknowledgements after that complete nothing (no Takeover Server, the element keeps its home), and another peer's Init Takeover of the same registrar is acknowledged even from an identifier that would lose a contest.",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: (t) => oneTakeover(t) + t.takeoverExpiry + 2 * t.slack,
    async run(ctx) {
      const failing = await FakeRegistrar.join(ctx);
      const witness = await FakeRegistrar.join(ctx);
      witness.ackTakeovers = false;
      const next = await joinHighest(ctx);
      next.ackTakeovers = false;
      const handle = ctx.poolHandle();
      const e = failing.ownElement(handle, undefined);
      const pu = await addedAndLearnt(ctx, failing, handle, e);
      await failing.vanish();
      const t = ctx.timers;
      await ctx.expecting(() =>
        witness.peer.expect(
          about("InitTakeover", failing.id),
          `an Init Takeover of ${hexId(failing.id)}`,
          detection(t),
        )
      );
      ctx.note(`nobody acknowledges; waiting the takeover expiry (${t.takeoverExpiry} ms)`);
      await ctx.sleep(t.takeoverExpiry + t.slack);
      next.send({ type: "InitTakeover", targetRegistrarId: failing.id });
      const ack = await receivedSince(
        ctx,
        next.peer,
        0,
        about("InitTakeoverAck", failing.id),
        ctx.answerTime,
      );
      ctx.should(
        ack !== undefined,
        `an Init Takeover Ack to ${
          hexId(next.id)
        } (higher than the target's identifier) once the target's own takeover expired`,
        "none: the target is still taking over",
      );
      // Late acknowledgements of the given-up takeover.
      const since = [witness, next].map((f) => f.peer.received.length);
      for (const f of [witness, next]) {
        f.send({ type: "InitTakeoverAck", targetRegistrarId: failing.id });
      }
      await ctx.sleep(ctx.answerTime);
      const servers = [witness, next].filter((f, i) =>
        f.peer.received.slice(since[i]).some(about("TakeoverServer", failing.id))
      );
      ctx.should(
        servers.length === 0,
        "no Takeover Server after late acknowledgements of an expired takeover",
        `a Takeover Server to ${servers.length} peer(s)`,
      );
      const listed = element((await resolveAt(ctx, pu, handle)).poolElements, e.identifier);
      ctx.should(
        listed === undefined || listed.homeRegistrarId === failing.id,
        `the element's home still ${hexId(failing.id)} (nobody completed a takeover)`,
        `home ${hexId(listed?.homeRegistrarId ?? 0)}`,
      );
    },
  },
  {
    id: "enrp/registrar/takeover/yields-to-takeover-server",
    ref: "RFC 5353 §3.5.1, §3.5.2",
    requirement:
      "A registrar taking over a peer that receives another registrar's Takeover Server for the same peer gives its own takeover up: the sender becomes the elements' home, and a late acknowledgement completes nothing (no Takeover Server of its own).",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: oneTakeover,
    async run(ctx) {
      const failing = await FakeRegistrar.join(ctx);
      const taker = await FakeRegistrar.join(ctx);
      taker.ackTakeovers = false;
      const witness = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const e = failing.ownElement(handle, undefined);
      const pu = await addedAndLearnt(ctx, failing, handle, e);
      failing.answerProbes = false;
      ctx.note(`peer ${hexId(failing.id)} stops answering`);
      const t = ctx.timers;
      await ctx.expecting(() =>
        taker.peer.expect(
          about("InitTakeover", failing.id),
          `an Init Takeover of ${hexId(failing.id)}`,
          detection(t),
        )
      );
      // The witness acknowledged; the target now waits for the taker, which wins elsewhere.
      const since = [witness, taker].map((f) => f.peer.received.length);
      taker.elements.push({ handle, element: { ...e, homeRegistrarId: taker.id } });
      taker.send({ type: "TakeoverServer", targetRegistrarId: failing.id });
      await eventually(
        ctx,
        pu,
        handle,
        (r) => element(r.poolElements, e.identifier)?.homeRegistrarId === taker.id,
        `the taker ${hexId(taker.id)} as the element's home`,
        ctx.answerTime,
      );
      taker.send({ type: "InitTakeoverAck", targetRegistrarId: failing.id });
      await ctx.sleep(ctx.answerTime);
      const servers = [witness, taker].filter((f, i) =>
        f.peer.received.slice(since[i]).some(about("TakeoverServer", failing.id))
      );
      ctx.should(
        servers.length === 0,
        "no Takeover Server of its own after another registrar's",
        `a Takeover Server to ${
          servers.map((f) => (f === taker ? "the taker" : "the witness")).join(" and ")
        }`,
      );
      const listed = element((await resolveAt(ctx, pu, handle)).poolElements, e.identifier);
      ctx.should(
        listed?.homeRegistrarId === taker.id,
        `the element's home still the taker ${hexId(taker.id)}`,
        listed === undefined ? "not listed" : `home ${hexId(listed.homeRegistrarId)}`,
      );
    },
  },
  {
    id: "enrp/registrar/takeover/after-return",
    ref: "RFC 5353 §3.4.3, §3.5.1",
    requirement:
      "A registrar that another peer took over, and that came back, is treated as a peer again: when it then falls silent owning elements, it is probed, declared dead and taken over once more.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + detection(t) + t.peerHeartbeatCycle,
    async run(ctx) {
      const returning = await FakeRegistrar.join(ctx);
      const taker = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const first = returning.ownElement(handle, undefined);
      returning.update("add", handle, first);
      const pu = await ctx.asap();
      await eventually(
        ctx,
        pu,
        handle,
        (r) => idsOf(r).includes(first.identifier),
        "the element learnt",
        ctx.answerTime,
      );
      taker.send({ type: "InitTakeover", targetRegistrarId: returning.id });
      await ctx.expecting(() =>
        taker.peer.expect(
          about("InitTakeoverAck", returning.id),
          "an Init Takeover Ack",
          ctx.answerTime,
        )
      );
      taker.elements.push({ handle, element: { ...first, homeRegistrarId: taker.id } });
      taker.send({ type: "TakeoverServer", targetRegistrarId: returning.id });
      await eventually(
        ctx,
        pu,
        handle,
        (r) => element(r.poolElements, first.identifier)?.homeRegistrarId === taker.id,
        "the taker as the element's home",
        ctx.answerTime,
      );
      // Back (on its open connection), without the element it lost, and with a new one.
      ctx.note(`peer ${hexId(returning.id)} is back`);
      returning.elements = [];
      returning.presence(false);
      const second = returning.ownElement(handle, undefined);
      returning.update("add", handle, second);
      await eventually(
        ctx,
        pu,
        handle,
        (r) => element(r.poolElements, second.identifier)?.homeRegistrarId === returning.id,
        "its new element learnt",
        ctx.answerTime,
      );
      returning.answerProbes = false;
      ctx.note(`peer ${hexId(returning.id)} falls silent again (its connection stays open)`);
      const t = ctx.timers;
      await ctx.expecting(() =>
        taker.peer.expect(
          about("InitTakeover", returning.id),
          `an Init Takeover of ${hexId(returning.id)} (taken over before, back, silent again)`,
          detection(t),
        )
      );
    },
  },
];
