/**
 * A registrar over ENRP (RFC 5353), the suite acting as peer registrars:
 * Presence, lists, handle tables, Handle Updates, audit and start-up
 * (takeovers: registrar_takeover.ts).
 *
 * @module
 */

import { handlespaceChecksum } from "../../lib/protocol/checksum.ts";
import { TransportUse, UpdateAction } from "../../lib/protocol/constants.ts";
import { bytesToJson } from "../../lib/protocol/json.ts";
import type {
  EnrpMessage,
  HandleUpdate,
  Identifier,
  PoolElementParameter,
  TransportParameter,
} from "../../lib/protocol/types.ts";
import { transportParameter } from "../../lib/runtime/endpoint.ts";
import type { CaseContext } from "../context.ts";
import { FakeRegistrar, tableElements, tableIds } from "./fake_registrar.ts";
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

const quick = (t: TargetTimers) => 6 * t.slack + 8000;

/** Registers `n` elements at the target over ASAP, answering their keep-alives. */
async function registerMany(
  ctx: CaseContext,
  handle: Uint8Array,
  n: number,
): Promise<Identifier[]> {
  const pe = await ctx.asap();
  const ids = Array.from({ length: n }, () => ctx.identifier());
  pe.answerKeepAlives(handle, ...ids);
  for (const id of ids) pe.send(ctx.registration(handle, id));
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

/** Transport parameters equal (addresses in any order). */
function sameTransport(a: TransportParameter, b: TransportParameter): boolean {
  const ua = "transportUse" in a ? a.transportUse : undefined;
  const ub = "transportUse" in b ? b.transportUse : undefined;
  return a.type === b.type && a.port === b.port && ua === ub &&
    a.addresses.length === b.addresses.length && a.addresses.every((x) => b.addresses.includes(x));
}

/** A transport parameter as `TCP 127.0.0.1:4711 (Transport Use 1)`. */
function describeTransport(a: TransportParameter): string {
  const use = "transportUse" in a ? ` (Transport Use ${a.transportUse})` : "";
  return `${a.type} ${a.addresses.join(",")}:${a.port}${use}`;
}

/**
 * Checks the checksum of a Presence the target sends in answer against its
 * own handle table (Own-children-only) read before and after; read again
 * when elements came or went meanwhile (earlier cases' elements expire).
 */
async function checksumAgainstTable(
  ctx: CaseContext,
  fake: FakeRegistrar,
  what: string,
  inspect: (owned: ReturnType<typeof tableElements>) => void,
): Promise<void> {
  const width = ctx.config.profile === "nextgen" ? 32 : 16;
  const sum = (owned: ReturnType<typeof tableElements>) =>
    handlespaceChecksum(owned.map((e) => [e.handle, e.element.identifier] as const), width);
  for (let attempt = 1;; attempt++) {
    const before = tableElements(await fake.handleTableOf(true));
    const p = await fake.prompt(() => fake.presence(true));
    if (p === undefined) return ctx.fail("a Presence in answer", "none");
    const after = tableElements(await fake.handleTableOf(true));
    if (sum(before) !== sum(after) && attempt < 4) {
      ctx.note("the target's own elements changed meanwhile: reading again");
      continue;
    }
    inspect(before);
    ctx.must(
      p.checksum === sum(before) || p.checksum === sum(after),
      `checksum 0x${sum(before).toString(16)} over the ${before.length} elements it owns ${what}`,
      `0x${p.checksum.toString(16)}`,
    );
    return;
  }
}

/** The cases. */
export const REGISTRAR_ENRP_CASES: readonly ConformanceCase[] = [
  {
    id: "enrp/registrar/presence/reply-required",
    ref: "RFC 5353 §3.4.1, §2.1",
    requirement:
      "A Presence with the Reply-required flag is answered at once (well before the next heartbeat) with a Presence carrying the target's Server Information, addressed to the sender, the flag clear (SHOULD: one without the flag is not answered).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 3 * t.peerHeartbeatCycle,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const p = await fake.prompt(() => fake.presence(true));
      if (p === undefined) {
        return ctx.fail(
          `a Presence in answer within ${fake.promptWindow} ms (the next heartbeat is a cycle away)`,
          "none",
        );
      }
      ctx.must(p.sendingRegistrarId !== ctx.zero, "a non-zero sender identifier", "0");
      ctx.must(
        p.serverInformation !== undefined,
        "Server Information in the answer (RFC 5353 §2.1)",
        "none",
      );
      ctx.should(!p.replyRequired, "the Reply-required flag clear in an answer", "R=1");
      ctx.should(
        p.receivingRegistrarId === fake.id,
        "addressed to the asking peer",
        hexId(p.receivingRegistrarId),
      );
      // Answering every Presence would make two such registrars answer each other forever.
      const unasked = await fake.prompt(() => fake.presence(false));
      ctx.should(
        unasked === undefined,
        `no answer to a Presence without the Reply-required flag (RFC 5353 §3.4.2: "no response is required"; nothing within ${fake.promptWindow} ms)`,
        "an answer",
      );
    },
  },
  {
    id: "enrp/registrar/presence/heartbeat",
    ref: "RFC 5353 §3.4.2",
    requirement:
      "A registrar sends each peer a Presence (Reply-required flag clear) every peer-heartbeat-cycle, unasked: at least three in three and a half cycles, none more than a cycle and a half apart.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => 5 * t.peerHeartbeatCycle + 6 * t.slack + 8000,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const since = fake.peer.received.length;
      const t = ctx.timers;
      const start = performance.now();
      await ctx.sleep(3.5 * t.peerHeartbeatCycle + t.slack);
      const times = fake.peer.received.flatMap((m, i) =>
        i >= since && fake.isTargetPresence(m) && !m.replyRequired
          ? [Math.round(fake.peer.receivedAt[i] - start)]
          : []
      );
      ctx.note(`unasked Presences at ${times.join(", ")} ms`);
      ctx.must(times.length >= 3, "at least three Presences", `${times.length}`);
      const gaps = [times[0], ...times.slice(1).map((x, i) => x - times[i])];
      ctx.must(
        gaps.every((g) => g <= 1.5 * t.peerHeartbeatCycle + t.slack),
        `no gap above ${1.5 * t.peerHeartbeatCycle + t.slack} ms`,
        `gaps ${gaps.join(", ")} ms`,
      );
    },
  },
  {
    id: "enrp/registrar/presence/checksum",
    ref: "RFC 5353 §3.6.1, RFC 5354 §3.15",
    requirement:
      "The PE Checksum in a registrar's Presence is the Internet checksum over the pool handles and identifiers of the elements it owns (Internet-32 in the next-generation profile).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 4 * t.peerHeartbeatCycle,
    async run(ctx) {
      const handle = ctx.poolHandle();
      const ids = await registerMany(ctx, handle, 3);
      const fake = await FakeRegistrar.join(ctx);
      await checksumAgainstTable(ctx, fake, "", (owned) => {
        for (const id of ids) {
          ctx.must(
            owned.some((e) => e.element.identifier === id),
            `PE ${hexId(id)} among the target's own elements`,
            "missing",
          );
        }
      });
    },
  },
  {
    id: "enrp/registrar/list/response",
    ref: "RFC 5353 §3.2.2.2, §2.6",
    requirement: "A List Request is answered with a List Response.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      fake.send({ type: "ListRequest" });
      const r = await ctx.expecting(() =>
        fake.peer.expectType("ListResponse", ctx.answerTime, "a List Response")
      );
      ctx.should(!r.reject, "no Reject flag", "R=1");
    },
  },
  {
    id: "enrp/registrar/handle-table/response",
    ref: "RFC 5353 §3.2.3, §2.3",
    requirement:
      "A Handle Table Request is answered with the registrar's handle table: every element, with its Home Registrar Identifier and (for RSPLIB peers, required) its ASAP Transport.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 4 * t.peerHeartbeatCycle,
    async run(ctx) {
      const handle = ctx.poolHandle();
      const ids = await registerMany(ctx, handle, 3);
      const fake = await FakeRegistrar.join(ctx);
      const elements = tableElements(await fake.handleTableOf(false));
      for (const id of ids) {
        const e = elements.find((x) => x.element.identifier === id);
        if (e === undefined) return ctx.fail(`PE ${hexId(id)} in the handle table`, "missing");
        ctx.must(sameBytes(e.handle, handle), "under its pool handle", "another pool");
        ctx.must(
          e.element.homeRegistrarId === fake.targetId,
          "the target as its home",
          hexId(e.element.homeRegistrarId),
        );
        ctx.should(e.element.asapTransport !== undefined, "an ASAP Transport", "none");
      }
    },
  },
  {
    id: "enrp/registrar/handle-table/paging",
    ref: "RFC 5353 §2.3, §3.2.3",
    requirement:
      "A handle table larger than one response is sent in pages of at most the target's page size, every one but the last with the More-to-send flag; following it yields every element exactly once (SHOULD: each pool once per page, with its elements together).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => 20 * t.slack + 20000,
    async run(ctx) {
      // Many pools, registered out of handle order, so that pages end inside pools and
      // pools in any order but the handles' would show.
      const handles = [..."kdhalbgjcfie"].map((x) => ctx.poolHandle(x));
      const per = Math.ceil((2 * ctx.timers.handleTablePage + 5) / handles.length);
      const ids: Identifier[] = [];
      for (const h of handles) ids.push(...await registerMany(ctx, h, per));
      const fake = await FakeRegistrar.join(ctx);
      const pages = await fake.handleTableOf(false);
      const listed = tableIds(pages);
      const mine = new Set(ids);
      const seen = listed.filter((id) => mine.has(id));
      ctx.note(`${pages.length} page(s), ${listed.length} element(s) in all`);
      ctx.must(
        new Set(seen).size === ids.length,
        `all ${ids.length} elements`,
        `${new Set(seen).size}`,
      );
      ctx.must(
        seen.length === ids.length,
        "each element once",
        `${seen.length - new Set(seen).size} duplicate(s)`,
      );
      const sizes = pages.map((p) => p.pools.reduce((n, pool) => n + pool.poolElements.length, 0));
      ctx.note(`page sizes ${sizes.join(", ")} (the target's page: ${ctx.timers.handleTablePage})`);
      ctx.must(
        sizes.every((n) => n <= ctx.timers.handleTablePage),
        `no page above ${ctx.timers.handleTablePage} elements`,
        sizes.join(", "),
      );
      ctx.must(
        pages.slice(0, -1).every((p) => p.moreToSend) && !pages[pages.length - 1].moreToSend,
        "the More-to-send flag on every page but the last",
        pages.map((p) => (p.moreToSend ? "M=1" : "M=0")).join(", "),
      );
      const repeated = new Set<string>();
      pages.forEach((p, i) =>
        p.pools.forEach((pool, j) => {
          if (p.pools.findIndex((q) => sameBytes(q.poolHandle, pool.poolHandle)) < j) {
            repeated.add(`page ${i + 1}: "${bytesToJson(pool.poolHandle)}"`);
          }
        })
      );
      ctx.should(
        repeated.size === 0,
        "each pool at most once per page, its elements together",
        `listed again: ${[...repeated].join(", ")}`,
      );
      ctx.should(
        sizes.slice(0, -1).every((n) => n === ctx.timers.handleTablePage),
        `every page but the last full (${ctx.timers.handleTablePage} elements)`,
        sizes.join(", "),
      );
    },
  },
  {
    id: "enrp/registrar/handle-table/own-children-only",
    ref: "RFC 5353 §2.2, §3.6.3",
    requirement:
      "A Handle Table Request with the Own-children-only flag is answered with the elements the registrar owns, without those it learnt from peers.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const handle = ctx.poolHandle();
      const ids = await registerMany(ctx, handle, 2);
      const fake = await FakeRegistrar.join(ctx);
      const foreign = fake.ownElement(ctx.poolHandle("f"), undefined);
      fake.update("add", ctx.poolHandle("f"), foreign);
      await eventually(
        ctx,
        await ctx.asap(),
        ctx.poolHandle("f"),
        (r) => idsOf(r).includes(foreign.identifier),
        "the peer's element learnt",
        ctx.answerTime,
      );
      const listed = tableIds(await fake.handleTableOf(true));
      for (const id of ids) ctx.must(listed.includes(id), `own element ${hexId(id)}`, "missing");
      ctx.must(
        !listed.includes(foreign.identifier),
        "no element owned by a peer",
        `${hexId(foreign.identifier)} listed`,
      );
    },
  },
  {
    id: "enrp/registrar/handle-update/propagate-add",
    ref: "RFC 5353 §3.3.1, §3.3.2, RFC 5352 §3.1, draft-dreibholz-rserpool-enrp-takeover",
    requirement:
      "When an element registers, its home registrar sends its peers a Handle Update (ADD_PE) with the element, itself as the home, the Takeover-suggested flag clear; SHOULD: with the element's ASAP endpoint as its ASAP Transport: the registration connection's remote end, or (over TCP, home-keepalive) a DATA PLUS CONTROL user transport.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const pe = await ctx.asap();
      const local = pe.local;
      const overSctp = ctx.config.asap?.transport === "SCTP";
      // The registration connection's remote end, as the target sees it (RFC 5352 §3.1).
      const remoteEnd = (a: TransportParameter) =>
        local !== undefined && a.type === (overSctp ? "SCTP" : "TCP") && a.port === local.port &&
        a.addresses.includes(local.address);
      const control = ctx.config.features.has("home-keepalive") && !overSctp;
      const sctpUser: TransportParameter = {
        type: "SCTP",
        port: 20000 + Math.floor(Math.random() * 20000),
        transportUse: TransportUse.DataPlusControl,
        addresses: [ctx.config.listenHost],
      };
      const tcpUser = ctx.userTransport(undefined, true);
      const variants: {
        what: string;
        transport: TransportParameter;
        expected: string;
        holds: (a: TransportParameter) => boolean;
      }[] = [
        {
          what: "a DATA ONLY user transport",
          transport: ctx.userTransport(),
          expected: `the registration connection's remote end (port ${local?.port})`,
          holds: remoteEnd,
        },
        ...(overSctp || control
          ? [
            {
              what: "a TCP DATA PLUS CONTROL user transport",
              transport: tcpUser,
              expected: overSctp
                ? `the registration association's remote end (port ${local?.port})`
                : "the user transport itself (docs/transports.md)",
              holds: overSctp ? remoteEnd : (a: TransportParameter) => sameTransport(a, tcpUser),
            },
            {
              what: "an SCTP DATA PLUS CONTROL user transport",
              transport: sctpUser,
              expected: overSctp
                ? `the registration association's remote end (port ${local?.port})`
                : "the user transport itself, Transport Use DATA ONLY (docs/transports.md)",
              holds: overSctp
                ? remoteEnd
                : (a: TransportParameter) =>
                  sameTransport(a, { ...sctpUser, transportUse: TransportUse.DataOnly }),
            },
          ]
          : []),
      ];
      for (const [i, v] of variants.entries()) {
        const handle = ctx.poolHandle(`${i}`);
        const id = ctx.identifier();
        pe.answerKeepAlives(handle, id);
        const r = await registerAt(ctx, pe, handle, id, { transport: v.transport });
        if (r.reject && i > 0) {
          ctx.note(
            `registration with ${v.what} refused (${causes(r.operationError)}): not checked`,
          );
          continue;
        }
        ctx.must(!r.reject, `registration of ${hexId(id)} accepted`, causes(r.operationError));
        const u = await ctx.expecting(() =>
          fake.peer.expectType(
            "HandleUpdate",
            ctx.answerTime,
            `a Handle Update for ${hexId(id)}`,
            (m) => m.poolElement.identifier === id,
          )
        );
        ctx.must(
          u.updateAction === UpdateAction.AddPoolElement,
          "ADD_PE",
          `action ${u.updateAction}`,
        );
        ctx.must(sameBytes(u.poolHandle, handle), "its pool handle", "another");
        ctx.must(
          u.poolElement.homeRegistrarId === fake.targetId,
          "the target as its home",
          hexId(u.poolElement.homeRegistrarId),
        );
        ctx.must(
          !u.takeoverSuggested,
          "the Takeover-suggested flag clear (no takeover suggested)",
          "T=1",
        );
        const a = u.poolElement.asapTransport;
        ctx.should(a !== undefined, "an ASAP Transport (RSPLIB peers require it)", "none");
        if (a !== undefined) {
          ctx.should(
            v.holds(a),
            `for an element with ${v.what}: ${v.expected} as its ASAP Transport`,
            describeTransport(a),
          );
        }
      }
      if (!control && !overSctp) {
        ctx.note("home-keepalive not claimed: DATA PLUS CONTROL ASAP endpoints not checked");
      }
    },
  },
  {
    id: "enrp/registrar/handle-update/propagate-del",
    ref: "RFC 5353 §3.3.1, §3.3.2, draft-dreibholz-rserpool-enrp-takeover",
    requirement:
      "When an element deregisters, its home registrar sends its peers a Handle Update (DEL_PE), the Takeover-suggested flag clear.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const pe = await ctx.asap();
      const id = ctx.identifier();
      pe.answerKeepAlives(handle, id);
      await registerOk(ctx, pe, handle, id);
      await ctx.expecting(() =>
        fake.peer.expectType(
          "HandleUpdate",
          ctx.answerTime,
          "the ADD_PE",
          (m) => m.poolElement.identifier === id,
        )
      );
      pe.send({ type: "Deregistration", poolHandle: handle, poolElementId: id });
      const u = await ctx.expecting(() =>
        fake.peer.expectType(
          "HandleUpdate",
          ctx.answerTime,
          `a Handle Update removing ${hexId(id)}`,
          (m) => m.poolElement.identifier === id,
        )
      );
      ctx.must(
        u.updateAction === UpdateAction.DeletePoolElement,
        "DEL_PE",
        `action ${u.updateAction}`,
      );
      ctx.must(
        !u.takeoverSuggested,
        "the Takeover-suggested flag clear (no takeover suggested)",
        "T=1",
      );
    },
  },
  {
    id: "enrp/registrar/handle-update/foreign-home-claims-ignored",
    ref: "RFC 5353 §3.3.1, RFC 5352 §3.1",
    requirement:
      "A Handle Update (ADD_PE) from a peer that names the registrar itself as the element's home (an element that never registered with it), or no home at all (identifier 0), adds nothing: only the registrar makes itself an element's home, by a registration.",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const target = fake.targetId;
      if (target === undefined) ctx.unsupported("the target's identifier is unknown (no Presence)");
      const self = fake.ownElement(handle, undefined, { home: target });
      const none = fake.ownElement(handle, undefined, { home: ctx.zero });
      const control = fake.ownElement(handle, undefined);
      fake.freeze();
      for (const e of [self, none, control]) fake.update("add", handle, e);
      const pu = await ctx.asap();
      const r = await eventually(
        ctx,
        pu,
        handle,
        (r) => idsOf(r).includes(control.identifier),
        "the element the peer owns resolvable",
        ctx.answerTime,
      );
      const listed = idsOf(await resolveAt(ctx, pu, handle, 0xffffffff));
      ctx.note(`listed: ${listed.map(hexId).join(", ")} (${r.poolElements.length} first)`);
      ctx.should(
        !listed.includes(self.identifier),
        "no element whose Handle Update names the registrar itself as its home",
        `${hexId(self.identifier)} listed`,
      );
      ctx.should(
        !listed.includes(none.identifier),
        "no element whose Handle Update names no home (identifier 0)",
        `${hexId(none.identifier)} listed`,
      );
      // The same elements in the peer's handle table: its Presence checksum counts all
      // three, so the registrar asks for the table (an audit) and gets them there.
      fake.freeze();
      const since = fake.tableRequests.length;
      fake.presence(false);
      const asked = await waitFor(
        ctx,
        () => fake.tableRequests.length > since,
        ctx.answerTime,
      );
      if (!asked) {
        ctx.note("no Handle Table Request after a Presence with another checksum (no audit)");
        return;
      }
      await ctx.sleep(Math.min(ctx.answerTime, 300));
      const again = idsOf(await resolveAt(ctx, pu, handle, 0xffffffff));
      ctx.should(
        !again.includes(self.identifier) && !again.includes(none.identifier),
        "none of them learnt from the peer's Handle Table Response either",
        again.map(hexId).join(", "),
      );
    },
  },
  {
    id: "enrp/registrar/handle-update/accept-add",
    ref: "RFC 5353 §3.3.1",
    requirement:
      "A Handle Update (ADD_PE) from a peer makes the element resolvable, with the peer as its home, by itself (no resynchronisation needed); without the Takeover-suggested flag the registrar does not claim it (no Endpoint Keep-Alive to its ASAP endpoint).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const elementEndpoint = await ctx.listen("session");
      const e = fake.ownElement(handle, elementEndpoint);
      // A resynchronisation would find the table as it was: without the element.
      fake.freeze();
      const since = ctx.elapsed();
      fake.update("add", handle, e);
      const r = await eventually(
        ctx,
        await ctx.asap(),
        handle,
        (r) => idsOf(r).includes(e.identifier),
        "the element resolvable",
        ctx.answerTime,
      );
      ctx.must(
        element(r.poolElements, e.identifier)!.homeRegistrarId === fake.id,
        "the peer as its home",
        hexId(element(r.poolElements, e.identifier)!.homeRegistrarId),
      );
      fake.requireNoResync(since, "the element learnt from the Handle Update");
      // The peer stays the element's only home (RFC 5351): nobody else claims it.
      await ctx.sleep(ctx.answerTime);
      const claims = elementEndpoint.accepted.flatMap((p) =>
        p.received.filter((m) => m.type === "EndpointKeepAlive")
      );
      ctx.must(
        claims.length === 0,
        "no Endpoint Keep-Alive to the element's ASAP endpoint (no claim without the Takeover-suggested flag)",
        `${claims.length} over ${elementEndpoint.accepted.length} connection(s)`,
      );
    },
  },
  {
    id: "enrp/registrar/handle-update/accept-del",
    ref: "RFC 5353 §3.3.2",
    requirement:
      "A Handle Update (DEL_PE) from a peer removes the element, by itself (no resynchronisation needed), and leaves the peer's others.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const keep = fake.ownElement(handle, undefined);
      const gone = fake.ownElement(handle, undefined);
      fake.update("add", handle, keep);
      fake.update("add", handle, gone);
      const pu = await ctx.asap();
      await eventually(
        ctx,
        pu,
        handle,
        (r) => idsOf(r).includes(gone.identifier) && idsOf(r).includes(keep.identifier),
        "both elements resolvable",
        ctx.answerTime,
      );
      // A resynchronisation would find the table as it was: with the element.
      fake.freeze();
      const since = ctx.elapsed();
      fake.update("delete", handle, gone);
      await eventually(
        ctx,
        pu,
        handle,
        (r) => !idsOf(r).includes(gone.identifier) && idsOf(r).includes(keep.identifier),
        "the deleted element gone, the other kept",
        ctx.answerTime,
      );
      fake.requireNoResync(since, "the element removed by the Handle Update");
    },
  },
  {
    id: "enrp/registrar/handle-update/unknown-action",
    ref: "RFC 5353 §2.4 (Update Action: 0 ADD_PE, 1 DEL_PE)",
    requirement:
      "A Handle Update with an Update Action other than ADD_PE and DEL_PE neither adds the element it carries nor removes one the peer owns (RSPLIB ignores it); the next ADD_PE is applied as usual.",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const kept = fake.ownElement(handle, undefined);
      const stranger = fake.ownElement(handle, undefined);
      const marker = fake.ownElement(handle, undefined);
      fake.update("add", handle, kept);
      const pu = await ctx.asap();
      await eventually(
        ctx,
        pu,
        handle,
        (r) => idsOf(r).includes(kept.identifier),
        "the peer's element resolvable",
        ctx.answerTime,
      );
      // The fake's checksum stays over what it owns: no audit can add or remove anything.
      for (const [action, e] of [[2, stranger], [0xffff, stranger], [2, kept]] as const) {
        fake.send({
          type: "HandleUpdate",
          takeoverSuggested: false,
          updateAction: action,
          poolHandle: handle,
          poolElement: e,
        });
      }
      ctx.note("Update Actions 2 and 0xffff for a new element, 2 for an existing one");
      // Messages on one connection are handled in order: once the marker is there,
      // the unknown actions have been handled too.
      fake.update("add", handle, marker);
      const r = await eventually(
        ctx,
        pu,
        handle,
        (r) => idsOf(r).includes(marker.identifier),
        "the element of the ADD_PE after them resolvable",
        ctx.answerTime,
      );
      ctx.should(
        !idsOf(r).includes(stranger.identifier),
        "no element added by an unknown Update Action",
        `element ${hexId(stranger.identifier)} listed`,
      );
      ctx.should(
        idsOf(r).includes(kept.identifier),
        "no element removed by an unknown Update Action",
        `element ${hexId(kept.identifier)} gone`,
      );
    },
  },
  {
    id: "enrp/registrar/list/rejecting-response-not-used",
    ref: "RFC 5353 §2.6 (R bit), §3.2.2",
    requirement:
      "A List Response with the Reject flag carries no list the registrar acts on: it contacts none of the servers in it (RSPLIB ignores such a response).",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + t.peerHeartbeatCycle,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const listed = await ctx.listen("enrp");
      const listedId = ctx.identifier();
      fake.send({
        type: "ListResponse",
        reject: true,
        servers: [ctx.serverInformation(listedId, listed.endpoint)],
      });
      ctx.note(`a rejecting List Response naming ${hexId(listedId)} at a listener of the suite`);
      const waited = ctx.answerTime + ctx.timers.peerHeartbeatCycle + ctx.timers.slack;
      await ctx.sleep(waited);
      ctx.should(
        listed.accepted.length === 0,
        "no connection to a server named only in a rejecting List Response",
        `${listed.accepted.length} connection(s) within ${waited} ms`,
      );
    },
  },
  {
    id: "enrp/registrar/audit/resync",
    ref: "RFC 5353 §3.6.2, §3.6.3",
    requirement:
      "When a peer's Presence carries a checksum other than the one computed over what that peer owns, the registrar asks the peer for its own elements (Own-children-only) and drops what the peer no longer has.",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const kept = fake.ownElement(handle, undefined);
      const lost = fake.ownElement(handle, undefined);
      fake.update("add", handle, kept);
      fake.update("add", handle, lost);
      const pu = await ctx.asap();
      await eventually(
        ctx,
        pu,
        handle,
        (r) => idsOf(r).length === 2,
        "both elements learnt",
        ctx.answerTime,
      );
      // The peer "forgets" one element without telling: only its checksum says so.
      fake.elements = fake.elements.filter((e) => e.element.identifier !== lost.identifier);
      fake.peer.inbox.length = 0;
      fake.presence(false);
      const request = await ctx.expecting(() =>
        fake.peer.expectType(
          "HandleTableRequest",
          ctx.answerTime,
          "a Handle Table Request after the checksum mismatch",
        )
      );
      ctx.should(request.ownChildrenOnly, "the Own-children-only flag", "W=0");
      await eventually(
        ctx,
        pu,
        handle,
        (r) => !idsOf(r).includes(lost.identifier) && idsOf(r).includes(kept.identifier),
        "the forgotten element dropped, the other kept",
        ctx.answerTime,
      );
    },
  },
  {
    id: "enrp/registrar/presence/server-information",
    ref: "RFC 5353 §2.1, §3.4.1",
    requirement:
      "A registrar's Presence names it consistently: its Server Information carries its own identifier and its ENRP endpoint's port, and it is the identifier its elements list as their home.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 2 * t.peerHeartbeatCycle,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const p = await fake.prompt(() => fake.presence(true));
      if (p === undefined) return ctx.fail("a Presence in answer", "none");
      const info = p.serverInformation;
      if (info === undefined) return ctx.fail("Server Information", "none");
      ctx.must(
        info.registrarId === p.sendingRegistrarId,
        "the Server Information's identifier equal to the sender's",
        `${hexId(info.registrarId)} vs ${hexId(p.sendingRegistrarId)}`,
      );
      const enrp = ctx.config.enrp!;
      ctx.must(
        info.transport.port === enrp.port,
        `its ENRP port ${enrp.port} in the Server Information`,
        `${info.transport.type} port ${info.transport.port}`,
      );
      const handle = ctx.poolHandle();
      const [id] = await registerMany(ctx, handle, 1);
      const listed = element((await resolveAt(ctx, await ctx.asap(), handle)).poolElements, id);
      ctx.must(
        listed?.homeRegistrarId === p.sendingRegistrarId,
        "the same identifier as home of the elements registered with it",
        listed === undefined ? "not listed" : hexId(listed.homeRegistrarId),
      );
    },
  },
  {
    id: "enrp/registrar/presence/probe-silent-peer",
    ref: "RFC 5353 §3.4.3",
    requirement:
      "A peer not heard from for max-time-last-heard is sent a Presence with the Reply-required flag.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => t.maxTimeLastHeard + 2 * t.peerHeartbeatCycle + 8 * t.slack + 8000,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const joined = ctx.elapsed();
      const t = ctx.timers;
      const within = t.maxTimeLastHeard + t.peerHeartbeatCycle + 2 * t.slack;
      await waitFor(ctx, () => fake.probes.some((at) => at > joined), within);
      const probe = fake.probes.find((at) => at > joined);
      ctx.must(
        probe !== undefined,
        `a Presence with the Reply-required flag within ${within} ms of silence`,
        "none",
      );
      ctx.note(
        `probed ${
          probe! - joined
        } ms after the peer's last message (max-time-last-heard ${t.maxTimeLastHeard} ms)`,
      );
    },
  },
  {
    id: "enrp/registrar/presence/checksum-follows-changes",
    ref: "RFC 5353 §3.6.1",
    requirement:
      "The checksum in a registrar's Presences follows its handlespace: it counts an element registered since, and no longer counts one deregistered.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 4 * t.peerHeartbeatCycle,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const pe = await ctx.asap();
      const id = ctx.identifier();
      pe.answerKeepAlives(handle, id);
      const checkAgainstTable = (what: string, present: boolean) =>
        checksumAgainstTable(ctx, fake, what, (owned) =>
          ctx.must(
            owned.some((e) => e.element.identifier === id) === present,
            `the element ${present ? "among" : "not among"} the target's own elements ${what}`,
            present ? "missing" : "still there",
          ));
      await registerOk(ctx, pe, handle, id);
      await checkAgainstTable("after the registration", true);
      pe.send({ type: "Deregistration", poolHandle: handle, poolElementId: id });
      await ctx.expecting(() => pe.expectType("DeregistrationResponse", ctx.answerTime));
      await checkAgainstTable("after the deregistration", false);
    },
  },
  {
    id: "enrp/registrar/presence/checksum-follows-every-change",
    ref: "RFC 5353 §3.6.1, §3.2.3, §2.3",
    requirement:
      "The registrar's own handle table and its Presence checksum follow every kind of change: an element added to a pool already listed, a new pool, a re-registration (counted once), a deregistration from a pool that stays, and the last element of a pool leaving.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => 2 * quick(t) + 10 * t.peerHeartbeatCycle,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const [p, q] = [ctx.poolHandle("p"), ctx.poolHandle("q")];
      const pe = await ctx.asap();
      const [a, b, c] = [ctx.identifier(), ctx.identifier(), ctx.identifier()];
      pe.answerKeepAlives(p, a, b);
      pe.answerKeepAlives(q, c);
      const name = (id: Identifier) => id === a ? "A" : id === b ? "B" : id === c ? "C" : hexId(id);
      const expect = (what: string, ids: readonly Identifier[]) =>
        checksumAgainstTable(ctx, fake, what, (owned) => {
          // Its elements in P and Q (earlier cases may have left others registered).
          const listed = owned.filter((e) => sameBytes(e.handle, p) || sameBytes(e.handle, q))
            .map((e) => e.element.identifier);
          ctx.must(
            listed.length === ids.length && ids.every((id) => listed.includes(id)),
            `its own elements ${what}: ${ids.map(name).join(", ")}, each once`,
            listed.map(name).join(", ") || "none",
          );
        });
      await registerOk(ctx, pe, p, a, { policy: { type: "LeastUsed", load: 1000 } });
      await expect("after A registered in pool P", [a]);
      await registerOk(ctx, pe, p, b, { policy: { type: "LeastUsed", load: 2000 } });
      await registerOk(ctx, pe, q, c, { policy: { type: "LeastUsed", load: 3000 } });
      await expect("after B joined P and C a new pool Q", [a, b, c]);
      await registerOk(ctx, pe, p, a, { policy: { type: "LeastUsed", load: 5000 } });
      await expect("after A re-registered", [a, b, c]);
      for (const [h, id, after] of [[p, b, [a, c]], [q, c, [a]]] as const) {
        pe.send({ type: "Deregistration", poolHandle: h, poolElementId: id });
        await ctx.expecting(() => pe.expectType("DeregistrationResponse", ctx.answerTime));
        await expect(`after ${name(id)} deregistered`, after);
      }
    },
  },
  {
    id: "enrp/registrar/presence/checksum-follows-moves",
    ref: "RFC 5353 §3.6.1, §3.3.1, §3.6.2",
    requirement:
      "When an element moves home (a peer's Handle Update names the peer as its new home, or it re-registers here again), the registrar's own checksum and handle table drop or count it, and what it holds for the peer follows too: the peer's Presences, counting the element while the peer is its home, start no resynchronisation.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => 4 * quick(t) + 4 * t.peerHeartbeatCycle,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const pe = await ctx.asap();
      const [moving, staying] = [ctx.identifier(), ctx.identifier()];
      pe.answerKeepAlives(handle, moving, staying);
      await registerOk(ctx, pe, handle, moving);
      await registerOk(ctx, pe, handle, staying);
      const pu = await ctx.asap();
      const listed = element((await resolveAt(ctx, pu, handle, 0xffffffff)).poolElements, moving);
      ctx.must(listed !== undefined, "the element registered", "not listed");
      const owns = (what: string, yes: boolean) =>
        checksumAgainstTable(ctx, fake, what, (owned) => {
          const ids = owned.filter((e) => sameBytes(e.handle, handle)).map((e) =>
            e.element.identifier
          );
          ctx.must(
            ids.includes(staying) && ids.includes(moving) === yes,
            `its own elements ${what}: ${yes ? "both" : "only the one that stayed"}`,
            ids.map(hexId).join(", ") || "none",
          );
        });
      await owns("before the move", true);
      const since = ctx.elapsed();
      const local = pe.local;
      const asapTransport = local === undefined ? undefined : transportParameter(
        { address: local.address, port: local.port, transport: local.transport ?? "TCP" },
        TransportUse.DataOnly,
      );
      fake.update("add", handle, {
        ...listed!,
        homeRegistrarId: fake.id,
        ...(asapTransport === undefined ? {} : { asapTransport }),
      });
      await eventually(
        ctx,
        pu,
        handle,
        (r) => element(r.poolElements, moving)?.homeRegistrarId === fake.id,
        `the element listed with the peer ${hexId(fake.id)} as its home`,
        ctx.answerTime,
      );
      await owns("after the element moved to the peer", false);
      fake.requireNoResync(since, "the peer's checksum, now counting the element, agreed");
      // Back home here: the peer no longer counts it.
      fake.elements = fake.elements.filter((e) => e.element.identifier !== moving);
      await registerOk(ctx, pe, handle, moving);
      await owns("after the element re-registered here", true);
      fake.requireNoResync(since, "the peer's checksum, no longer counting the element, agreed");
    },
  },
  {
    id: "enrp/registrar/list/response-content",
    ref: "RFC 5353 §3.2.2.2, §2.6",
    requirement:
      "A List Response names the peers the registrar knows: another peer that joined appears with its identifier and its ENRP endpoint.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const asking = await FakeRegistrar.join(ctx);
      const other = await FakeRegistrar.join(ctx);
      asking.send({ type: "ListRequest" });
      const r = await ctx.expecting(() =>
        asking.peer.expectType("ListResponse", ctx.answerTime, "a List Response")
      );
      ctx.must(!r.reject, "no Reject flag", "R=1");
      const entry = r.servers.find((x) => x.registrarId === other.id);
      ctx.must(
        entry !== undefined,
        `the other peer ${hexId(other.id)} listed`,
        `listed: ${r.servers.map((x) => hexId(x.registrarId)).join(", ") || "nobody"}`,
      );
      ctx.must(
        entry!.transport.port === other.listener.endpoint.port,
        `its ENRP endpoint (port ${other.listener.endpoint.port})`,
        `port ${entry!.transport.port}`,
      );
    },
  },
  {
    id: "enrp/registrar/handle-table/learnt-elements",
    ref: "RFC 5353 §3.2.3",
    requirement:
      "A full Handle Table Request (Own-children-only clear) is answered with the elements learnt from other peers too, each with its own home.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const owner = await FakeRegistrar.join(ctx);
      const asking = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const e = owner.ownElement(handle, undefined);
      owner.update("add", handle, e);
      await eventually(
        ctx,
        await ctx.asap(),
        handle,
        (r) => idsOf(r).includes(e.identifier),
        "the element learnt",
        ctx.answerTime,
      );
      const listed = tableElements(await asking.handleTableOf(false)).find((x) =>
        x.element.identifier === e.identifier
      );
      ctx.must(listed !== undefined, "the other peer's element in the table", "missing");
      ctx.must(
        listed!.element.homeRegistrarId === owner.id,
        `its home ${hexId(owner.id)}`,
        hexId(listed!.element.homeRegistrarId),
      );
    },
  },
  {
    id: "enrp/registrar/handle-update/propagate-update",
    ref: "RFC 5353 §3.3.1, RFC 5352 §3.1",
    requirement:
      "When an element re-registers with new values (a new load), its home registrar sends its peers a Handle Update (ADD_PE) with them.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const pe = await ctx.asap();
      const id = ctx.identifier();
      pe.answerKeepAlives(handle, id);
      const load = (l: number) => ({ type: "LeastUsed" as const, load: l });
      await registerOk(ctx, pe, handle, id, { policy: load(0x10000000) });
      await ctx.expecting(() =>
        fake.peer.expectType(
          "HandleUpdate",
          ctx.answerTime,
          "the first ADD_PE",
          (m) => m.poolElement.identifier === id,
        )
      );
      await registerOk(ctx, pe, handle, id, { policy: load(0xb0000000) });
      const u = await ctx.expecting(() =>
        fake.peer.expectType(
          "HandleUpdate",
          ctx.answerTime,
          "a Handle Update after the re-registration",
          (m) => m.poolElement.identifier === id,
        )
      );
      ctx.must(
        u.updateAction === UpdateAction.AddPoolElement,
        "ADD_PE",
        `action ${u.updateAction}`,
      );
      const p = u.poolElement.policy;
      ctx.must(
        p.type === "LeastUsed" && p.load === 0xb0000000,
        "the new load 0xb0000000",
        JSON.stringify(p),
      );
    },
  },
  {
    id: "enrp/registrar/handle-update/propagate-keepalive-removal",
    ref: "RFC 5353 §3.3.2, RFC 5352 §3.4",
    requirement:
      "When an element is removed because it left a keep-alive unanswered, its home registrar sends its peers a Handle Update (DEL_PE).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => 2 * (t.keepAliveInterval + t.keepAliveTimeout) + 6 * t.slack + 8000,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const pe = await ctx.asap(); // never answers keep-alives
      const id = ctx.identifier();
      await registerOk(ctx, pe, handle, id);
      const t = ctx.timers;
      const u = await ctx.expecting(() =>
        fake.peer.expectType(
          "HandleUpdate",
          t.keepAliveInterval + t.keepAliveTimeout + 3 * t.slack,
          "a DEL_PE for the silent element",
          (m) => m.poolElement.identifier === id && m.updateAction !== UpdateAction.AddPoolElement,
        )
      );
      ctx.must(
        u.updateAction === UpdateAction.DeletePoolElement,
        "DEL_PE",
        `action ${u.updateAction}`,
      );
      // Timed by the ENRP clock: from the last keep-alive the element left unanswered.
      const deletedAt = fake.peer.receivedAt[fake.peer.received.indexOf(u)];
      const kept = pe.received.flatMap((m, i) =>
        m.type === "EndpointKeepAlive" && pe.receivedAt[i] <= deletedAt ? [pe.receivedAt[i]] : []
      );
      const gap = Math.round(deletedAt - kept[kept.length - 1]);
      const late = Math.max(100, t.slack / 4);
      ctx.must(
        kept.length > 0 && gap >= t.keepAliveTimeout - 50,
        `not removed before the keep-alive timeout (${t.keepAliveTimeout} ms) after the keep-alive`,
        kept.length === 0 ? "no keep-alive before it" : `DEL_PE ${gap} ms after it`,
      );
      ctx.should(
        gap <= t.keepAliveTimeout + late,
        `removed within ${late} ms of the keep-alive timeout (${t.keepAliveTimeout} ms)`,
        `DEL_PE ${gap} ms after the keep-alive`,
      );
    },
  },
  {
    id: "enrp/registrar/handle-update/propagate-unreachable-removal",
    ref: "RFC 5353 §3.3.2, RFC 5352 §3.5",
    requirement:
      "When an element is removed after MAX-BAD-PE-REPORT unreachable reports, its home registrar sends its peers a Handle Update (DEL_PE).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const [id] = await registerMany(ctx, handle, 1);
      const pu = await ctx.asap();
      for (let i = 0; i < ctx.timers.maxBadPeReports; i++) {
        pu.send({ type: "EndpointUnreachable", poolHandle: handle, poolElementId: id });
      }
      const u = await ctx.expecting(() =>
        fake.peer.expectType(
          "HandleUpdate",
          ctx.answerTime,
          "a DEL_PE for the unreachable element",
          (m) => m.poolElement.identifier === id && m.updateAction !== UpdateAction.AddPoolElement,
        )
      );
      ctx.must(
        u.updateAction === UpdateAction.DeletePoolElement,
        "DEL_PE",
        `action ${u.updateAction}`,
      );
    },
  },
  {
    id: "enrp/registrar/handle-update/accept-update",
    ref: "RFC 5353 §3.3.1",
    requirement:
      "A Handle Update (ADD_PE) for an element the registrar has replaces its attributes (here its load and its ASAP Transport), by itself (no resynchronisation needed).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const e = fake.ownElement(handle, undefined, {
        policy: { type: "LeastUsed", load: 0x10000000 },
      });
      fake.update("add", handle, e);
      const pu = await ctx.asap();
      await eventually(
        ctx,
        pu,
        handle,
        (r) => idsOf(r).includes(e.identifier),
        "the element learnt",
        ctx.answerTime,
      );
      fake.freeze();
      const since = ctx.elapsed();
      // Its ASAP endpoint moved too (another port).
      const moved = e.asapTransport === undefined ? undefined : {
        ...e.asapTransport,
        port: e.asapTransport.port === 65535 ? 65534 : e.asapTransport.port + 1,
      };
      fake.update("add", handle, {
        ...e,
        policy: { type: "LeastUsed", load: 0xc0000000 },
        ...(moved === undefined ? {} : { asapTransport: moved }),
      });
      await eventually(
        ctx,
        pu,
        handle,
        (r) => {
          const p = element(r.poolElements, e.identifier)?.policy;
          return p?.type === "LeastUsed" && p.load === 0xc0000000;
        },
        "the element listed with its new load 0xc0000000",
        ctx.answerTime,
      );
      fake.requireNoResync(since, "the new load learnt from the Handle Update");
      if (moved !== undefined) {
        // Its full handle table tells what the target keeps for it.
        const kept = tableElements(await fake.handleTableOf(false))
          .find((x) => x.element.identifier === e.identifier)?.element.asapTransport;
        ctx.must(
          kept?.port === moved.port,
          `the new ASAP Transport (port ${moved.port}) in the target's handle table`,
          kept === undefined ? "none" : `port ${kept.port}`,
        );
      }
    },
  },
  {
    id: "enrp/registrar/handle-update/move-home",
    ref: "RFC 5353 §3.3.1, RFC 5352 §3.1, §3.4",
    requirement:
      "A Handle Update (ADD_PE) naming another home for elements registered with the registrar (they moved) makes that peer their home: the registrar lists the new home and from then on sends them no keep-alives; SHOULD: nor does it remove one that had not yet answered the keep-alive it sent as the home.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => 3 * t.keepAliveInterval + t.keepAliveTimeout + 8 * t.slack + 8000,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const pe = await ctx.asap();
      const [answering, silent] = [ctx.poolHandle("a"), ctx.poolHandle("s")];
      const [idA, idS] = [ctx.identifier(), ctx.identifier()];
      pe.answerKeepAlives(answering, idA); // the element in the other pool never answers
      await registerOk(ctx, pe, answering, idA);
      await registerOk(ctx, pe, silent, idS);
      const pu = await ctx.asap();
      const moved: [Uint8Array, PoolElementParameter][] = [];
      for (const [h, id] of [[answering, idA], [silent, idS]] as const) {
        const listed = element((await resolveAt(ctx, pu, h)).poolElements, id);
        ctx.must(listed !== undefined, `element ${hexId(id)} registered`, "not listed");
        // A Handle Update names the element's ASAP endpoint (RFC 5354 §3.10; RSPLIB refuses
        // one without it, 0xf006), which a Handle Resolution Response leaves out: the one the
        // target announced for it, else the suite's end of the association it registered over.
        const announced = fake.peer.received.find((m): m is HandleUpdate =>
          m.type === "HandleUpdate" && m.poolElement.identifier === id
        )?.poolElement.asapTransport;
        const local = pe.local;
        const asapTransport = listed!.asapTransport ?? announced ??
          (local === undefined ? undefined : transportParameter(
            { address: local.address, port: local.port, transport: local.transport ?? "TCP" },
            TransportUse.DataOnly,
          ));
        moved.push([h, {
          ...listed!,
          homeRegistrarId: fake.id,
          ...(asapTransport === undefined ? {} : { asapTransport }),
        }]);
      }
      // Moved right after a keep-alive to the silent element: the wait for its Ack is running.
      const t = ctx.timers;
      const k = await receivedSince(
        ctx,
        pe,
        0,
        (m) => m.type === "EndpointKeepAlive" && sameBytes(m.poolHandle, silent),
        1.5 * t.keepAliveInterval + 2 * t.slack,
      );
      ctx.must(k !== undefined, "an Endpoint Keep-Alive to the silent element", "none");
      // A resynchronisation would find the peer's table as it was (without them): an audit
      // cannot bring back an element the registrar dropped.
      fake.freeze();
      for (const [h, e] of moved) fake.update("add", h, e);
      for (const [h, e] of moved) {
        await eventually(
          ctx,
          pu,
          h,
          (r) => element(r.poolElements, e.identifier)?.homeRegistrarId === fake.id,
          `the peer ${hexId(fake.id)} as the home of ${hexId(e.identifier)}`,
          ctx.answerTime,
        );
      }
      const seen = performance.now();
      ctx.note("both elements listed with their new home");
      await ctx.sleep(1.5 * t.keepAliveInterval + t.keepAliveTimeout + t.slack);
      // Only one already on its way when the move was seen may still arrive.
      const grace = Math.min(t.slack / 4, t.keepAliveInterval / 4);
      const more =
        pe.received.filter((m, i) =>
          m.type === "EndpointKeepAlive" && pe.receivedAt[i] > seen + grace
        ).length;
      ctx.must(
        more === 0,
        `no keep-alive from the former home more than ${grace} ms after it listed the new home`,
        `${more}`,
      );
      const listed = element((await resolveAt(ctx, pu, silent)).poolElements, idS);
      ctx.should(
        listed?.homeRegistrarId === fake.id,
        `the element that had not answered still listed with its new home ${hexId(fake.id)}`,
        listed === undefined ? "removed" : `home ${hexId(listed.homeRegistrarId)}`,
      );
    },
  },
  {
    id: "enrp/registrar/handle-update/not-echoed",
    ref: "RFC 5353 §2.4, §3.3",
    requirement:
      "Only an element's home registrar announces it: an element learnt from one peer, or its removal by that peer, is not sent on to another peer or back to its home in a Handle Update.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const owner = await FakeRegistrar.join(ctx);
      const other = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const e = owner.ownElement(handle, undefined);
      const pu = await ctx.asap();
      const echoes = (since: readonly number[]) =>
        [owner, other].filter((f, i) =>
          f.peer.received.slice(since[i]).some((m) =>
            m.type === "HandleUpdate" && m.poolElement.identifier === e.identifier
          )
        ).map((f) => (f === owner ? "its home" : "the other peer")).join(" and ");
      owner.update("add", handle, e);
      await eventually(
        ctx,
        pu,
        handle,
        (r) => idsOf(r).includes(e.identifier),
        "the element learnt",
        ctx.answerTime,
      );
      await ctx.sleep(ctx.answerTime);
      const added = echoes([0, 0]);
      ctx.must(added === "", "no Handle Update about the learnt element", `sent to ${added}`);
      const since = [owner, other].map((f) => f.peer.received.length);
      owner.update("delete", handle, e);
      await eventually(
        ctx,
        pu,
        handle,
        (r) => !idsOf(r).includes(e.identifier),
        "the element removed by its home's DEL_PE",
        ctx.answerTime,
      );
      await ctx.sleep(ctx.answerTime);
      const deleted = echoes(since);
      ctx.must(
        deleted === "",
        "no Handle Update about the element its home removed",
        `sent to ${deleted}`,
      );
    },
  },
  {
    id: "enrp/registrar/audit/consistent-no-resync",
    ref: "RFC 5353 §3.6.2",
    requirement:
      "Presences whose checksum matches what the registrar holds for that peer start no resynchronisation.",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: (t) => quick(t) + 4 * t.peerHeartbeatCycle,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      for (let i = 0; i < 2; i++) fake.update("add", handle, fake.ownElement(handle, undefined));
      await eventually(
        ctx,
        await ctx.asap(),
        handle,
        (r) => idsOf(r).length === 2,
        "both elements learnt",
        ctx.answerTime,
      );
      const since = ctx.elapsed();
      for (let i = 0; i < 3; i++) {
        fake.presence(false);
        await ctx.sleep(ctx.timers.peerHeartbeatCycle / 2);
      }
      await ctx.sleep(ctx.timers.slack);
      const asked = fake.tableRequests.filter((r) => r.at >= since).length;
      ctx.should(asked === 0, "no Handle Table Request", `${asked}`);
    },
  },
  {
    id: "enrp/registrar/audit/resync-learns-missing",
    ref: "RFC 5353 §3.6.2, §3.6.3",
    requirement:
      "When a peer's checksum counts an element the registrar never heard of, the registrar resynchronises (Own-children-only) and learns it.",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const e = fake.ownElement(handle, undefined);
      fake.elements.push({ handle, element: e }); // owned, but never announced
      fake.presence(false);
      const r = await eventually(
        ctx,
        await ctx.asap(),
        handle,
        (r) => idsOf(r).includes(e.identifier),
        "the unannounced element learnt by resynchronisation",
        ctx.answerTime + ctx.timers.slack,
      );
      ctx.should(
        fake.tableRequests.some((x) => x.ownChildrenOnly),
        "the Own-children-only flag in the request",
        fake.tableRequests.map((x) => (x.ownChildrenOnly ? "W=1" : "W=0")).join(", ") || "none",
      );
      ctx.must(
        element(r.poolElements, e.identifier)!.homeRegistrarId === fake.id,
        "the peer as its home",
        hexId(element(r.poolElements, e.identifier)!.homeRegistrarId),
      );
    },
  },
  ...([1, 2] as const).map((pages): ConformanceCase => ({
    id: pages === 1 ? "enrp/registrar/startup/mentor" : "enrp/registrar/startup/mentor-paged",
    ref: "RFC 5353 §3.2.2, §3.2.3",
    requirement: pages === 1
      ? "A registrar starting with a configured peer takes it as its mentor: it asks for the peer list (List Request), then for the whole handle table (Own-children-only clear), and serves what it got."
      : "A registrar downloading its mentor's handle table follows the More-to-send flag: it asks again until the last page, and serves the elements of every page.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => 10 * t.slack + 20_000,
    async run(ctx) {
      const driver = ctx.config.registrar ??
        ctx.unsupported("the runner cannot start a registrar here (built-in run only)");
      const listener = await ctx.listen("enrp");
      const mentorId = ctx.identifier();
      const handle = ctx.poolHandle();
      const elements = Array.from(
        { length: pages },
        () => ctx.poolElement(ctx.identifier(), { home: mentorId }),
      );
      const started = await driver.start({ peers: [listener.endpoint] });
      ctx.onCleanup(() => started.stop());
      const peer = await listener.next(
        ctx.answerTime + ctx.timers.slack,
        "the new registrar connecting to its configured peer",
      );
      let newId: Identifier | undefined;
      const order: string[] = [];
      let served = 0;
      const table = (to: Identifier, page: number): EnrpMessage => ({
        type: "HandleTableResponse",
        sendingRegistrarId: mentorId,
        receivingRegistrarId: to,
        reject: false,
        moreToSend: page < pages - 1,
        pools: [{ poolHandle: handle, poolElements: [elements[page]] }],
      });
      peer.respond((m) => {
        if (m.type === "Undecodable" || !("sendingRegistrarId" in m)) return false;
        newId ??= m.sendingRegistrarId;
        if (m.type === "Presence" && m.replyRequired) {
          peer.send({
            type: "Presence",
            sendingRegistrarId: mentorId,
            receivingRegistrarId: m.sendingRegistrarId,
            replyRequired: false,
            checksum: 0,
            serverInformation: ctx.serverInformation(mentorId, listener.endpoint),
          });
        } else if (m.type === "ListRequest") {
          order.push("List Request");
          peer.send({
            type: "ListResponse",
            sendingRegistrarId: mentorId,
            receivingRegistrarId: m.sendingRegistrarId,
            reject: false,
            servers: [],
          });
        } else if (m.type === "HandleTableRequest") {
          order.push(`Handle Table Request (W=${m.ownChildrenOnly ? 1 : 0})`);
          if (served < pages) peer.send(table(m.sendingRegistrarId, served++));
        }
        return false;
      });
      const pu = await ctx.asap(started.asap);
      await eventually(
        ctx,
        pu,
        handle,
        (r) => elements.every((e) => idsOf(r).includes(e.identifier)),
        `the mentor's ${
          pages === 1 ? "element" : "elements of both pages"
        } served by the new registrar`,
        ctx.answerTime + 2 * ctx.timers.slack,
      );
      ctx.note(
        `the new registrar ${newId === undefined ? "" : hexId(newId)} sent: ${order.join(", ")}`,
      );
      ctx.must(
        order.includes("List Request"),
        "a List Request to the mentor",
        order.join(", ") || "nothing",
      );
      const tables = order.filter((x) => x.startsWith("Handle Table"));
      ctx.must(
        tables.length >= pages && tables.every((x) => x.endsWith("(W=0)")),
        `${pages} Handle Table Request(s) for the whole table (W=0)`,
        tables.join(", ") || "none",
      );
      ctx.should(
        order.indexOf("List Request") < order.findIndex((x) => x.startsWith("Handle Table")),
        "the List Request first",
        order.join(", "),
      );
    },
  })),
  {
    id: "enrp/registrar/startup/peers-from-list",
    ref: "RFC 5353 §3.2.2.2, §3.4.1",
    requirement:
      "A starting registrar contacts the peers its mentor's List Response names (a Presence to each), so that it becomes part of the whole operational scope.",
    level: "SHOULD",
    role: "registrar-enrp",
    timeout: (t) => 10 * t.slack + 20_000,
    async run(ctx) {
      const driver = ctx.config.registrar ??
        ctx.unsupported("the runner cannot start a registrar here (built-in run only)");
      const mentor = await ctx.listen("enrp");
      const other = await ctx.listen("enrp");
      const mentorId = ctx.identifier();
      const otherId = ctx.identifier();
      const started = await driver.start({ peers: [mentor.endpoint] });
      ctx.onCleanup(() => started.stop());
      const peer = await mentor.next(
        ctx.answerTime + ctx.timers.slack,
        "the new registrar connecting to its mentor",
      );
      peer.respond((m) => {
        if (m.type === "Presence" && m.replyRequired) {
          peer.send({
            type: "Presence",
            sendingRegistrarId: mentorId,
            receivingRegistrarId: m.sendingRegistrarId,
            replyRequired: false,
            checksum: 0,
            serverInformation: ctx.serverInformation(mentorId, mentor.endpoint),
          });
        } else if (m.type === "ListRequest") {
          peer.send({
            type: "ListResponse",
            sendingRegistrarId: mentorId,
            receivingRegistrarId: m.sendingRegistrarId,
            reject: false,
            servers: [ctx.serverInformation(otherId, other.endpoint)],
          });
        } else if (m.type === "HandleTableRequest") {
          peer.send({
            type: "HandleTableResponse",
            sendingRegistrarId: mentorId,
            receivingRegistrarId: m.sendingRegistrarId,
            reject: false,
            moreToSend: false,
            pools: [],
          });
        }
        return false;
      });
      const contacted = await other.next(
        ctx.answerTime + ctx.timers.peerHeartbeatCycle + ctx.timers.slack,
        "the new registrar connecting to the peer the List Response named",
      );
      await ctx.expecting(() =>
        contacted.expectType("Presence", ctx.answerTime, "a Presence to the listed peer")
      );
    },
  },
];
