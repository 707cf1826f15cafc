/**
 * Robustness over the network: a health check (a well-behaved client's
 * Handle Resolution must be answered), and bursts of mutated ASAP or ENRP
 * messages sent over TCP to a running target, with a health check after
 * each burst. Used by the conformance suite's robustness cases and by
 * `deno task fuzz --network`.
 *
 * @module
 */

import net from "node:net";
import { decodeAsap, encodeAsap, encodeMessage } from "../lib/protocol/codec.ts";
import type { WireProfile } from "../lib/protocol/types.ts";
import { mutateBytes, mutateMessage, Rng } from "../lib/testing/mutate.ts";
import { MessageDeframer } from "../lib/transport/framing.ts";
import { sampleMessages } from "./samples.ts";

/** Options of {@link networkFuzz}. */
export interface NetworkFuzzOptions {
  /** The target's ASAP endpoint (answers the health check). */
  readonly asap: { readonly address: string; readonly port: number };
  /** Where the mutated messages go (default: the ASAP endpoint). */
  readonly send?: { readonly address: string; readonly port: number };
  /** Which protocol the mutated messages start from. */
  readonly protocol?: "asap" | "enrp";
  /** Wire profile of the messages (default rfc). */
  readonly profile?: WireProfile;
  /** Valid messages to mutate (default: one sample of every type). */
  readonly valid?: readonly Uint8Array[];
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

function connect(address: string, port: number, timeout: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no connection in ${timeout} ms`));
    }, timeout);
    s.once("connect", () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Asks for a pool over a fresh connection: resolves when any answer arrives. */
export async function healthCheck(
  asap: { address: string; port: number },
  timeout = 2000,
  profile: WireProfile = "rfc",
): Promise<string | undefined> {
  let socket: net.Socket;
  try {
    socket = await connect(asap.address, asap.port, timeout);
  } catch (e) {
    return `cannot connect: ${(e as Error).message}`;
  }
  return await new Promise<string | undefined>((resolve) => {
    const deframer = new MessageDeframer(0);
    const timer = setTimeout(() => finish(`no answer in ${timeout} ms`), timeout);
    const finish = (reason: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    socket.on("data", (chunk: Uint8Array) => {
      try {
        for (const f of deframer.push(new Uint8Array(chunk))) {
          const m = decodeAsap(f.payload, { lenient: true, profile });
          finish(m.type === "HandleResolutionResponse" ? undefined : `answered with ${m.type}`);
          return;
        }
      } catch (e) {
        finish(`unreadable answer: ${(e as Error).message}`);
      }
    });
    socket.on("error", (e) => finish(`connection error: ${e.message}`));
    socket.on("close", () => finish("connection closed without an answer"));
    socket.write(encodeAsap({
      type: "HandleResolution",
      poolHandle: new TextEncoder().encode("health-check"),
    }, { profile }));
  });
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
    let socket: net.Socket | undefined;
    try {
      socket = await connect(target.address, target.port, options.healthTimeout ?? 2000);
      socket.on("error", () => {});
      let closed = false;
      socket.on("close", () => closed = true);
      for (let i = 0; i < burstSize && !closed; i++) {
        let m = rng.pick(valid);
        for (let k = 1 + rng.below(3); k > 0; k--) {
          m = rng.chance(0.7) ? mutateMessage(rng, m, valid) : mutateBytes(rng, m, valid);
        }
        sent.push(m);
        socket.write(m);
        stats.messages++;
      }
      await new Promise((r) => setTimeout(r, 20));
      if (closed) stats.closedByTarget++;
    } catch {
      // connection refused: the health check below decides
    } finally {
      socket?.destroy();
    }
    stats.bursts++;
    const reason = await healthCheck(options.asap, options.healthTimeout ?? 2000, profile);
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
