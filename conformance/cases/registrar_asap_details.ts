/**
 * Details of the registrar's ASAP side that other cases leave open: what a
 * closed registration connection announces to peers, registrations with
 * values no element can be reached by, expiries in any order, messages a
 * registrar never expects, and requests missing their mandatory parameter.
 *
 * @module
 */

import { encodeMessage } from "../../lib/protocol/codec.ts";
import { TransportUse, UpdateAction } from "../../lib/protocol/constants.ts";
import type { Identifier } from "../../lib/protocol/types.ts";
import { transportParameter } from "../../lib/runtime/endpoint.ts";
import type { ConformanceCase, TargetTimers } from "../types.ts";
import { FakeRegistrar } from "./fake_registrar.ts";
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
  waitFor,
} from "./helpers.ts";

const quick = (t: TargetTimers) => 4 * t.slack + 4000;

/** Handle Updates deleting `id` the fake received so far. */
function deletions(fake: FakeRegistrar, id: Identifier): number {
  return fake.peer.received.filter((m) =>
    m.type === "HandleUpdate" && m.poolElement.identifier === id &&
    m.updateAction === UpdateAction.DeletePoolElement
  ).length;
}

/** The cases. */
export const REGISTRAR_ASAP_DETAIL_CASES: readonly ConformanceCase[] = [
  {
    id: "asap/registrar/keepalive/connection-lost-announced",
    ref: "RFC 5352 §3.4, RFC 5353 §3.3.2",
    requirement:
      "When the connection three elements registered over closes after one of them deregistered, the two others are removed and announced to the peers (a DEL_PE each), and the deregistered one is not announced a second time.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => 1.5 * t.keepAliveInterval + t.keepAliveTimeout + 6 * t.slack + 8000,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const pe = await ctx.asap();
      const ids = [ctx.identifier(), ctx.identifier(), ctx.identifier()];
      pe.answerKeepAlives(handle, ...ids);
      for (const id of ids) await registerOk(ctx, pe, handle, id);
      pe.send({ type: "Deregistration", poolHandle: handle, poolElementId: ids[1] });
      await ctx.expecting(() =>
        pe.expectType("DeregistrationResponse", ctx.answerTime, "a Deregistration Response")
      );
      const announced = await waitFor(ctx, () => deletions(fake, ids[1]) > 0, ctx.answerTime);
      ctx.must(announced, "a DEL_PE for the deregistered element B", "none");
      pe.close();
      const t = ctx.timers;
      const bound = 1.5 * t.keepAliveInterval + t.keepAliveTimeout + 2 * t.slack;
      const both = await waitFor(
        ctx,
        () => deletions(fake, ids[0]) > 0 && deletions(fake, ids[2]) > 0,
        bound,
      );
      ctx.must(
        both,
        `a DEL_PE for A and for C within ${bound} ms of their connection closing`,
        `A ${deletions(fake, ids[0])}, C ${deletions(fake, ids[2])}`,
      );
      const pu = await ctx.asap();
      const listed = idsOf(await resolveAt(ctx, pu, handle, 0xffffffff));
      ctx.must(
        ids.every((id) => !listed.includes(id)),
        "none of the three listed any more",
        listed.map(hexId).join(", "),
      );
      await ctx.sleep(ctx.answerTime);
      ctx.should(
        deletions(fake, ids[1]) === 1,
        "one DEL_PE for B in all (it was gone before the connection closed)",
        `${deletions(fake, ids[1])}`,
      );
    },
  },
  {
    id: "asap/registrar/registration/unreachable-values",
    ref: "RFC 5352 §3.1, RFC 5354 §3.12",
    requirement:
      "A registration no pool user could use is refused (Reject flag, cause 0x0003 Invalid Values) and nothing is registered: a user transport with port 0, and a PE Identifier of 0.",
    level: "SHOULD",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const pu = await ctx.asap();
      const portZero = ctx.identifier();
      const r1 = await registerAt(ctx, pe, handle, portZero, {
        transport: { type: "TCP", port: 0, transportUse: 0, addresses: [ctx.config.listenHost] },
      });
      ctx.should(r1.reject, "a user transport of port 0 refused (R=1)", "accepted");
      ctx.should(
        !r1.reject || (r1.operationError ?? []).some((c) => c.code === 0x0003),
        "cause 0x0003 (Invalid Values) for port 0",
        causes(r1.operationError),
      );
      const r2 = await registerAt(ctx, pe, handle, ctx.zero);
      ctx.should(r2.reject, "PE Identifier 0 refused (R=1)", "accepted");
      const listed = idsOf(await resolveAt(ctx, pu, handle, 0xffffffff));
      ctx.should(
        !listed.includes(portZero) && !listed.includes(ctx.zero),
        "neither listed",
        listed.map(hexId).join(", "),
      );
    },
  },
  {
    id: "asap/registrar/registration/expiry-order",
    ref: "RFC 5352 §3.1, §3.2, RFC 5354 §3.10",
    requirement:
      "Each element's registration ends at its own Registration Life, whatever the order they registered in and however re-registrations changed their lives: a life shortened by a re-registration ends early, one lengthened ends late.",
    level: "MUST",
    role: "registrar-asap",
    // Lives up to 5 units of max(1000, 2 × slack), polled for 2 × slack more.
    timeout: (t) => 5 * Math.max(1000, 2 * t.slack) + 6 * t.slack + 8000,
    async run(ctx) {
      const t = ctx.timers;
      // Lives far apart compared with the slack: S short, M medium, L long.
      const unit = Math.max(1000, 2 * t.slack);
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const [s, m, l, x] = [ctx.identifier(), ctx.identifier(), ctx.identifier(), ctx.identifier()];
      // The pool user's view must not depend on keep-alives: all four answer them.
      pe.answerKeepAlives(handle, s, m, l, x);
      // Registered longest first; then X (registered with the longest life) is shortened
      // to the shortest and S (registered shortest) lengthened past everyone.
      await registerOk(ctx, pe, handle, x, { life: 4 * unit });
      await registerOk(ctx, pe, handle, l, { life: 3 * unit });
      await registerOk(ctx, pe, handle, m, { life: 2 * unit });
      await registerOk(ctx, pe, handle, s, { life: unit });
      const start = performance.now();
      await registerOk(ctx, pe, handle, x, { life: unit / 2 });
      await registerOk(ctx, pe, handle, s, { life: 5 * unit });
      const name = (id: Identifier) =>
        id === s ? "S" : id === m ? "M" : id === l ? "L" : id === x ? "X" : hexId(id);
      const ends: Record<string, number> = { X: unit / 2, M: 2 * unit, L: 3 * unit, S: 5 * unit };
      const pu = await ctx.asap();
      const seen: string[] = [];
      const gone = new Map<string, number>();
      while (gone.size < 4 && performance.now() - start < 5 * unit + 2 * t.slack) {
        const at = performance.now() - start;
        const listed = idsOf(await resolveAt(ctx, pu, handle, 0xffffffff)).map(name);
        for (const n of ["X", "M", "L", "S"]) {
          if (!listed.includes(n) && !gone.has(n)) gone.set(n, at);
        }
        seen.push(`${Math.round(at)} ms: ${listed.join(",") || "-"}`);
        await ctx.sleep(50);
      }
      for (const n of ["X", "M", "L", "S"]) {
        const end = ends[n];
        const at = gone.get(n);
        ctx.must(
          at !== undefined && at >= end - t.slack / 2 && at <= end + t.slack,
          `${n} removed when its life of ${end} ms ends (within ${
            t.slack / 2
          } ms before and ${t.slack} ms after)`,
          `${at === undefined ? "never" : `after ${Math.round(at)} ms`} (${seen.join(" | ")})`,
        );
      }
    },
  },
  {
    id: "asap/registrar/error/unexpected-message",
    ref: "RFC 5352 §2.2, §2.2.14, RFC 5354 §3.12",
    requirement:
      "ASAP messages a registrar never receives (Endpoint Keep-Alive, Server Announce, Registration Response, Cookie, Business Card) change nothing and the connection keeps being served; each is answered with an ASAP Error.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      pe.answerKeepAlives(handle, id);
      const element = ctx.registration(handle, id).poolElement;
      const odd = [
        {
          type: "EndpointKeepAlive",
          poolHandle: handle,
          registrarId: ctx.identifier(),
          home: true,
        },
        { type: "ServerAnnounce", registrarId: ctx.identifier(), transports: [] },
        { type: "RegistrationResponse", poolHandle: handle, poolElementId: id, reject: false },
        { type: "Cookie", cookie: new Uint8Array([1, 2, 3, 4]) },
        { type: "BusinessCard", poolHandle: handle, poolElements: [element] },
      ] as const;
      for (const m of odd) pe.send(m);
      await ctx.sleep(ctx.answerTime);
      const answers = pe.received.filter((m) => m.type === "AsapError");
      const errors = answers.length;
      ctx.should(
        errors === odd.length,
        `an ASAP Error for each of the ${odd.length} messages`,
        `${errors}`,
      );
      // The Operation Error parameter carries one or more causes (RFC 5354 §3.12).
      const empty = answers.filter((m) => m.operationError.length === 0).length;
      ctx.must(empty === 0, "every ASAP Error with at least one cause", `${empty} without`);
      const pu = await ctx.asap();
      const listed = await resolveAt(ctx, pu, handle);
      ctx.must(
        listed.poolElements.length === 0,
        "nothing registered by them (the pool unknown)",
        idsOf(listed).map(hexId).join(", "),
      );
      const r = await registerAt(ctx, pe, handle, id);
      ctx.must(!r.reject, "the connection still serving (a registration accepted)", "refused");
    },
  },
  {
    id: "asap/registrar/error/missing-parameter",
    ref: "RFC 5352 §2.2.1, §2.2.5, §2.2.14, RFC 5354 §3.12",
    requirement:
      "A Registration without its Pool Element parameter and a Handle Resolution without its Pool Handle are answered with an ASAP Error, register nothing, and the connection keeps being served.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      const full = encodeMessage(ctx.registration(handle, id), { profile: ctx.config.profile });
      // The Pool Handle parameter only: cut the message after it (its length, padded).
      const handleLength = (full[6] << 8) | full[7];
      const cut = 4 + ((handleLength + 3) & ~3);
      const registration = full.slice(0, cut);
      registration[2] = cut >> 8;
      registration[3] = cut & 0xff;
      pe.sendRaw(registration, "a Registration with a Pool Handle and no Pool Element");
      // A Handle Resolution (type 0x05) with no parameter at all.
      pe.sendRaw(
        new Uint8Array([0x05, 0x00, 0x00, 0x04]),
        "a Handle Resolution without parameters",
      );
      await ctx.sleep(ctx.answerTime);
      const answers = pe.received.filter((m) =>
        m.type === "AsapError" || m.type === "RegistrationResponse" ||
        m.type === "HandleResolutionResponse"
      );
      const errors = answers.filter((m) => m.type === "AsapError").length;
      ctx.should(
        errors === 2,
        "an ASAP Error for each",
        answers.map((m) => m.type).join(", ") || "nothing",
      );
      ctx.must(
        !answers.some((m) =>
          m.type === "RegistrationResponse" && !m.reject ||
          m.type === "HandleResolutionResponse" && m.poolElements.length > 0
        ),
        "no registration accepted and no elements listed for them",
        answers.map((m) => m.type).join(", "),
      );
      const r = await registerAt(ctx, pe, handle, id);
      ctx.must(!r.reject, "the connection still serving (a registration accepted)", "refused");
      ctx.must(sameBytes(r.poolHandle, handle), "its Pool Handle in the response", "another");
    },
  },
  {
    id: "enrp/registrar/handle-update/peer-elements-not-by-proxy",
    ref: "RFC 5352 §2.2.2, §3.2, RFC 5353 §3.3.1",
    requirement:
      "Elements another registrar is home of stay until their home removes them: an ASAP Deregistration for one over any connection of the registrar is not honoured (not by proxy), whether it was only announced by the peer or moved there from this registrar, and the loss of the connection a moved element once registered over does not remove it.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => 1.5 * t.keepAliveInterval + t.keepAliveTimeout + 6 * t.slack + 8000,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const pe = await ctx.asap();
      const moved = ctx.identifier();
      pe.answerKeepAlives(handle, moved);
      await registerOk(ctx, pe, handle, moved);
      const pu = await ctx.asap();
      const listed = element((await resolveAt(ctx, pu, handle)).poolElements, moved);
      ctx.must(listed !== undefined, "the element registered", "not listed");
      const local = pe.local;
      const asapTransport = local === undefined ? undefined : transportParameter(
        { address: local.address, port: local.port, transport: local.transport ?? "TCP" },
        TransportUse.DataOnly,
      );
      const session = await ctx.listen("session");
      const announced = ctx.identifier();
      // No audit may bring back what the target dropped.
      fake.freeze();
      fake.update("add", handle, {
        ...listed!,
        homeRegistrarId: fake.id,
        ...(asapTransport === undefined ? {} : { asapTransport }),
      });
      fake.update(
        "add",
        handle,
        ctx.poolElement(announced, {
          home: fake.id,
          transport: listed!.userTransport,
          asapTransport: transportParameter(session.endpoint, TransportUse.DataOnly),
        }),
      );
      await eventually(
        ctx,
        pu,
        handle,
        (r) =>
          element(r.poolElements, moved)?.homeRegistrarId === fake.id &&
          element(r.poolElements, announced) !== undefined,
        `both elements listed with the peer ${hexId(fake.id)} as their home`,
        ctx.answerTime,
      );
      const proxy = await ctx.asap();
      for (const id of [announced, moved]) {
        proxy.send({ type: "Deregistration", poolHandle: handle, poolElementId: id });
        await ctx.expecting(() =>
          proxy.expectType("DeregistrationResponse", ctx.answerTime, "a Deregistration Response")
        );
      }
      const after = idsOf(await resolveAt(ctx, pu, handle, 0xffffffff));
      ctx.must(
        after.includes(announced) && after.includes(moved),
        "both still listed after Deregistrations over another connection (not by proxy)",
        after.map(hexId).join(", ") || "none",
      );
      pe.close();
      const t = ctx.timers;
      await ctx.sleep(1.5 * t.keepAliveInterval + t.keepAliveTimeout + t.slack);
      const last = idsOf(await resolveAt(ctx, pu, handle, 0xffffffff));
      ctx.must(
        last.includes(moved),
        "the moved element still listed after its old connection closed (its home is the peer)",
        last.map(hexId).join(", ") || "none",
      );
    },
  },
  {
    id: "asap/registrar/registration/transport-use-mismatch-sctp",
    ref: "RFC 5352 §3.1, RFC 5354 §3.4, §3.12",
    requirement:
      "Transport Use is kept consistent for SCTP pools too: into a pool of SCTP DATA ONLY elements, a registration with SCTP DATA PLUS CONTROL is refused with cause 0x0008, and the other way round.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const sctp = (port: number, transportUse: number) => ({
        type: "SCTP" as const,
        port,
        transportUse,
        addresses: [ctx.config.listenHost],
      });
      for (const [first, second] of [[0, 1], [1, 0]] as const) {
        const handle = ctx.poolHandle(`-${first}`);
        const a = ctx.identifier();
        await registerOk(ctx, pe, handle, a, { transport: sctp(4100, first) });
        const b = ctx.identifier();
        const r = await registerAt(ctx, pe, handle, b, { transport: sctp(4101, second) });
        const what = `Transport Use ${second} into a pool of ${first}`;
        ctx.must(r.reject, `${what} refused (R=1)`, "accepted");
        ctx.must(
          (r.operationError ?? []).some((c) => c.code === 0x0008),
          `${what}: cause 0x0008 (Inconsistent Data/Control Configuration)`,
          causes(r.operationError),
        );
      }
    },
  },
  {
    id: "enrp/registrar/unreachable/peer-owned-element",
    ref: "RFC 5352 §3.5, RFC 5353 §3.3.2",
    requirement:
      "Endpoint Unreachable reports about an element another registrar is home of: the registrar keeps it until MAX-BAD-PE-REPORT reports (SHOULD: removes it then), and never announces anything about it to its peers (only the home does).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const session = await ctx.listen("session");
      const id = ctx.identifier();
      fake.update(
        "add",
        handle,
        ctx.poolElement(id, {
          home: fake.id,
          asapTransport: transportParameter(session.endpoint, TransportUse.DataOnly),
        }),
      );
      const pu = await ctx.asap();
      await eventually(
        ctx,
        pu,
        handle,
        (r) => element(r.poolElements, id) !== undefined,
        "the announced element listed",
        ctx.answerTime,
      );
      const since = fake.peer.received.length;
      const max = ctx.timers.maxBadPeReports;
      for (let i = 0; i < max - 1; i++) {
        pu.send({ type: "EndpointUnreachable", poolHandle: handle, poolElementId: id });
      }
      const kept = idsOf(await resolveAt(ctx, pu, handle, 0xffffffff));
      ctx.must(kept.includes(id), `still listed after ${max - 1} reports`, "removed");
      pu.send({ type: "EndpointUnreachable", poolHandle: handle, poolElementId: id });
      const gone = idsOf(await resolveAt(ctx, pu, handle, 0xffffffff));
      ctx.should(
        !gone.includes(id),
        `removed at the ${max}th report (MAX-BAD-PE-REPORT)`,
        "listed",
      );
      await ctx.sleep(ctx.answerTime);
      const told = fake.peer.received.slice(since).filter((m) =>
        m.type === "HandleUpdate" && m.poolElement.identifier === id
      );
      ctx.must(
        told.length === 0,
        "no Handle Update about an element the peer is home of",
        `${told.length}`,
      );
    },
  },
];
