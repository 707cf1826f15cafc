/**
 * Checks a recorded capture (`rserpool conformance --check-capture`): that
 * every ASAP and ENRP message in it is well-formed, and the protocol rules
 * a trace can show: requests answered, re-registrations before the
 * registration life ends, Presences with the Reply-required flag answered,
 * takeovers acknowledged, no error answered with an error.
 *
 * @module
 */

import { type CapturedMessage, readCapture } from "../lib/capture/mod.ts";
import { DecodeError } from "../lib/errors.ts";
import { decodeMessage } from "../lib/protocol/codec.ts";
import type { Identifier, RSerPoolMessage } from "../lib/protocol/types.ts";
import type { Verdict } from "./types.ts";

/** One rule's outcome. */
export interface TraceRule {
  /** Its id. */
  readonly id: string;
  /** The requirement (and its section). */
  readonly requirement: string;
  /** OK, NON-STRICT (only deviations that receivers tolerate), FAILED, or UNSUPPORTED (nothing to check). */
  readonly verdict: Verdict;
  /** How many instances were checked. */
  readonly checked: number;
  /** Violations (at most 20 listed), by frame. */
  readonly violations: readonly { readonly frame: number; readonly detail: string }[];
  /** Instances that could not be judged (the capture ends too soon after them). */
  readonly inconclusive: number;
}

/** The result of checking a capture. */
export interface TraceReport {
  /** ASAP and ENRP messages found. */
  readonly messages: number;
  /** Rule outcomes. */
  readonly rules: readonly TraceRule[];
}

interface Item {
  readonly c: CapturedMessage;
  readonly m: RSerPoolMessage;
  /** Source port: with SCTP multi-homing the addresses of one association vary, the ports do not. */
  readonly from: number;
  /** Destination port. */
  readonly to: number;
  readonly t: number;
}

const flow = (it: Item) =>
  `port ${it.from} to port ${it.to} (${it.c.source.address} to ${it.c.destination.address})`;

const key = (handle: Uint8Array, id: Identifier) => `${Array.from(handle).join(".")}/${id}`;
const hex = (handle: Uint8Array) => Array.from(handle).join(".");

/** How long after a request an answer must come (ms); later requests are inconclusive. */
const ANSWER_WINDOW = 5000;

function rule(
  id: string,
  requirement: string,
  checked: number,
  violations: { frame: number; detail: string }[],
  inconclusive = 0,
  tolerable = false,
): TraceRule {
  const verdict: Verdict = checked === 0
    ? "UNSUPPORTED"
    : violations.length === 0
    ? "OK"
    : tolerable
    ? "NON-STRICT"
    : "FAILED";
  return { id, requirement, verdict, checked, violations: violations.slice(0, 20), inconclusive };
}

