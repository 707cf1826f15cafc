/**
 * A registrar over ENRP (RFC 5353 and the Takeover Suggestion draft), the
 * suite acting as peer registrars.
 *
 * @module
 */

import { handlespaceChecksum } from "../../lib/protocol/checksum.ts";
import { encodeMessage } from "../../lib/protocol/codec.ts";
import { ErrorCauseCode, TransportUse, UpdateAction } from "../../lib/protocol/constants.ts";
import type {
  EnrpMessage,
  HandleTableResponse,
  Identifier,
  PoolElementParameter,
  Presence,
} from "../../lib/protocol/types.ts";
import { transportParameter } from "../../lib/runtime/endpoint.ts";
import type { CaseContext, SuiteListener } from "../context.ts";
import type { Arrival, Peer } from "../peer.ts";
import type { ConformanceCase, TargetTimers } from "../types.ts";
import { causes, element, eventually, hexId, idsOf, registerOk, sameBytes } from "./helpers.ts";

const quick = (t: TargetTimers) => 6 * t.slack + 8000;

/** The suite as a peer registrar of the target. */
class FakeRegistrar {
  /** The target's identifier, once it said it. */
  targetId: Identifier | undefined;
  /** Elements this fake registrar owns (its Handle Table Responses, its checksum). */
  elements: { handle: Uint8Array; element: PoolElementParameter }[] = [];
  /** Answer Init Takeovers with an Ack. */
  ackTakeovers = true;

  private constructor(
    private readonly ctx: CaseContext,
    readonly id: Identifier,
    readonly peer: Peer,
    readonly listener: SuiteListener,
  ) {}

  /** Connects to the target's ENRP endpoint and introduces itself with a Presence (Reply required). */
  static async join(ctx: CaseContext, options: { wait?: boolean } = {}): Promise<FakeRegistrar> {
    const listener = await ctx.listen("enrp");
    const peer = await ctx.enrp(listener.endpoint.port);
    const fake = new FakeRegistrar(ctx, ctx.identifier(), peer, listener);
    fake.automate(peer);
    // Connections the target opens to the suite's ENRP endpoint: answered the same way.
    const adopt = () => {
      for (const p of listener.accepted) {
        if ((p as unknown as { adopted?: boolean }).adopted) continue;
        (p as unknown as { adopted?: boolean }).adopted = true;
        fake.automate(p);
        p.respond((m) => {
          peer.inject(m);
          return true;
        });
      }
    };
    const timer = setInterval(adopt, 20);
    ctx.onCleanup(() => clearInterval(timer));
    fake.presence(true);
    if (options.wait !== false) {
      const p = await ctx.expecting(() =>
        peer.expectType(
          "Presence",
          ctx.answerTime,
          "a Presence in answer to one with the Reply-required flag",
        )
      );
      fake.targetId = p.sendingRegistrarId;
    }
    return fake;
  }

  /** Answers what a peer must answer (Presence probes, list and handle-table requests, takeovers). */
  private automate(p: Peer): void {
    p.respond((m) => {
      if (m.type === "Undecodable") return false;
      const e = m as EnrpMessage;
      if (this.targetId === undefined && "sendingRegistrarId" in e) {
        this.targetId = e.sendingRegistrarId;
      }
      if (e.type === "Presence" && e.replyRequired) {
        this.presenceOn(p, false);
      } else if (e.type === "ListRequest") {
        p.send({
          type: "ListResponse",
          sendingRegistrarId: this.id,
          receivingRegistrarId: e.sendingRegistrarId,
          reject: false,
          servers: [],
        });
      } else if (e.type === "HandleTableRequest") {
        p.send(this.handleTable(e.sendingRegistrarId));
      } else if (
        e.type === "InitTakeover" && this.ackTakeovers && e.targetRegistrarId !== this.id
      ) {
        p.send({
          type: "InitTakeoverAck",
          sendingRegistrarId: this.id,
          receivingRegistrarId: e.sendingRegistrarId,
          targetRegistrarId: e.targetRegistrarId,
        });
      }
      return false; // still visible to the case
    });
  }

