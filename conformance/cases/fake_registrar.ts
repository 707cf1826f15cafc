/**
 * The suite as a peer registrar of the target (RFC 5353): it joins with a
 * Presence, answers what a peer must answer, owns elements of its own, and
 * can be told to hold still so that a case sees only the mechanism it
 * names (no checksum audit rescuing a Handle Update the target ignored, no
 * probe answer hiding a missing heartbeat).
 *
 * @module
 */

import { handlespaceChecksum } from "../../lib/protocol/checksum.ts";
import { TransportUse, UpdateAction } from "../../lib/protocol/constants.ts";
import type {
  EnrpMessage,
  HandleTableResponse,
  Identifier,
  PoolElementParameter,
  Presence,
} from "../../lib/protocol/types.ts";
import { type Endpoint, transportParameter } from "../../lib/runtime/endpoint.ts";
import type { CaseContext, SuiteListener } from "../context.ts";
import { type Arrival, ExpectationFailure, type Peer } from "../peer.ts";

/** An element with its pool, as a fake registrar owns it. */
export interface OwnedElement {
  /** Its pool handle. */
  readonly handle: Uint8Array;
  /** The element. */
  readonly element: PoolElementParameter;
}

/** Options of {@link FakeRegistrar.join}. */
export interface JoinOptions {
  /** Wait for the answer to the joining Presence (default true). */
  readonly wait?: boolean;
  /** The fake's identifier (default random). */
  readonly id?: Identifier;
  /** The ENRP endpoint to join (default: the target's). */
  readonly enrp?: Endpoint;
}

/** The suite as a peer registrar of the target. */
export class FakeRegistrar {
  /** The target's identifier, once it said it. */
  targetId: Identifier | undefined;
  /** Elements this fake registrar owns (its Handle Table Responses, its checksum). */
  elements: OwnedElement[] = [];
  /** Answer Init Takeovers of others with an Ack. */
  ackTakeovers = true;
  /** Answer reply-required Presences (false: a peer that has gone mute). */
  answerProbes = true;
  /**
   * When set, Handle Table Requests are answered with these elements rather
   * than with {@link FakeRegistrar.elements}: what the fake owned before the
   * step a case tests, so that a resynchronisation cannot make up for it.
   */
  frozenTable: OwnedElement[] | undefined;
  /**
   * How Handle Table Requests are answered: with the whole table in one
   * response, rejected (Reject flag, no entries), or in pages of this many
   * elements with the More-to-send flag (continued request by request).
   */
  tableMode: "normal" | "reject" | { readonly page: number } = "normal";
  private served = 0;
  /** Handle Table Requests the target sent (with their Own-children-only flag). */
  readonly tableRequests: { at: number; ownChildrenOnly: boolean }[] = [];
  /** Reply-required Presences the target sent, with when they arrived. */
  readonly probes: number[] = [];

  private constructor(
    private readonly ctx: CaseContext,
    readonly id: Identifier,
    readonly peer: Peer,
    readonly listener: SuiteListener,
  ) {}

