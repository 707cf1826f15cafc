/**
 * Steps the cases share: register, resolve, describe what arrived.
 *
 * @module
 */

import { encodeMessage } from "../../lib/protocol/codec.ts";
import { ERROR_CAUSE_NAMES } from "../../lib/protocol/constants.ts";
import { bytesToJson } from "../../lib/protocol/json.ts";
import type {
  ErrorCause,
  HandleResolutionResponse,
  Identifier,
  PoolElementParameter,
  RegistrationResponse,
  TransportParameter,
} from "../../lib/protocol/types.ts";
import type { Endpoint } from "../../lib/runtime/endpoint.ts";
import type { UdpChannel } from "../../lib/transport/udp.ts";
import type { CaseContext, SuiteListener } from "../context.ts";
import type { Arrival, Peer } from "../peer.ts";

/** Byte strings equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Causes as `0x0005 (Inconsistent Pooling Policy)`. */
export function causes(list: readonly ErrorCause[] | undefined): string {
  if (list === undefined || list.length === 0) return "no Operation Error";
  return list.map((c) =>
    `0x${c.code.toString(16).padStart(4, "0")} (${ERROR_CAUSE_NAMES.get(c.code) ?? "unknown"})`
  ).join(", ");
}

/** An identifier as hex. */
export function hexId(id: Identifier): string {
  return "0x" + id.toString(16);
}

/** Sends a Registration and returns the Registration Response for it. */
export async function registerAt(
  ctx: CaseContext,
  peer: Peer,
  poolHandle: Uint8Array,
  id: Identifier,
  options: Parameters<CaseContext["registration"]>[2] = {},
): Promise<RegistrationResponse> {
  peer.send(ctx.registration(poolHandle, id, options));
  return await ctx.expecting(() =>
    peer.expectType(
      "RegistrationResponse",
      ctx.answerTime,
      `a Registration Response for PE ${hexId(id)}`,
      (m) => m.poolElementId === id,
    )
  );
}

/** Registers and requires acceptance. */
export async function registerOk(
  ctx: CaseContext,
  peer: Peer,
  poolHandle: Uint8Array,
  id: Identifier,
  options: Parameters<CaseContext["registration"]>[2] = {},
): Promise<RegistrationResponse> {
  const r = await registerAt(ctx, peer, poolHandle, id, options);
  ctx.must(
    !r.reject,
    `registration of PE ${hexId(id)} accepted (R=0)`,
    `R=1, ${causes(r.operationError)}`,
  );
  return r;
}

/** Sends a Handle Resolution and returns its response. */
export async function resolveAt(
  ctx: CaseContext,
  peer: Peer,
  poolHandle: Uint8Array,
  items?: number,
): Promise<HandleResolutionResponse> {
  peer.send({
    type: "HandleResolution",
    poolHandle,
    ...(items === undefined ? {} : { items }),
  });
  return await ctx.expecting(() =>
    peer.expectType(
      "HandleResolutionResponse",
      ctx.answerTime,
      `a Handle Resolution Response for "${bytesToJson(poolHandle)}"`,
      (m) => sameBytes(m.poolHandle, poolHandle),
    )
  );
}

/** The identifiers a resolution lists. */
export function idsOf(r: HandleResolutionResponse): Identifier[] {
  return r.poolElements.map((e) => e.identifier);
}

/** Waits until a condition on resolutions holds (polling), or fails. */
export async function eventually(
  ctx: CaseContext,
  peer: Peer,
  poolHandle: Uint8Array,
  holds: (r: HandleResolutionResponse) => boolean,
  what: string,
  withinMs: number,
): Promise<HandleResolutionResponse> {
  const deadline = performance.now() + withinMs;
  let last: HandleResolutionResponse | undefined;
  for (;;) {
    last = await resolveAt(ctx, peer, poolHandle, 0xffffffff);
    if (holds(last)) return last;
    if (performance.now() > deadline) {
      ctx.fail(
        what,
        `after ${withinMs} ms the pool lists ${
          last.poolElements.map((e) => hexId(e.identifier)).join(", ") || "nothing"
        } (${causes(last.operationError)})`,
      );
    }
    await ctx.sleep(Math.min(250, withinMs / 10));
  }
}

/** Finds an element in a list by identifier. */
export function element(
  list: readonly PoolElementParameter[],
  id: Identifier,
): PoolElementParameter | undefined {
  return list.find((e) => e.identifier === id);
}

/**
 * Waits until a message `match` accepts has been received on `peer` since
 * index `since` of its {@link Peer.received} (whether or not an automatic
 * answer took it); returns it, or undefined after `ms`.
 */
export async function receivedSince(
  ctx: CaseContext,
  peer: Peer,
  since: number,
  match: (m: Arrival) => boolean,
  ms: number,
): Promise<Arrival | undefined> {
  const deadline = performance.now() + ms;
  for (;;) {
    const found = peer.received.slice(since).find(match);
    if (found !== undefined || performance.now() >= deadline) return found;
    await ctx.sleep(Math.min(10, Math.max(1, deadline - performance.now())));
  }
}

/**
 * Multicasts a Server Announce of a registrar at `transports` (none: as RSPLIB sends them) on the
 * channel now and every 200 ms until the case
 * ends, each time after two other ASAP messages (an Endpoint Keep-Alive, a
 * Handle Resolution): no announces, so they must not disturb a hunt.
 */
