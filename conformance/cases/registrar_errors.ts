/**
 * Error discipline of a registrar over ASAP and ENRP (RFC 5352 §2.2.14,
 * RFC 5353 §3.7, RFC 5354 §3 and §4): unknown message types by their
 * action bits, unknown parameters by theirs in every kind of message and
 * position, and errors never answered with errors.
 *
 * @module
 */

import { ErrorCauseCode } from "../../lib/protocol/constants.ts";
import { encodeMessage } from "../../lib/protocol/codec.ts";
import type { ConformanceCase, TargetTimers } from "../types.ts";
import type { Arrival, Peer } from "../peer.ts";
import type { CaseContext } from "../context.ts";
import { FakeRegistrar } from "./fake_registrar.ts";
import { causes, element, registerOk, resolveAt, sameBytes } from "./helpers.ts";

const quick = (t: TargetTimers) => 6 * t.slack + 8000;

/** Whether an arrival reports an unknown parameter of this type (cause 0x0001 carrying it). */
function reports(m: Arrival, type: number): boolean {
  return "operationError" in m &&
    (m.operationError ?? []).some((c) =>
      c.code === ErrorCauseCode.UnrecognizedParameter &&
      c.info.length >= 2 && ((c.info[0] << 8) | c.info[1]) === type
    );
}

/**
 * Adds a parameter TLV to an encoded message (at its end, or first after
 * the 4-byte common header: ASAP only) and fixes its Length.
 */
export function withParameter(
  message: Uint8Array,
  type: number,
  value: Uint8Array,
  first = false,
): Uint8Array {
  const tlvLength = 4 + value.length;
  const padded = (tlvLength + 3) & ~3;
  const out = new Uint8Array(message.length + padded);
  const at = first ? 4 : message.length;
  out.set(message.subarray(0, at));
  out.set(message.subarray(at), at + padded);
  out[at] = type >> 8;
  out[at + 1] = type & 0xff;
  out[at + 2] = tlvLength >> 8;
  out[at + 3] = tlvLength & 0xff;
  out.set(value, at + 4);
  out[2] = out.length >> 8;
  out[3] = out.length & 0xff;
  return out;
}

function unknownParameterCase(
  bits: "00" | "01" | "10" | "11",
): ConformanceCase {
  const type = (parseInt(bits, 2) << 14) | 0x0123;
  const process = bits[0] === "1";
  const report = bits[1] === "1";
  return {
    id: `asap/registrar/error/unrecognized-parameter-${bits}`,
    ref: "RFC 5354 §2 (action bits), RFC 5352 §2.2.14",
    requirement: `A Registration carrying an unknown parameter with action bits ${bits} is ${
      process ? "processed (the parameter skipped)" : "discarded"
    }, and the parameter is ${
      report ? "reported with cause 0x0001 (Unrecognized Parameter) carrying it" : "not reported"
    }.`,
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      const tlv = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
      pe.sendRaw(
        withParameter(
          encodeMessage(ctx.registration(handle, id), { profile: ctx.config.profile }),
          type,
          tlv,
        ),
        `a Registration with an unknown parameter 0x${type.toString(16)}`,
      );
      // Whatever the target says within the answer time.
      await ctx.sleep(ctx.answerTime);
      const response = pe.received.find((m) =>
        m.type === "RegistrationResponse" && m.poolElementId === id
      );
      const reported = pe.received.some((m) =>
        ("operationError" in m) &&
        (m.operationError ?? []).some((c) =>
          c.code === ErrorCauseCode.UnrecognizedParameter &&
          c.info.length >= 2 && ((c.info[0] << 8) | c.info[1]) === type
        )
      );
      if (process) {
        ctx.must(
          response?.type === "RegistrationResponse" && !response.reject,
          "the registration processed (R=0)",
          response === undefined ? "no Registration Response" : `R=1, ${
            causes(
              response.type === "RegistrationResponse" ? response.operationError : undefined,
            )
          }`,
        );
      } else {
        const pu = await ctx.asap();
        const r = await resolveAt(ctx, pu, handle);
        ctx.must(
          element(r.poolElements, id) === undefined &&
            !(response?.type === "RegistrationResponse" && !response.reject),
          "the registration discarded",
          "the element was registered",
        );
      }
      ctx.must(
        reported === report,
        report ? "cause 0x0001 reporting the parameter" : "no report of the parameter",
        reported
          ? "it was reported"
          : `no report (${pe.received.map((m) => m.type).join(", ") || "nothing"})`,
      );
    },
  };
}

