/**
 * Messages as JSON and as readable text.
 *
 * JSON rules (reversible with {@link bytesFromJson}): byte strings
 * (`Uint8Array`) become their text when every byte is printable ASCII and
 * the text does not start with `0x`, and `0x` followed by lower-case hex
 * otherwise; `bigint` identifiers become decimal strings.
 *
 * @module
 */

import { parseHex, toHex } from "../wire/hex.ts";
import { ERROR_CAUSE_NAMES, TransportUse, UpdateAction } from "./constants.ts";

function printable(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] < 0x20 || bytes[i] > 0x7e) return false;
  }
  return true;
}

/** A byte string as JSON text: printable ASCII as is, anything else as `0x…` hex. */
export function bytesToJson(bytes: Uint8Array): string {
  if (bytes.length > 0 && printable(bytes)) {
    const text = String.fromCharCode(...bytes);
    if (!text.startsWith("0x")) return text;
  }
  return "0x" + toHex(bytes);
}

/** The inverse of {@link bytesToJson}. */
export function bytesFromJson(text: string): Uint8Array {
  if (text.startsWith("0x")) return parseHex(text.slice(2));
  return new TextEncoder().encode(text);
}

/**
 * Converts a message (or any value built of messages) into plain JSON data
 * following the rules of this module.
 */
export function toJsonValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return bytesToJson(value);
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (v !== undefined) out[key] = toJsonValue(v);
    }
    return out;
  }
  return value;
}

const FRACTION_FIELDS = new Set(["load", "loadDegradation", "loadDpf", "weightDpf"]);
const ID_FIELDS = new Set([
  "identifier",
  "homeRegistrarId",
  "registrarId",
  "poolElementId",
  "sendingRegistrarId",
  "receivingRegistrarId",
  "targetRegistrarId",
]);

function hexId(v: number | bigint): string {
  if (typeof v === "bigint") return "0x" + v.toString(16).padStart(16, "0");
  return "0x" + v.toString(16).padStart(8, "0");
}

function scalar(key: string, v: unknown): string {
  if (v instanceof Uint8Array) {
    const json = bytesToJson(v);
    return json.startsWith("0x") ? `${json} (${v.length} bytes)` : JSON.stringify(json);
  }
  if (ID_FIELDS.has(key) && (typeof v === "number" || typeof v === "bigint")) return hexId(v);
  if (typeof v === "number") {
    if (FRACTION_FIELDS.has(key)) {
      return `0x${v.toString(16).padStart(8, "0")} (${(v / 0xffffffff * 100).toFixed(2)} %)`;
    }
    if (key === "checksum") return `0x${v.toString(16).padStart(4, "0")}`;
    if (key === "registrationLife") return `${v} ms`;
    if (key === "distance") return `${v} ms`;
    if (key === "code") {
      const name = ERROR_CAUSE_NAMES.get(v);
      return `0x${v.toString(16).padStart(4, "0")}${name ? ` (${name})` : ""}`;
    }
    if (key === "transportUse") {
      return v === TransportUse.DataOnly
        ? "data only"
        : v === TransportUse.DataPlusControl
        ? "data plus control"
        : `0x${v.toString(16)}`;
    }
    if (key === "updateAction") {
      return v === UpdateAction.AddPoolElement
        ? "ADD_PE"
        : v === UpdateAction.DeletePoolElement
        ? "DEL_PE"
        : `0x${v.toString(16)}`;
    }
    if (key === "items" && v === 0xffffffff) return "0xffffffff (as many as possible)";
    if (key === "policyType") return `0x${v.toString(16).padStart(8, "0")}`;
  }
  if (typeof v === "string") return key === "type" ? v : JSON.stringify(v);
  return String(v);
}

function render(key: string, v: unknown, indent: string, lines: string[]): void {
  const label = key === "" ? "" : `${key}: `;
  if (Array.isArray(v)) {
    if (v.length === 0) {
      lines.push(`${indent}${label}[]`);
      return;
    }
    if (v.every((x) => typeof x === "string")) {
      lines.push(`${indent}${label}${v.join(", ")}`);
      return;
    }
    lines.push(`${indent}${key}:`);
    v.forEach((item, i) => render(`[${i}]`, item, indent + "  ", lines));
    return;
  }
  if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    const type = entries.find(([k]) => k === "type");
    lines.push(`${indent}${label}${type ? String(type[1]) : ""}`.trimEnd());
    for (const [k, x] of entries) {
      if (k !== "type") render(k, x, indent + "  ", lines);
    }
    return;
  }
  lines.push(`${indent}${label}${scalar(key, v)}`);
}

/**
 * A readable multi-line rendering of a message: one field per line,
 * identifiers in hex, loads as percentages, cause codes with their names.
 */
export function formatMessage(message: object): string {
  const lines: string[] = [];
  render("", message, "", lines);
  return lines.join("\n");
}