export function announceEvery200ms(
  ctx: CaseContext,
  channel: { send(bytes: Uint8Array): void },
  transports: readonly TransportParameter[],
): void {
  const profile = { profile: ctx.config.profile };
  const announce = encodeMessage({
    type: "ServerAnnounce",
    registrarId: ctx.identifier(),
    transports: [...transports],
  }, profile);
  const others = [
    encodeMessage({
      type: "EndpointKeepAlive",
      poolHandle: ctx.poolHandle(),
      registrarId: ctx.identifier(),
      home: false,
    }, profile),
    encodeMessage({ type: "HandleResolution", poolHandle: ctx.poolHandle() }, profile),
  ];
  const send = () => {
    for (const m of others) channel.send(m);
    channel.send(announce);
  };
  send();
  const timer = setInterval(send, 200);
  ctx.onCleanup(() => clearInterval(timer));
}

/**
 * The first connection to any of `listeners` (an element or user hunting
 * among several registrars may pick any first), and where it arrived.
 * Unlike racing their `next()`, it leaves no listener waiting to claim a
 * later connection.
 */
export async function firstConnection(
  ctx: CaseContext,
  listeners: readonly SuiteListener[],
  ms: number,
  what: string,
): Promise<{ peer: Peer; at: SuiteListener }> {
  await Promise.race(listeners.map((l) => l.arrival(ms)));
  const at = listeners.find((l) => l.unclaimed > 0) ??
    ctx.fail(what, `no connection to any of ${listeners.length} listeners within ${ms} ms`);
  return { peer: await at.next(0, what), at };
}

/** Waits until `ok` holds (polling every 20 ms) or `ms` pass; returns whether it held. */
export async function waitFor(ctx: CaseContext, ok: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > deadline) return false;
    await ctx.sleep(20);
  }
  return true;
}

/**
 * An ASAP listener at the port of a new announce channel, for Server
 * Announces without Transport parameters: RSPLIB's registrars send only
 * their identifier, and an element or user then takes the announce's
 * source address and port for the registrar's (docs/interop.md). Over TCP
 * only: the listener and the channel share the port number.
 */
export async function listenerAtAnnouncePort(
  ctx: CaseContext,
): Promise<{ listener: SuiteListener; channel: UdpChannel }> {
  if (ctx.overSctp) {
    ctx.unsupported(
      "over SCTP the suite's listener and the announce channel would share a UDP port",
    );
  }
  for (let attempt = 0;; attempt++) {
    const channel = await ctx.announceChannel();
    try {
      const listener = await ctx.listen("asap", channel.settings.port);
      return { listener, channel };
    } catch (e) {
      if (attempt >= 10) throw e;
      await channel.close();
    }
  }
}

/** The part of Deno's socket API {@link blackHole} uses (the npm build has no Deno types). */
interface DenoSockets {
  listen(options: { hostname: string; port: number; transport: "tcp" }): {
    readonly addr: { readonly port: number };
    close(): void;
  };
  connect(options: { hostname: string; port: number }): Promise<{ close(): void }>;
}

/**
 * A TCP address where a connection attempt neither succeeds nor fails: a
 * listener that never accepts, its accept queue filled first, so that the
 * kernel drops further SYNs (a registrar that black-holes its traffic).
 * Needs Deno (Node's net server accepts every connection); over TCP only.
 */
export async function blackHole(ctx: CaseContext): Promise<Endpoint> {
  if (ctx.overSctp) ctx.unsupported("a black-holed address over SCTP is not built here");
  const deno = (globalThis as { Deno?: DenoSockets }).Deno;
  if (deno === undefined) {
    ctx.unsupported("a listener that never accepts needs Deno (Node's net server accepts all)");
  }
  const hostname = ctx.config.listenHost;
  const listener = deno.listen({ hostname, port: 0, transport: "tcp" });
  const port = listener.addr.port;
  const fillers: { close(): void }[] = [];
  ctx.onCleanup(() => {
    for (const c of fillers) c.close();
    listener.close();
  });
  for (let i = 0; i < 4096; i++) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const attempt = deno.connect({ hostname, port });
    const r = await Promise.race([
      attempt,
      new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), 200)),
    ]);
    clearTimeout(timer);
    if (r === undefined) {
      // The queue is full: this attempt hangs too; drop it when it resolves.
      attempt.then((c) => c.close(), () => {});
      ctx.note(`a black-holed address: ${hostname}:${port} (accept queue full after ${i})`);
      return { address: hostname, port };
    }
    fillers.push(r);
  }
  return ctx.unsupported("the listener's accept queue never filled");
}

/** A listener that closes every connection it accepts at once (a registrar refusing service). */
export async function closingListener(ctx: CaseContext): Promise<SuiteListener> {
  const l = await ctx.listen("asap");
  const closer = setInterval(() => {
    for (const p of l.accepted) if (!p.closed) p.close(true);
  }, 5);
  ctx.onCleanup(() => clearInterval(closer));
  return l;
}

/**
 * After the first connection to `l` (within `ms`), counts the connections of
 * the next 2 s: at least one more (MUST), at most 10 per second (SHOULD: no
 * reconnection storm, RFC 5355 §2.13).
 */
export async function noReconnectionStorm(
  ctx: CaseContext,
  l: SuiteListener,
  ms: number,
): Promise<void> {
  await l.arrival(ms);
  const from = l.accepted.length;
  const window = 2000;
  await ctx.sleep(window);
  const connections = l.accepted.length - from;
  ctx.note(`${connections} connections in ${window} ms after the first`);
  ctx.must(connections >= 1, "another attempt within 2 s", "none");
  ctx.should(
    connections <= 20,
    `at most 10 connections per second (${window / 100} in ${window} ms)`,
    `${connections}`,
  );
}
