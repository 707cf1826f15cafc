/**
 * Known-answer tests for what the RSPLIB captures do not contain. The bytes
 * are written by hand from the layouts in ../shared/spec (RFC 5352 §2.2,
 * RFC 5353 §2, RFC 5354 §3), independently of the encoder, so that a mistake
 * mirrored in encoder and decoder cannot hide behind a round trip.
 */
import assert from "node:assert/strict";
import { parseHex, toHex } from "../wire/hex.ts";
import { decodeMessage, encodeMessage, ppidOf } from "./codec.ts";
import type { PoolElementParameter, RSerPoolMessage } from "./types.ts";

const pool = new TextEncoder().encode("Pool");
const POOL_HANDLE = "00090008" + "506f6f6c"; // Pool Handle, Length 8, "Pool"

// Pool Element: id 0x01020304, home 0, life 30000 ms, TCP 10.0.0.1:8080 data only, Round Robin.
const TCP_8080 = "00050010" + "1f900000" + "00010008" + "0a000001";
const ROUND_ROBIN = "00080008" + "00000001";
const ELEMENT_HEX = "000a0028" + "01020304" + "00000000" + "00007530" + TCP_8080 + ROUND_ROBIN;
const element: PoolElementParameter = {
  identifier: 0x01020304,
  homeRegistrarId: 0,
  registrationLife: 30000,
  userTransport: { type: "TCP", port: 8080, transportUse: 0, addresses: ["10.0.0.1"] },
  policy: { type: "RoundRobin" },
};
const ids = { sendingRegistrarId: 1, receivingRegistrarId: 2 };
const IDS = "00000001" + "00000002";

const cases: [string, RSerPoolMessage, string][] = [
  [
    "ASAP_BUSINESS_CARD (RFC form: Pool Handle, Pool Elements)",
    { type: "BusinessCard", poolHandle: pool, poolElements: [element] },
    "0d000034" + POOL_HANDLE + ELEMENT_HEX,
  ],
  [
    "ASAP_ERROR with Unrecognized Message carrying the 4-byte message",
    { type: "AsapError", operationError: [{ code: 2, info: parseHex("0f000004") }] },
    "0e000010" + "000c000c" + "00020008" + "0f000004",
  ],
  [
    "ASAP_ENDPOINT_KEEP_ALIVE with H=1 (RFC form, no PE Identifier)",
    { type: "EndpointKeepAlive", home: true, registrarId: 0xdffe285b, poolHandle: pool },
    "07010010" + "dffe285b" + POOL_HANDLE,
  ],
  [
    "ASAP_SERVER_ANNOUNCE with its SCTP endpoint",
    {
      type: "ServerAnnounce",
      registrarId: 0xdffe285b,
      transports: [{ type: "SCTP", port: 3863, transportUse: 0, addresses: ["127.0.0.1"] }],
    },
    "0a000018" + "dffe285b" + "00040010" + "0f170000" + "00010008" + "7f000001",
  ],
  [
    "ASAP_COOKIE of 5 bytes: padded, message Length counts the padding",
    { type: "Cookie", cookie: parseHex("0102030405") },
    "0b000010" + "000d0009" + "0102030405" + "000000",
  ],
  [
    "ASAP_REGISTRATION with DCCP user transport and the PriorityLeastUsedDPF layout",
    {
      type: "Registration",
      poolHandle: pool,
      poolElement: {
        ...element,
        userTransport: {
          type: "DCCP",
          port: 5001,
          serviceCode: 0x52535031,
          addresses: ["10.0.0.1"],
        },
        policy: {
          type: "PriorityLeastUsedDPF",
          load: 1,
          loadDegradation: 2,
          loadDpf: 3,
          distance: 50,
        },
      },
    },
    "01000048" + POOL_HANDLE +
    "000a003c" + "01020304" + "00000000" + "00007530" +
    "00030014" + "13890000" + "52535031" + "00010008" + "0a000001" +
    "00080018" + "b0002004" + "00000001" + "00000002" + "00000003" + "00000032",
  ],
  [
    "ASAP_HANDLE_RESOLUTION_RESPONSE with a UDP-Lite element on IPv6, data plus control",
    {
      type: "HandleResolutionResponse",
      poolHandle: pool,
      policy: { type: "WeightedRoundRobin", weight: 7 },
      poolElements: [{
        ...element,
        userTransport: { type: "UDP-Lite", port: 9, addresses: ["2001:db8::1"] },
        policy: { type: "WeightedRoundRobin", weight: 7 },
        asapTransport: {
          type: "SCTP",
          port: 3863,
          transportUse: 1,
          addresses: ["2001:db8::1", "10.0.0.1"],
        },
      }],
    },
    "06000074" + POOL_HANDLE + "0008000c" + "00000002" + "00000007" +
    "000a005c" + "01020304" + "00000000" + "00007530" +
    "0007001c" + "00090000" + "00020014" + "20010db8000000000000000000000001" +
    "0008000c" + "00000002" + "00000007" +
    "00040024" + "0f170001" + "00020014" + "20010db8000000000000000000000001" + "00010008" +
    "0a000001",
  ],
  [
    "ENRP_ERROR with Unknown Pool Handle",
    { type: "EnrpError", ...ids, operationError: [{ code: 9, info: new Uint8Array() }] },
    "0a000014" + IDS + "000c0008" + "00090004",
  ],
  [
    "ENRP_TAKEOVER_SERVER (never on the wire from RSPLIB 3.4.4)",
    { type: "TakeoverServer", ...ids, targetRegistrarId: 0xdeadbeef },
    "09000010" + IDS + "deadbeef",
  ],
  [
    "ENRP_HANDLE_TABLE_RESPONSE with R and M set, no entries",
    { type: "HandleTableResponse", reject: true, moreToSend: true, ...ids, pools: [] },
    "0303000c" + IDS,
  ],
  [
    "ENRP_HANDLE_UPDATE DEL_PE with the Takeover Suggestion flag",
    {
      type: "HandleUpdate",
      takeoverSuggested: true,
      ...ids,
      updateAction: 1,
      poolHandle: pool,
      poolElement: element,
    },
    "04010040" + IDS + "00010000" + POOL_HANDLE + ELEMENT_HEX,
  ],
  [
    "ENRP_LIST_RESPONSE with R set",
    { type: "ListResponse", reject: true, ...ids, servers: [] },
    "0601000c" + IDS,
  ],
  [
    "ENRP_HANDLE_TABLE_REQUEST with W set",
    { type: "HandleTableRequest", ownChildrenOnly: true, ...ids },
    "0201000c" + IDS,
  ],
];

for (const [name, message, hex] of cases) {
  Deno.test(`known answer: ${name}`, () => {
    assert.equal(toHex(encodeMessage(message)), hex);
    assert.deepStrictEqual(decodeMessage(ppidOf(message), parseHex(hex)), message);
  });
}
