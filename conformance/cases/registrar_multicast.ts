/**
 * ENRP Presences by multicast (RFC 5353 §3.4.1, §3.4.2): a registrar that
 * uses a multicast channel announces itself there and takes up the peers it
 * hears there. Needs a registrar the runner can start on a channel of the
 * suite's choosing (the built-in run).
 *
 * @module
 */

import { encodeMessage } from "../../lib/protocol/codec.ts";
import type { Identifier, Presence } from "../../lib/protocol/types.ts";
import type { CaseContext, RunningRegistrarTarget, SuiteListener } from "../context.ts";
import type { ConformanceCase, TargetTimers } from "../types.ts";
import { hexId, waitFor } from "./helpers.ts";

const time = (t: TargetTimers) => 4 * t.peerHeartbeatCycle + 10 * t.slack + 10_000;

/** Starts a registrar under test that multicasts Presences on a channel of the case. */
async function multicastRegistrar(ctx: CaseContext): Promise<{
  registrar: RunningRegistrarTarget;
  heard: { at: number; presence: Presence }[];
  channel: Awaited<ReturnType<CaseContext["announceChannel"]>>;
}> {
  const driver = ctx.config.registrar;
  if (driver === undefined || driver.multicastPresence !== true) {
    return ctx.unsupported(
      "the runner cannot start a registrar with a multicast channel (built-in run only)",
    );
  }
  const heard: { at: number; presence: Presence }[] = [];
  const channel = await ctx.announceChannel(undefined, (m) => {
    if (m.type === "Presence") heard.push({ at: performance.now(), presence: m });
  }, "enrp");
  const registrar = await driver.start({ peers: [], presence: channel.settings });
  ctx.onCleanup(() => registrar.stop());
  return { registrar, heard, channel };
}

/**
 * A peer of the suite's that announces itself on the registrar's channel
 * (a multicast Presence now and every heartbeat cycle, with Server
 * Information naming its ENRP listener); returns its identifier and listener.
 */
async function multicastPeer(
  ctx: CaseContext,
  channel: { send(bytes: Uint8Array): void },
): Promise<{ id: Identifier; listener: SuiteListener }> {
  const listener = await ctx.listen("enrp");
  const id = ctx.identifier();
  const presence = encodeMessage({
    type: "Presence",
    sendingRegistrarId: id,
    receivingRegistrarId: ctx.zero,
    replyRequired: false,
    checksum: emptyChecksum(ctx),
    serverInformation: ctx.serverInformation(id, listener.endpoint),
  }, { profile: ctx.config.profile });
  channel.send(presence);
  const timer = setInterval(() => channel.send(presence), ctx.timers.peerHeartbeatCycle);
  ctx.onCleanup(() => clearInterval(timer));
  return { id, listener };
}

/** The PE checksum over no elements in the run's profile. */
function emptyChecksum(ctx: CaseContext): number {
  return ctx.config.profile === "nextgen" ? 0xffffffff : 0xffff;
}

