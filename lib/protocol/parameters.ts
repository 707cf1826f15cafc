/**
 * Codecs of the parameters of RFC 5354 §3 (and their next-generation
 * variants): addresses, transports, Pool Handle, Pool Element, Server
 * Information, Operation Error, Cookie, PE Identifier, PE Checksum and the
 * Handle Resolution Option.
 *
 * @module
 */

import { copyBytes } from "../wire/pool.ts";
import { EncodeError } from "../errors.ts";
import { formatIPv4, formatIPv6, ipv4Number, parseAddress } from "../wire/address.ts";
import { ParameterType } from "./constants.ts";
import { decodeCommonPolicy, decodePolicy, encodePolicy } from "./policy.ts";
import { type DecodeContext, fail, Scanner, u16, u32 } from "./scanner.ts";
import type {
  ErrorCause,
  Identifier,
  PoolElementParameter,
  ServerInformation,
  TransportParameter,
} from "./types.ts";
import {
  checkBytes,
  checkUint,
  identifierError,
  put16,
  put32,
  within,
  type Writer,
} from "./writer.ts";

/** Parameter type of a Pool Element in the context's profile. */
export function poolElementType(nextgen: boolean): number {
  return nextgen ? ParameterType.NextGenPoolElement : ParameterType.PoolElement;
}

/** Parameter type of a Server Information in the context's profile. */
export function serverInformationType(nextgen: boolean): number {
  return nextgen ? ParameterType.NextGenServerInformation : ParameterType.ServerInformation;
}

/** Parameter type of a PE Identifier in the context's profile. */
export function poolElementIdentifierType(nextgen: boolean): number {
  return nextgen ? ParameterType.NextGenPoolElementIdentifier : ParameterType.PoolElementIdentifier;
}

/** Parameter type of a PE Checksum in the context's profile. */
export function poolElementChecksumType(nextgen: boolean): number {
  return nextgen ? ParameterType.NextGenPoolElementChecksum : ParameterType.PoolElementChecksum;
}

/** True for the five transport parameter types (0x0003–0x0007). */
export function isTransportType(type: number): boolean {
  return type >= ParameterType.DccpTransport && type <= ParameterType.UdpLiteTransport;
}

// ---------------------------------------------------------------------------
// Decoding

/** Decodes the peeked Pool Handle and advances. */
export function decodePoolHandle(d: DecodeContext, s: Scanner): Uint8Array {
  const length = s.length - 4;
  if (length === 0) fail("bad-value", s.start + 2, "empty pool handle");
  if (length > d.o.limits.maxPoolHandleLength) {
    fail(
      "limit-exceeded",
      s.start + 2,
      `pool handle of ${length} bytes exceeds the limit of ${d.o.limits.maxPoolHandleLength}`,
    );
  }
  const handle = copyBytes(d.b, s.value, s.value + length);
  s.advance();
  return handle;
}

/** Decodes the peeked PE Identifier (32 or 64 bits by profile) and advances. */
export function decodePoolElementIdentifier(d: DecodeContext, s: Scanner): Identifier {
  s.exactValue(d.idSize);
  const id = d.id(s.value);
  s.advance();
  return id;
}

/** Decodes the peeked PE Checksum (16 or 32 bits by profile) and advances. */
export function decodeChecksum(d: DecodeContext, s: Scanner): number {
  if (d.o.nextgen) {
    s.exactValue(4);
    const value = u32(d.b, s.value);
    s.advance();
    return value;
  }
  s.exactValue(2);
  const value = u16(d.b, s.value);
  s.advance();
  return value;
}

/** Decodes the peeked Cookie and advances. */
export function decodeCookie(d: DecodeContext, s: Scanner): Uint8Array {
  const cookie = copyBytes(d.b, s.value, s.start + s.length);
  s.advance();
  return cookie;
}

/** Decodes the peeked Handle Resolution Option and advances. */
export function decodeHandleResolutionOption(d: DecodeContext, s: Scanner): number {
  s.exactValue(4);
  const items = u32(d.b, s.value);
  s.advance();
  return items;
}

