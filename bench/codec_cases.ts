/**
 * The codec benchmark inputs, shared by `codec_bench.ts` (`deno bench`) and
 * `rsplib.ts` (`deno task bench:rsplib`, against RSPLIB):
 *
 * - a Registration of 68 bytes, as RSPLIB's rspserver sends it;
 * - a Handle Resolution Response with 3 pool elements;
 * - a Handle Table Response with 128 pool elements (RSPLIB's registrar sends
 *   at most 128 per response, so "more to send" is set);
 * - {@link captureMix}: every distinct ASAP/ENRP message of the RSPLIB 3.4.4
 *   captures in `conformance/testdata/rsplib-3.4.4/`.
 */
import { readCapture } from "../lib/capture/mod.ts";
import { decodeAsap, encodeAsap, encodeEnrp } from "../lib/protocol/codec.ts";
import { Ppid } from "../lib/protocol/constants.ts";
import type {
  HandleResolutionResponse,
  HandleTableResponse,
  PoolElementParameter,
  Registration,
} from "../lib/protocol/types.ts";
import { parseHex, toHex } from "../lib/wire/hex.ts";

/** asap-basic.pcap frame 24: rspserver -pingpong registering in SetA.PingPong (LeastUsed). */
export const registrationBytes: Uint8Array = parseHex(
  "0100004400090011536574412e50696e67506f6e67000000000a002c8856818a0000000000005dc0" +
    "000400104e230001000100080a4d00010008000c4000000100000000",
);
/** {@link registrationBytes} decoded. */
export const registration: Registration = decodeAsap(registrationBytes) as Registration;

/** Pool element number `i` of the responses below (LeastUsed, load i·1000, SCTP). */
export function element(i: number): PoolElementParameter {
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

/** The pool handle of the responses. */
export const poolHandle: Uint8Array = new TextEncoder().encode("SetA.PingPong");

/** A Handle Resolution Response with 3 pool elements (without ASAP transports). */
export const resolutionResponse: HandleResolutionResponse = {
  type: "HandleResolutionResponse",
  poolHandle,
  policy: { type: "LeastUsed", load: 0 },
  poolElements: [0, 1, 2].map((i) => {
    const { asapTransport: _, ...pe } = element(i);
    return pe;
  }),
};
/** {@link resolutionResponse} encoded. */
export const resolutionResponseBytes: Uint8Array = encodeAsap(resolutionResponse);

/** A Handle Table Response with 128 pool elements of one pool. */
export const tableResponse: HandleTableResponse = {
  type: "HandleTableResponse",
  reject: false,
  moreToSend: true,
  sendingRegistrarId: 0xdffe285b,
  receivingRegistrarId: 0x1a8cb0d3,
  pools: [{ poolHandle, poolElements: Array.from({ length: 128 }, (_, i) => element(i)) }],
};
/** {@link tableResponse} encoded. */
export const tableResponseBytes: Uint8Array = encodeEnrp(tableResponse);

/** One message of a codec case: its SCTP PPID and bytes. */
export interface CodecInput {
  /** 11 (ASAP) or 12 (ENRP). */
  readonly ppid: number;
  /** The message. */
  readonly bytes: Uint8Array;
  /** Where it comes from, for messages naming it. */
  readonly origin: string;
}

/** The directory of the RSPLIB 3.4.4 captures. */
export const CAPTURE_DIRECTORY: URL = new URL(
  "../conformance/testdata/rsplib-3.4.4/",
  import.meta.url,
);

/**
 * Every distinct ASAP (PPID 11) and ENRP (PPID 12) message of the `*.pcap`
 * files in `directory` (files in name order, messages in capture order; a
 * message seen before, same PPID and bytes, is skipped). Needs read
 * permission.
 */
export function captureMix(directory: URL = CAPTURE_DIRECTORY): CodecInput[] {
  const files = [...Deno.readDirSync(directory)]
    .map((e) => e.name)
    .filter((name) => name.endsWith(".pcap"))
    .sort();
  const seen = new Set<string>();
  const mix: CodecInput[] = [];
  for (const file of files) {
    for (const m of readCapture(Deno.readFileSync(new URL(file, directory)))) {
      if (m.ppid !== Ppid.Asap && m.ppid !== Ppid.Enrp) continue;
      const key = `${m.ppid} ${toHex(m.bytes)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      mix.push({ ppid: m.ppid, bytes: m.bytes, origin: `${file} frame ${m.frame}` });
    }
  }
  return mix;
}
