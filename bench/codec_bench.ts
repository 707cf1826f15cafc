/**
 * Codec benchmarks: decode and encode of a typical Registration (68 bytes,
 * as RSPLIB's rspserver sends it), a Handle Resolution Response with 3 pool
 * elements and a Handle Table Response with 128. Each group's baseline is a
 * copy of the same number of bytes (`Uint8Array.prototype.slice`), the least
 * any decoder or encoder producing fresh data must do; `deno bench` reports
 * the other cases relative to it.
 *
 * The inputs are in `codec_cases.ts`; `deno task bench:rsplib` times the same
 * inputs against RSPLIB.
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
import {
  registration,
  registrationBytes,
  resolutionResponse,
  resolutionResponseBytes,
  tableResponse,
  tableResponseBytes,
} from "./codec_cases.ts";

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