/** The cases. */
export const REGISTRAR_MULTICAST_CASES: readonly ConformanceCase[] = [
  {
    id: "enrp/registrar/multicast/presence-sent",
    ref: "RFC 5353 §3.4.1, §3.4.2",
    requirement:
      "A registrar that uses multicast announces its presence there every peer-heartbeat-cycle: Presences to all (Receiving Server ID 0, Reply-required flag clear) with its Server Information.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: time,
    async run(ctx) {
      const { registrar, heard } = await multicastRegistrar(ctx);
      const t = ctx.timers;
      await ctx.sleep(2.5 * t.peerHeartbeatCycle + t.slack);
      const own = heard.filter((h) =>
        h.presence.serverInformation?.transport.port === registrar.enrp.port
      );
      ctx.note(
        `heard ${heard.length} Presence(s), ${own.length} naming the started registrar's ENRP port`,
      );
      ctx.must(
        own.length >= 2,
        `at least two multicast Presences in ${2.5 * t.peerHeartbeatCycle + t.slack} ms`,
        `${own.length}`,
      );
      const p = own[0].presence;
      ctx.must(
        p.receivingRegistrarId === ctx.zero,
        "Receiving Server ID 0",
        hexId(p.receivingRegistrarId),
      );
      ctx.must(!p.replyRequired, "the Reply-required flag clear", "R=1");
      ctx.must(
        p.serverInformation!.registrarId === p.sendingRegistrarId,
        "its own identifier in the Server Information",
        hexId(p.serverInformation!.registrarId),
      );
    },
  },
  {
    id: "enrp/registrar/multicast/peer-discovered",
    ref: "RFC 5353 §3.4.1",
    requirement:
      "A registrar that hears a new peer's multicast Presence adds it to its peers: it connects to the ENRP endpoint the Presence names and asks it for a Presence (Reply-required flag set).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: time,
    async run(ctx) {
      const { channel } = await multicastRegistrar(ctx);
      const { listener } = await multicastPeer(ctx, channel);
      const t = ctx.timers;
      const peer = await listener.next(
        t.peerHeartbeatCycle + 2 * t.slack,
        "the registrar connecting to the peer it heard",
      );
      const p = await ctx.expecting(() =>
        peer.expectType("Presence", ctx.answerTime, "a Presence on the new connection")
      );
      ctx.must(p.replyRequired, "the Reply-required flag set (a new peer)", "R=0");
    },
  },
  {
    id: "enrp/registrar/multicast/mentor-discovered",
    ref: "RFC 5353 §3.2.2, §3.2.3",
    requirement:
      "A registrar starting without configured peers that hears a peer's multicast Presence before its mentor hunt ends takes that peer as its mentor: it asks it for its peer list (List Request) or its whole handle table (Own-children-only clear).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: time,
    async run(ctx) {
      const { channel } = await multicastRegistrar(ctx);
      const { id, listener } = await multicastPeer(ctx, channel);
      const empty = emptyChecksum(ctx);
      const t = ctx.timers;
      const peer = await listener.next(
        Math.min(t.peerHeartbeatCycle, t.mentorHuntTimeout / 2) + t.slack,
        "the registrar connecting to the peer it heard",
      );
      const asked: string[] = [];
      peer.respond((m) => {
        if (m.type === "Presence" && m.replyRequired) {
          peer.send({
            type: "Presence",
            sendingRegistrarId: id,
            receivingRegistrarId: m.sendingRegistrarId,
            replyRequired: false,
            checksum: empty,
            serverInformation: ctx.serverInformation(id, listener.endpoint),
          });
        } else if (m.type === "ListRequest") {
          asked.push("List Request");
          peer.send({
            type: "ListResponse",
            sendingRegistrarId: id,
            receivingRegistrarId: m.sendingRegistrarId,
            reject: false,
            servers: [],
          });
        } else if (m.type === "HandleTableRequest") {
          asked.push(`Handle Table Request (W=${m.ownChildrenOnly ? 1 : 0})`);
          peer.send({
            type: "HandleTableResponse",
            sendingRegistrarId: id,
            receivingRegistrarId: m.sendingRegistrarId,
            reject: false,
            moreToSend: false,
            pools: [],
          });
        }
        return false;
      });
      const deadline = performance.now() + ctx.answerTime;
      const mentored = () => asked.some((x) => x === "List Request" || x.endsWith("(W=0)"));
      while (!mentored() && performance.now() < deadline) await ctx.sleep(10);
      ctx.must(
        mentored(),
        "a List Request or a Handle Table Request (W=0) to the peer heard by multicast",
        asked.join(", ") || "nothing",
      );
    },
  },
  {
    id: "enrp/registrar/multicast/own-presence-ignored",
    ref: "RFC 5353 §3.4.1, §3.2.2",
    requirement:
      "A registrar that hears its own multicast Presences (multicast loops back on the host) does not take itself for a peer: its List Response does not name it.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: time,
    async run(ctx) {
      const { registrar, heard } = await multicastRegistrar(ctx);
      const t = ctx.timers;
      const own = () =>
        heard.find((h) => h.presence.serverInformation?.transport.port === registrar.enrp.port);
      await waitFor(ctx, () => own() !== undefined, 2 * t.peerHeartbeatCycle + t.slack);
      const mine = own();
      ctx.must(mine !== undefined, "a multicast Presence of the started registrar", "none");
      const targetId = mine!.presence.sendingRegistrarId;
      // A heartbeat later it has heard itself too.
      await ctx.sleep(t.peerHeartbeatCycle + t.slack / 2);
      const peer = await ctx.enrp(undefined, registrar.enrp);
      const id = ctx.identifier();
      const listener = await ctx.listen("enrp");
      peer.send({
        type: "ListRequest",
        sendingRegistrarId: id,
        receivingRegistrarId: targetId,
      });
      peer.respond((m) => {
        if (m.type !== "Presence" || !m.replyRequired) return false;
        peer.send({
          type: "Presence",
          sendingRegistrarId: id,
          receivingRegistrarId: targetId,
          replyRequired: false,
          checksum: emptyChecksum(ctx),
          serverInformation: ctx.serverInformation(id, listener.endpoint),
        });
        return true;
      });
      const list = await ctx.expecting(() =>
        peer.expectType("ListResponse", ctx.answerTime, "a List Response")
      );
      const named = list.servers.map((x) => x.registrarId);
      ctx.must(
        !named.includes(targetId),
        `a List Response without the registrar itself (${hexId(targetId)})`,
        named.map(hexId).join(", "),
      );
    },
  },
];