function decodeAddress(d: DecodeContext, inner: Scanner, type: number): string {
  if (type === ParameterType.IPv4Address) {
    inner.exactValue(4);
    return formatIPv4(d.b, inner.value);
  }
  if (type === ParameterType.IPv6Address) {
    inner.exactValue(16);
    return formatIPv6(d.b, inner.value);
  }
  return fail("unexpected-parameter", inner.start, "expected an IPv4 or IPv6 Address parameter");
}

function decodeAddresses(
  d: DecodeContext,
  from: number,
  end: number,
  sctp: boolean,
  at: number,
): string[] {
  const inner = new Scanner(d, from, end);
  const firstType = inner.peek();
  if (firstType === -1) fail("missing-parameter", end, "transport without an address");
  const limit = d.o.limits.maxAddressesPerTransport;
  const first = decodeAddress(d, inner, firstType);
  if (limit < 1) {
    fail("limit-exceeded", inner.start, `more than ${limit} addresses in one transport`);
  }
  inner.advance();
  // One address is the common case: an array literal of one, not a growing one.
  if (inner.peek() === -1) return [first];
  const addresses = [first];
  for (let type = inner.peek(); type !== -1; type = inner.peek()) {
    addresses.push(decodeAddress(d, inner, type));
    if (addresses.length > limit) {
      fail("limit-exceeded", inner.start, `more than ${limit} addresses in one transport`);
    }
    inner.advance();
  }
  if (!sctp) fail("bad-value", at, "a non-SCTP transport must carry exactly one address");
  return addresses;
}

/** Decodes the peeked transport parameter (any of 0x0003–0x0007) and advances. */
export function decodeTransport(d: DecodeContext, s: Scanner): TransportParameter {
  const b = d.b;
  const type = s.type;
  const v = s.value;
  const end = s.start + s.length;
  const fixed = type === ParameterType.DccpTransport ? 8 : 4;
  if (s.length < 4 + fixed) {
    fail("bad-parameter-length", s.start + 2, "transport parameter shorter than its fixed fields");
  }
  const port = u16(b, v);
  const addresses = decodeAddresses(
    d,
    v + fixed,
    end,
    type === ParameterType.SctpTransport,
    s.start,
  );
  let transport: TransportParameter;
  switch (type) {
    case ParameterType.SctpTransport:
      transport = { type: "SCTP", port, transportUse: u16(b, v + 2), addresses };
      break;
    case ParameterType.TcpTransport:
      transport = { type: "TCP", port, transportUse: u16(b, v + 2), addresses };
      break;
    case ParameterType.UdpTransport:
      d.zeros(v + 2, v + 4, "reserved-bits", "UDP transport reserved field");
      transport = { type: "UDP", port, addresses };
      break;
    case ParameterType.UdpLiteTransport:
      d.zeros(v + 2, v + 4, "reserved-bits", "UDP-Lite transport reserved field");
      transport = { type: "UDP-Lite", port, addresses };
      break;
    default:
      d.zeros(v + 2, v + 4, "reserved-bits", "DCCP transport reserved field");
      transport = { type: "DCCP", port, serviceCode: u32(b, v + 4), addresses };
  }
  s.advance();
  return transport;
}

function expectTransport(s: Scanner): void {
  const type = s.peek();
  if (type === -1) fail("missing-parameter", s.end, "transport parameter missing");
  if (!isTransportType(type)) {
    fail("unexpected-parameter", s.start, "expected a transport parameter");
  }
}

/**
 * An SCTP or TCP transport parameter at `p` in its common form, decoded in
 * one pass: no padding, only IPv4 and IPv6 Address parameters, within the
 * address limit, TCP with one address. Returns `undefined` for anything
 * else, which the scanners then decode (to the same result for every
 * transport accepted here). The parameter's length is at `p + 2`.
 */