/** The ASAP cases. */
/**
 * Registers an element of a new pool, then sends a Handle Resolution for it
 * whose first parameter is an unknown one (`type`, `value`), and waits the
 * answer time: the pool user's peer, and whether the resolution was answered.
 */
async function resolutionLedBy(
  ctx: CaseContext,
  type: number,
  value: Uint8Array,
  what: string,
): Promise<{ pu: Peer; answered: boolean }> {
  const pe = await ctx.asap();
  const handle = ctx.poolHandle();
  await registerOk(ctx, pe, handle, ctx.identifier());
  const pu = await ctx.asap();
  const request = encodeMessage({ type: "HandleResolution", poolHandle: handle }, {
    profile: ctx.config.profile,
  });
  pu.sendRaw(withParameter(request, type, value, true), what);
  await ctx.sleep(ctx.answerTime);
  const answered = pu.received.some((m) =>
    m.type === "HandleResolutionResponse" && sameBytes(m.poolHandle, handle)
  );
  return { pu, answered };
}

export const ASAP_ERROR_CASES: readonly ConformanceCase[] = [
  {
    id: "asap/registrar/error/unrecognized-message",
    ref: "RFC 5352 §2.2.14, RFC 5354 §3.12",
    requirement:
      "A message of an unknown type is answered with an ASAP Error carrying cause 0x0002 (Unrecognized Message) and the message.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const unknown = new Uint8Array([0x7f, 0, 0, 8, 1, 2, 3, 4]);
      pe.sendRaw(unknown, "a message of type 0x7f");
      const e = await ctx.expecting(() =>
        pe.expectType("AsapError", ctx.answerTime, "an ASAP Error")
      );
      const cause = e.operationError.find((c) => c.code === ErrorCauseCode.UnrecognizedMessage);
      ctx.must(
        cause !== undefined,
        "cause 0x0002 (Unrecognized Message)",
        causes(e.operationError),
      );
      ctx.should(
        cause!.info.length >= 4 && sameBytes(cause!.info.subarray(0, 8), unknown),
        "the unrecognized message as the cause's information",
        `${cause!.info.length} bytes`,
      );
      // The largest message there is: its report must still fit in an ASAP Error.
      const big = new Uint8Array(65532);
      big.set([0x7f, 0, 0xff, 0xfc]);
      for (let i = 4; i < big.length; i++) big[i] = i & 0xff;
      pe.sendRaw(big, "a message of type 0x7f of 65532 bytes");
      const e2 = await ctx.expecting(() =>
        pe.expectType("AsapError", ctx.answerTime, "an ASAP Error for the 65532-byte message")
      );
      ctx.must(
        e2.operationError.some((c) => c.code === ErrorCauseCode.UnrecognizedMessage),
        "cause 0x0002 (Unrecognized Message) for the 65532-byte message too",
        causes(e2.operationError),
      );
    },
  },
  unknownParameterCase("00"),
  unknownParameterCase("01"),
  unknownParameterCase("10"),
  unknownParameterCase("11"),
  {
    id: "asap/registrar/error/no-error-for-error",
    ref: "RFC 5352 §2.2.14",
    requirement:
      "An ASAP Error is never answered with an ASAP Error, and the connection keeps working.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      pe.send({
        type: "AsapError",
        operationError: [{ code: 0x7777, info: new Uint8Array([1, 2]) }],
      });
      const garbled = encodeMessage({
        type: "AsapError",
        operationError: [{ code: 3, info: new Uint8Array() }],
      });
      garbled[1] = 0x81; // reserved flags set: still an error message
      pe.sendRaw(garbled, "an ASAP Error with reserved flags set");
      await ctx.expecting(() =>
        pe.expectNothing((m) => m.type === "AsapError", "ASAP Error in reply", ctx.answerTime)
      );
      const r = await resolveAt(ctx, pe, ctx.poolHandle("-nx"));
      ctx.must(r.type === "HandleResolutionResponse", "the connection still serving", "no answer");
    },
  },
  {
    id: "asap/registrar/error/unrecognized-message-00",
    ref: "RFC 5354 §4 (message action bits), RFC 5352 §2.2.14",
    requirement:
      "A message of an unknown type whose two highest bits are 00 is discarded without an ASAP Error, and the connection keeps working.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      pe.sendRaw(new Uint8Array([0x3e, 0, 0, 8, 1, 2, 3, 4]), "a message of type 0x3e");
      await ctx.expecting(() =>
        pe.expectNothing((m) => m.type === "AsapError", "ASAP Error", ctx.answerTime)
      );
      const r = await resolveAt(ctx, pe, ctx.poolHandle("-nx"));
      ctx.must(r.type === "HandleResolutionResponse", "the connection still serving", "no answer");
    },
  },
  ...(["00", "01", "10", "11"] as const).map((bits): ConformanceCase => {
    const type = (parseInt(bits, 2) << 14) | 0x0231;
    const process = bits[0] === "1";
    const report = bits[1] === "1";
    return {
      id: `asap/registrar/error/resolution-parameter-${bits}`,
      ref: "RFC 5354 §3 (action bits), RFC 5352 §2.2.14",
      requirement:
        `A Handle Resolution whose first parameter is unknown with action bits ${bits} is ${
          process ? "answered (the parameter skipped)" : "not answered (discarded)"
        }, and the parameter is ${report ? "reported with cause 0x0001" : "not reported"}.`,
      level: "MUST",
      role: "registrar-asap",
      timeout: quick,
      async run(ctx) {
        // A whole number of words: skipping its padding is a case of its own (below).
        const { pu, answered } = await resolutionLedBy(
          ctx,
          type,
          new Uint8Array([0xfe, 0xed, 0xfa, 0xce]),
          `a Handle Resolution led by an unknown parameter 0x${type.toString(16)}`,
        );
        const reported = pu.received.some((m) => reports(m, type));
        ctx.must(
          answered === process,
          process ? "a Handle Resolution Response" : "no Handle Resolution Response",
          answered ? "one" : "none",
        );
        ctx.must(
          reported === report,
          report ? "cause 0x0001 reporting the parameter" : "no report of the parameter",
          reported
            ? "it was reported"
            : `no report (${pu.received.map((m) => m.type).join(", ") || "nothing"})`,
        );
      },
    };
  }),
  {
    id: "asap/registrar/decoding/unknown-parameter-padding",
    ref: "RFC 5354 §2 (padding, action bits)",
    requirement:
      "An unknown parameter to be skipped (action bits 10) whose Length is not a multiple of 4 is skipped with its padding: a Handle Resolution led by one (Length 9, 3 padding bytes) is answered.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const { pu, answered } = await resolutionLedBy(
        ctx,
        0x8232,
        new Uint8Array([0xfe, 0xed, 0xfa, 0xce, 0x01]),
        "a Handle Resolution led by an unknown parameter 0x8232 of Length 9 (3 padding bytes)",
      );
      ctx.must(
        answered,
        "a Handle Resolution Response (the parameter and its padding skipped)",
        `none (${pu.received.map((m) => m.type).join(", ") || "nothing"})`,
      );
    },
  },
  {
    id: "asap/registrar/error/no-error-for-unknown-parameter-in-error",
    ref: "RFC 5352 §2.2.14, RFC 5354 §3",
    requirement:
      "An ASAP Error carrying unknown parameters whose action bits ask for a report (01, 11) is still not answered with an ASAP Error.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const error = encodeMessage({
        type: "AsapError",
        operationError: [{ code: 0x0004, info: new Uint8Array() }],
      }, { profile: ctx.config.profile });
      pe.sendRaw(
        withParameter(error, 0x4321, new Uint8Array([1, 2, 3, 4])),
        "an ASAP Error with an unknown parameter 0x4321 (stop, report)",
      );
      pe.sendRaw(
        withParameter(error, 0xc321, new Uint8Array([5, 6, 7, 8]), true),
        "an ASAP Error led by an unknown parameter 0xc321 (skip, report)",
      );
      await ctx.expecting(() =>
        pe.expectNothing((m) => m.type === "AsapError", "ASAP Error in reply", ctx.answerTime)
      );
      const r = await resolveAt(ctx, pe, ctx.poolHandle("-nx"));
      ctx.must(r.type === "HandleResolutionResponse", "the connection still serving", "no answer");
    },
  },
  {
    id: "asap/registrar/error/no-error-for-malformed-error",
    ref: "RFC 5352 §2.2.14, RFC 5354 §3.12",
    requirement:
      "An ASAP Error that is itself malformed (a cause whose length runs past its parameter, an Operation Error parameter whose length runs past the message) is not answered with an ASAP Error.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const good = encodeMessage({
        type: "AsapError",
        operationError: [{ code: 0x0003, info: new Uint8Array([9, 9, 9, 9]) }],
      }, { profile: ctx.config.profile });
      const badCause = good.slice();
      badCause[10] = 0x00;
      badCause[11] = 0x40; // the cause's length: beyond its parameter
      pe.sendRaw(badCause, "an ASAP Error whose cause length is too long");
      const badParameter = good.slice();
      badParameter[6] = 0x01; // the Operation Error parameter's length: beyond the message
      pe.sendRaw(badParameter, "an ASAP Error whose parameter length is too long");
      await ctx.expecting(() =>
        pe.expectNothing((m) => m.type === "AsapError", "ASAP Error in reply", ctx.answerTime)
      );
      const r = await resolveAt(ctx, await ctx.asap(), ctx.poolHandle("-nx"));
      ctx.must(r.type === "HandleResolutionResponse", "the registrar still serving", "no answer");
    },
  },
];

