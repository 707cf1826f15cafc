/**
 * CRC32c (Castagnoli, RFC 9260 Appendix B), the SCTP packet checksum.
 *
 * @module
 */

/** Slicing-by-8 tables: TABLES[k][b] is the CRC of byte b followed by k zero bytes. */
const TABLES: Uint32Array[] = (() => {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k][n] = (t[0][t[k - 1][n] & 0xff] ^ (t[k - 1][n] >>> 8)) >>> 0;
  }
  return t;
})();

/**
 * CRC32c of `bytes[from, to)` (slicing by 8: eight bytes per step).
 * `previous` continues a CRC over preceding bytes: `crc32c(b, 4, 9, crc32c(b, 0, 4))`
 * equals `crc32c(b, 0, 9)`.
 */
export function crc32c(
  bytes: Uint8Array,
  from = 0,
  to: number = bytes.length,
  previous = 0,
): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let crc = (previous ^ 0xffffffff) | 0;
  let i = from;
  for (; i + 8 <= to; i += 8) {
    const a = crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    crc = t7[a & 0xff] ^ t6[(a >>> 8) & 0xff] ^ t5[(a >>> 16) & 0xff] ^ t4[a >>> 24] ^
      t3[bytes[i + 4]] ^ t2[bytes[i + 5]] ^ t1[bytes[i + 6]] ^ t0[bytes[i + 7]];
  }
  for (; i < to; i++) crc = t0[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * Computes an SCTP packet's CRC32c over the packet with its checksum field
 * zeroed and stores it there, little-endian as RFC 9260 Appendix B puts it
 * on the wire. Returns the packet (changed in place). Packets shorter than
 * the 12-byte common header are returned unchanged.
 */
export function writeSctpChecksum(packet: Uint8Array): Uint8Array {
  if (packet.length < 12) return packet;
  packet.fill(0, 8, 12);
  const crc = crc32c(packet);
  packet[8] = crc & 0xff;
  packet[9] = (crc >>> 8) & 0xff;
  packet[10] = (crc >>> 16) & 0xff;
  packet[11] = crc >>> 24;
  return packet;
}