/** Checks a pcap or pcapng capture. */
export function checkCapture(file: Uint8Array): TraceReport {
  const items: Item[] = [];
  const strictViolations: { frame: number; detail: string }[] = [];
  const broken: { frame: number; detail: string }[] = [];
  let messages = 0;
  for (const c of readCapture(file)) {
    messages++;
    let m: RSerPoolMessage;
    try {
      m = decodeMessage(c.ppid, c.bytes);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      try {
        m = decodeMessage(c.ppid, c.bytes, { lenient: true });
        strictViolations.push({ frame: c.frame, detail: `${e.code}: ${e.message}` });
      } catch (e2) {
        if (!(e2 instanceof DecodeError)) throw e2;
        broken.push({ frame: c.frame, detail: `${e2.code}: ${e2.message}` });
        continue;
      }
    }
    if (c.transport === "udp") continue; // announces and multicast presences: no request/response
    items.push({ c, m, from: c.source.port, to: c.destination.port, t: c.timestamp });
  }
  const end = items.length === 0 ? 0 : items[items.length - 1].t;
  const rules: TraceRule[] = [
    rule(
      "capture/well-formed",
      "Every ASAP and ENRP message decodes (RFC 5352 §2, RFC 5353 §2, RFC 5354 §3).",
      messages,
      broken,
    ),
    rule(
      "capture/canonical",
      "Every message is in canonical form (padding, reserved bits and lengths as the RFCs write them); receivers tolerate the rest.",
      messages - broken.length,
      strictViolations,
      0,
      true,
    ),
  ];

  const answered = (
    id: string,
    requirement: string,
    isRequest: (m: RSerPoolMessage) => boolean,
    answers: (request: RSerPoolMessage, m: RSerPoolMessage) => boolean,
  ) => {
    let checked = 0;
    let inconclusive = 0;
    const violations: { frame: number; detail: string }[] = [];
    items.forEach((req, i) => {
      if (!isRequest(req.m)) return;
      const reply = items.slice(i + 1).find((r) =>
        r.from === req.to && r.to === req.from && r.t - req.t <= ANSWER_WINDOW &&
        answers(req.m, r.m)
      );
      if (reply !== undefined) {
        checked++;
        return;
      }
      // The capture ends too soon, or the receiver never speaks on that association again
      // (it was stopped or killed): nothing can be judged.
      const speaksAgain = items.slice(i + 1).some((r) => r.from === req.to && r.to === req.from);
      if (end - req.t < ANSWER_WINDOW || !speaksAgain) {
        inconclusive++;
        return;
      }
      checked++;
      violations.push({
        frame: req.c.frame,
        detail: `${req.m.type} from ${flow(req)} not answered within ${ANSWER_WINDOW} ms`,
      });
    });
    rules.push(rule(id, requirement, checked, violations, inconclusive));
  };

  answered(
    "asap/registration-answered",
    "Every Registration is answered with a Registration Response for its pool element (RFC 5352 §3.1).",
    (m) => m.type === "Registration",
    (q, m) =>
      q.type === "Registration" && m.type === "RegistrationResponse" &&
      m.poolElementId === q.poolElement.identifier,
  );
  answered(
    "asap/deregistration-answered",
    "Every Deregistration is answered with a Deregistration Response (RFC 5352 §3.2).",
    (m) => m.type === "Deregistration",
    (q, m) =>
      q.type === "Deregistration" && m.type === "DeregistrationResponse" &&
      m.poolElementId === q.poolElementId,
  );
  answered(
    "asap/resolution-answered",
    "Every Handle Resolution is answered with a Handle Resolution Response for its pool (RFC 5352 §3.3).",
    (m) => m.type === "HandleResolution",
    (q, m) =>
      q.type === "HandleResolution" && m.type === "HandleResolutionResponse" &&
      hex(m.poolHandle) === hex(q.poolHandle),
  );
  answered(
    "asap/keepalive-answered",
    "Every Endpoint Keep-Alive is answered with an Endpoint Keep-Alive Ack for its pool (RFC 5352 §3.4).",
    (m) => m.type === "EndpointKeepAlive",
    (q, m) =>
      q.type === "EndpointKeepAlive" && m.type === "EndpointKeepAliveAck" &&
      hex(m.poolHandle) === hex(q.poolHandle),
  );
  answered(
    "enrp/presence-answered",
    "A Presence with the Reply-required flag is answered with a Presence (RFC 5353 §3.6).",
    (m) => m.type === "Presence" && m.replyRequired,
    (_q, m) => m.type === "Presence",
  );
  answered(
    "enrp/handle-table-answered",
    "Every Handle Table Request is answered with a Handle Table Response (RFC 5353 §3.2.3).",
    (m) => m.type === "HandleTableRequest",
    (_q, m) => m.type === "HandleTableResponse",
  );
  answered(
    "enrp/list-answered",
    "Every List Request is answered with a List Response (RFC 5353 §3.2.2).",
    (m) => m.type === "ListRequest",
    (_q, m) => m.type === "ListResponse",
  );
  answered(
    "enrp/init-takeover-answered",
    "An Init Takeover is acknowledged by each peer, or answered with a Presence by its target (RFC 5353 §3.7).",
    (m) => m.type === "InitTakeover",
    (q, m) =>
      q.type === "InitTakeover" &&
      ((m.type === "InitTakeoverAck" && m.targetRegistrarId === q.targetRegistrarId) ||
        (m.type === "Presence" && m.sendingRegistrarId === q.targetRegistrarId)),
  );

  // Re-registration before the registration life ends (per pool element).
  {
    const last = new Map<string, { t: number; life: number; frame: number }>();
    let checked = 0;
    const violations: { frame: number; detail: string }[] = [];
    for (const it of items) {
      if (it.m.type === "Registration") {
        const k = key(it.m.poolHandle, it.m.poolElement.identifier);
        const before = last.get(k);
        if (before !== undefined) {
          checked++;
          if (it.t - before.t > before.life) {
            violations.push({
              frame: it.c.frame,
              detail: `re-registration ${
                Math.round(it.t - before.t)
              } ms after frame ${before.frame}, registration life ${before.life} ms`,
            });
          }
        }
        last.set(k, { t: it.t, life: it.m.poolElement.registrationLife, frame: it.c.frame });
      } else if (it.m.type === "Deregistration") {
        last.delete(key(it.m.poolHandle, it.m.poolElementId));
      }
    }
    rules.push(
      rule(
        "asap/reregistration-in-time",
        "A pool element re-registers before its registration life ends (RFC 5352 §3.1, T4).",
        checked,
        violations,
      ),
    );
  }

  // No error answered with an error.
  {
    let checked = 0;
    const violations: { frame: number; detail: string }[] = [];
    items.forEach((it, i) => {
      if (it.m.type !== "AsapError" && it.m.type !== "EnrpError") return;
      checked++;
      const next = items.slice(i + 1).find((r) => r.from === it.to && r.to === it.from);
      if (next !== undefined && next.m.type === it.m.type && next.t - it.t < 1000) {
        violations.push({
          frame: next.c.frame,
          detail: `${next.m.type} in reply to the ${it.m.type} of frame ${it.c.frame}`,
        });
      }
    });
    rules.push(
      rule(
        "capture/no-error-for-error",
        "An error message is never answered with an error message (RFC 5352 §2.2.14, RFC 5353 §3.9).",
        checked,
        violations,
      ),
    );
  }
  return { messages, rules };
}

/** The report as text. */
export function traceSummary(report: TraceReport): string {
  const lines = [`${report.messages} ASAP/ENRP message(s)`, ""];
  for (const r of report.rules) {
    lines.push(
      `${r.verdict.padEnd(11)} ${r.id} (${r.checked} checked${
        r.inconclusive > 0 ? `, ${r.inconclusive} inconclusive` : ""
      })`,
    );
    for (const v of r.violations) lines.push(`            frame ${v.frame}: ${v.detail}`);
  }
  return lines.join("\n") + "\n";
}
