/**
 * A registrar's supervision of its pool elements (RFC 5352 §3.4, §3.5):
 * Endpoint Keep-Alives and their Acks, and Endpoint Unreachable reports
 * with MAX-BAD-PE-REPORT.
 *
 * @module
 */

import type { Identifier } from "../../lib/protocol/types.ts";
import type { CaseContext } from "../context.ts";
import type { Peer } from "../peer.ts";
import type { ConformanceCase, TargetTimers } from "../types.ts";
import {
  causes,
  element,
  eventually,
  hexId,
  idsOf,
  receivedSince,
  registerAt,
  registerOk,
  resolveAt,
  sameBytes,
  waitFor,
} from "./helpers.ts";

const quick = (t: TargetTimers) => 4 * t.slack + 8000;
const supervision = (t: TargetTimers) =>
  3 * (t.keepAliveInterval + t.keepAliveTimeout) + 6 * t.slack + 5000;

/** Registers one element on a connection of its own that answers keep-alives as told. */
async function elementOn(
  ctx: CaseContext,
  handle: Uint8Array,
  answer: "right" | "silent" | "wrong-identifier" | "wrong-pool",
): Promise<{ peer: Peer; id: Identifier }> {
  const peer = await ctx.asap();
  const id = ctx.identifier();
  if (answer === "right") peer.answerKeepAlives(handle, id);
  if (answer === "wrong-identifier") peer.answerKeepAlives(handle, ctx.identifier());
  if (answer === "wrong-pool") {
    const otherPool = ctx.poolHandle("-other");
    peer.respond((m) => {
      if (m.type !== "EndpointKeepAlive" || !sameBytes(m.poolHandle, handle)) return false;
      peer.send({ type: "EndpointKeepAliveAck", poolHandle: otherPool, poolElementId: id });
      return true;
    });
  }
  await registerOk(ctx, peer, handle, id);
  return { peer, id };
}

