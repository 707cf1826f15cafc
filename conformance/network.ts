/**
 * Robustness over the network: a health check (a well-behaved client's
 * Handle Resolution must be answered), and bursts of mutated ASAP or ENRP
 * messages sent over TCP or SCTP to a running target, with a health check after
 * each burst. Used by the conformance suite's robustness cases and by
 * `deno task fuzz --network`.
 *
 * @module
 */

import { decodeAsap, encodeAsap, encodeMessage } from "../lib/protocol/codec.ts";
import type { WireProfile } from "../lib/protocol/types.ts";
import { insertToken, mutateBytes, mutateMessage, Rng } from "../lib/testing/mutate.ts";
import { profilePpids } from "../lib/runtime/driver.ts";
import { StreamTransport } from "../lib/transport/tcp.ts";
import type { MessageConnection, MessageTransport } from "../lib/transport/types.ts";
import { sampleMessages } from "./samples.ts";

/** An endpoint of the target: TCP unless `transport` says SCTP. */
export interface TargetEndpoint {
  /** Address. */
  readonly address: string;
  /** Port. */
  readonly port: number;
  /** `"SCTP"` for an SCTP endpoint (needs an SCTP transport); TCP otherwise. */
  readonly transport?: "TCP" | "SCTP";
}

/** Options of {@link networkFuzz}. */
export interface NetworkFuzzOptions {
  /** The target's ASAP endpoint (answers the health check). */
  readonly asap: TargetEndpoint;
  /** Where the mutated messages go (default: the ASAP endpoint). */
  readonly send?: TargetEndpoint;
  /** The transport of SCTP endpoints. */
  readonly sctp?: MessageTransport;
  /** Which protocol the mutated messages start from. */
  readonly protocol?: "asap" | "enrp";
  /** Wire profile of the messages (default rfc). */
  readonly profile?: WireProfile;
  /** Valid messages to mutate (default: one sample of every type). */
  readonly valid?: readonly Uint8Array[];
  /** Tokens (a fuzzing dictionary) the mutator also inserts or writes over messages. */
  readonly dictionary?: readonly Uint8Array[];
  /** Seed of every random choice. */
  readonly seed: number;
  /** Stop after this long (ms). */
  readonly timeMs?: number;
  /** Stop after this many bursts. */
  readonly bursts?: number;
  /** Messages per burst (default 50). */
  readonly burstSize?: number;
  /** How long the health check may take (ms, default 2000). */
  readonly healthTimeout?: number;
  /** Called after each burst. */
  readonly progress?: (stats: NetworkFuzzStats) => void;
}

/** What a network fuzzing run did. */
export interface NetworkFuzzStats {
  /** Bursts sent. */
  bursts: number;
  /** Mutated messages sent. */
  messages: number;
  /** Connections the target closed on us (its right, for garbage). */
  closedByTarget: number;
  /** Health checks answered. */
  healthy: number;
  /** The first failed health check, if any: the target stopped serving. */
  unhealthy?: { burst: number; reason: string; lastInputs: string[] };
}

/** The transport that reaches an endpoint: the given SCTP one for `sctp://`, TCP otherwise. */
function transportFor(
  endpoint: TargetEndpoint,
  sctp: MessageTransport | undefined,
  timeout: number,
): MessageTransport {
  if (endpoint.transport === "SCTP") {
    if (sctp === undefined) throw new Error("an SCTP endpoint needs an SCTP transport");
    return sctp;
  }
  return new StreamTransport({ connectTimeout: timeout, idleTimeout: 0 });
}

/** Opens a message connection; `message` and `closed` report what happens on it. */
async function open(
  endpoint: TargetEndpoint,
  ppid: number,
  timeout: number,
  sctp: MessageTransport | undefined,
  message: (payload: Uint8Array) => void,
  closed: (error?: Error) => void,
): Promise<MessageConnection> {
  return await transportFor(endpoint, sctp, timeout).connect(
    { addresses: [endpoint.address], port: endpoint.port, framing: "message", ppid, timeout },
    { message: (_ppid, payload) => message(payload), closed },
  );
}