/** The ENRP cases. */
export const ENRP_ERROR_CASES: readonly ConformanceCase[] = [
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
      // Also from a peer the registrar has not heard of yet (no Presence before it).
      const stranger = await ctx.enrp();
      const n = encodeMessage({
        type: "ListRequest",
        sendingRegistrarId: ctx.identifier(),
        receivingRegistrarId: ctx.zero,
      }, { profile: ctx.config.profile });
      n[0] = 0x7f;
      stranger.sendRaw(n, "an ENRP message of type 0x7f from a peer not yet known");
      const e2 = await ctx.expecting(() =>
        stranger.expectType("EnrpError", ctx.answerTime, "an ENRP Error to the unknown peer")
      );
      ctx.must(
        e2.operationError.some((c) => c.code === ErrorCauseCode.UnrecognizedMessage),
        "cause 0x0002 (Unrecognized Message) for the unknown peer too",
        causes(e2.operationError),
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
  {
    id: "enrp/registrar/error/unrecognized-message-00",
    ref: "RFC 5354 §4 (message action bits), RFC 5353 §3.7",
    requirement:
      "An ENRP message of an unknown type whose two highest bits are 00 is discarded without an ENRP Error.",
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
      m[0] = 0x3e;
      fake.peer.sendRaw(m, "an ENRP message of type 0x3e");
      await ctx.expecting(() =>
        fake.peer.expectNothing((x) => x.type === "EnrpError", "ENRP Error", ctx.answerTime)
      );
      fake.send({ type: "ListRequest" });
      await ctx.expecting(() =>
        fake.peer.expectType("ListResponse", ctx.answerTime, "a List Response: still serving")
      );
    },
  },
  ...(["00", "10", "11"] as const).map((bits): ConformanceCase => {
    const type = (parseInt(bits, 2) << 14) | 0x0123;
    const process = bits[0] === "1";
    const report = bits[1] === "1";
    return {
      id: `enrp/registrar/error/unrecognized-parameter-${bits}`,
      ref: "RFC 5353 §3.7, RFC 5354 §3",
      requirement:
        `A Presence with the Reply-required flag carrying an unknown parameter with action bits ${bits} is ${
          process ? "processed (answered with a Presence)" : "discarded (not answered)"
        }, and the parameter is ${
          report ? "reported in an ENRP Error (cause 0x0001)" : "not reported"
        }.`,
      level: "MUST",
      role: "registrar-enrp",
      timeout: (t) => quick(t) + 2 * t.peerHeartbeatCycle,
      async run(ctx) {
        const fake = await FakeRegistrar.join(ctx);
        const m = encodeMessage({
          type: "Presence",
          sendingRegistrarId: fake.id,
          receivingRegistrarId: fake.targetId!,
          replyRequired: true,
          checksum: fake.checksum(),
          serverInformation: ctx.serverInformation(fake.id, fake.listener.endpoint),
        }, { profile: ctx.config.profile });
        const since = fake.peer.received.length;
        const answer = await fake.prompt(() =>
          fake.peer.sendRaw(
            withParameter(m, type, new Uint8Array([0xca, 0xfe, 0xba, 0xbe])),
            `a Presence (R=1) with an unknown parameter 0x${type.toString(16)}`,
          )
        );
        await ctx.sleep(ctx.answerTime);
        const reported = fake.peer.received.slice(since).some((x) => reports(x, type));
        ctx.must(
          (answer !== undefined) === process,
          process
            ? `a Presence in answer within ${fake.promptWindow} ms`
            : `no Presence in answer (none within ${fake.promptWindow} ms)`,
          answer === undefined ? "none" : "one",
        );
        ctx.must(
          reported === report,
          report ? "an ENRP Error with cause 0x0001 reporting the parameter" : "no report",
          reported ? "it was reported" : "no report",
        );
      },
    };
  }),
  {
    id: "enrp/registrar/error/no-error-for-error",
    ref: "RFC 5353 §3.7, RFC 5354 §3",
    requirement:
      "An ENRP Error, also one carrying an unknown parameter whose action bits ask for a report, is never answered with an ENRP Error, and the peer keeps being served.",
    level: "MUST",
    role: "registrar-enrp",
    timeout: quick,
    async run(ctx) {
      const fake = await FakeRegistrar.join(ctx);
      const error = encodeMessage({
        type: "EnrpError",
        sendingRegistrarId: fake.id,
        receivingRegistrarId: fake.targetId!,
        operationError: [{ code: 0x0002, info: new Uint8Array([1, 2, 3, 4]) }],
      }, { profile: ctx.config.profile });
      fake.peer.sendRaw(error, "an ENRP Error");
      fake.peer.sendRaw(
        withParameter(error, 0x4444, new Uint8Array([1, 2, 3, 4])),
        "an ENRP Error with an unknown parameter 0x4444 (stop, report)",
      );
      fake.peer.sendRaw(
        withParameter(error, 0xc444, new Uint8Array([5, 6, 7, 8])),
        "an ENRP Error with an unknown parameter 0xc444 (skip, report)",
      );
      await ctx.expecting(() =>
        fake.peer.expectNothing(
          (m) => m.type === "EnrpError",
          "ENRP Error in reply",
          ctx.answerTime,
        )
      );
      fake.send({ type: "ListRequest" });
      await ctx.expecting(() =>
        fake.peer.expectType("ListResponse", ctx.answerTime, "a List Response: still serving")
      );
    },
  },
];
