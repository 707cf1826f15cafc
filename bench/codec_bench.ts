/**
 * Codec benchmarks: decode and encode of a typical Registration (68 bytes,
 * as RSPLIB's rspserver sends it), a Handle Resolution Response with 3 pool
 * elements and a Handle Table Response with 128. Each group's baseline is a
 * copy of the same number of bytes (`Uint8Array.prototype.slice`), the least
 * any decoder or encoder producing fresh data must do; `deno bench` reports
 * the other cases relative to it.
 *
 * Run: deno task bench (or deno bench --allow-read bench/codec_bench.ts)
 */
import {
  decodeAsap,
  decodeEnrp,
  encodeAsap,
  encodeEnrp,
  encodeInto,
} from "../lib/protocol/codec.ts";
import type {
  HandleResolutionResponse,
  HandleTableResponse,
  PoolElementParameter,
  Registration,
} from "../lib/protocol/types.ts";
import { parseHex } from "../lib/wire/hex.ts";

// asap-basic.pcap frame 24: rspserver -pingpong registering in SetA.PingPong (LeastUsed).
const registrationBytes = parseHex(
  "0100004400090011536574412e50696e67506f6e67000000000a002c8856818a0000000000005dc0" +
    "000400104e230001000100080a4d00010008000c4000000100000000",
);
const registration = decodeAsap(registrationBytes) as Registration;

function element(i: number): PoolElementParameter {
  return {
    identifier: (0x10000000 + i * 7919) >>> 0,
    homeRegistrarId: 0xdffe285b,
    registrationLife: 24000,
    userTransport: {
      type: "SCTP",
      port: 20000 + i,
      transportUse: 1,
      addresses: [`10.77.${i >> 8}.${i & 255}`],
    },
    policy: { type: "LeastUsed", load: i * 1000 },
    asapTransport: {
      type: "SCTP",
      port: 40000 + i,
      transportUse: 0,
      addresses: [`10.77.${i >> 8}.${i & 255}`],
    },
  };
}

const poolHandle = new TextEncoder().encode("SetA.PingPong");
const resolutionResponse: HandleResolutionResponse = {
  type: "HandleResolutionResponse",
  poolHandle,
  policy: { type: "LeastUsed", load: 0 },
  poolElements: [0, 1, 2].map((i) => {
    const { asapTransport: _, ...pe } = element(i);
    return pe;
  }),
};
const resolutionResponseBytes = encodeAsap(resolutionResponse);

const tableResponse: HandleTableResponse = {
  type: "HandleTableResponse",
  reject: false,
  moreToSend: true,
  sendingRegistrarId: 0xdffe285b,
  receivingRegistrarId: 0x1a8cb0d3,
  pools: [{ poolHandle, poolElements: Array.from({ length: 128 }, (_, i) => element(i)) }],
};
const tableResponseBytes = encodeEnrp(tableResponse);

let sink = 0;

Deno.bench("copy 68 bytes", { group: "Registration", baseline: true }, () => {
  sink ^= registrationBytes.slice().length;
});
Deno.bench("decode Registration", { group: "Registration" }, () => {
  sink ^= decodeAsap(registrationBytes).type.length;
});
Deno.bench("encode Registration", { group: "Registration" }, () => {
  sink ^= encodeAsap(registration).length;
});

const target = new Uint8Array(65536);
Deno.bench("encodeInto Registration (caller's buffer)", { group: "Registration" }, () => {
  sink ^= encodeInto(registration, target);
});

Deno.bench(`copy ${resolutionResponseBytes.length} bytes`, {
  group: "HandleResolutionResponse",
  baseline: true,
}, () => {
  sink ^= resolutionResponseBytes.slice().length;
});
Deno.bench("decode HandleResolutionResponse (3 PEs)", { group: "HandleResolutionResponse" }, () => {
  sink ^= decodeAsap(resolutionResponseBytes).type.length;
});
Deno.bench("encode HandleResolutionResponse (3 PEs)", { group: "HandleResolutionResponse" }, () => {
  sink ^= encodeAsap(resolutionResponse).length;
});

Deno.bench("encodeInto HandleResolutionResponse (caller's buffer)", {
  group: "HandleResolutionResponse",
}, () => {
  sink ^= encodeInto(resolutionResponse, target);
});

Deno.bench(`copy ${tableResponseBytes.length} bytes`, {
  group: "HandleTableResponse",
  baseline: true,
}, () => {
  sink ^= tableResponseBytes.slice().length;
});
Deno.bench("decode HandleTableResponse (128 PEs)", { group: "HandleTableResponse" }, () => {
  sink ^= decodeEnrp(tableResponseBytes).type.length;
});
Deno.bench("encode HandleTableResponse (128 PEs)", { group: "HandleTableResponse" }, () => {
  sink ^= encodeEnrp(tableResponse).length;
});

Deno.bench(
  "encodeInto HandleTableResponse (caller's buffer)",
  { group: "HandleTableResponse" },
  () => {
    sink ^= encodeInto(tableResponse, target);
  },
);

globalThis.addEventListener("unload", () => {
  if (sink === 0.5) console.log(sink);
});
