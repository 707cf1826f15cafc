/**
 * ENRP messages (RFC 5353 §2): message bodies after the common header.
 *
 * @module
 */

import { EncodeError } from "../errors.ts";
import { EnrpMessageType as T, MessageFlag as F, ParameterType as P } from "./constants.ts";
import {
  decodeChecksum,
  decodeOperationError,
  decodePoolElement,
  decodePoolHandle,
  decodeServerInformation,
  encodeChecksum,
  encodeOperationError,
  encodePoolElement,
  encodePoolHandle,
  encodeServerInformation,
  poolElementChecksumType,
  poolElementType,
  serverInformationType,
} from "./parameters.ts";
import { type DecodeContext, fail, Scanner, u16 } from "./scanner.ts";
import type {
  EnrpMessage,
  HandleTablePool,
  PoolElementParameter,
  ServerInformation,
} from "./types.ts";
import { checkUint, within, type Writer } from "./writer.ts";

/** Decodes an ENRP message body; `end` is the end of the message (its Length). */
export function decodeEnrpBody(
  d: DecodeContext,
  type: number,
  flags: number,
  end: number,
): EnrpMessage {
  const idSize = d.idSize;
  if (end < 4 + 2 * idSize) {
    fail("bad-message-length", 2, "ENRP message too short for its server identifiers");
  }
  const sendingRegistrarId = d.id(4);
  const receivingRegistrarId = d.id(4 + idSize);
  const body = 4 + 2 * idSize;
  switch (type) {
    case T.Presence: {
      d.flags(flags, F.PresenceReplyRequired);
      const s = new Scanner(d, body, end);
      s.expect(poolElementChecksumType(d.o.nextgen));
      const checksum = decodeChecksum(d, s);
      const replyRequired = (flags & F.PresenceReplyRequired) !== 0;
      if (s.peek() === serverInformationType(d.o.nextgen)) {
        const serverInformation = decodeServerInformation(d, s);
        s.finish();
        return {
          type: "Presence",
          replyRequired,
          sendingRegistrarId,
          receivingRegistrarId,
          checksum,
          serverInformation,
        };
      }
      s.finish();
      return {
        type: "Presence",
        replyRequired,
        sendingRegistrarId,
        receivingRegistrarId,
        checksum,
      };
    }
    case T.HandleTableRequest: {
      d.flags(flags, F.HandleTableRequestOwnChildrenOnly);
      new Scanner(d, body, end).finish();
      return {
        type: "HandleTableRequest",
        ownChildrenOnly: (flags & F.HandleTableRequestOwnChildrenOnly) !== 0,
        sendingRegistrarId,
        receivingRegistrarId,
      };
    }
    case T.HandleTableResponse: {
      d.flags(flags, F.HandleTableResponseReject | F.HandleTableResponseMoreToSend);
      const s = new Scanner(d, body, end);
      const peType = poolElementType(d.o.nextgen);
      const limit = d.o.limits.maxPoolElements;
      const pools: HandleTablePool[] = [];
      let count = 0;
      while (s.peek() === P.PoolHandle) {
        const poolHandle = decodePoolHandle(d, s);
        s.expect(peType);
        const poolElements: PoolElementParameter[] = [];
        while (s.peek() === peType) {
          if (++count > limit) {
            fail("limit-exceeded", s.start, `more than ${limit} Pool Elements in one message`);
          }
          poolElements.push(decodePoolElement(d, s));
        }
        pools.push({ poolHandle, poolElements });
      }
      s.finish();
      return {
        type: "HandleTableResponse",
        reject: (flags & F.HandleTableResponseReject) !== 0,
        moreToSend: (flags & F.HandleTableResponseMoreToSend) !== 0,
        sendingRegistrarId,
        receivingRegistrarId,
        pools,
      };
    }
    case T.HandleUpdate: {
      d.flags(flags, F.HandleUpdateTakeoverSuggested);
      if (end < body + 4) {
        fail("bad-message-length", 2, "Handle Update too short for its Update Action");
      }
      const updateAction = u16(d.b, body);
      d.zeros(body + 2, body + 4, "reserved-bits", "Handle Update reserved field");
      const s = new Scanner(d, body + 4, end);
      s.expect(P.PoolHandle);
      const poolHandle = decodePoolHandle(d, s);
      s.expect(poolElementType(d.o.nextgen));
      const poolElement = decodePoolElement(d, s);
      s.finish();
      return {
        type: "HandleUpdate",
        takeoverSuggested: (flags & F.HandleUpdateTakeoverSuggested) !== 0,
        sendingRegistrarId,
        receivingRegistrarId,
        updateAction,
        poolHandle,
        poolElement,
      };
    }
    case T.ListRequest:
      d.flags(flags, 0);
      new Scanner(d, body, end).finish();
      return { type: "ListRequest", sendingRegistrarId, receivingRegistrarId };
    case T.ListResponse: {
      d.flags(flags, F.ListResponseReject);
      const s = new Scanner(d, body, end);
      const infoType = serverInformationType(d.o.nextgen);
      const limit = d.o.limits.maxServers;
      const servers: ServerInformation[] = [];
      while (s.peek() === infoType) {
        if (servers.length === limit) {
          fail("limit-exceeded", s.start, `more than ${limit} Server Information parameters`);
        }
        servers.push(decodeServerInformation(d, s));
      }
      s.finish();
      return {
        type: "ListResponse",
        reject: (flags & F.ListResponseReject) !== 0,
        sendingRegistrarId,
        receivingRegistrarId,
        servers,
      };
    }
    case T.InitTakeover:
    case T.InitTakeoverAck:
    case T.TakeoverServer: {
      d.flags(flags, 0);
      if (end < body + idSize) {
        fail("bad-message-length", 2, "takeover message too short for its Target Server ID");
      }
      const targetRegistrarId = d.id(body);
      new Scanner(d, body + idSize, end).finish();
      const name = type === T.InitTakeover
        ? "InitTakeover"
        : type === T.InitTakeoverAck
        ? "InitTakeoverAck"
        : "TakeoverServer";
      return { type: name, sendingRegistrarId, receivingRegistrarId, targetRegistrarId };
    }
    case T.EnrpError: {
      d.flags(flags, 0);
      const s = new Scanner(d, body, end);
      s.expect(P.OperationError);
      const operationError = decodeOperationError(d, s);
      s.finish();
      return { type: "EnrpError", sendingRegistrarId, receivingRegistrarId, operationError };
    }
    default:
      return fail(
        "unknown-message-type",
        0,
        `unknown ENRP message type 0x${type.toString(16).padStart(2, "0")}`,
      );
  }
}