/** Asks for a pool over a fresh connection: resolves when any answer arrives. */
export async function healthCheck(
  asap: TargetEndpoint,
  timeout = 2000,
  profile: WireProfile = "rfc",
  sctp?: MessageTransport,
): Promise<string | undefined> {
  let finish: (reason: string | undefined) => void = () => {};
  const done = new Promise<string | undefined>((resolve) => finish = resolve);
  let connection: MessageConnection;
  try {
    connection = await open(
      asap,
      profilePpids(profile).asap,
      timeout,
      sctp,
      (payload) => {
        try {
          const m = decodeAsap(payload, { lenient: true, profile });
          finish(m.type === "HandleResolutionResponse" ? undefined : `answered with ${m.type}`);
        } catch (e) {
          finish(`unreadable answer: ${(e as Error).message}`);
        }
      },
      (e) => finish(e ? `connection error: ${e.message}` : "connection closed without an answer"),
    );
  } catch (e) {
    return `cannot connect: ${(e as Error).message}`;
  }
  const timer = setTimeout(() => finish(`no answer in ${timeout} ms`), timeout);
  connection.send(
    profilePpids(profile).asap,
    encodeAsap({ type: "HandleResolution", poolHandle: new TextEncoder().encode("health-check") }, {
      profile,
    }),
  );
  const reason = await done;
  clearTimeout(timer);
  connection.abort();
  return reason;
}

/** Sends mutated bursts and checks the target's health after each. */
export async function networkFuzz(options: NetworkFuzzOptions): Promise<NetworkFuzzStats> {
  const rng = new Rng(options.seed);
  const protocol = options.protocol ?? "asap";
  const target = options.send ?? options.asap;
  const burstSize = options.burstSize ?? 50;
  const deadline = options.timeMs === undefined ? Infinity : Date.now() + options.timeMs;
  const maxBursts = options.bursts ?? Infinity;
  const profile = options.profile ?? "rfc";
  const valid = options.valid ??
    sampleMessages(profile, protocol).map((m) => encodeMessage(m, { profile }));
  const stats: NetworkFuzzStats = { bursts: 0, messages: 0, closedByTarget: 0, healthy: 0 };
  while (stats.bursts < maxBursts && Date.now() < deadline) {
    const sent: Uint8Array[] = [];
    let connection: MessageConnection | undefined;
    try {
      let closed = false;
      const ppids = profilePpids(profile);
      connection = await open(
        target,
        protocol === "enrp" ? ppids.enrp : ppids.asap,
        options.healthTimeout ?? 2000,
        options.sctp,
        () => {},
        () => closed = true,
      );
      for (let i = 0; i < burstSize && !closed; i++) {
        let m = rng.pick(valid);
        for (let k = 1 + rng.below(3); k > 0; k--) {
          const tokens = options.dictionary ?? [];
          m = tokens.length > 0 && rng.chance(0.15)
            ? insertToken(rng, m, tokens)
            : rng.chance(0.7)
            ? mutateMessage(rng, m, valid)
            : mutateBytes(rng, m, valid);
        }
        if (m.length === 0) continue; // SCTP carries no empty messages
        sent.push(m);
        try {
          connection.send(protocol === "enrp" ? ppids.enrp : ppids.asap, m);
        } catch {
          break; // closed under us
        }
        stats.messages++;
      }
      await new Promise((r) => setTimeout(r, 20));
      if (closed) stats.closedByTarget++;
    } catch {
      // connection refused: the health check below decides
    } finally {
      connection?.abort();
    }
    stats.bursts++;
    const reason = await healthCheck(
      options.asap,
      options.healthTimeout ?? 2000,
      profile,
      options.sctp,
    );
    if (reason !== undefined) {
      stats.unhealthy = {
        burst: stats.bursts,
        reason,
        lastInputs: sent.slice(-10).map((b) =>
          Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")
        ),
      };
      options.progress?.(stats);
      return stats;
    }
    stats.healthy++;
    options.progress?.(stats);
  }
  return stats;
}
