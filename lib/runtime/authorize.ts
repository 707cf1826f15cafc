/**
 * Registration authorization rules (RFC 5355 §2.1–§2.4, §3): which pool
 * elements may register into which pools, by TLS client certificate or by
 * source address, and whether they may name addresses other than their
 * own.
 *
 * ```ts
 * import { authorizeRegistrations } from "@rserpool/rserpool/runtime";
 *
 * const authorize = authorizeRegistrations({
 *   rules: [
 *     { pools: ["echo"], identities: ["CN=pe-alpha"] },
 *     { pools: ["daytime"], addresses: ["10.0.0.0/8", "127.0.0.1"] },
 *   ],
 *   ownAddressOnly: true,
 * });
 * // startRegistrar({ authorize, tls: { … requestClientCertificate: true } })
 * ```
 *
 * @module
 */

import { RSerPoolError } from "../errors.ts";
import type { AuthorizationRequest } from "../registrar/options.ts";
import { parseAddress } from "../wire/address.ts";

/** One rule: these pools, for these clients. */
export interface AuthorizationRule {
  /** Pool handles (text is UTF-8), or `"*"` for every pool. */
  readonly pools: readonly (string | Uint8Array)[] | "*";
  /**
   * Certificate subjects allowed: each entry lists attributes that must all
   * be in the client's subject (`"CN=pe-alpha"`, `"CN=pe-alpha,O=Example"`).
   */
  readonly identities?: readonly string[];
  /** Source addresses allowed: single addresses or prefixes (`"10.0.0.0/8"`, `"2001:db8::/32"`). */
  readonly addresses?: readonly string[];
}

/** Options of {@link authorizeRegistrations}. */
export interface AuthorizationPolicy {
  /** A registration is allowed when any rule allows it; nothing is allowed without rules. */
  readonly rules: readonly AuthorizationRule[];
  /**
   * Refuse elements whose user transport names addresses other than the
   * one they register from (RFC 5355 §2.1: a PE must not register someone
   * else's address to divert its traffic). Default false.
   */
  readonly ownAddressOnly?: boolean;
}

interface Prefix {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly bits: number;
}

function parsePrefix(text: string): Prefix {
  const [address, bitsText] = text.split("/");
  const parsed = parseAddress(address);
  if (parsed === undefined) {
    throw new RSerPoolError("bad-option", `"${text}" is not an address or prefix`);
  }
  const max = parsed.family === 4 ? 32 : 128;
  const bits = bitsText === undefined ? max : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > max || (bitsText ?? "0").trim() === "") {
    throw new RSerPoolError("bad-option", `"${text}": prefix length must be 0…${max}`);
  }
  return { family: parsed.family, bytes: parsed.bytes, bits };
}

function inPrefix(address: string, prefix: Prefix): boolean {
  const plain = address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
  const parsed = parseAddress(plain);
  if (parsed === undefined || parsed.family !== prefix.family) return false;
  for (let bit = 0; bit < prefix.bits; bit += 8) {
    const left = Math.min(8, prefix.bits - bit);
    const mask = (0xff << (8 - left)) & 0xff;
    if ((parsed.bytes[bit / 8] & mask) !== (prefix.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

function attributes(subject: string): Set<string> {
  return new Set(subject.split(",").map((a) => a.trim()).filter((a) => a !== ""));
}

function key(handle: string | Uint8Array): string {
  const bytes = typeof handle === "string" ? new TextEncoder().encode(handle) : handle;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Builds a registrar `authorize` hook from rules. Throws
 * {@link RSerPoolError} `bad-option` for malformed prefixes.
 */
export function authorizeRegistrations(
  policy: AuthorizationPolicy,
): (request: AuthorizationRequest) => boolean {
  const rules = policy.rules.map((r) => ({
    pools: r.pools === "*" ? undefined : new Set(r.pools.map(key)),
    identities: r.identities?.map(attributes),
    addresses: r.addresses?.map(parsePrefix),
  }));
  return (request) => {
    const source = request.remote?.address;
    if (policy.ownAddressOnly) {
      if (source === undefined) return false;
      const own = request.remote?.addresses ?? [source];
      if (!request.poolElement.userTransport.addresses.every((a) => own.includes(a))) return false;
    }
    const pool = key(request.poolHandle);
    const subject = request.identity === undefined ? undefined : attributes(request.identity);
    return rules.some((r) => {
      if (r.pools !== undefined && !r.pools.has(pool)) return false;
      if (r.identities === undefined && r.addresses === undefined) return true;
      const byIdentity = subject !== undefined &&
        (r.identities ?? []).some((wanted) => [...wanted].every((a) => subject.has(a)));
      const byAddress = source !== undefined &&
        (r.addresses ?? []).some((p) => inPrefix(source, p));
      return byIdentity || byAddress;
    });
  };
}