  /** The checksum over what this fake owns. */
  checksum(elements = this.elements): number {
    return handlespaceChecksum(
      elements.map((e) => [e.handle, e.element.identifier] as const),
      this.ctx.config.profile === "nextgen" ? 32 : 16,
    );
  }

  private presenceOn(p: Peer, replyRequired: boolean, checksum = this.checksum()): void {
    p.send({
      type: "Presence",
      sendingRegistrarId: this.id,
      receivingRegistrarId: this.targetId ?? this.ctx.zero,
      replyRequired,
      checksum,
      serverInformation: this.ctx.serverInformation(this.id, this.listener.endpoint),
    });
  }

  /** Sends a Presence. */
  presence(replyRequired = false, checksum?: number): void {
    this.presenceOn(this.peer, replyRequired, checksum);
  }

  /** A Handle Table Response with everything this fake owns. */
  handleTable(to: Identifier): HandleTableResponse {
    const pools = new Map<
      string,
      { poolHandle: Uint8Array; poolElements: PoolElementParameter[] }
    >();
    for (const e of this.elements) {
      const k = e.handle.join(".");
      if (!pools.has(k)) pools.set(k, { poolHandle: e.handle, poolElements: [] });
      pools.get(k)!.poolElements.push(e.element);
    }
    return {
      type: "HandleTableResponse",
      sendingRegistrarId: this.id,
      receivingRegistrarId: to,
      reject: false,
      moreToSend: false,
      pools: [...pools.values()],
    };
  }

  /** A pool element this fake owns, reachable for ASAP at `asap` (a session listener). */
  ownElement(_handle: Uint8Array, asap: SuiteListener | undefined): PoolElementParameter {
    const transport = asap === undefined
      ? this.ctx.userTransport()
      : transportParameter(asap.endpoint, TransportUse.DataPlusControl);
    // Over SCTP an ASAP endpoint is an SCTP one with Transport Use DATA ONLY (RSPLIB
    // refuses anything else); over TCP it is the session port the user transport names.
    const asapTransport = !this.ctx.overSctp ? transport : transportParameter(
      asap?.endpoint ??
        { address: this.ctx.config.listenHost, port: transport.port, transport: "SCTP" },
      TransportUse.DataOnly,
    );
    return this.ctx.poolElement(this.ctx.identifier(), {
      home: this.id,
      transport,
      asapTransport,
      life: 60_000,
    });
  }

  /** Sends a Handle Update. */
  update(
    action: "add" | "delete",
    handle: Uint8Array,
    element: PoolElementParameter,
    takeoverSuggested = false,
  ): void {
    if (action === "add") this.elements.push({ handle, element });
    else this.elements = this.elements.filter((e) => e.element.identifier !== element.identifier);
    this.peer.send({
      type: "HandleUpdate",
      sendingRegistrarId: this.id,
      receivingRegistrarId: this.targetId ?? this.ctx.zero,
      takeoverSuggested,
      updateAction: action === "add" ? UpdateAction.AddPoolElement : UpdateAction.DeletePoolElement,
      poolHandle: handle,
      poolElement: element,
    });
  }

  /** Sends an ENRP message with this fake's and the target's identifiers filled in. */
  send(m: Record<string, unknown> & { type: EnrpMessage["type"] }): void {
    this.peer.send({
      sendingRegistrarId: this.id,
      receivingRegistrarId: this.targetId ?? this.ctx.zero,
      ...m,
    } as unknown as EnrpMessage);
  }

  /** Requests the target's handle table and follows the More-to-send flag. */
  async handleTableOf(ownChildrenOnly: boolean): Promise<HandleTableResponse[]> {
    const pages: HandleTableResponse[] = [];
    for (let i = 0; i < 1000; i++) {
      this.send({ type: "HandleTableRequest", ownChildrenOnly });
      const r = await this.ctx.expecting(() =>
        this.peer.expectType("HandleTableResponse", this.ctx.answerTime, "a Handle Table Response")
      );
      pages.push(r);
      if (!r.moreToSend || r.reject) break;
    }
    return pages;
  }

