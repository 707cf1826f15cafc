/**
 * Fuzzing dictionaries: byte strings the mutator inserts into inputs or
 * writes over them. Derived automatically from the protocol's constants
 * (message and parameter types, policy codes, cause codes, flags, ports),
 * from the numbers and strings the instrumented parsers compare against,
 * and from the pool handles found in the seeds; a user dictionary in AFL /
 * libFuzzer format (`--dict FILE`) adds its own.
 *
 * @module
 */

import * as constants from "../lib/protocol/constants.ts";
import { toHex } from "../lib/wire/hex.ts";

export { insertToken } from "../lib/testing/mutate.ts";

/** A dictionary: distinct byte strings. */
export type Dictionary = Uint8Array[];

/** Error of a malformed dictionary file. */
export class DictionaryError extends Error {
  /**
   * @param line 1-based line of the file
   * @param message what is wrong
   */
  constructor(readonly line: number, message: string) {
    super(`dictionary line ${line}: ${message}`);
    this.name = "DictionaryError";
  }
}

/**
 * Parses a dictionary in AFL / libFuzzer format: one entry per line,
 * `name="value"` or `"value"`, with `\\`, `\"` and `\xNN` escapes; blank
 * lines and `#` comments are ignored. AFL's `@level` suffix is accepted and
 * ignored.
 */
export function parseDictionary(text: string): Dictionary {
  const out: Dictionary = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:[A-Za-z0-9_]+(?:@\d+)?\s*=\s*)?"(.*)"$/.exec(line);
    if (m === null) throw new DictionaryError(i + 1, `expected name="value" or "value"`);
    const bytes: number[] = [];
    const v = m[1];
    for (let j = 0; j < v.length; j++) {
      const c = v.charCodeAt(j);
      if (c === 0x5c) {
        const next = v[j + 1];
        if (next === "\\" || next === '"') {
          bytes.push(next.charCodeAt(0));
          j++;
        } else if (next === "x" && /^[0-9a-fA-F]{2}$/.test(v.slice(j + 2, j + 4))) {
          bytes.push(parseInt(v.slice(j + 2, j + 4), 16));
          j += 3;
        } else {
          throw new DictionaryError(i + 1, `bad escape at column ${j + 1}`);
        }
      } else if (c === 0x22) {
        throw new DictionaryError(i + 1, `unescaped quote at column ${j + 1}`);
      } else if (c < 0x20 || c > 0x7e) {
        throw new DictionaryError(i + 1, `non-printable character at column ${j + 1} (use \\xNN)`);
      } else {
        bytes.push(c);
      }
    }
    if (bytes.length === 0) throw new DictionaryError(i + 1, "empty value");
    out.push(Uint8Array.from(bytes));
  }
  return out;
}

/** Formats a dictionary in AFL / libFuzzer format (what `--dict` reads). */
export function formatDictionary(dictionary: Dictionary): string {
  return dictionary.map((token, i) => {
    let v = "";
    for (const b of token) {
      v += b === 0x22 || b === 0x5c
        ? `\\${String.fromCharCode(b)}`
        : b >= 0x20 && b < 0x7f
        ? String.fromCharCode(b)
        : `\\x${b.toString(16).padStart(2, "0")}`;
    }
    return `kw${i + 1}="${v}"`;
  }).join("\n") + "\n";
}

/** The big-endian (network order) and little-endian encodings of an integer in the widths it fits. */
export function encodings(value: number | bigint): Uint8Array[] {
  if (typeof value === "number" && !Number.isSafeInteger(value)) return [];
  const v = BigInt(value);
  const out: Uint8Array[] = [];
  for (const width of [1, 2, 4, 8]) {
    const bits = BigInt(width * 8);
    const fits = v >= 0n ? v < 1n << bits : v >= -(1n << (bits - 1n));
    if (!fits) continue;
    const w = BigInt.asUintN(width * 8, v);
    const be = new Uint8Array(width);
    for (let i = 0; i < width; i++) be[width - 1 - i] = Number((w >> BigInt(8 * i)) & 0xffn);
    out.push(be);
    if (width > 1) out.push(be.slice().reverse());
  }
  return out;
}

/** Collects distinct tokens. */
class TokenSet {
  readonly tokens: Dictionary = [];
  private readonly keys = new Set<string>();
  add(b: Uint8Array): void {
    if (b.length === 0 || b.length > 64) return;
    const k = toHex(b);
    if (this.keys.has(k)) return;
    this.keys.add(k);
    this.tokens.push(b);
  }
  /** A number in network order at the narrowest width it fits (16 bits at least when above 0xff). */
  number(n: number | bigint): void {
    const all = encodings(n);
    if (all.length > 0) this.add(all[0]);
    if (all.length > 2) this.add(all[1]); // the 16-bit form too, or the little-endian one
  }
}

/** Pool handles (parameter 0x000b) found in the inputs, TLV by TLV at every 4-byte boundary. */
export function poolHandlesIn(inputs: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const input of inputs) {
    for (let p = 0; p + 4 <= input.length; p += 4) {
      if (input[p] !== 0x00 || input[p + 1] !== 0x0b) continue;
      const length = (input[p + 2] << 8) | input[p + 3];
      if (length > 4 && length <= 4 + 64 && p + length <= input.length) {
        out.push(input.slice(p + 4, p + length));
      }
    }
  }
  return out;
}

/**
 * The automatic dictionary: every protocol constant, every number and
 * string the instrumented parsers compare against, and the pool handles of
 * the seeds.
 */
export function automaticDictionary(
  compared: readonly (number | string)[],
  seeds: readonly Uint8Array[],
): Dictionary {
  const set = new TokenSet();
  for (const group of Object.values(constants)) {
    if (typeof group !== "object" || group === null || group instanceof Map) continue;
    for (const v of Object.values(group)) if (typeof v === "number") set.number(v);
  }
  for (const c of compared) {
    if (typeof c === "number") {
      if (Number.isInteger(c) && c >= 0 && c > 4) set.number(c);
    } else if (c.length >= 2) set.add(new TextEncoder().encode(c));
  }
  for (const handle of poolHandlesIn(seeds)) set.add(handle);
  return set.tokens;
}
