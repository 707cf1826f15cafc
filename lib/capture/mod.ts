/**
 * Reads ASAP and ENRP messages out of pcap and pcapng captures: over SCTP
 * (by PPID), over SCTP encapsulated in UDP (RFC 6951), and over plain UDP
 * (Server Announces and multicast Presences, by port).
 *
 * ```ts
 * import { decodeCapturedMessage, readCapture } from "@rserpool/rserpool/capture";
 *
 * const file = await Deno.readFile("asap-basic.pcap");
 * for (const captured of readCapture(file)) {
 *   const message = decodeCapturedMessage(captured, { lenient: true });
 *   console.log(captured.frame, message.type);
 * }
 * ```
 *
 * @module
 */

import { decodeMessage } from "../protocol/codec.ts";
import { Port, Ppid } from "../protocol/constants.ts";
import type { DecodeOptions } from "../protocol/options.ts";
import type { RSerPoolMessage, WireProfile } from "../protocol/types.ts";
import { readFrames } from "./pcap.ts";
import { parseFrame } from "./packet.ts";
import { SctpReassembler } from "./sctp.ts";

export { type Frame, readFrames } from "./pcap.ts";
export { LinkType, parseFrame, type TransportPacket } from "./packet.ts";
export { SCTP_REASSEMBLY_LIMITS, SctpReassembler, type SctpUserMessage } from "./sctp.ts";
export {
  type DataChunkFields,
  ethernetFrame,
  type IDataChunkFields,
  ipv4Packet,
  ipv6Packet,
  PcapngWriter,
  type PcapngWriterOptions,
  type PcapOptions,
  sctpDataChunk,
  sctpIDataChunk,
  sctpPacket,
  udpDatagram,
  writePcap,
} from "./writer.ts";

/** A transport address. */
export interface Endpoint {
  /** IP address as text. */
  readonly address: string;
  /** Port. */
  readonly port: number;
}

/** An ASAP or ENRP message found in a capture. */
export interface CapturedMessage {
  /** Number of the frame that carried (the last fragment of) the message, from 1. */
  readonly frame: number;
  /** Capture time in milliseconds since the Unix epoch. */
  readonly timestamp: number;
  /** How it travelled: SCTP, SCTP over UDP (RFC 6951), or plain UDP. */
  readonly transport: "sctp" | "sctp-over-udp" | "udp";
  /** Sender. */
  readonly source: Endpoint;
  /** Receiver. */
  readonly destination: Endpoint;
  /** SCTP payload protocol identifier (for plain UDP: 11 or 12, by port). */
  readonly ppid: number;
  /** Protocol. */
  readonly protocol: "asap" | "enrp";
  /** Wire profile implied by the PPID or port. */
  readonly profile: WireProfile;
  /** SCTP stream, when carried by SCTP. */
  readonly streamId?: number;
  /** True when SCTP carried the message in several fragments. */
  readonly reassembled?: boolean;
  /** The message bytes. */
  readonly bytes: Uint8Array;
}

/** Options of {@link readCapture}. */
export interface CaptureOptions {
  /** UDP ports carrying SCTP (RFC 6951); default [9899]. */
  readonly sctpOverUdpPorts?: readonly number[];
  /** UDP ports carrying plain ASAP (Server Announces); default [3863, 3873]. */
  readonly asapUdpPorts?: readonly number[];
  /** UDP ports carrying plain ENRP (Presences); default [9901, 9911]. */
  readonly enrpUdpPorts?: readonly number[];
  /** Called for each frame that is skipped, with the reason (non-IP, truncated, fragment…). */
  readonly onSkip?: (frame: number, reason: string) => void;
}

function classifyPpid(
  ppid: number,
): { protocol: "asap" | "enrp"; profile: WireProfile } | undefined {
  switch (ppid) {
    case Ppid.Asap:
      return { protocol: "asap", profile: "rfc" };
    case Ppid.Enrp:
      return { protocol: "enrp", profile: "rfc" };
    case Ppid.AsapNextGen:
      return { protocol: "asap", profile: "nextgen" };
    case Ppid.EnrpNextGen:
      return { protocol: "enrp", profile: "nextgen" };
    default:
      return undefined;
  }
}