function commonTransport(d: DecodeContext, p: number, end: number): TransportParameter | undefined {
  const b = d.b;
  if (p + 4 > end) return undefined;
  const type = u16(b, p);
  const length = u16(b, p + 2);
  if (
    (type !== ParameterType.SctpTransport && type !== ParameterType.TcpTransport) ||
    length < 16 || (length & 3) !== 0 || p + length > end
  ) {
    return undefined;
  }
  const last = p + length;
  const limit = d.o.limits.maxAddressesPerTransport;
  let first = "";
  let addresses: string[] | undefined;
  let count = 0;
  for (let a = p + 8; a < last;) {
    if (a + 4 > last) return undefined;
    const addressType = u16(b, a);
    const addressLength = u16(b, a + 2);
    let text: string;
    if (addressType === ParameterType.IPv4Address && addressLength === 8 && a + 8 <= last) {
      text = formatIPv4(b, a + 4);
    } else if (
      addressType === ParameterType.IPv6Address && addressLength === 20 && a + 20 <= last
    ) {
      text = formatIPv6(b, a + 4);
    } else {
      return undefined;
    }
    if (++count > limit) return undefined;
    if (count === 1) first = text;
    else if (addresses === undefined) addresses = [first, text];
    else addresses.push(text);
    a += addressLength;
  }
  if (count === 0 || (type === ParameterType.TcpTransport && count !== 1)) return undefined;
  const port = u16(b, p + 4);
  const transportUse = u16(b, p + 6);
  return type === ParameterType.SctpTransport
    ? { type: "SCTP", port, transportUse, addresses: addresses ?? [first] }
    : { type: "TCP", port, transportUse, addresses: [first] };
}

/**
 * The rest of a Pool Element after its fixed fields, at `p`, in its common
 * form (see {@link commonTransport} and {@link decodeCommonPolicy}): a user
 * transport, a policy, optionally an ASAP transport, and nothing else.
 * Returns `undefined` otherwise; the scanners then decode the element.
 */
function commonPoolElement(
  d: DecodeContext,
  p: number,
  end: number,
  identifier: Identifier,
  homeRegistrarId: Identifier,
  registrationLife: number,
): PoolElementParameter | undefined {
  const b = d.b;
  const userTransport = commonTransport(d, p, end);
  if (userTransport === undefined) return undefined;
  p += u16(b, p + 2);
  const policy = decodeCommonPolicy(b, p, end);
  if (policy === undefined) return undefined;
  p += u16(b, p + 2);
  if (p === end) return { identifier, homeRegistrarId, registrationLife, userTransport, policy };
  const asapTransport = commonTransport(d, p, end);
  if (asapTransport === undefined || p + u16(b, p + 2) !== end) return undefined;
  return { identifier, homeRegistrarId, registrationLife, userTransport, policy, asapTransport };
}

/** Decodes the peeked Pool Element (profile's type) and advances. */
export function decodePoolElement(d: DecodeContext, s: Scanner): PoolElementParameter {
  const idSize = d.idSize;
  const v = s.value;
  const fixed = 2 * idSize + 4;
  if (s.length < 4 + fixed) {
    fail("bad-parameter-length", s.start + 2, "Pool Element shorter than its fixed fields");
  }
  const identifier = d.id(v);
  const homeRegistrarId = d.id(v + idSize);
  const registrationLife = u32(d.b, v + 2 * idSize);
  const common = commonPoolElement(
    d,
    v + fixed,
    s.start + s.length,
    identifier,
    homeRegistrarId,
    registrationLife,
  );
  if (common !== undefined) {
    s.advance();
    return common;
  }
  const inner = new Scanner(d, v + fixed, s.start + s.length);
  expectTransport(inner);
  const userTransport = decodeTransport(d, inner);
  inner.expect(ParameterType.PoolMemberSelectionPolicy);
  const policy = decodePolicy(d, inner);
  let element: PoolElementParameter;
  const next = inner.peek();
  if (next !== -1 && isTransportType(next)) {
    const asapTransport = decodeTransport(d, inner);
    element = {
      identifier,
      homeRegistrarId,
      registrationLife,
      userTransport,
      policy,
      asapTransport,
    };
  } else {
    element = { identifier, homeRegistrarId, registrationLife, userTransport, policy };
  }
  inner.finish();
  s.advance();
  return element;
}

