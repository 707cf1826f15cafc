/**
 * IP addresses as text. The codecs represent addresses as strings: dotted
 * quad for IPv4 Address parameters, RFC 5952 text for IPv6 Address
 * parameters. A string containing `:` is always an IPv6 address, so an
 * IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) stays an IPv6 parameter.
 *
 * @module
 */

const DECIMAL: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => String(i),
);

/** Formats 4 bytes at `offset` as a dotted-quad IPv4 address. */
export function formatIPv4(bytes: Uint8Array, offset: number): string {
  return DECIMAL[bytes[offset]] + "." + DECIMAL[bytes[offset + 1]] + "." +
    DECIMAL[bytes[offset + 2]] + "." + DECIMAL[bytes[offset + 3]];
}

/**
 * Formats 16 bytes at `offset` as an IPv6 address in the canonical text form
 * of RFC 5952 (lower case, no leading zeros, the longest run of two or more
 * zero groups shortened to `::`, IPv4-mapped addresses in mixed notation).
 */
export function formatIPv6(bytes: Uint8Array, offset: number): string {
  const groups: number[] = new Array(8);
  for (let i = 0; i < 8; i++) {
    groups[i] = (bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1];
  }
  if (
    groups[0] === 0 && groups[1] === 0 && groups[2] === 0 &&
    groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff
  ) {
    return "::ffff:" + formatIPv4(bytes, offset + 12);
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.map((g) => g.toString(16)).join(":");
  const head = groups.slice(0, bestStart).map((g) => g.toString(16)).join(":");
  const tail = groups.slice(bestStart + bestLength).map((g) => g.toString(16))
    .join(":");
  return head + "::" + tail;
}

function parseIPv4Into(
  text: string,
  out: Uint8Array,
  offset: number,
): boolean {
  const parts = text.split(".");
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    if (part.length === 0 || part.length > 3) return false;
    if (part.length > 1 && part.charCodeAt(0) === 48) return false; // no leading zeros
    let value = 0;
    for (let k = 0; k < part.length; k++) {
      const c = part.charCodeAt(k) - 48;
      if (c < 0 || c > 9) return false;
      value = value * 10 + c;
    }
    if (value > 255) return false;
    out[offset + i] = value;
  }
  return true;
}

function parseIPv6(text: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  const doubleColon = text.indexOf("::");
  if (doubleColon !== text.lastIndexOf("::")) return undefined;
  const headText = doubleColon < 0 ? text : text.slice(0, doubleColon);
  const tailText = doubleColon < 0 ? "" : text.slice(doubleColon + 2);
  const head = headText === "" ? [] : headText.split(":");
  const tail = tailText === "" ? [] : tailText.split(":");
  const groups: number[] = [];
  const all = doubleColon < 0 ? head : [...head, "", ...tail];
  for (let i = 0; i < all.length; i++) {
    const part = all[i];
    if (part === "" && doubleColon >= 0 && i === head.length) {
      groups.push(-1); // placeholder for the zero run
      continue;
    }
    if (i === all.length - 1 && part.includes(".")) {
      const v4 = new Uint8Array(4);
      if (!parseIPv4Into(part, v4, 0)) return undefined;
      groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      continue;
    }
    if (part.length === 0 || part.length > 4) return undefined;
    let value = 0;
    for (let k = 0; k < part.length; k++) {
      const c = part.charCodeAt(k);
      let digit: number;
      if (c >= 48 && c <= 57) digit = c - 48;
      else if (c >= 97 && c <= 102) digit = c - 87;
      else if (c >= 65 && c <= 70) digit = c - 55;
      else return undefined;
      value = value * 16 + digit;
    }
    groups.push(value);
  }
  const explicit = groups.filter((g) => g >= 0).length;
  if (doubleColon < 0) {
    if (explicit !== 8) return undefined;
  } else if (explicit > 7) {
    return undefined;
  }
  let index = 0;
  for (const g of groups) {
    if (g < 0) {
      index += 8 - explicit;
      continue;
    }
    out[2 * index] = g >> 8;
    out[2 * index + 1] = g & 0xff;
    index++;
  }
  return out;
}

/** An IP address parsed from text: its family and its network-order bytes. */
export interface ParsedAddress {
  /** 4 for an IPv4 Address parameter, 6 for an IPv6 Address parameter. */
  readonly family: 4 | 6;
  /** 4 or 16 bytes in network order. */
  readonly bytes: Uint8Array;
}

const CACHE_LIMIT = 4096;
const cache = new Map<string, ParsedAddress>();

/**
 * Parses an IPv4 (dotted quad) or IPv6 (RFC 4291 text, optionally with a
 * trailing dotted quad) address. Returns `undefined` when the text is not an
 * address. Results are cached; the returned bytes must not be modified.
 */
export function parseAddress(text: string): ParsedAddress | undefined {
  const cached = cache.get(text);
  if (cached !== undefined) return cached;
  let parsed: ParsedAddress | undefined;
  if (text.includes(":")) {
    const bytes = parseIPv6(text);
    if (bytes !== undefined) parsed = { family: 6, bytes };
  } else {
    const bytes = new Uint8Array(4);
    if (parseIPv4Into(text, bytes, 0)) parsed = { family: 4, bytes };
  }
  if (parsed === undefined) return undefined;
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, parsed);
  return parsed;
}
