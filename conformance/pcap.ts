/**
 * A case's messages as a pcapng capture (`--pcap DIR`): every message an
 * SCTP DATA chunk with its PPID (11 ASAP, 12 ENRP, or the next-generation
 * ones) in an IPv4 packet between the suite's and the target's endpoints,
 * so that Wireshark's ASAP and ENRP dissectors show each one cleanly (and
 * `rserpool decode` reads it back), whatever transport carried it.
 *
 * @module
 */

import {
  ethernetFrame,
  ipv4Packet,
  ipv6Packet,
  PcapngWriter,
  sctpDataChunk,
  sctpPacket,
} from "../lib/capture/writer.ts";
import type { WireRecord } from "./peer.ts";

/** Writes the records of one case as a pcapng file. */
export function casePcap(
  records: readonly WireRecord[],
  startedAt: number = Date.now(),
): Uint8Array {
  const writer = new PcapngWriter({ application: "rserpool conformance" });
  const tsn = new Map<string, number>();
  const tag = new Map<string, number>();
  for (const r of records) {
    const from = r.direction === "sent" ? r.local : r.remote;
    const to = r.direction === "sent" ? r.remote : r.local;
    const flow = `${from.address}:${from.port}>${to.address}:${to.port}`;
    const next = (tsn.get(flow) ?? 1) + 1;
    tsn.set(flow, next);
    const reverse = `${to.address}:${to.port}>${from.address}:${from.port}`;
    if (!tag.has(flow)) {
      tag.set(flow, tag.get(reverse) === undefined ? 0x5c7a0001 + tag.size : 0x5c7a1001 + tag.size);
    }
    const sctp = sctpPacket(from.port, to.port, tag.get(flow)!, [
      sctpDataChunk({ tsn: next, ppid: r.ppid, data: r.bytes }),
    ]);
    const v6 = from.address.includes(":");
    const ip = v6
      ? ipv6Packet(from.address, to.address, 132, sctp)
      : ipv4Packet(from.address, to.address, 132, sctp);
    writer.addPacket(ethernetFrame(ip, v6 ? 0x86dd : 0x0800), startedAt + r.t);
  }
  return writer.toBytes();
}