  /** Connects to the target's ENRP endpoint and introduces itself with a Presence (Reply required). */
  static async join(ctx: CaseContext, options: JoinOptions = {}): Promise<FakeRegistrar> {
    const listener = await ctx.listen("enrp");
    const peer = await ctx.enrp(listener.endpoint.port, options.enrp);
    const fake = new FakeRegistrar(ctx, options.id ?? ctx.identifier(), peer, listener);
    fake.automate(peer);
    // Connections the target opens to the suite's ENRP endpoint: answered the same way.
    const adopted = new Set<Peer>();
    const adopt = () => {
      for (const p of listener.accepted) {
        if (adopted.has(p)) continue;
        adopted.add(p);
        const answer = fake.automate(p);
        p.respond((m) => {
          peer.inject(m);
          return true;
        });
        // What arrived before this poll picked the connection up: answered and passed on too.
        for (const m of p.inbox.splice(0)) {
          answer(m);
          peer.inject(m);
        }
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
  private automate(p: Peer): (m: Arrival) => boolean {
    const answer = (m: Arrival): boolean => {
      if (m.type === "Undecodable") return false;
      const e = m as EnrpMessage;
      if (this.targetId === undefined && "sendingRegistrarId" in e) {
        this.targetId = e.sendingRegistrarId;
      }
      if (e.type === "Presence" && e.replyRequired) {
        this.probes.push(this.ctx.elapsed());
        if (this.answerProbes) this.presenceOn(p, false);
      } else if (e.type === "ListRequest") {
        p.send({
          type: "ListResponse",
          sendingRegistrarId: this.id,
          receivingRegistrarId: e.sendingRegistrarId,
          reject: false,
          servers: [],
        });
      } else if (e.type === "HandleTableRequest") {
        this.tableRequests.push({ at: this.ctx.elapsed(), ownChildrenOnly: e.ownChildrenOnly });
        const all = this.frozenTable ?? this.elements;
        const mode = this.tableMode;
        if (mode === "normal") {
          p.send(this.handleTable(e.sendingRegistrarId, all));
        } else if (mode === "reject") {
          p.send({ ...this.handleTable(e.sendingRegistrarId, []), reject: true });
        } else {
          const page = all.slice(this.served, this.served + mode.page);
          this.served += page.length;
          const more = this.served < all.length;
          if (!more) this.served = 0;
          p.send({ ...this.handleTable(e.sendingRegistrarId, page), moreToSend: more });
        }
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
    };
    p.respond(answer);
    return answer;
  }

  /** Answers Handle Table Requests with what it owns now, from here on frozen. */
  freeze(): void {
    this.frozenTable = [...this.elements];
  }

  /** The checksum over what this fake owns. */
  checksum(elements: readonly OwnedElement[] = this.elements): number {
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

  /** A Handle Table Response with the given elements (default: everything this fake owns). */
  handleTable(
    to: Identifier,
    elements: readonly OwnedElement[] = this.elements,
  ): HandleTableResponse {
    const pools = new Map<
      string,
      { poolHandle: Uint8Array; poolElements: PoolElementParameter[] }
    >();
    for (const e of elements) {
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
  ownElement(
    _handle: Uint8Array,
    asap: SuiteListener | undefined,
    options: Parameters<CaseContext["poolElement"]>[1] = {},
  ): PoolElementParameter {
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
      ...options,
    });
  }

  /** Sends a Handle Update (and owns, or stops owning, the element). */
  update(
    action: "add" | "delete",
    handle: Uint8Array,
    element: PoolElementParameter,
    takeoverSuggested = false,
  ): void {
    const others = this.elements.filter((e) => e.element.identifier !== element.identifier);
    this.elements = action === "add" ? [...others, { handle, element }] : others;
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

  /**
   * How soon an answer must come for {@link FakeRegistrar.prompt} to tell it
   * from the target's heartbeat: half a heartbeat cycle (at most the answer
   * time).
   */
  get promptWindow(): number {
    const t = this.ctx.timers;
    return Math.max(30, Math.min(this.ctx.answerTime, t.peerHeartbeatCycle / 2));
  }

  /**
   * Waits for a heartbeat Presence of the target, then does `send` at once
   * and returns the first Presence of the target that arrives within
   * {@link FakeRegistrar.promptWindow}: with the next heartbeat a whole
   * cycle away, only an answer to what was sent comes that soon.
   */
  async prompt(send: () => void): Promise<Presence | undefined> {
    const t = this.ctx.timers;
    await this.ctx.expecting(() =>
      this.peer.expect(
        (m) => this.isTargetPresence(m),
        "a heartbeat Presence of the target (to time the request after it)",
        t.peerHeartbeatCycle * 1.5 + 2 * t.slack,
      )
    );
    const inbox = this.peer.inbox;
    for (let i = inbox.length - 1; i >= 0; i--) {
      if (this.isTargetPresence(inbox[i])) inbox.splice(i, 1);
    }
    send();
    try {
      return await this.peer.expect(
        (m): m is Presence => this.isTargetPresence(m),
        "a Presence",
        this.promptWindow,
      ) as Presence;
    } catch (e) {
      if (e instanceof ExpectationFailure) return undefined;
      throw e;
    }
  }

  /** Whether a message is a Presence from the target. */
  isTargetPresence(m: Arrival): m is Presence {
    return m.type === "Presence" &&
      (this.targetId === undefined || m.sendingRegistrarId === this.targetId);
  }

  /**
   * Fails when the target asked for a handle table since `since` (ms into
   * the case): the case's outcome could then be the audit's doing rather
   * than the mechanism's under test.
   */
  requireNoResync(since: number, mechanism: string): void {
    const asked = this.tableRequests.filter((r) => r.at >= since);
    this.ctx.must(
      asked.length === 0,
      `${mechanism} without a resynchronisation`,
      `the target asked for the handle table ${asked.length} time(s) (at ${
        asked.map((r) => `${r.at} ms`).join(", ")
      })`,
    );
  }
}

/** Every element of handle table pages, with its pool. */
export function tableElements(pages: readonly HandleTableResponse[]): OwnedElement[] {
  return pages.flatMap((p) =>
    p.pools.flatMap((pool) =>
      pool.poolElements.map((element) => ({ handle: pool.poolHandle, element }))
    )
  );
}

/** Every identifier of handle table pages. */
export function tableIds(pages: readonly HandleTableResponse[]): Identifier[] {
  return tableElements(pages).map((e) => e.element.identifier);
}
