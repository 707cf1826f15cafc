/**
 * A registrar over ASAP (RFC 5352), the suite acting as pool elements and
 * pool users.
 *
 * @module
 */

import { ErrorCauseCode } from "../../lib/protocol/constants.ts";
import { encodeMessage } from "../../lib/protocol/codec.ts";
import type { ConformanceCase } from "../types.ts";
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
} from "./helpers.ts";

const quick = (t: { slack: number }) => 4 * t.slack + 8000;

/** Appends a parameter TLV to an encoded message and fixes its Length. */
function withParameter(message: Uint8Array, type: number, value: Uint8Array): Uint8Array {
  const tlvLength = 4 + value.length;
  const padded = (tlvLength + 3) & ~3;
  const out = new Uint8Array(message.length + padded);
  out.set(message);
  const at = message.length;
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

/** The cases. */
export const REGISTRAR_ASAP_CASES: readonly ConformanceCase[] = [
  {
    id: "asap/registrar/registration/accept",
    ref: "RFC 5352 §3.1",
    requirement:
      "A registration of a new pool element is answered with a Registration Response without the Reject flag, for the same pool handle and PE identifier.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      const r = await registerAt(ctx, pe, handle, id);
      ctx.must(!r.reject, "R=0", `R=1, ${causes(r.operationError)}`);
      ctx.must(sameBytes(r.poolHandle, handle), "the same pool handle", "another pool handle");
      ctx.should(
        r.operationError === undefined,
        "no Operation Error in an acceptance",
        causes(r.operationError),
      );
    },
  },
  {
    id: "asap/registrar/registration/resolvable",
    ref: "RFC 5352 §3.1, §3.3",
    requirement:
      "A registered pool element is listed by handle resolution with its identifier, user transport and policy, and the registrar as its home (non-zero Home Registrar Identifier).",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      const transport = ctx.userTransport(4711);
      await registerOk(ctx, pe, handle, id, {
        transport,
        policy: { type: "WeightedRoundRobin", weight: 7 },
      });
      const pu = await ctx.asap();
      const r = await resolveAt(ctx, pu, handle);
      const e = element(r.poolElements, id);
      if (e === undefined) {
        return ctx.fail(
          `PE ${hexId(id)} listed`,
          `listed: ${idsOf(r).map(hexId).join(", ") || "none"} (${causes(r.operationError)})`,
        );
      }
      ctx.must(
        e.userTransport.type === "TCP" && e.userTransport.port === 4711 &&
          e.userTransport.addresses.includes(transport.addresses[0]),
        "its user transport as registered",
        JSON.stringify(e.userTransport),
      );
      ctx.must(
        e.policy.type === "WeightedRoundRobin" && "weight" in e.policy && e.policy.weight === 7,
        "its policy as registered (Weighted Round Robin, weight 7)",
        JSON.stringify(e.policy),
      );
      ctx.must(e.homeRegistrarId !== ctx.zero, "a non-zero Home Registrar Identifier", "0");
    },
  },
  {
    id: "asap/registrar/registration/update",
    ref: "RFC 5352 §3.1",
    requirement:
      "A registration for a pool element already registered updates it (here its Least Used load) instead of adding another.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      const low = Math.round(0.1 * 0xffffffff);
      const high = Math.round(0.7 * 0xffffffff);
      await registerOk(ctx, pe, handle, id, { policy: { type: "LeastUsed", load: low } });
      await registerOk(ctx, pe, handle, id, { policy: { type: "LeastUsed", load: high } });
      const pu = await ctx.asap();
      const r = await resolveAt(ctx, pu, handle);
      const listed = r.poolElements.filter((e) => e.identifier === id);
      ctx.must(listed.length === 1, "the element listed once", `${listed.length} times`);
      const load = "load" in listed[0].policy ? listed[0].policy.load : undefined;
      ctx.must(load === high, "the updated load (70 %)", `load ${load}`);
    },
  },
  ...(
    [
      [
        "policy-mismatch",
        "a different pool member selection policy than the pool's",
        ErrorCauseCode.InconsistentPoolingPolicy,
        { policy: { type: "LeastUsed" as const, load: 0 } },
      ],
      [
        "transport-mismatch",
        "a different transport protocol (UDP) than the pool's (TCP)",
        ErrorCauseCode.InconsistentTransportType,
        { transport: { type: "UDP" as const, port: 4000, addresses: ["127.0.0.1"] } },
      ],
      [
        "transport-use-mismatch",
        "a different Transport Use (DATA PLUS CONTROL) than the pool's (DATA ONLY)",
        ErrorCauseCode.InconsistentDataControlConfiguration,
        {
          transport: {
            type: "TCP" as const,
            port: 4000,
            transportUse: 1,
            addresses: ["127.0.0.1"],
          },
        },
      ],
    ] as const
  ).map(([name, what, code, options]): ConformanceCase => ({
    id: `asap/registrar/registration/${name}`,
    ref: "RFC 5352 §3.1, RFC 5354 §3.12",
    requirement:
      `A registration into an existing pool with ${what} is refused (Reject flag) with cause 0x${
        code.toString(16).padStart(4, "0")
      }, and the pool keeps its members.`,
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const first = ctx.identifier();
      await registerOk(ctx, pe, handle, first);
      const second = ctx.identifier();
      // The suite's own address: registrars may drop addresses of a narrower scope.
      const local = { addresses: [ctx.config.listenHost] };
      const r = await registerAt(ctx, pe, handle, second, {
        ...options,
        transport: "transport" in options ? { ...options.transport, ...local } : undefined,
      });
      ctx.must(r.reject, "R=1 (refused)", "R=0 (accepted)");
      ctx.must(
        (r.operationError ?? []).some((c) => c.code === code),
        `cause 0x${code.toString(16).padStart(4, "0")}`,
        causes(r.operationError),
      );
      const pu = await ctx.asap();
      const listed = idsOf(await resolveAt(ctx, pu, handle));
      ctx.must(
        listed.includes(first) && !listed.includes(second),
        "the pool still listing only the first element",
        listed.map(hexId).join(", ") || "none",
      );
    },
  })),
  {
    id: "asap/registrar/deregistration/remove",
    ref: "RFC 5352 §3.2",
    requirement:
      "A deregistration is answered with a Deregistration Response for the same pool handle and PE identifier, and the element is no longer listed.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      const other = ctx.identifier();
      await registerOk(ctx, pe, handle, id);
      await registerOk(ctx, pe, handle, other);
      pe.send({ type: "Deregistration", poolHandle: handle, poolElementId: id });
      const r = await ctx.expecting(() =>
        pe.expectType("DeregistrationResponse", ctx.answerTime, "a Deregistration Response")
      );
      ctx.must(r.poolElementId === id, "the same PE identifier", hexId(r.poolElementId));
      ctx.must(r.operationError === undefined, "no Operation Error", causes(r.operationError));
      const pu = await ctx.asap();
      const listed = idsOf(await resolveAt(ctx, pu, handle));
      ctx.must(
        !listed.includes(id) && listed.includes(other),
        "only the other element listed",
        listed.map(hexId).join(", "),
      );
    },
  },
  {
    id: "asap/registrar/deregistration/unknown-pool",
    ref: "RFC 5352 §3.2, RFC 5354 §3.12",
    requirement:
      "A deregistration from a pool the registrar does not know is answered with a Deregistration Response carrying cause 0x0009 (Unknown Pool Handle).",
    level: "SHOULD",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle("-nx");
      const id = ctx.identifier();
      pe.send({ type: "Deregistration", poolHandle: handle, poolElementId: id });
      const r = await ctx.expecting(() =>
        pe.expectType("DeregistrationResponse", ctx.answerTime, "a Deregistration Response")
      );
      ctx.should(
        (r.operationError ?? []).some((c) => c.code === ErrorCauseCode.UnknownPoolHandle),
        "cause 0x0009 (Unknown Pool Handle)",
        causes(r.operationError),
      );
    },
  },
  {
    id: "asap/registrar/deregistration/empty-pool-forgotten",
    ref: "RFC 5351 §2, RFC 5352 §3.2",
    requirement:
      "A pool whose last element left ceases to exist: a new registration with another policy creates it anew.",
    level: "SHOULD",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      await registerOk(ctx, pe, handle, id);
      pe.send({ type: "Deregistration", poolHandle: handle, poolElementId: id });
      await ctx.expecting(() => pe.expectType("DeregistrationResponse", ctx.answerTime));
      const r = await registerAt(ctx, pe, handle, ctx.identifier(), {
        policy: { type: "LeastUsed", load: 0 },
      });
      ctx.should(
        !r.reject,
        "the registration with a new policy accepted",
        `R=1, ${causes(r.operationError)}`,
      );
    },
  },
  {
    id: "asap/registrar/resolution/unknown-pool",
    ref: "RFC 5352 §3.3, RFC 5354 §3.12",
    requirement:
      "A handle resolution for a pool the registrar does not know is answered with cause 0x0009 (Unknown Pool Handle) and no pool elements.",
    level: "MUST",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pu = await ctx.asap();
      const r = await resolveAt(ctx, pu, ctx.poolHandle("-nx"));
      ctx.must(r.poolElements.length === 0, "no pool elements", `${r.poolElements.length}`);
      ctx.must(
        (r.operationError ?? []).some((c) => c.code === ErrorCauseCode.UnknownPoolHandle),
        "cause 0x0009 (Unknown Pool Handle)",
        causes(r.operationError),
      );
    },
  },
  {
    id: "asap/registrar/resolution/policy-parameter",
    ref: "RFC 5352 §2.2.6",
    requirement:
      "A successful Handle Resolution Response carries the pool's overall selection policy (optional in the RFC, required by RSPLIB's pool users).",
    level: "SHOULD",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      await registerOk(ctx, pe, handle, ctx.identifier(), { policy: { type: "Random" } });
      const r = await resolveAt(ctx, await ctx.asap(), handle);
      ctx.should(r.policy?.type === "Random", "the pool policy (Random)", r.policy?.type ?? "none");
    },
  },
  {
    id: "asap/registrar/resolution/round-robin-rotates",
    ref: "RFC 5352 §3.3, RFC 5356 §4.1",
    requirement:
      "When a resolution returns fewer elements than a Round Robin pool has, successive resolutions go round the pool instead of returning the same subset.",
    level: "SHOULD",
    role: "registrar-asap",
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const ids = Array.from({ length: 8 }, () => ctx.identifier());
      for (const id of ids) await registerOk(ctx, pe, handle, id);
      const pu = await ctx.asap();
      const first = idsOf(await resolveAt(ctx, pu, handle));
      if (first.length >= ids.length) {
        ctx.note(`the registrar returns the whole pool (${first.length}): nothing to rotate`);
        return;
      }
      const seen = new Set(first);
      for (let i = 0; i < 8; i++) {
        for (const id of idsOf(await resolveAt(ctx, pu, handle))) seen.add(id);
      }
      ctx.should(
        seen.size > first.length,
        "other elements in later resolutions",
        `always ${[...seen].map(hexId).join(", ")}`,
      );
    },
  },
  {
    id: "asap/registrar/resolution/hropt-items",
    ref: "draft-dreibholz-rserpool-asap-hropt",
    requirement:
      "With the Handle Resolution Option, the response lists as many elements as asked for (2), or all of them for 0xffffffff.",
    level: "MUST",
    role: "registrar-asap",
    features: ["hropt"],
    timeout: quick,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      for (let i = 0; i < 5; i++) await registerOk(ctx, pe, handle, ctx.identifier());
      const pu = await ctx.asap();
      const two = await resolveAt(ctx, pu, handle, 2);
      ctx.must(
        two.poolElements.length === 2,
        "2 elements for Items 2",
        `${two.poolElements.length}`,
      );
      const all = await resolveAt(ctx, pu, handle, 0xffffffff);
      ctx.must(
        all.poolElements.length === 5,
        "all 5 elements for Items 0xffffffff",
        `${all.poolElements.length}`,
      );
    },
  },
  {
    id: "asap/registrar/keepalive/sent",
    ref: "RFC 5352 §3.4",
    requirement:
      "The home registrar sends its pool elements Endpoint Keep-Alives (Home flag clear, its identifier, the pool handle).",
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
    },
  },
  {
    id: "asap/registrar/keepalive/silent-element-removed",
    ref: "RFC 5352 §3.4",
    requirement:
      "A pool element that does not answer its Endpoint Keep-Alive is removed from the handlespace.",
    level: "MUST",
    role: "registrar-asap",
    timeout: (t) => 2 * (t.keepAliveInterval + t.keepAliveTimeout) + 6 * t.slack + 5000,
    async run(ctx) {
      const pe = await ctx.asap(); // never answers
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      await registerOk(ctx, pe, handle, id);
      const keep = await ctx.asap();
      const other = ctx.identifier();
      keep.answerKeepAlives(handle, other);
      await registerOk(ctx, keep, handle, other);
      const t = ctx.timers;
      await eventually(
        ctx,
        await ctx.asap(),
        handle,
        (r) => !idsOf(r).includes(id),
        `PE ${hexId(id)} removed after missing its keep-alive`,
        t.keepAliveInterval + t.keepAliveTimeout + 3 * t.slack,
      );
    },
  },
  {
    id: "asap/registrar/keepalive/answered-element-stays",
    ref: "RFC 5352 §3.4",
    requirement: "A pool element that answers its Endpoint Keep-Alives stays registered.",
    level: "MUST",
    role: "registrar-asap",
    timeout: (t) => 2 * (t.keepAliveInterval + t.keepAliveTimeout) + 4 * t.slack + 5000,
    async run(ctx) {
      const pe = await ctx.asap();
      const handle = ctx.poolHandle();
      const id = ctx.identifier();
      pe.answerKeepAlives(handle, id);
      await registerOk(ctx, pe, handle, id);
      const t = ctx.timers;
      await ctx.sleep(2 * (t.keepAliveInterval + t.keepAliveTimeout) + t.slack);
      const listed = idsOf(await resolveAt(ctx, await ctx.asap(), handle));
      ctx.must(
        listed.includes(id),
        `PE ${hexId(id)} still listed`,
        listed.map(hexId).join(", ") || "nothing",
      );
      ctx.must(
        pe.received.some((m) => m.type === "EndpointKeepAlive"),
        "keep-alives to answer",
        "no keep-alive arrived",
      );
    },
  },
  {
    id: "asap/registrar/unreachable/max-bad-pe-report",
    ref: "RFC 5352 §3.5, RFC 5353 §3.4 (MAX-BAD-PE-REPORT)",
    requirement:
      "A pool element reported unreachable MAX-BAD-PE-REPORT times (3 by default) is removed; fewer reports leave it registered.",
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
      const pu = await ctx.asap();
      const max = ctx.timers.maxBadPeReports;
      for (let i = 1; i < max; i++) {
        pu.send({ type: "EndpointUnreachable", poolHandle: handle, poolElementId: id });
      }
      await ctx.sleep(ctx.timers.slack / 2);
      const before = idsOf(await resolveAt(ctx, pu, handle));
      ctx.must(
        before.includes(id),
        `PE ${hexId(id)} still listed after ${max - 1} reports`,
        before.map(hexId).join(", "),
      );
      pu.send({ type: "EndpointUnreachable", poolHandle: handle, poolElementId: id });
      await eventually(
        ctx,
        pu,
        handle,
        (r) => !idsOf(r).includes(id) && idsOf(r).includes(other),
        `PE ${hexId(id)} removed after report ${max}, the other element kept`,
        ctx.answerTime,
      );
    },
  },
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
];
