/**
 * CRC32c (Castagnoli, RFC 9260 Appendix B), the SCTP packet checksum.
 *
 * @module
 */

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32c of `bytes[from, to)`. */
export function crc32c(bytes: Uint8Array, from = 0, to: number = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = from; i < to; i++) crc = TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
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