/**
 * Yields every ASAP and ENRP message in a pcap or pcapng file, in capture
 * order (several per frame in chunk order). SCTP messages of other PPIDs
 * (application data) are not yielded. Retransmitted DATA chunks are yielded
 * again, as Wireshark lists them. Throws {@link DecodeError} (`bad-capture`)
 * when the file itself is malformed; malformed packets are skipped
 * (see {@link CaptureOptions.onSkip}).
 */
export function* readCapture(
  file: Uint8Array,
  options: CaptureOptions = {},
): Generator<CapturedMessage> {
  const sctpOverUdp = new Set(options.sctpOverUdpPorts ?? [Port.SctpUdpEncapsulation]);
  const asapUdp = new Set(options.asapUdpPorts ?? [Port.Asap, Port.AsapNextGen]);
  const enrpUdp = new Set(options.enrpUdpPorts ?? [Port.Enrp, Port.EnrpNextGen]);
  const skip = options.onSkip ?? (() => {});
  const reassembler = new SctpReassembler();

  for (const frame of readFrames(file)) {
    const packet = parseFrame(frame.linkType, frame.data);
    if (typeof packet === "string") {
      skip(frame.number, packet);
      continue;
    }
    const seg = packet.segment;
    let sctp: Uint8Array | undefined;
    let transport: CapturedMessage["transport"] = "sctp";
    if (packet.protocol === 132) {
      sctp = seg;
    } else if (packet.protocol === 17) {
      if (seg.length < 8) {
        skip(frame.number, "truncated UDP header");
        continue;
      }
      const sourcePort = (seg[0] << 8) | seg[1];
      const destinationPort = (seg[2] << 8) | seg[3];
      const udpLength = (seg[4] << 8) | seg[5];
      if (udpLength < 8 || udpLength > seg.length) {
        skip(frame.number, "bad UDP length");
        continue;
      }
      const payload = seg.subarray(8, udpLength);
      if (sctpOverUdp.has(destinationPort) || sctpOverUdp.has(sourcePort)) {
        sctp = payload;
        transport = "sctp-over-udp";
      } else {
        const asap = asapUdp.has(destinationPort) ||
          (!enrpUdp.has(destinationPort) && asapUdp.has(sourcePort));
        const enrp = !asap && (enrpUdp.has(destinationPort) || enrpUdp.has(sourcePort));
        if (!asap && !enrp) continue;
        const nextgen = destinationPort === Port.AsapNextGen ||
          destinationPort === Port.EnrpNextGen;
        yield {
          frame: frame.number,
          timestamp: frame.timestamp,
          transport: "udp",
          source: { address: packet.source, port: sourcePort },
          destination: { address: packet.destination, port: destinationPort },
          ppid: asap
            ? (nextgen ? Ppid.AsapNextGen : Ppid.Asap)
            : (nextgen ? Ppid.EnrpNextGen : Ppid.Enrp),
          protocol: asap ? "asap" : "enrp",
          profile: nextgen ? "nextgen" : "rfc",
          bytes: payload.slice(),
        };
        continue;
      }
    } else {
      continue;
    }
    const messages = reassembler.packet(packet.source, packet.destination, sctp);
    if (typeof messages === "string") {
      skip(frame.number, messages);
      continue;
    }
    if (messages.length === 0) continue;
    const source = { address: packet.source, port: (sctp[0] << 8) | sctp[1] };
    const destination = { address: packet.destination, port: (sctp[2] << 8) | sctp[3] };
    for (const m of messages) {
      const kind = classifyPpid(m.ppid);
      if (kind === undefined) continue;
      yield {
        frame: frame.number,
        timestamp: frame.timestamp,
        transport,
        source,
        destination,
        ppid: m.ppid,
        ...kind,
        streamId: m.streamId,
        reassembled: m.reassembled,
        bytes: m.data,
      };
    }
  }
}

/** Decodes a captured message with the codec of its PPID. */
export function decodeCapturedMessage(
  captured: CapturedMessage,
  options?: DecodeOptions,
): RSerPoolMessage {
  return decodeMessage(captured.ppid, captured.bytes, options);
}
