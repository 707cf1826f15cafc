/**
 * Hexadecimal text to bytes and back, as used by the CLI and the tests.
 *
 * @module
 */

import { DecodeError } from "../errors.ts";

const HEX_DIGITS = "0123456789abcdef";
const BYTE_TO_HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => HEX_DIGITS[i >> 4] + HEX_DIGITS[i & 15],
);

/** Formats bytes as lower-case hexadecimal without separators. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_HEX[bytes[i]];
  return out;
}

function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/** Longest hex text {@link parseHex} accepts (twice the largest message plus separators). */
export const MAX_HEX_TEXT_LENGTH = 1 << 20;

/**
 * Parses hexadecimal text into bytes. Accepts upper and lower case, an
 * optional `0x` prefix, and whitespace, `:` or `-` between bytes (as
 * Wireshark's "copy as hex" and `xxd -p` produce). Throws {@link DecodeError}
 * (`bad-value`) on anything else, including an odd number of digits, and
 * (`limit-exceeded`) on text longer than {@link MAX_HEX_TEXT_LENGTH}.
 */
export function parseHex(text: string): Uint8Array {
  if (text.length > MAX_HEX_TEXT_LENGTH) {
    throw new DecodeError(
      "limit-exceeded",
      MAX_HEX_TEXT_LENGTH,
      `hex text longer than ${MAX_HEX_TEXT_LENGTH} characters`,
    );
  }
  let start = 0;
  while (start < text.length && /\s/.test(text[start])) start++;
  if (text[start] === "0" && (text[start + 1] === "x" || text[start + 1] === "X")) {
    start += 2;
  }
  const out = new Uint8Array(text.length >> 1);
  let length = 0;
  let i = start;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 32 || code === 9 || code === 10 || code === 13 || code === 58 || code === 45) {
      i++;
      continue;
    }
    const high = nibble(code);
    if (high < 0) {
      throw new DecodeError("bad-value", i, `not a hex digit: ${JSON.stringify(text[i])}`);
    }
    if (i + 1 >= text.length) {
      throw new DecodeError("bad-value", i, "odd number of hex digits");
    }
    const low = nibble(text.charCodeAt(i + 1));
    if (low < 0) {
      throw new DecodeError(
        "bad-value",
        i + 1,
        `not a hex digit: ${JSON.stringify(text[i + 1])}`,
      );
    }
    out[length++] = (high << 4) | low;
    i += 2;
  }
  return out.slice(0, length);
}
