/**
 * ASAP messages (RFC 5352 §2.2): message bodies after the common header.
 *
 * @module
 */

import { EncodeError } from "../errors.ts";
import { AsapMessageType as T, MessageFlag, ParameterType as P } from "./constants.ts";
import {
  decodeCookie,
  decodeHandleResolutionOption,
  decodeOperationError,
  decodePoolElement,
  decodePoolElementIdentifier,
  decodePoolHandle,
  decodeTransport,
  encodeCookie,
  encodeHandleResolutionOption,
  encodeOperationError,
  encodePoolElement,
  encodePoolElementIdentifier,
  encodePoolHandle,
  encodeTransport,
  isTransportType,
  poolElementIdentifierType,
  poolElementType,
} from "./parameters.ts";
import { decodePolicy, encodePolicy } from "./policy.ts";
import { type DecodeContext, fail, Scanner } from "./scanner.ts";
import type {
  AsapMessage,
  ErrorCause,
  Identifier,
  PoolElementParameter,
  TransportParameter,
} from "./types.ts";
import { within, type Writer } from "./writer.ts";

function handleAndId(
  d: DecodeContext,
  s: Scanner,
): { poolHandle: Uint8Array; poolElementId: Identifier } {
  s.expect(P.PoolHandle);
  const poolHandle = decodePoolHandle(d, s);
  s.expect(poolElementIdentifierType(d.o.nextgen));
  const poolElementId = decodePoolElementIdentifier(d, s);
  return { poolHandle, poolElementId };
}

function optionalOperationError(d: DecodeContext, s: Scanner): ErrorCause[] | undefined {
  if (s.peek() !== P.OperationError) return undefined;
  return decodeOperationError(d, s);
}

function poolElements(d: DecodeContext, s: Scanner): PoolElementParameter[] {
  const type = poolElementType(d.o.nextgen);
  const limit = d.o.limits.maxPoolElements;
  const elements: PoolElementParameter[] = [];
  while (s.peek() === type) {
    if (elements.length === limit) {
      fail("limit-exceeded", s.start, `more than ${limit} Pool Elements in one message`);
    }
    elements.push(decodePoolElement(d, s));
  }
  return elements;
}

function fixedIdentifier(d: DecodeContext, end: number): Identifier {
  if (end < 4 + d.idSize) {
    fail("bad-message-length", 2, "message too short for its Server Identifier");
  }
  return d.id(4);
}

