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

/**
 * Recently formatted IPv4 addresses, direct-mapped by a hash of the address:
 * a registrar decodes the same few addresses over and over, and looking one
 * up here costs a fraction of concatenating seven strings.
 */
const IPV4_CACHE_SIZE = 1024;
const ipv4Keys = new Int32Array(IPV4_CACHE_SIZE);
const ipv4Texts: (string | undefined)[] = new Array<string | undefined>(IPV4_CACHE_SIZE).fill(
  undefined,
);

/** Formats 4 bytes at `offset` as a dotted-quad IPv4 address. */
export function formatIPv4(bytes: Uint8Array, offset: number): string {
  const key = (bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) |
    bytes[offset + 3];
  const slot = (key ^ (key >>> 10) ^ (key >>> 20)) & (IPV4_CACHE_SIZE - 1);
  const cached = ipv4Texts[slot];
  if (cached !== undefined && ipv4Keys[slot] === key) return cached;
  const text = DECIMAL[bytes[offset]] + "." + DECIMAL[bytes[offset + 1]] + "." +
    DECIMAL[bytes[offset + 2]] + "." + DECIMAL[bytes[offset + 3]];
  ipv4Keys[slot] = key;
  ipv4Texts[slot] = text;
  return text;
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

/**
 * Parses a dotted quad (four decimal numbers 0–255 without leading zeros)
 * into `out[offset, offset + 4)`; returns false, with those bytes
 * unspecified, when `text` is not one.
 */
export function parseIPv4Into(
  text: string,
  out: Uint8Array,
  offset: number,
): boolean {
  const n = text.length;
  if (n < 7 || n > 15) return false;
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) { // "."
      if (digits === 0 || part === 3) return false;
      out[offset + part] = value;
      part++;
      value = 0;
      digits = 0;
      continue;
    }
    const digit = c - 48;
    if (digit < 0 || digit > 9) return false;
    if (digits > 0 && value === 0) return false; // no leading zeros
    value = value * 10 + digit;
    if (value > 255) return false;
    digits++;
  }
  if (part !== 3 || digits === 0) return false;
  out[offset + 3] = value;
  return true;
}

const IPV4_NUMBERS_LIMIT = 4096;
/** Dotted quads already parsed, as 32-bit numbers (-1: not a dotted quad). */
const ipv4Numbers = new Map<string, number>();
const ipv4Scratch = new Uint8Array(4);

/**
 * The IPv4 address of a dotted quad as an unsigned 32-bit number, or -1 when
 * `text` is not a dotted quad. Results are cached: encoders meet the same
 * few addresses over and over, and a lookup by the string's cached hash
 * costs less than reading its characters again.
 */
export function ipv4Number(text: string): number {
  const cached = ipv4Numbers.get(text);
  if (cached !== undefined) return cached;
  const s = ipv4Scratch;
  const value = parseIPv4Into(text, s, 0)
    ? ((s[0] << 24) | (s[1] << 16) | (s[2] << 8) | s[3]) >>> 0
    : -1;
  if (ipv4Numbers.size >= IPV4_NUMBERS_LIMIT) ipv4Numbers.clear();
  ipv4Numbers.set(text, value);
  return value;
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
