/**
 * Well-formed sample messages of every ASAP and ENRP type, built
 * deterministically (no randomness): the starting points of the robustness
 * cases' truncations and mutations.
 *
 * @module
 */

import type { RSerPoolMessage, WireProfile } from "../lib/protocol/types.ts";

/** One sample of each ASAP message type a registrar may receive, and of each ENRP type. */
export function sampleMessages(profile: WireProfile, protocol: "asap" | "enrp"): RSerPoolMessage[] {
  const id = (n: number) => profile === "nextgen" ? BigInt(n) * 0x100000001n : n;
  const handle = new TextEncoder().encode("robustness.pool");
  const transport = { type: "TCP" as const, port: 7, transportUse: 0, addresses: ["192.0.2.7"] };
  const sctp = {
    type: "SCTP" as const,
    port: 9,
    transportUse: 1,
    addresses: ["192.0.2.9", "2001:db8::9"],
  };
  const element = {
    identifier: id(0x1234567),
    homeRegistrarId: id(0),
    registrationLife: 30_000,
    userTransport: transport,
    policy: { type: "LeastUsedDegradation" as const, load: 0x40000000, loadDegradation: 0x1000000 },
  };
  if (protocol === "asap") {
    return [
      { type: "Registration", poolHandle: handle, poolElement: element },
      {
        type: "Registration",
        poolHandle: handle,
        poolElement: {
          ...element,
          userTransport: sctp,
          policy: { type: "WeightedRandom", weight: 5 },
        },
      },
      { type: "Deregistration", poolHandle: handle, poolElementId: id(0x1234567) },
      { type: "HandleResolution", poolHandle: handle },
      { type: "HandleResolution", poolHandle: handle, items: 3 },
      { type: "EndpointKeepAliveAck", poolHandle: handle, poolElementId: id(0x1234567) },
      { type: "EndpointUnreachable", poolHandle: handle, poolElementId: id(0x7654321) },
      {
        type: "BusinessCard",
        poolHandle: handle,
        poolElements: [element, { ...element, identifier: id(42) }],
      },
      { type: "CookieEcho", cookie: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) },
      { type: "AsapError", operationError: [{ code: 3, info: new Uint8Array([0, 9, 0, 4]) }] },
    ];
  }
  const header = { sendingRegistrarId: id(0x5a5a5a5a), receivingRegistrarId: id(0) };
  return [
    {
      type: "Presence",
      ...header,
      replyRequired: true,
      checksum: 0xffff,
      serverInformation: { registrarId: id(0x5a5a5a5a), transport: { ...transport, port: 9901 } },
    },
    { type: "HandleTableRequest", ...header, ownChildrenOnly: true },
    {
      type: "HandleTableResponse",
      ...header,
      reject: false,
      moreToSend: false,
      pools: [{
        poolHandle: handle,
        poolElements: [{ ...element, homeRegistrarId: id(0x5a5a5a5a), asapTransport: sctp }],
      }],
    },
    {
      type: "HandleUpdate",
      ...header,
      takeoverSuggested: false,
      updateAction: 0,
      poolHandle: handle,
      poolElement: { ...element, homeRegistrarId: id(0x5a5a5a5a), asapTransport: sctp },
    },
    { type: "ListRequest", ...header },
    { type: "ListResponse", ...header, reject: false, servers: [] },
    { type: "InitTakeover", ...header, targetRegistrarId: id(0x77777777) },
    { type: "InitTakeoverAck", ...header, targetRegistrarId: id(0x77777777) },
    { type: "TakeoverServer", ...header, targetRegistrarId: id(0x77777777) },
    {
      type: "EnrpError",
      ...header,
      operationError: [{ code: 2, info: new Uint8Array([0x7f, 0, 0, 4]) }],
    },
  ];
}