/** Decodes an ASAP message body; `end` is the end of the message (its Length). */
export function decodeAsapBody(
  d: DecodeContext,
  type: number,
  flags: number,
  end: number,
): AsapMessage {
  switch (type) {
    case T.Registration: {
      d.flags(flags, 0);
      const s = new Scanner(d, 4, end);
      s.expect(P.PoolHandle);
      const poolHandle = decodePoolHandle(d, s);
      s.expect(poolElementType(d.o.nextgen));
      const poolElement = decodePoolElement(d, s);
      s.finish();
      return { type: "Registration", poolHandle, poolElement };
    }
    case T.Deregistration: {
      d.flags(flags, 0);
      const s = new Scanner(d, 4, end);
      const { poolHandle, poolElementId } = handleAndId(d, s);
      s.finish();
      return { type: "Deregistration", poolHandle, poolElementId };
    }
    case T.RegistrationResponse: {
      d.flags(flags, MessageFlag.RegistrationResponseReject);
      const s = new Scanner(d, 4, end);
      const { poolHandle, poolElementId } = handleAndId(d, s);
      const operationError = optionalOperationError(d, s);
      s.finish();
      const reject = (flags & MessageFlag.RegistrationResponseReject) !== 0;
      return operationError === undefined
        ? { type: "RegistrationResponse", reject, poolHandle, poolElementId }
        : { type: "RegistrationResponse", reject, poolHandle, poolElementId, operationError };
    }
    case T.DeregistrationResponse: {
      d.flags(flags, 0);
      const s = new Scanner(d, 4, end);
      const { poolHandle, poolElementId } = handleAndId(d, s);
      const operationError = optionalOperationError(d, s);
      s.finish();
      return operationError === undefined
        ? { type: "DeregistrationResponse", poolHandle, poolElementId }
        : { type: "DeregistrationResponse", poolHandle, poolElementId, operationError };
    }
    case T.HandleResolution: {
      d.flags(flags, 0);
      const s = new Scanner(d, 4, end);
      s.expect(P.PoolHandle);
      const poolHandle = decodePoolHandle(d, s);
      if (s.peek() === P.HandleResolutionOption) {
        const items = decodeHandleResolutionOption(d, s);
        s.finish();
        return { type: "HandleResolution", poolHandle, items };
      }
      s.finish();
      return { type: "HandleResolution", poolHandle };
    }
    case T.HandleResolutionResponse: {
      d.flags(flags, 0);
      const s = new Scanner(d, 4, end);
      s.expect(P.PoolHandle);
      const poolHandle = decodePoolHandle(d, s);
      const policy = s.peek() === P.PoolMemberSelectionPolicy ? decodePolicy(d, s) : undefined;
      const elements = poolElements(d, s);
      const operationError = optionalOperationError(d, s);
      s.finish();
      const m: {
        type: "HandleResolutionResponse";
        poolHandle: Uint8Array;
        policy?: typeof policy;
        poolElements: PoolElementParameter[];
        operationError?: ErrorCause[];
      } = { type: "HandleResolutionResponse", poolHandle, poolElements: elements };
      if (policy !== undefined) m.policy = policy;
      if (operationError !== undefined) m.operationError = operationError;
      return m;
    }
    case T.EndpointKeepAlive: {
      d.flags(flags, MessageFlag.EndpointKeepAliveHome);
      const registrarId = fixedIdentifier(d, end);
      const s = new Scanner(d, 4 + d.idSize, end);
      s.expect(P.PoolHandle);
      const poolHandle = decodePoolHandle(d, s);
      const home = (flags & MessageFlag.EndpointKeepAliveHome) !== 0;
      if (!d.strict && s.peek() === poolElementIdentifierType(d.o.nextgen)) {
        const poolElementId = decodePoolElementIdentifier(d, s);
        s.finish();
        return { type: "EndpointKeepAlive", home, registrarId, poolHandle, poolElementId };
      }
      s.finish();
      return { type: "EndpointKeepAlive", home, registrarId, poolHandle };
    }
    case T.EndpointKeepAliveAck: {
      d.flags(flags, 0);
      const s = new Scanner(d, 4, end);
      const { poolHandle, poolElementId } = handleAndId(d, s);
      s.finish();
      return { type: "EndpointKeepAliveAck", poolHandle, poolElementId };
    }
    case T.EndpointUnreachable: {
      d.flags(flags, 0);
      const s = new Scanner(d, 4, end);
      const { poolHandle, poolElementId } = handleAndId(d, s);
      s.finish();
      return { type: "EndpointUnreachable", poolHandle, poolElementId };
    }
    case T.ServerAnnounce: {
      d.flags(flags, 0);
      const registrarId = fixedIdentifier(d, end);
      const s = new Scanner(d, 4 + d.idSize, end);
      const transports: TransportParameter[] = [];
      const limit = d.o.limits.maxTransports;
      for (let t = s.peek(); t !== -1 && isTransportType(t); t = s.peek()) {
        if (transports.length === limit) {
          fail("limit-exceeded", s.start, `more than ${limit} transports in one Server Announce`);
        }
        transports.push(decodeTransport(d, s));
      }
      s.finish();
      return { type: "ServerAnnounce", registrarId, transports };
    }
    case T.Cookie:
    case T.CookieEcho: {
      d.flags(flags, 0);
      const s = new Scanner(d, 4, end);
      s.expect(P.Cookie);
      const cookie = decodeCookie(d, s);
      s.finish();
      return { type: type === T.Cookie ? "Cookie" : "CookieEcho", cookie };
    }
    case T.BusinessCard: {
      d.flags(flags, 0);
      const s = new Scanner(d, 4, end);
      s.expect(P.PoolHandle);
      const poolHandle = decodePoolHandle(d, s);
      const policy = !d.strict && s.peek() === P.PoolMemberSelectionPolicy
        ? decodePolicy(d, s)
        : undefined;
      s.expect(poolElementType(d.o.nextgen));
      const elements = poolElements(d, s);
      s.finish();
      return policy === undefined
        ? { type: "BusinessCard", poolHandle, poolElements: elements }
        : { type: "BusinessCard", poolHandle, policy, poolElements: elements };
    }
    case T.AsapError: {
      d.flags(flags, 0);
      const s = new Scanner(d, 4, end);
      s.expect(P.OperationError);
      const operationError = decodeOperationError(d, s);
      s.finish();
      return { type: "AsapError", operationError };
    }
    default:
      return fail(
        "unknown-message-type",
        0,
        `unknown ASAP message type 0x${type.toString(16).padStart(2, "0")}`,
      );
  }
}

/**
 * Message type code of an ASAP message's `type` (a switch: cheaper than a
 * `Map` lookup). Callers read `type` once and pass it to this and to
 * {@link asapFlags}: among messages of many shapes each read is a
 * megamorphic property load, dearer than the rest of a small message's
 * encoding.
 */