/** Decodes the peeked Server Information (profile's type) and advances. */
export function decodeServerInformation(d: DecodeContext, s: Scanner): ServerInformation {
  const v = s.value;
  if (s.length < 4 + d.idSize) {
    fail("bad-parameter-length", s.start + 2, "Server Information shorter than its identifier");
  }
  const registrarId = d.id(v);
  const inner = new Scanner(d, v + d.idSize, s.start + s.length);
  expectTransport(inner);
  const transport = decodeTransport(d, inner);
  inner.finish();
  s.advance();
  return { registrarId, transport };
}

/** Decodes the peeked Operation Error and advances. */
export function decodeOperationError(d: DecodeContext, s: Scanner): ErrorCause[] {
  const b = d.b;
  const end = s.start + s.length;
  const causes: ErrorCause[] = [];
  const limit = d.o.limits.maxErrorCauses;
  let p = s.value;
  while (p < end) {
    if (p + 4 > end) fail("bad-parameter-length", p, "error cause header runs past the parameter");
    const code = u16(b, p);
    const length = u16(b, p + 2);
    if (length < 4 || p + length > end) {
      fail("bad-parameter-length", p + 2, `error cause with bad Length ${length}`);
    }
    let next = p + ((length + 3) & ~3);
    if (next > end) {
      if (d.strict) fail("bad-padding", p + length, "padding of an error cause is missing");
      next = end;
    } else {
      d.zeros(p + length, next, "bad-padding", "padding of an error cause");
    }
    causes.push({ code, info: copyBytes(b, p + 4, p + length) });
    if (causes.length > limit) fail("limit-exceeded", p, `more than ${limit} error causes`);
    p = next;
  }
  if (causes.length === 0 && d.strict) {
    fail("bad-value", s.start, "Operation Error without an error cause");
  }
  s.advance();
  return causes;
}

// ---------------------------------------------------------------------------
// Encoding. Errors carry the field's name; callers prefix their own (`within`).

/** Encodes a Pool Handle parameter. */
export function encodePoolHandle(w: Writer, handle: Uint8Array): void {
  checkBytes(handle, "", 1);
  // Written in line: header, bytes and padding with one room check.
  const n = handle.length;
  const size = 4 + ((n + 3) & ~3);
  const start = w.pos;
  if (start + size > w.limit) w.room(size);
  const b = w.buf;
  put16(b, start, ParameterType.PoolHandle);
  put16(b, start + 2, 4 + n);
  const v = start + 4;
  if (n <= 32) {
    for (let i = 0; i < n; i++) b[v + i] = handle[i];
  } else {
    b.set(handle, v);
  }
  for (let i = v + n; i < start + size; i++) b[i] = 0;
  w.pos = start + size;
}

/** Encodes a PE Identifier parameter (32 or 64 bits by profile). */
export function encodePoolElementIdentifier(w: Writer, id: Identifier): void {
  const start = w.beginTlv(poolElementIdentifierType(w.idSize === 8));
  w.id(id);
  w.endTlv(start);
}

/** Encodes a PE Checksum parameter (16 or 32 bits by profile). */
export function encodeChecksum(w: Writer, checksum: number): void {
  const nextgen = w.idSize === 8;
  const start = w.beginTlv(poolElementChecksumType(nextgen));
  w.room(4);
  if (nextgen) w.u32(checkUint(checksum, 32, ""));
  else w.u16(checkUint(checksum, 16, ""));
  w.endTlv(start);
}

/** Encodes a Cookie parameter. */
export function encodeCookie(w: Writer, cookie: Uint8Array): void {
  checkBytes(cookie, "");
  const start = w.beginTlv(ParameterType.Cookie);
  w.bytes(cookie);
  w.endTlv(start);
}