/** The cases. */
export const REGISTRAR_KEEPALIVE_CASES: readonly ConformanceCase[] = [
  {
    id: "asap/registrar/keepalive/sent",
    ref: "RFC 5352 §3.4",
    requirement:
      "The home registrar sends its pool elements Endpoint Keep-Alives (Home flag clear, its own identifier as listed for the element's home, the pool handle).",
    level: "MUST",
    role: "registrar-asap",
    timeout: (t) => t.keepAliveInterval + 4 * t.slack + 5000,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      await registerOk(ctx, pe, handle, id);
      const k = await ctx.expecting(() =>
        pe.expectType(
          "EndpointKeepAlive",
          ctx.timers.keepAliveInterval + 2 * ctx.timers.slack,
          "an Endpoint Keep-Alive",
        )
      );
      pe.send({ type: "EndpointKeepAliveAck", poolHandle: handle, poolElementId: id });
      ctx.must(sameBytes(k.poolHandle, handle), "the element's pool handle", "another one");
      ctx.must(!k.home, "the Home flag clear", "H=1");
      ctx.must(k.registrarId !== ctx.zero, "the registrar's (non-zero) identifier", "0");
      const listed = element((await resolveAt(ctx, await ctx.asap(), handle)).poolElements, id);
      ctx.must(
        listed?.homeRegistrarId === k.registrarId,
        "the same identifier as the element's home in a resolution",
        `keep-alive from ${hexId(k.registrarId)}, home ${
          listed === undefined ? "(not listed)" : hexId(listed.homeRegistrarId)
        }`,
      );
    },
  },
  {
    id: "asap/registrar/keepalive/interval",
    ref: "RFC 5352 §3.4",
    requirement:
      "Keep-alives to an element that answers them come about every keep-alive interval (the target's declared one; half of it at the least, allowing RFC 5352's ±50 % jitter), the first one too, counted from the registration.",
    level: "SHOULD",
    role: "registrar-asap",
    timeout: (t) => 5 * t.keepAliveInterval + 6 * t.slack + 5000,
    async run(ctx) {
      const handle = ctx.poolHandle();
      const { peer } = await elementOn(ctx, handle, "right");
      const registeredAt = peer.receivedAt[
        peer.received.findIndex((m) => m.type === "RegistrationResponse")
      ];
      const t = ctx.timers;
      const start = peer.received.length;
      const times = () =>
        peer.received.flatMap((m, i) =>
          i >= start && m.type === "EndpointKeepAlive" ? [Math.round(peer.receivedAt[i])] : []
        );
      await waitFor(ctx, () => times().length >= 4, 4 * t.keepAliveInterval + 2 * t.slack);
      const at = times();
      ctx.must(at.length >= 2, "at least two keep-alives", `${at.length}`);
      const first = peer.received.findIndex((m) => m.type === "EndpointKeepAlive");
      const afterRegistration = Math.round(peer.receivedAt[first] - registeredAt);
      ctx.should(
        afterRegistration >= t.keepAliveInterval / 2,
        `the first keep-alive no sooner than half an interval after the registration`,
        `${afterRegistration} ms after it`,
      );
      const gaps = at.slice(1).map((x, i) => x - at[i]);
      ctx.note(`gaps between keep-alives: ${gaps.join(", ")} ms`);
      ctx.should(
        gaps.every((g) => g >= t.keepAliveInterval / 2 && g <= 1.5 * t.keepAliveInterval + t.slack),
        `gaps between ${t.keepAliveInterval / 2} and ${1.5 * t.keepAliveInterval + t.slack} ms`,
        `gaps ${gaps.join(", ")} ms`,
      );
      // One late gap may be the machine; their median is the target's interval (±50 % jitter).
      const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)];
      ctx.should(
        median >= t.keepAliveInterval / 2 && median <= 1.5 * t.keepAliveInterval,
        `the median gap within ±50 % of the interval (${t.keepAliveInterval} ms)`,
        `${median} ms`,
      );
    },
  },
  {
    id: "asap/registrar/keepalive/silent-element-removed",
    ref: "RFC 5352 §3.4",
    requirement:
      "A pool element that does not answer its Endpoint Keep-Alive is removed from the handlespace, after (not before) its keep-alive timeout.",
    level: "MUST",
    role: "registrar-asap",
    timeout: supervision,
    async run(ctx) {
      const handle = ctx.poolHandle();
      const { peer: pe, id } = await elementOn(ctx, handle, "silent");
      const { id: other } = await elementOn(ctx, handle, "right");
      const t = ctx.timers;
      await ctx.expecting(() =>
        pe.expectType(
          "EndpointKeepAlive",
          t.keepAliveInterval + 2 * t.slack,
          "an Endpoint Keep-Alive to the silent element",
        )
      );
      const pu = await ctx.asap();
      const right = idsOf(await resolveAt(ctx, pu, handle));
      ctx.must(
        right.includes(id) || t.keepAliveTimeout < 50,
        "the element still listed right after its keep-alive (its timeout not yet run out)",
        "already removed",
      );
      await eventually(
        ctx,
        pu,
        handle,
        (r) => !idsOf(r).includes(id) && idsOf(r).includes(other),
        `PE ${hexId(id)} removed after missing its keep-alive, the answering one kept`,
        t.keepAliveTimeout + 3 * t.slack,
      );
    },
  },
  {
    id: "asap/registrar/keepalive/answered-element-stays",
    ref: "RFC 5352 §3.4",
    requirement:
      "A pool element that answers its Endpoint Keep-Alives stays registered (each Keep-Alive Ack stops that keep-alive's timeout).",
    level: "MUST",
    role: "registrar-asap",
    timeout: supervision,
    async run(ctx) {
      const handle = ctx.poolHandle();
      const { peer: pe, id } = await elementOn(ctx, handle, "right");
      const t = ctx.timers;
      await ctx.sleep(2 * (t.keepAliveInterval + t.keepAliveTimeout) + t.slack);
      const listed = idsOf(await resolveAt(ctx, await ctx.asap(), handle));
      ctx.must(
        listed.includes(id),
        `PE ${hexId(id)} still listed`,
        listed.map(hexId).join(", ") || "nothing",
      );
      ctx.must(
        pe.received.filter((m) => m.type === "EndpointKeepAlive").length >= 2,
        "keep-alives to answer (at least two)",
        `${pe.received.filter((m) => m.type === "EndpointKeepAlive").length}`,
      );
    },
  },
  {
    id: "asap/registrar/keepalive/ack-identifies-element",
    ref: "RFC 5352 §3.4, §2.2.8",
    requirement:
      "Only a Keep-Alive Ack with the element's own pool handle and identifier keeps it: elements answering with another identifier or another pool handle are removed like silent ones.",
    level: "MUST",
    role: "registrar-asap",
    timeout: supervision,
    async run(ctx) {
      const handle = ctx.poolHandle();
      const { id: good } = await elementOn(ctx, handle, "right");
      const { id: wrongId } = await elementOn(ctx, handle, "wrong-identifier");
      const { id: wrongPool } = await elementOn(ctx, handle, "wrong-pool");
      const t = ctx.timers;
      await eventually(
        ctx,
        await ctx.asap(),
        handle,
        (r) =>
          idsOf(r).includes(good) && !idsOf(r).includes(wrongId) && !idsOf(r).includes(wrongPool),
        `the elements acknowledging with a wrong identifier (${
          hexId(wrongId)
        }) and a wrong pool handle (${hexId(wrongPool)}) removed, the right one (${
          hexId(good)
        }) kept`,
        2 * (t.keepAliveInterval + t.keepAliveTimeout) + 3 * t.slack,
      );
    },
  },
  {
    id: "asap/registrar/keepalive/connection-lost",
    ref: "RFC 5352 §3.4, §3.5",
    requirement:
      "An element whose registration connection is gone is removed: right away when an Endpoint Unreachable report asks for a keep-alive that cannot be sent, and at the latest when its next keep-alive cannot be sent.",
    level: "MUST",
    role: "registrar-asap",
    timeout: supervision,
    async run(ctx) {
      const handle = ctx.poolHandle();
      const { peer: gone, id } = await elementOn(ctx, handle, "silent");
      const { id: other } = await elementOn(ctx, handle, "right");
      gone.close();
      // Long enough for the close to reach the registrar (an SCTP shutdown takes round trips).
      await ctx.sleep(ctx.timers.slack / 2);
      const pu = await ctx.asap();
      pu.send({ type: "EndpointUnreachable", poolHandle: handle, poolElementId: id });
      const right = idsOf(await resolveAt(ctx, pu, handle, 0xffffffff));
      ctx.should(
        !right.includes(id),
        "removed at once: the keep-alive the report calls for cannot be sent",
        "still listed",
      );
      const t = ctx.timers;
      await eventually(
        ctx,
        pu,
        handle,
        (r) => !idsOf(r).includes(id) && idsOf(r).includes(other),
        `the element whose connection closed removed within one and a half keep-alive intervals and a timeout`,
        1.5 * t.keepAliveInterval + t.keepAliveTimeout + 2 * t.slack,
      );
    },
  },
  {
    id: "asap/registrar/keepalive/follows-new-connection",
    ref: "RFC 5352 §3.1, §3.4",
    requirement:
      "An element that re-registers over another connection is supervised over that one from then on: its keep-alives go there, the loss of the connection it first registered over does not remove it, and the loss of the second does, as for any element whose connection is gone (SHOULD: the re-registration is accepted; RFC 5355 §2.3 lets a registrar refuse it).",
    level: "MUST",
    role: "registrar-asap",
    timeout: (t) => 2.5 * t.keepAliveInterval + 2 * t.keepAliveTimeout + 8 * t.slack + 8000,
    async run(ctx) {
      const handle = ctx.poolHandle();
      const { peer: first, id } = await elementOn(ctx, handle, "right");
      const second = await ctx.asap();
      second.answerKeepAlives(handle, id);
      const r = await registerAt(ctx, second, handle, id);
      ctx.should(
        !r.reject,
        "the re-registration over a second connection accepted",
        causes(r.operationError),
      );
      if (r.reject) return;
      first.close();
      // Long enough for the close to reach the registrar (an SCTP shutdown takes round trips).
      await ctx.sleep(ctx.timers.slack / 2);
      const pu = await ctx.asap();
      const t = ctx.timers;
      ctx.must(
        idsOf(await resolveAt(ctx, pu, handle, 0xffffffff)).includes(id),
        "the element kept when the connection it first registered over closed",
        "removed",
      );
      const seen = second.received.length;
      const keepAlive = await receivedSince(
        ctx,
        second,
        seen,
        (m) => m.type === "EndpointKeepAlive" && sameBytes(m.poolHandle, handle),
        t.keepAliveInterval + 2 * t.slack,
      );
      ctx.must(keepAlive !== undefined, "a keep-alive over the second connection", "none");
      await ctx.sleep(t.keepAliveTimeout + t.slack);
      ctx.must(
        idsOf(await resolveAt(ctx, pu, handle, 0xffffffff)).includes(id),
        "the element, answering over the second connection, still listed a keep-alive timeout later",
        "removed",
      );
      // Once more over the same connection: it stays the one that speaks for the element.
      await registerOk(ctx, second, handle, id);
      second.close();
      await eventually(
        ctx,
        pu,
        handle,
        (r) => !idsOf(r).includes(id),
        "the element removed once the second connection closed too (within one and a half keep-alive intervals and a timeout)",
        1.5 * t.keepAliveInterval + t.keepAliveTimeout + 2 * t.slack,
      );
    },
  },
  {
    id: "asap/registrar/unreachable/max-bad-pe-report",
    ref: "RFC 5352 §3.5, RFC 5353 §3.3.2 (MAX-BAD-PE-REPORT)",
    requirement:
      "A pool element reported unreachable MAX-BAD-PE-REPORT times (3 by default, by any pool users) is removed; each report before that leaves it registered, and reports count per element.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      const other = ctx.identifier();
      pe.answerKeepAlives(handle, id, other);
      await registerOk(ctx, pe, handle, id);
      await registerOk(ctx, pe, handle, other);
      const max = ctx.timers.maxBadPeReports;
      const check = await ctx.asap();
      for (let i = 1; i < max; i++) {
        const pu = await ctx.asap(); // a user of its own each time
        pu.send({ type: "EndpointUnreachable", poolHandle: handle, poolElementId: id });
        pu.send({ type: "EndpointUnreachable", poolHandle: handle, poolElementId: other });
        await ctx.sleep(ctx.timers.slack / 4);
        const listed = idsOf(await resolveAt(ctx, check, handle, 0xffffffff));
        ctx.must(
          listed.includes(id) && listed.includes(other),
          `both elements still listed after ${i} report(s) each (MAX-BAD-PE-REPORT ${max})`,
          listed.map(hexId).join(", ") || "nothing",
        );
      }
      const last = await ctx.asap();
      last.send({ type: "EndpointUnreachable", poolHandle: handle, poolElementId: id });
      await eventually(
        ctx,
        check,
        handle,
        (r) => !idsOf(r).includes(id) && idsOf(r).includes(other),
        `PE ${hexId(id)} removed after report ${max}, the other element (${max - 1} reports) kept`,
        ctx.answerTime,
      );
    },
  },
  {
    id: "asap/registrar/unreachable/probe",
    ref: "RFC 5352 §3.5",
    requirement:
      "An Endpoint Unreachable report makes the element's home registrar send it an Endpoint Keep-Alive at once (not at the next keep-alive interval); an element that answers it stays.",
    level: "MUST",
    role: "registrar-asap",
    timeout: (t) => 2 * t.keepAliveInterval + 6 * t.slack + 5000,
    async run(ctx) {
      const handle = ctx.poolHandle();
      const { peer: pe, id } = await elementOn(ctx, handle, "right");
      const t = ctx.timers;
      // Right after a periodic keep-alive, so the next periodic one is a whole interval away.
      const periodic = await receivedSince(
        ctx,
        pe,
        0,
        (m) => m.type === "EndpointKeepAlive",
        t.keepAliveInterval + 2 * t.slack,
      );
      ctx.must(periodic !== undefined, "a periodic keep-alive", "none");
      const window = Math.max(50, Math.min(t.keepAliveInterval / 4, t.slack));
      const seen = pe.received.length;
      (await ctx.asap()).send({
        type: "EndpointUnreachable",
        poolHandle: handle,
        poolElementId: id,
      });
      const sent = performance.now();
      const probe = await receivedSince(
        ctx,
        pe,
        seen,
        (m) => m.type === "EndpointKeepAlive",
        window,
      );
      ctx.must(
        probe !== undefined,
        `an Endpoint Keep-Alive within ${window} ms of the report (the periodic one is ${t.keepAliveInterval} ms away)`,
        "none",
      );
      ctx.note(`probe after ${Math.round(performance.now() - sent)} ms`);
      await ctx.sleep(t.keepAliveTimeout + t.slack / 2);
      const listed = idsOf(await resolveAt(ctx, await ctx.asap(), handle));
      ctx.must(listed.includes(id), "the element, which answered, still listed", "removed");
    },
  },
  {
    id: "asap/registrar/unreachable/removal-not-postponed",
    ref: "RFC 5352 §3.4, §3.5",
    requirement:
      "Endpoint Unreachable reports (fewer than MAX-BAD-PE-REPORT) about an element whose Endpoint Keep-Alive is unanswered do not postpone its removal: it is removed once that keep-alive's timeout runs out.",
    level: "MUST",
    role: "registrar-asap",
    timeout: (t) =>
      t.keepAliveInterval + t.maxBadPeReports * t.keepAliveTimeout + 8 * t.slack + 5000,
    async run(ctx) {
      const t = ctx.timers;
      const reports = t.maxBadPeReports - 1;
      if (reports < 1) ctx.unsupported("MAX-BAD-PE-REPORT is 1: every report removes");
      const handle = ctx.poolHandle();
      const { peer: pe, id } = await elementOn(ctx, handle, "silent");
      await ctx.expecting(() =>
        pe.expectType(
          "EndpointKeepAlive",
          t.keepAliveInterval + 2 * t.slack,
          "an Endpoint Keep-Alive to the silent element",
        )
      );
      const t0 = performance.now();
      const reporter = await ctx.asap();
      const pu = await ctx.asap();
      const every = 0.9 * t.keepAliveTimeout;
      const bound = t.keepAliveTimeout + t.slack;
      const giveUp = t0 + bound + (reports + 1) * t.keepAliveTimeout + t.slack;
      let sent = 0;
      let removedAt: number | undefined;
      while (performance.now() < giveUp) {
        if (sent < reports && performance.now() >= t0 + (sent + 1) * every) {
          reporter.send({ type: "EndpointUnreachable", poolHandle: handle, poolElementId: id });
          sent++;
        }
        if (!idsOf(await resolveAt(ctx, pu, handle)).includes(id)) {
          removedAt = performance.now() - t0;
          break;
        }
        await ctx.sleep(20);
      }
      ctx.note(
        `${sent} report(s), one every ${Math.round(every)} ms after the unanswered keep-alive`,
      );
      ctx.must(removedAt !== undefined, "the silent element removed", "still listed");
      ctx.note(`removed ${Math.round(removedAt!)} ms after the unanswered keep-alive`);
      ctx.must(
        removedAt! <= bound,
        `removed within its keep-alive timeout (${t.keepAliveTimeout} ms) and the slack of the unanswered keep-alive`,
        `after ${Math.round(removedAt!)} ms`,
      );
    },
  },
  {
    id: "asap/registrar/unreachable/unknown-element",
    ref: "RFC 5352 §3.5",
    requirement:
      "Endpoint Unreachable reports for an unknown pool or an unknown element of a known pool change nothing: every element stays and the connection keeps serving.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      pe.answerKeepAlives(handle, id);
      await registerOk(ctx, pe, handle, id);
      const pu = await ctx.asap();
      for (let i = 0; i < ctx.timers.maxBadPeReports + 1; i++) {
        pu.send({
          type: "EndpointUnreachable",
          poolHandle: handle,
          poolElementId: ctx.identifier(),
        });
        pu.send({
          type: "EndpointUnreachable",
          poolHandle: ctx.poolHandle("-nx"),
          poolElementId: id,
        });
      }
      await ctx.sleep(ctx.timers.slack / 2);
      const listed = idsOf(await resolveAt(ctx, pu, handle));
      ctx.must(listed.includes(id), "the element still listed", "removed");
    },
  },
];