/** Message type code of an ENRP message's `type` (as {@link asapTypeCode}). */
export function enrpTypeCode(type: EnrpMessage["type"]): number {
  switch (type) {
    case "Presence":
      return T.Presence;
    case "HandleTableRequest":
      return T.HandleTableRequest;
    case "HandleTableResponse":
      return T.HandleTableResponse;
    case "HandleUpdate":
      return T.HandleUpdate;
    case "ListRequest":
      return T.ListRequest;
    case "ListResponse":
      return T.ListResponse;
    case "InitTakeover":
      return T.InitTakeover;
    case "InitTakeoverAck":
      return T.InitTakeoverAck;
    case "TakeoverServer":
      return T.TakeoverServer;
    case "EnrpError":
      return T.EnrpError;
    default:
      throw new EncodeError(
        "bad-value",
        "type",
        `not an ENRP message type: ${String(type)}`,
      );
  }
}

/** Message flags of an ENRP message object. */
export function enrpFlags(m: EnrpMessage): number {
  switch (m.type) {
    case "Presence":
      return m.replyRequired ? F.PresenceReplyRequired : 0;
    case "HandleTableRequest":
      return m.ownChildrenOnly ? F.HandleTableRequestOwnChildrenOnly : 0;
    case "HandleTableResponse":
      return (m.reject ? F.HandleTableResponseReject : 0) |
        (m.moreToSend ? F.HandleTableResponseMoreToSend : 0);
    case "HandleUpdate":
      return m.takeoverSuggested ? F.HandleUpdateTakeoverSuggested : 0;
    case "ListResponse":
      return m.reject ? F.ListResponseReject : 0;
    default:
      return 0;
  }
}

/** Encodes the body of an ENRP message (after the 4-byte header). */
export function encodeEnrpBody(w: Writer, m: EnrpMessage): void {
  let field = "sendingRegistrarId";
  try {
    w.id(m.sendingRegistrarId);
    field = "receivingRegistrarId";
    w.id(m.receivingRegistrarId);
    switch (m.type) {
      case "Presence":
        field = "checksum";
        encodeChecksum(w, m.checksum);
        if (m.serverInformation !== undefined) {
          field = "serverInformation";
          encodeServerInformation(w, m.serverInformation);
        }
        return;
      case "HandleTableRequest":
      case "ListRequest":
        return;
      case "HandleTableResponse": {
        field = "pools";
        const pools = m.pools;
        if (!Array.isArray(pools)) throw new EncodeError("bad-value", "", "expected an array");
        for (let i = 0; i < pools.length; i++) {
          try {
            encodeHandleTablePool(w, pools[i]);
          } catch (e) {
            throw within(e, `[${i}]`);
          }
        }
        return;
      }
      case "HandleUpdate":
        field = "updateAction";
        w.room(4);
        w.u16(checkUint(m.updateAction, 16, ""));
        w.u16(0);
        field = "poolHandle";
        encodePoolHandle(w, m.poolHandle);
        field = "poolElement";
        encodePoolElement(w, m.poolElement);
        return;
      case "ListResponse": {
        field = "servers";
        const servers = m.servers;
        if (!Array.isArray(servers)) throw new EncodeError("bad-value", "", "expected an array");
        for (let i = 0; i < servers.length; i++) {
          try {
            encodeServerInformation(w, servers[i]);
          } catch (e) {
            throw within(e, `[${i}]`);
          }
        }
        return;
      }
      case "InitTakeover":
      case "InitTakeoverAck":
      case "TakeoverServer":
        field = "targetRegistrarId";
        w.id(m.targetRegistrarId);
        return;
      case "EnrpError":
        field = "operationError";
        encodeOperationError(w, m.operationError);
        return;
    }
  } catch (e) {
    throw within(e, field);
  }
}

function encodeHandleTablePool(w: Writer, pool: HandleTablePool): void {
  let field = "poolHandle";
  try {
    encodePoolHandle(w, pool?.poolHandle);
    field = "poolElements";
    const elements = pool.poolElements;
    if (!Array.isArray(elements) || elements.length === 0) {
      throw new EncodeError("bad-value", "", "expected one or more Pool Elements");
    }
    for (let k = 0; k < elements.length; k++) {
      try {
        encodePoolElement(w, elements[k]);
      } catch (e) {
        throw within(e, `[${k}]`);
      }
    }
  } catch (e) {
    throw within(e, field);
  }
}