/** Encodes a Handle Resolution Option parameter. */
export function encodeHandleResolutionOption(w: Writer, items: number): void {
  const start = w.beginTlv(ParameterType.HandleResolutionOption);
  w.room(4);
  w.u32(checkUint(items, 32, ""));
  w.endTlv(start);
}

/** Writes an IPv4 or IPv6 Address parameter; `text` was not a dotted quad. */
function encodeOtherAddress(w: Writer, text: unknown): void {
  const parsed = typeof text === "string" ? parseAddress(text) : undefined;
  if (parsed === undefined) {
    throw new EncodeError("bad-value", "", `not an IPv4 or IPv6 address: ${String(text)}`);
  }
  const v4 = parsed.family === 4;
  w.room(v4 ? 8 : 20);
  w.u16(v4 ? ParameterType.IPv4Address : ParameterType.IPv6Address);
  w.u16(v4 ? 8 : 20);
  const bytes = parsed.bytes;
  const b = w.buf;
  const p = w.pos;
  for (let i = 0; i < bytes.length; i++) b[p + i] = bytes[i];
  w.pos = p + bytes.length;
}

/** The parameter type of a transport's `type` name, -1 for none (a switch: cheaper than a `Map`). */
function transportParameterType(name: unknown): number {
  switch (name) {
    case "SCTP":
      return ParameterType.SctpTransport;
    case "TCP":
      return ParameterType.TcpTransport;
    case "UDP":
      return ParameterType.UdpTransport;
    case "UDP-Lite":
      return ParameterType.UdpLiteTransport;
    case "DCCP":
      return ParameterType.DccpTransport;
    default:
      return -1;
  }
}

/** The error for a transport object that {@link encodeTransport} cannot encode (kept out of its hot path). */
function invalidTransport(t: unknown, type: number): EncodeError {
  if (t === null || typeof t !== "object") {
    return new EncodeError("bad-value", "", "expected a transport parameter object");
  }
  const name = (t as { type: unknown }).type;
  if (type === -1) return new EncodeError("bad-value", "type", `unknown transport ${String(name)}`);
  const addresses = (t as { addresses: unknown }).addresses;
  if (!Array.isArray(addresses) || addresses.length === 0) {
    return new EncodeError("bad-value", "addresses", "expected at least one address");
  }
  return new EncodeError("bad-value", "addresses", `${name} carries exactly one address`);
}

/**
 * Encodes a transport parameter. Written in line (one function, no writer
 * calls): dotted quads go straight into the message as numbers
 * ({@link ipv4Number}), any other address through {@link encodeOtherAddress}.
 */
export function encodeTransport(w: Writer, t: TransportParameter): void {
  const type = t !== null && typeof t === "object" ? transportParameterType(t.type) : -1;
  const addresses = type === -1 ? undefined : t.addresses;
  if (
    addresses === undefined || !Array.isArray(addresses) || addresses.length === 0 ||
    (type !== ParameterType.SctpTransport && addresses.length !== 1)
  ) {
    throw invalidTransport(t, type);
  }
  const port = checkUint(t.port, 16, "port");
  const sctpOrTcp = type === ParameterType.SctpTransport || type === ParameterType.TcpTransport;
  const transportUse = sctpOrTcp
    ? checkUint((t as { transportUse: number }).transportUse, 16, "transportUse")
    : 0;
  const dccp = type === ParameterType.DccpTransport;
  const fixed = dccp ? 12 : 8;
  const serviceCode = dccp
    ? checkUint((t as { serviceCode: number }).serviceCode, 32, "serviceCode")
    : 0;
  const start = w.pos;
  if (start + fixed > w.limit) w.room(fixed);
  const b = w.buf;
  put16(b, start, type);
  put16(b, start + 4, port);
  put16(b, start + 6, transportUse);
  if (dccp) put32(b, start + 8, serviceCode);
  let p = start + fixed;
  for (let i = 0; i < addresses.length; i++) {
    const text = addresses[i];
    const v4 = typeof text === "string" ? ipv4Number(text) : -1;
    if (v4 !== -1) {
      if (p + 8 > w.limit) {
        w.pos = p;
        w.room(8);
      }
      put16(b, p, ParameterType.IPv4Address);
      put16(b, p + 2, 8);
      put32(b, p + 4, v4);
      p += 8;
      continue;
    }
    w.pos = p;
    try {
      encodeOtherAddress(w, text);
    } catch (e) {
      throw within(e, `addresses[${i}]`);
    }
    p = w.pos;
  }
  // Address parameters are 8 or 20 bytes: the transport needs no padding.
  put16(b, start + 2, p - start);
  w.pos = p;
}

