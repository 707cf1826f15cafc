/**
 * Link, network and transport headers of captured packets: Ethernet (with
 * 802.1Q/802.1ad tags), Linux cooked capture v1 and v2, BSD loopback, raw
 * IP; IPv4 and IPv6 (with extension headers); UDP, TCP and SCTP.
 *
 * Malformed or unsupported packets yield a reason string instead of a
 * packet; nothing here throws.
 *
 * @module
 */

import { formatIPv4, formatIPv6 } from "../wire/address.ts";

/** Link-layer header types (LINKTYPE_* values) the reader understands. */
export const LinkType = {
  /** BSD loopback, host byte order family. */
  Null: 0,
  /** Ethernet. */
  Ethernet: 1,
  /** Raw IP (some platforms). */
  RawAlt12: 12,
  /** Raw IP (some platforms). */
  RawAlt14: 14,
  /** Raw IP. */
  Raw: 101,
  /** OpenBSD loopback, network byte order family. */
  Loop: 108,
  /** Linux cooked capture v1. */
  LinuxSll: 113,
  /** IPv4 only. */
  IPv4: 228,
  /** IPv6 only. */
  IPv6: 229,
  /** Linux cooked capture v2. */
  LinuxSll2: 276,
} as const;

/** A transport-layer packet found in a frame. */
export interface TransportPacket {
  /** Source address. */
  readonly source: string;
  /** Destination address. */
  readonly destination: string;
  /** IP protocol number: 6 (TCP), 17 (UDP) or 132 (SCTP). */
  readonly protocol: number;
  /** The transport header and payload (a view). */
  readonly segment: Uint8Array;
}

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_SCTP = 132;

function u16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

/** Finds the IP packet inside a frame: its offset and IP version, or a reason it has none. */
function networkLayer(
  linkType: number,
  d: Uint8Array,
): { offset: number; version: number } | string {
  let p = 0;
  let etherType: number;
  switch (linkType) {
    case LinkType.Ethernet: {
      if (d.length < 14) return "truncated Ethernet header";
      etherType = u16(d, 12);
      p = 14;
      for (
        let tags = 0;
        etherType === 0x8100 || etherType === 0x88a8 || etherType === 0x9100;
        tags++
      ) {
        if (tags === 4 || p + 4 > d.length) return "truncated or too many VLAN tags";
        etherType = u16(d, p + 2);
        p += 4;
      }
      break;
    }
    case LinkType.LinuxSll:
      if (d.length < 16) return "truncated Linux cooked header";
      etherType = u16(d, 14);
      p = 16;
      break;
    case LinkType.LinuxSll2:
      if (d.length < 20) return "truncated Linux cooked v2 header";
      etherType = u16(d, 0);
      p = 20;
      break;
    case LinkType.Null:
    case LinkType.Loop: {
      if (d.length < 4) return "truncated loopback header";
      const be = (d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3]) >>> 0;
      const le = (d[3] << 24 | d[2] << 16 | d[1] << 8 | d[0]) >>> 0;
      const family = linkType === LinkType.Loop ? be : Math.min(be, le);
      if (family === 2) return { offset: 4, version: 4 };
      if (family === 24 || family === 28 || family === 30 || family === 10) {
        return { offset: 4, version: 6 };
      }
      return `loopback family ${family} is not IP`;
    }
    case LinkType.Raw:
    case LinkType.RawAlt12:
    case LinkType.RawAlt14:
      if (d.length < 1) return "empty raw IP frame";
      return { offset: 0, version: d[0] >> 4 };
    case LinkType.IPv4:
      return { offset: 0, version: 4 };
    case LinkType.IPv6:
      return { offset: 0, version: 6 };
    default:
      return `link type ${linkType} not supported`;
  }
  if (etherType === 0x0800) return { offset: p, version: 4 };
  if (etherType === 0x86dd) return { offset: p, version: 6 };
  return `EtherType 0x${etherType.toString(16)} is not IP`;
}

/** Parses a frame down to its transport layer; returns a reason string when it cannot. */
export function parseFrame(linkType: number, d: Uint8Array): TransportPacket | string {
  const network = networkLayer(linkType, d);
  if (typeof network === "string") return network;
  const p = network.offset;
  if (network.version === 4) {
    if (p + 20 > d.length) return "truncated IPv4 header";
    if (d[p] >> 4 !== 4) return "not an IPv4 header";
    const headerLength = (d[p] & 0x0f) * 4;
    const totalLength = u16(d, p + 2);
    if (headerLength < 20 || totalLength < headerLength) return "bad IPv4 lengths";
    if (p + totalLength > d.length) return "IPv4 packet truncated by the capture";
    const fragment = u16(d, p + 6);
    if ((fragment & 0x3fff) !== 0) return "IPv4 fragment (not reassembled)";
    return {
      source: formatIPv4(d, p + 12),
      destination: formatIPv4(d, p + 16),
      protocol: d[p + 9],
      segment: d.subarray(p + headerLength, p + totalLength),
    };
  }
  if (network.version === 6) {
    if (p + 40 > d.length) return "truncated IPv6 header";
    if (d[p] >> 4 !== 6) return "not an IPv6 header";
    const end = p + 40 + u16(d, p + 4);
    if (end > d.length) return "IPv6 packet truncated by the capture";
    let next = d[p + 6];
    let q = p + 40;
    for (let hops = 0;; hops++) {
      if (next === IPPROTO_TCP || next === IPPROTO_UDP || next === IPPROTO_SCTP) break;
      if (hops === 8) return "too many IPv6 extension headers";
      if (q + 8 > end) return "truncated IPv6 extension header";
      if (next === 0 || next === 43 || next === 60) {
        const length = (d[q + 1] + 1) * 8;
        next = d[q];
        q += length;
      } else if (next === 44) {
        if ((u16(d, q + 2) & 0xfff9) !== 0) return "IPv6 fragment (not reassembled)";
        next = d[q];
        q += 8;
      } else if (next === 51) {
        const length = (d[q + 1] + 2) * 4;
        next = d[q];
        q += length;
      } else {
        return `IPv6 next header ${next} not supported`;
      }
      if (q > end) return "IPv6 extension header runs past the packet";
    }
    return {
      source: formatIPv6(d, p + 8),
      destination: formatIPv6(d, p + 24),
      protocol: next,
      segment: d.subarray(q, end),
    };
  }
  return `IP version ${network.version} not supported`;
}