export function asapTypeCode(type: AsapMessage["type"]): number {
  switch (type) {
    case "Registration":
      return T.Registration;
    case "Deregistration":
      return T.Deregistration;
    case "RegistrationResponse":
      return T.RegistrationResponse;
    case "DeregistrationResponse":
      return T.DeregistrationResponse;
    case "HandleResolution":
      return T.HandleResolution;
    case "HandleResolutionResponse":
      return T.HandleResolutionResponse;
    case "EndpointKeepAlive":
      return T.EndpointKeepAlive;
    case "EndpointKeepAliveAck":
      return T.EndpointKeepAliveAck;
    case "EndpointUnreachable":
      return T.EndpointUnreachable;
    case "ServerAnnounce":
      return T.ServerAnnounce;
    case "Cookie":
      return T.Cookie;
    case "CookieEcho":
      return T.CookieEcho;
    case "BusinessCard":
      return T.BusinessCard;
    case "AsapError":
      return T.AsapError;
    default:
      throw new EncodeError(
        "bad-value",
        "type",
        `not an ASAP message type: ${String(type)}`,
      );
  }
}

/** Message flags of an ASAP message object whose `type` is given. */
export function asapFlags(m: AsapMessage, type: AsapMessage["type"]): number {
  if (type === "RegistrationResponse") {
    return (m as { reject?: boolean }).reject ? MessageFlag.RegistrationResponseReject : 0;
  }
  if (type === "EndpointKeepAlive") {
    return (m as { home?: boolean }).home ? MessageFlag.EndpointKeepAliveHome : 0;
  }
  return 0;
}

/** Encodes the body of an ASAP message (after the 4-byte header). */
export function encodeAsapBody(w: Writer, m: AsapMessage): void {
  let field = "poolHandle";
  try {
    switch (m.type) {
      case "Registration":
        encodePoolHandle(w, m.poolHandle);
        field = "poolElement";
        encodePoolElement(w, m.poolElement);
        return;
      case "Deregistration":
      case "EndpointKeepAliveAck":
      case "EndpointUnreachable":
        encodePoolHandle(w, m.poolHandle);
        field = "poolElementId";
        encodePoolElementIdentifier(w, m.poolElementId);
        return;
      case "RegistrationResponse":
      case "DeregistrationResponse":
        encodePoolHandle(w, m.poolHandle);
        field = "poolElementId";
        encodePoolElementIdentifier(w, m.poolElementId);
        if (m.operationError !== undefined) {
          field = "operationError";
          encodeOperationError(w, m.operationError);
        }
        return;
      case "HandleResolution":
        encodePoolHandle(w, m.poolHandle);
        if (m.items !== undefined) {
          field = "items";
          encodeHandleResolutionOption(w, m.items);
        }
        return;
      case "HandleResolutionResponse":
        encodePoolHandle(w, m.poolHandle);
        if (m.policy !== undefined) {
          field = "policy";
          encodePolicy(w, m.policy);
        }
        field = "poolElements";
        encodePoolElements(w, m.poolElements, false);
        if (m.operationError !== undefined) {
          field = "operationError";
          encodeOperationError(w, m.operationError);
        }
        return;
      case "EndpointKeepAlive":
        field = "registrarId";
        w.id(m.registrarId);
        field = "poolHandle";
        encodePoolHandle(w, m.poolHandle);
        if (m.poolElementId !== undefined) {
          field = "poolElementId";
          encodePoolElementIdentifier(w, m.poolElementId);
        }
        return;
      case "ServerAnnounce": {
        field = "registrarId";
        w.id(m.registrarId);
        field = "transports";
        const transports = m.transports;
        if (!Array.isArray(transports)) throw new EncodeError("bad-value", "", "expected an array");
        for (let i = 0; i < transports.length; i++) {
          try {
            encodeTransport(w, transports[i]);
          } catch (e) {
            throw within(e, `[${i}]`);
          }
        }
        return;
      }
      case "Cookie":
      case "CookieEcho":
        field = "cookie";
        encodeCookie(w, m.cookie);
        return;
      case "BusinessCard":
        encodePoolHandle(w, m.poolHandle);
        if (m.policy !== undefined) {
          field = "policy";
          encodePolicy(w, m.policy);
        }
        field = "poolElements";
        encodePoolElements(w, m.poolElements, true);
        return;
      case "AsapError":
        field = "operationError";
        encodeOperationError(w, m.operationError);
        return;
    }
  } catch (e) {
    throw within(e, field);
  }
}

function encodePoolElements(
  w: Writer,
  elements: readonly PoolElementParameter[],
  atLeastOne: boolean,
): void {
  if (!Array.isArray(elements) || (atLeastOne && elements.length === 0)) {
    throw new EncodeError(
      "bad-value",
      "",
      atLeastOne ? "expected one or more Pool Elements" : "expected an array",
    );
  }
  for (let i = 0; i < elements.length; i++) {
    try {
      encodePoolElement(w, elements[i]);
    } catch (e) {
      throw within(e, `[${i}]`);
    }
  }
}