  /** Goes silent: closes its connections and its listener. */
  async vanish(): Promise<void> {
    this.peer.close(true);
    for (const p of this.listener.accepted) p.close(true);
    await this.listener.close();
  }
}

function tableIds(pages: readonly HandleTableResponse[]): Identifier[] {
  return pages.flatMap((p) =>
    p.pools.flatMap((pool) => pool.poolElements.map((e) => e.identifier))
  );
}

function tableElements(
  pages: readonly HandleTableResponse[],
): { handle: Uint8Array; element: PoolElementParameter }[] {
  return pages.flatMap((p) =>
    p.pools.flatMap((pool) =>
      pool.poolElements.map((element) => ({ handle: pool.poolHandle, element }))
    )
  );
}

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

const isPresenceFromTarget = (fake: FakeRegistrar) => (m: Arrival): m is Presence =>
  m.type === "Presence" && (fake.targetId === undefined || m.sendingRegistrarId === fake.targetId);

/** The cases. */
export const REGISTRAR_ENRP_CASES: readonly ConformanceCase[] = [
  {
    id: "enrp/registrar/presence/reply-required",
    ref: "RFC 5353 §3.6",
    requirement:
      "A Presence with the Reply-required flag is answered with a Presence (flag clear) addressed to the sender, with the target's Server Information.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx, { wait: false });
      const p = await ctx.expecting(() =>
        fake.peer.expectType("Presence", ctx.answerTime, "a Presence in answer")
      );
      ctx.must(p.sendingRegistrarId !== ctx.zero, "a non-zero sender identifier", "0");
      ctx.should(!p.replyRequired, "the Reply-required flag clear in an answer", "R=1");
      ctx.should(
        p.receivingRegistrarId === fake.id,
        "addressed to the asking peer",
        hexId(p.receivingRegistrarId),
      );
      ctx.should(
        p.serverInformation !== undefined,
        "Server Information (RSPLIB requires it)",
        "none",
      );
    },
  },
  {
    id: "enrp/registrar/presence/heartbeat",
    ref: "RFC 5353 §3.6",
    requirement: "A registrar sends each peer a Presence every peer-heartbeat-cycle.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => 2 * t.peerHeartbeatCycle + 6 * t.slack + 8000,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      fake.peer.inbox.length = 0;
      const t = ctx.timers;
      await ctx.expecting(() =>
        fake.peer.expect(
          isPresenceFromTarget(fake),
          "a Presence within the heartbeat cycle",
          1.5 * t.peerHeartbeatCycle + 2 * t.slack,
        )
      );
    },
  },
  {
    id: "enrp/registrar/presence/checksum",
    ref: "RFC 5353 §3.8, RFC 5354 §3.15",
    requirement:
      "The PE Checksum in a registrar's Presence is the Internet checksum over the pool handles and identifiers of the elements it owns (Internet-32 in the next-generation profile).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const handle = ctx.poolHandle();
      const ids = await registerMany(ctx, handle, 3);
      const fake = await FakeRegistrar.join(ctx);
      const owned = tableElements(await fake.handleTableOf(true));
      for (const id of ids) {
        ctx.must(
          owned.some((e) => e.element.identifier === id),
          `PE ${hexId(id)} among the target's own elements`,
          "missing",
        );
      }
      const expected = handlespaceChecksum(
        owned.map((e) => [e.handle, e.element.identifier] as const),
        ctx.config.profile === "nextgen" ? 32 : 16,
      );
      fake.peer.inbox.length = 0;
      fake.presence(true);
      const p = await ctx.expecting(() =>
        fake.peer.expect(isPresenceFromTarget(fake), "a Presence", ctx.answerTime)
      );
      ctx.must(
        p.checksum === expected,
        `checksum 0x${expected.toString(16)} over the ${owned.length} elements it owns`,
        `0x${p.checksum.toString(16)}`,
      );
    },
  },
  {
    id: "enrp/registrar/list/response",
    ref: "RFC 5353 §3.2.2",
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
    ref: "RFC 5353 §3.2.3",
    requirement:
      "A Handle Table Request is answered with the registrar's handle table: every element, with its Home Registrar Identifier and (for RSPLIB peers, required) its ASAP Transport.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
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
      "A handle table larger than one response is sent in pages with the More-to-send flag; following it yields every element exactly once.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) => 20 * t.slack + 20000,
    async run(ctx) {
      const handles = [ctx.poolHandle("a"), ctx.poolHandle("b"), ctx.poolHandle("c")];
      const per = Math.ceil((2 * ctx.timers.handleTablePage + 5) / 3);
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
      ctx.should(
        pages.length > 1,
        "more than one page for more than twice the page size",
        "one page",
      );
    },
  },
  {
    id: "enrp/registrar/handle-table/own-children-only",
    ref: "RFC 5353 §2.2, §3.8",
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
    ref: "RFC 5353 §3.3",
    requirement:
      "When an element registers, its home registrar sends its peers a Handle Update (ADD_PE) with the element, itself as the home.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const [id] = await registerMany(ctx, handle, 1);
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
      ctx.should(
        u.poolElement.asapTransport !== undefined,
        "an ASAP Transport (RSPLIB peers require it)",
        "none",
      );
    },
  },
  {
    id: "enrp/registrar/handle-update/propagate-del",
    ref: "RFC 5353 §3.3",
    requirement:
      "When an element deregisters, its home registrar sends its peers a Handle Update (DEL_PE).",
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
    },
  },
  {
    id: "enrp/registrar/handle-update/accept-add",
    ref: "RFC 5353 §3.3",
    requirement:
      "A Handle Update (ADD_PE) from a peer makes the element resolvable, with the peer as its home.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const e = fake.ownElement(handle, undefined);
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
    },
  },
  {
    id: "enrp/registrar/handle-update/accept-del",
    ref: "RFC 5353 §3.3",
    requirement: "A Handle Update (DEL_PE) from a peer removes the element.",
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
        (r) => idsOf(r).includes(gone.identifier),
        "the element resolvable",
        ctx.answerTime,
      );
      fake.update("delete", handle, gone);
      await eventually(
        ctx,
        pu,
        handle,
        (r) => !idsOf(r).includes(gone.identifier) && idsOf(r).includes(keep.identifier),
        "the deleted element gone, the other kept",
        ctx.answerTime,
      );
    },
  },
  {
    id: "enrp/registrar/audit/resync",
    ref: "RFC 5353 §3.8",
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
    id: "enrp/registrar/takeover/as-taker",
    ref: "RFC 5353 §3.7",
    requirement:
      "When a peer owning elements falls silent, the registrar probes it, sends the other peers an Init Takeover, and after their acknowledgements a Takeover Server; it becomes the elements' home and tells them with an Endpoint Keep-Alive carrying the Home flag.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: (t) =>
      t.maxTimeLastHeard + t.maxTimeNoResponse + 2 * t.peerHeartbeatCycle + 10 * t.slack + 10000,
    async run(ctx) {
      const failing = await FakeRegistrar.join(ctx);
      const witness = await FakeRegistrar.join(ctx);
      const elementEndpoint = await ctx.listen("session");
      const handle = ctx.poolHandle();
      const e = failing.ownElement(handle, elementEndpoint);
      failing.update("add", handle, e);
      const pu = await ctx.asap();
      await eventually(
        ctx,
        pu,
        handle,
        (r) => idsOf(r).includes(e.identifier),
        "the element learnt",
        ctx.answerTime,
      );
      ctx.note(`peer ${hexId(failing.id)} falls silent`);
      await failing.vanish();
      const t = ctx.timers;
      const init = await ctx.expecting(() =>
        witness.peer.expectType(
          "InitTakeover",
          t.maxTimeLastHeard + t.maxTimeNoResponse + t.peerHeartbeatCycle + 4 * t.slack,
          `an Init Takeover of ${hexId(failing.id)}`,
          (m) => m.targetRegistrarId === failing.id,
        )
      );
      ctx.must(
        init.sendingRegistrarId === witness.targetId,
        "sent by the target",
        hexId(init.sendingRegistrarId),
      );
      // The witness acknowledged it (automatically); now the takeover completes.
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
    },
  },
  {
    id: "enrp/registrar/takeover/as-target",
    ref: "RFC 5353 §3.7",
    requirement:
      "A registrar that receives an Init Takeover naming itself does not acknowledge it, and shows it is alive with a Presence.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      fake.peer.inbox.length = 0;
      fake.send({ type: "InitTakeover", targetRegistrarId: fake.targetId! });
      await ctx.sleep(ctx.answerTime);
      ctx.must(
        !fake.peer.inbox.some((m) => m.type === "InitTakeoverAck"),
        "no Init Takeover Ack",
        "an acknowledgement of its own takeover",
      );
      ctx.should(fake.peer.inbox.some(isPresenceFromTarget(fake)), "a Presence", "none");
    },
  },
  {
    id: "enrp/registrar/takeover/ack-other",
    ref: "RFC 5353 §3.7",
    requirement:
      "An Init Takeover of another registrar is acknowledged with an Init Takeover Ack naming that registrar.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
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
    ref: "RFC 5353 §3.7",
    requirement:
      "A Takeover Server makes its sender the home of every element the taken-over registrar owned.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const taker = await FakeRegistrar.join(ctx);
      const failed = await FakeRegistrar.join(ctx);
      const handle = ctx.poolHandle();
      const e = failed.ownElement(handle, undefined);
      failed.update("add", handle, e);
      const pu = await ctx.asap();
      await eventually(
        ctx,
        pu,
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
      await eventually(
        ctx,
        pu,
        handle,
        (r) => element(r.poolElements, e.identifier)?.homeRegistrarId === taker.id,
        "the taker as the element's home",
        ctx.answerTime,
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
    id: "enrp/registrar/error/unrecognized-message",
    ref: "RFC 5353 §3.9",
    requirement:
      "An ENRP message of an unknown type is answered with an ENRP Error carrying cause 0x0002 (Unrecognized Message).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const m = encodeMessage({
        type: "ListRequest",
        sendingRegistrarId: fake.id,
        receivingRegistrarId: fake.targetId!,
      }, { profile: ctx.config.profile });
      m[0] = 0x7f;
      fake.peer.sendRaw(m, "an ENRP message of type 0x7f");
      const e = await ctx.expecting(() =>
        fake.peer.expectType("EnrpError", ctx.answerTime, "an ENRP Error")
      );
      ctx.must(
        e.operationError.some((c) => c.code === ErrorCauseCode.UnrecognizedMessage),
        "cause 0x0002 (Unrecognized Message)",
        causes(e.operationError),
      );
    },
  },
  {
    id: "enrp/registrar/error/unrecognized-parameter",
    ref: "RFC 5353 §3.9, RFC 5354 §2",
    requirement:
      "An ENRP message with an unknown parameter whose action bits say report (01) is answered with an ENRP Error carrying cause 0x0001 (Unrecognized Parameter).",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const m = encodeMessage({
        type: "Presence",
        sendingRegistrarId: fake.id,
        receivingRegistrarId: fake.targetId!,
        replyRequired: false,
        checksum: fake.checksum(),
      }, { profile: ctx.config.profile });
      const out = new Uint8Array(m.length + 8);
      out.set(m);
      out.set([0x41, 0x23, 0x00, 0x08, 0xca, 0xfe, 0xba, 0xbe], m.length);
      out[2] = out.length >> 8;
      out[3] = out.length & 0xff;
      fake.peer.inbox.length = 0;
      fake.peer.sendRaw(out, "a Presence with an unknown parameter 0x4123");
      const e = await ctx.expecting(() =>
        fake.peer.expectType("EnrpError", ctx.answerTime, "an ENRP Error")
      );
      ctx.must(
        e.operationError.some((c) => c.code === ErrorCauseCode.UnrecognizedParameter),
        "cause 0x0001 (Unrecognized Parameter)",
        causes(e.operationError),
      );
    },
  },
];
