/**
 * Robustness of a registrar (RFC 5355 §2.13 and plain engineering): it may
 * refuse or drop what is malformed, and close connections that misbehave,
 * but it must stay alive and keep serving well-behaved clients.
 *
 * @module
 */

import { encodeMessage } from "../../lib/protocol/codec.ts";
import { mutateMessage, Rng } from "../../lib/testing/mutate.ts";
import type { CaseContext } from "../context.ts";
import { healthCheck, networkFuzz } from "../network.ts";
import type { Peer } from "../peer.ts";
import { sampleMessages } from "../samples.ts";
import type { ConformanceCase, TargetTimers } from "../types.ts";
import { hexId, registerAt, registerOk, resolveAt } from "./helpers.ts";

const slow = (t: TargetTimers) => 20 * t.slack + 30_000;

/** The target still answers a well-behaved client; fails otherwise. */
async function stillServing(ctx: CaseContext, after: string): Promise<void> {
  const reason = await healthCheck(
    ctx.config.asap!,
    ctx.answerTime + ctx.timers.slack,
    ctx.config.profile,
    ctx.config.sctp,
  );
  if (reason !== undefined) {
    ctx.fail(`the registrar still answering a Handle Resolution after ${after}`, reason);
  }
  ctx.note(`still serving after ${after}`);
}

/** Sends byte strings, opening a new connection whenever the target closed the last one. */
async function sendAll(
  ctx: CaseContext,
  inputs: readonly Uint8Array[],
  note: string,
): Promise<number> {
  let peer: Peer | undefined;
  let closedByTarget = 0;
  for (const bytes of inputs) {
    // SCTP carries no empty messages; over TCP an empty write sends nothing either.
    if (bytes.length === 0) continue;
    if (peer === undefined || peer.closed) {
      if (peer?.closed) closedByTarget++;
      peer = await ctx.asap();
    }
    peer.sendRaw(bytes, note);
    await ctx.sleep(0);
  }
  await ctx.sleep(50);
  ctx.note(`${inputs.length} inputs sent; the target closed ${closedByTarget} connection(s)`);
  return closedByTarget;
}

function samples(ctx: CaseContext): Uint8Array[] {
  return sampleMessages(ctx.config.profile, "asap").map((m) =>
    encodeMessage(m, { profile: ctx.config.profile })
  );
}