/** Encodes a Pool Element parameter (profile's type). */
export function encodePoolElement(w: Writer, pe: PoolElementParameter): void {
  if (pe === null || typeof pe !== "object") {
    throw new EncodeError("bad-value", "", "expected a Pool Element object");
  }
  const start = w.pos;
  let field = "identifier";
  try {
    if (w.idSize === 4) {
      // The fixed fields in line, with one room check.
      const identifier = pe.identifier;
      if (typeof identifier !== "number" || (identifier >>> 0) !== identifier) {
        throw identifierError(identifier, false);
      }
      field = "homeRegistrarId";
      const home = pe.homeRegistrarId;
      if (typeof home !== "number" || (home >>> 0) !== home) throw identifierError(home, false);
      field = "registrationLife";
      const life = checkUint(pe.registrationLife, 32, "");
      field = ""; // running out of room is the element's error, not a field's
      if (start + 16 > w.limit) w.room(16);
      const b = w.buf;
      put16(b, start, ParameterType.PoolElement);
      put32(b, start + 4, identifier);
      put32(b, start + 8, home);
      put32(b, start + 12, life);
      w.pos = start + 16;
    } else {
      w.beginTlv(ParameterType.NextGenPoolElement);
      w.id(pe.identifier);
      field = "homeRegistrarId";
      w.id(pe.homeRegistrarId);
      field = "registrationLife";
      w.room(4);
      w.u32(checkUint(pe.registrationLife, 32, ""));
    }
    field = "userTransport";
    encodeTransport(w, pe.userTransport);
    field = "policy";
    encodePolicy(w, pe.policy);
    if (pe.asapTransport !== undefined) {
      field = "asapTransport";
      encodeTransport(w, pe.asapTransport);
    }
  } catch (e) {
    throw within(e, field);
  }
  // Its fields, transports and policy are multiples of 4 bytes: no padding.
  put16(w.buf, start + 2, w.pos - start);
}

/** Encodes a Server Information parameter (profile's type). */
export function encodeServerInformation(w: Writer, info: ServerInformation): void {
  if (info === null || typeof info !== "object") {
    throw new EncodeError("bad-value", "", "expected a Server Information object");
  }
  const start = w.beginTlv(serverInformationType(w.idSize === 8));
  let field = "registrarId";
  try {
    w.id(info.registrarId);
    field = "transport";
    encodeTransport(w, info.transport);
  } catch (e) {
    throw within(e, field);
  }
  w.endTlv(start);
}

/** Encodes an Operation Error parameter with its causes. */
export function encodeOperationError(w: Writer, causes: readonly ErrorCause[]): void {
  // RFC 5354 asks for one or more causes; an empty list is still encodable
  // (and decodes in lenient mode), so that anything decoded re-encodes.
  if (!Array.isArray(causes)) {
    throw new EncodeError("bad-value", "", "expected an array of error causes");
  }
  const start = w.beginTlv(ParameterType.OperationError);
  for (let i = 0; i < causes.length; i++) {
    const cause = causes[i];
    try {
      const causeStart = w.beginTlv(checkUint(cause?.code, 16, "code"));
      w.bytes(checkBytes(cause.info, "info"));
      w.endTlv(causeStart);
    } catch (e) {
      throw within(e, `[${i}]`);
    }
  }
  w.endTlv(start);
}