/** The cases. */
export const ROBUSTNESS_CASES: readonly ConformanceCase[] = [
  {
    id: "robustness/truncated-messages",
    ref: "RFC 5352 §2, RFC 5354 §2",
    requirement:
      "Messages of every type cut short at every few bytes (their Length adjusted) leave the registrar serving.",
    level: "MUST",
    role: "robustness",
    timeout: slow,
    async run(ctx) {
      const inputs: Uint8Array[] = [];
      for (const m of samples(ctx)) {
        const step = Math.max(1, Math.floor(m.length / 16));
        for (let cut = 4; cut < m.length; cut += step) {
          const t = m.slice(0, cut);
          t[2] = cut >> 8;
          t[3] = cut & 0xff;
          inputs.push(t);
        }
      }
      await sendAll(ctx, inputs, "a truncated message");
      await stillServing(ctx, `${inputs.length} truncated messages`);
    },
  },
  {
    id: "robustness/malformed-parameters",
    ref: "RFC 5354 §2, §3",
    requirement:
      "Messages with corrupted parameters (lengths, types, action bits, nesting, duplicates, reordering) leave the registrar serving.",
    level: "MUST",
    role: "robustness",
    timeout: slow,
    async run(ctx) {
      const rng = new Rng(0x5eed);
      const valid = samples(ctx);
      const inputs: Uint8Array[] = [];
      for (let i = 0; i < 400; i++) {
        let m = rng.pick(valid);
        for (let k = 1 + rng.below(3); k > 0; k--) m = mutateMessage(rng, m, valid);
        // Keep the frame intact so that the message, not the stream, is what is malformed.
        const framed = m.slice(0, Math.min(m.length, 0xffff));
        if (framed.length >= 4) {
          framed[2] = framed.length >> 8;
          framed[3] = framed.length & 0xff;
        }
        inputs.push(framed);
      }
      await sendAll(ctx, inputs, "a message with corrupted parameters");
      await stillServing(ctx, "400 malformed messages");
    },
  },
  {
    id: "robustness/impossible-lengths",
    ref: "RFC 5352 §2",
    requirement:
      "A message Length below the header size, one far beyond what follows, and a parameter Length beyond its message leave the registrar serving, also while such a connection stays open.",
    level: "MUST",
    role: "robustness",
    timeout: slow,
    async run(ctx) {
      const stalled = await ctx.asap();
      stalled.sendRaw(
        new Uint8Array([0x05, 0, 0xff, 0xff, 0, 9, 0, 8, 1, 2, 3, 4]),
        "Length 65535, 12 bytes sent",
      );
      const short = await ctx.asap();
      short.sendRaw(new Uint8Array([0x05, 0, 0, 2]), "Length 2");
      const overrun = await ctx.asap();
      overrun.sendRaw(
        new Uint8Array([0x05, 0, 0, 12, 0, 9, 0, 0x40, 0x41, 0x42, 0x43, 0x44]),
        "a Pool Handle of Length 64 in a 12-byte message",
      );
      await stillServing(ctx, "impossible lengths (one connection still waiting for 65535 bytes)");
      ctx.note(`Length 2: the target ${short.closed ? "closed" : "kept"} the connection`);
    },
  },
  {
    id: "robustness/registration-flood",
    ref: "RFC 5355 §2.13",
    requirement:
      "Thousands of registrations at once on one connection leave the registrar serving other clients (it may refuse beyond its limits or close that connection).",
    level: "MUST",
    role: "robustness",
    timeout: slow,
    async run(ctx) {
      const peer = await ctx.asap();
      const handle = ctx.poolHandle();
      const parts: Uint8Array[] = [];
      for (let i = 0; i < 5000; i++) {
        parts.push(
          encodeMessage(ctx.registration(handle, ctx.identifier(), { life: 10_000 }), {
            profile: ctx.config.profile,
          }),
        );
      }
      const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
      peer.sendRaw(all, "5000 registrations in one write");
      await stillServing(ctx, "a flood of 5000 registrations");
      await ctx.sleep(ctx.timers.slack);
      const answered = peer.received.filter((m) => m.type === "RegistrationResponse").length;
      ctx.note(
        `${answered} registration response(s); connection ${peer.closed ? "closed" : "open"}`,
      );
      peer.close(true);
    },
  },
  {
    id: "robustness/unread-answers",
    ref: "RFC 5355 §2.13",
    requirement:
      "A client that sends twenty thousand resolutions without reading the answers does not stop the registrar serving others.",
    level: "MUST",
    role: "robustness",
    timeout: slow,
    async run(ctx) {
      const greedy = await ctx.asap();
      const one = encodeMessage({ type: "HandleResolution", poolHandle: ctx.poolHandle("-nx") }, {
        profile: ctx.config.profile,
      });
      const burst = new Uint8Array(one.length * 1000);
      for (let i = 0; i < 1000; i++) burst.set(one, i * one.length);
      for (let i = 0; i < 20 && !greedy.closed; i++) {
        greedy.sendRaw(burst, "1000 Handle Resolutions");
      }
      await stillServing(ctx, "20000 unread resolutions");
      greedy.close(true);
    },
  },
  {
    id: "robustness/many-connections",
    ref: "RFC 5355 §2.13",
    requirement:
      "Two hundred idle connections do not keep the registrar from serving a new client.",
    level: "SHOULD",
    role: "robustness",
    timeout: slow,
    async run(ctx) {
      for (let i = 0; i < 200; i++) await ctx.asap();
      await stillServing(ctx, "200 idle connections");
    },
  },
  {
    id: "robustness/mutated-bursts",
    ref: "RFC 5352 §2, RFC 5355 §2.13",
    requirement:
      "Bursts of structure-aware mutations of valid messages leave the registrar serving after every burst.",
    level: "MUST",
    role: "robustness",
    timeout: slow,
    async run(ctx) {
      const stats = await networkFuzz({
        asap: ctx.config.asap!,
        sctp: ctx.config.sctp,
        profile: ctx.config.profile,
        seed: 0x0c0ffee,
        bursts: 20,
        burstSize: 50,
        healthTimeout: ctx.answerTime + ctx.timers.slack,
      });
      ctx.note(
        `${stats.messages} mutated messages in ${stats.bursts} bursts; the target closed ${stats.closedByTarget} connection(s)`,
      );
      if (stats.unhealthy !== undefined) {
        ctx.note(`last inputs before it stopped: ${stats.unhealthy.lastInputs.join(" ")}`);
        ctx.fail(
          "the registrar serving after every burst",
          `after burst ${stats.unhealthy.burst}: ${stats.unhealthy.reason}`,
        );
      }
    },
  },
  {
    id: "robustness/enrp-garbage",
    ref: "RFC 5353 §3.9, RFC 5355 §2.13",
    requirement:
      "Bursts of mutated ENRP messages to the ENRP endpoint leave the registrar serving ASAP clients.",
    level: "MUST",
    role: "robustness",
    timeout: slow,
    async run(ctx) {
      if (ctx.config.enrp === undefined) ctx.unsupported("no ENRP endpoint of the target (--enrp)");
      const stats = await networkFuzz({
        asap: ctx.config.asap!,
        sctp: ctx.config.sctp,
        send: ctx.config.enrp,
        protocol: "enrp",
        profile: ctx.config.profile,
        seed: 0xe4,
        bursts: 10,
        burstSize: 50,
        healthTimeout: ctx.answerTime + ctx.timers.slack,
      });
      if (stats.unhealthy !== undefined) {
        ctx.fail(
          "the registrar serving after every burst",
          `after burst ${stats.unhealthy.burst}: ${stats.unhealthy.reason}`,
        );
      }
      ctx.note(`${stats.messages} mutated ENRP messages in ${stats.bursts} bursts`);
    },
  },
  {
    // Last of all: a target that fails it may not serve any case after it (RSPLIB 3.4.4 ends).
    id: "robustness/weighted-random-nothing-to-draw",
    ref: "RFC 5352 §3.3, RFC 5356 §4.4",
    requirement:
      "A Handle Resolution for a Weighted Random pool whose only element has weight 0 (nothing to draw) is still answered, listing nothing but that element, and the registrar keeps serving.",
    level: "MUST",
    role: "registrar-asap",
    timeout: (t) => 4 * t.slack + 4000,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      pe.answerKeepAlives(handle, id);
      await registerOk(ctx, pe, handle, id, { policy: { type: "WeightedRandom", weight: 0 } });
      const pu = await ctx.asap();
      for (const items of [undefined, 0xffffffff]) {
        const r = await resolveAt(ctx, pu, handle, items);
        ctx.must(
          r.poolElements.every((e) => e.identifier === id),
          "a Handle Resolution Response listing nothing but the element",
          r.poolElements.map((e) => hexId(e.identifier)).join(", "),
        );
      }
      const again = await registerAt(ctx, await ctx.asap(), ctx.poolHandle("-2"), ctx.identifier());
      ctx.must(!again.reject, "still serving (a registration accepted)", "refused");
    },
  },
];
