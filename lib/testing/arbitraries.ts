/**
 * fast-check arbitraries for every ASAP and ENRP message, in both wire
 * profiles. Used by the codec property tests and the fuzzing harnesses.
 *
 * Generated messages are canonical: optional fields are absent rather than
 * `undefined`, addresses are in the text form the decoder produces, so that
 * `decode(encode(m))` deep-equals `m`.
 *
 * @module
 */

import fc from "fast-check";
import { formatIPv4, formatIPv6 } from "../wire/address.ts";
import { POLICY_DEFINITIONS } from "../protocol/policy.ts";
import type {
  AsapMessage,
  EnrpMessage,
  ErrorCause,
  Identifier,
  PoolElementParameter,
  PoolMemberSelectionPolicy,
  ServerInformation,
  TransportParameter,
  WireProfile,
} from "../protocol/types.ts";

/** Options of the message arbitraries. */
export interface MessageArbitraryOptions {
  /** Wire profile: 32-bit (`rfc`) or 64-bit (`nextgen`) identifiers. */
  readonly profile?: WireProfile;
  /**
   * Also generate RSPLIB's deviations that only the lenient decoder
   * accepts (PE Identifier in Endpoint Keep-Alive, policy in Business Card).
   */
  readonly rsplibExtensions?: boolean;
}

/** `fc.record` producing plain objects (fast-check may otherwise use null prototypes). */
// deno-lint-ignore no-explicit-any
function record<T extends Record<string, fc.Arbitrary<any>>>(
  model: T,
  constraints?: { requiredKeys?: (keyof T)[] },
): fc.Arbitrary<{ [K in keyof T]: T[K] extends fc.Arbitrary<infer U> ? U : never }> {
  // deno-lint-ignore no-explicit-any
  return fc.record(model, { ...constraints, noNullPrototype: true } as any) as any;
}

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** A 32-bit value with a bias towards the edges. */
export const uint32: fc.Arbitrary<number> = fc.oneof(
  u32,
  fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff),
);

/** An identifier of the profile: number (rfc) or bigint (nextgen). */
export function identifier(profile: WireProfile = "rfc"): fc.Arbitrary<Identifier> {
  return profile === "nextgen" ? fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) : uint32;
}

/** An address in the decoder's text form (IPv4, IPv6, IPv4-mapped IPv6). */
export const address: fc.Arbitrary<string> = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => formatIPv4(b, 0)),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIPv6(b, 0)),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => {
    b.fill(0, 0, 10);
    b.fill(0xff, 10, 12);
    return formatIPv6(b, 0);
  }),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => {
    b.fill(0, 2, 14); // long zero runs exercise "::"
    return formatIPv6(b, 0);
  }),
);

/** A transport parameter of any of the five kinds. */
export const transport: fc.Arbitrary<TransportParameter> = fc.oneof(
  record({
    type: fc.constant("SCTP" as const),
    port: u16,
    transportUse: fc.oneof(fc.constantFrom(0, 1), u16),
    addresses: fc.array(address, { minLength: 1, maxLength: 4 }),
  }),
  record({
    type: fc.constant("TCP" as const),
    port: u16,
    transportUse: fc.constantFrom(0, 1),
    addresses: fc.tuple(address),
  }),
  record({ type: fc.constant("UDP" as const), port: u16, addresses: fc.tuple(address) }),
  record({ type: fc.constant("UDP-Lite" as const), port: u16, addresses: fc.tuple(address) }),
  record({
    type: fc.constant("DCCP" as const),
    port: u16,
    serviceCode: u32,
    addresses: fc.tuple(address),
  }),
);

/** An SCTP transport (the kind used for ASAP and ENRP endpoints). */
export const sctpTransport: fc.Arbitrary<TransportParameter> = record({
  type: fc.constant("SCTP" as const),
  port: u16,
  transportUse: fc.constantFrom(0, 1),
  addresses: fc.array(address, { minLength: 1, maxLength: 3 }),
});

const KNOWN_CODES = new Set(POLICY_DEFINITIONS.map((d) => d.code));

/** A policy: every known one with random values, or an unknown policy type. */
export const policy: fc.Arbitrary<PoolMemberSelectionPolicy> = fc.oneof(
  ...POLICY_DEFINITIONS.map((def) =>
    fc.tuple(...def.fields.map(() => uint32)).map((values) => {
      const out: Record<string, unknown> = { type: def.name };
      def.fields.forEach((field, i) => out[field] = values[i]);
      return out as unknown as PoolMemberSelectionPolicy;
    })
  ),
  record({
    type: fc.constant("Unknown" as const),
    policyType: u32.filter((c) => !KNOWN_CODES.has(c)),
    data: fc.uint8Array({ maxLength: 16 }),
  }),
);

/** A pool handle (1–64 bytes). */
export const poolHandle: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 64 }),
  fc.stringMatching(/^[A-Za-z0-9.]{1,32}$/).map((s) => new TextEncoder().encode(s)),
);

/** A Pool Element, with or without ASAP Transport. */
export function poolElement(profile: WireProfile = "rfc"): fc.Arbitrary<PoolElementParameter> {
  return record({
    identifier: identifier(profile),
    homeRegistrarId: identifier(profile),
    registrationLife: uint32,
    userTransport: transport,
    policy,
    asapTransport: sctpTransport,
  }, {
    requiredKeys: ["identifier", "homeRegistrarId", "registrationLife", "userTransport", "policy"],
  });
}

/** A Server Information parameter. */
export function serverInformation(profile: WireProfile = "rfc"): fc.Arbitrary<ServerInformation> {
  return record({ registrarId: identifier(profile), transport: sctpTransport });
}

/** One error cause (any code, any information). */
export const errorCause: fc.Arbitrary<ErrorCause> = record({
  code: fc.oneof(fc.integer({ min: 0, max: 0x0b }), u16),
  info: fc.uint8Array({ maxLength: 24 }),
});

/** An Operation Error: one to three causes. */
export const operationError: fc.Arbitrary<ErrorCause[]> = fc.array(errorCause, {
  minLength: 1,
  maxLength: 3,
});

/** Any ASAP message. */
export function asapMessage(options: MessageArbitraryOptions = {}): fc.Arbitrary<AsapMessage> {
  const profile = options.profile ?? "rfc";
  const id = identifier(profile);
  const pe = poolElement(profile);
  const rsplib = options.rsplibExtensions === true;
  const handleAndId = <T extends string>(type: T) =>
    record({ type: fc.constant(type), poolHandle, poolElementId: id });
  return fc.oneof(
    record({ type: fc.constant("Registration" as const), poolHandle, poolElement: pe }),
    handleAndId("Deregistration"),
    record({
      type: fc.constant("RegistrationResponse" as const),
      reject: fc.boolean(),
      poolHandle,
      poolElementId: id,
      operationError,
    }, { requiredKeys: ["type", "reject", "poolHandle", "poolElementId"] }),
    record({
      type: fc.constant("DeregistrationResponse" as const),
      poolHandle,
      poolElementId: id,
      operationError,
    }, { requiredKeys: ["type", "poolHandle", "poolElementId"] }),
    record({ type: fc.constant("HandleResolution" as const), poolHandle, items: uint32 }, {
      requiredKeys: ["type", "poolHandle"],
    }),
    record({
      type: fc.constant("HandleResolutionResponse" as const),
      poolHandle,
      policy,
      poolElements: fc.array(pe, { maxLength: 4 }),
      operationError,
    }, { requiredKeys: ["type", "poolHandle", "poolElements"] }),
    record({
      type: fc.constant("EndpointKeepAlive" as const),
      home: fc.boolean(),
      registrarId: id,
      poolHandle,
      // RSPLIB appends the PE Identifier; only the lenient decoder accepts it.
      ...(rsplib ? { poolElementId: id } : {}),
    }, { requiredKeys: ["type", "home", "registrarId", "poolHandle"] }),
    handleAndId("EndpointKeepAliveAck"),
    handleAndId("EndpointUnreachable"),
    record({
      type: fc.constant("ServerAnnounce" as const),
      registrarId: id,
      transports: fc.array(transport, { maxLength: 3 }),
    }),
    record({ type: fc.constant("Cookie" as const), cookie: fc.uint8Array({ maxLength: 64 }) }),
    record({
      type: fc.constant("CookieEcho" as const),
      cookie: fc.uint8Array({ maxLength: 64 }),
    }),
    record({
      type: fc.constant("BusinessCard" as const),
      poolHandle,
      // RSPLIB's creator adds the policy; only the lenient decoder accepts it.
      ...(rsplib ? { policy } : {}),
      poolElements: fc.array(pe, { minLength: 1, maxLength: 3 }),
    }, { requiredKeys: ["type", "poolHandle", "poolElements"] }),
    record({ type: fc.constant("AsapError" as const), operationError }),
  );
}

/** Any ENRP message. */
export function enrpMessage(options: MessageArbitraryOptions = {}): fc.Arbitrary<EnrpMessage> {
  const profile = options.profile ?? "rfc";
  const id = identifier(profile);
  const pe = poolElement(profile);
  const header = { sendingRegistrarId: id, receivingRegistrarId: id };
  const checksum = profile === "nextgen" ? u32 : u16;
  const takeover = <T extends string>(type: T) =>
    record({ type: fc.constant(type), ...header, targetRegistrarId: id });
  return fc.oneof(
    record({
      type: fc.constant("Presence" as const),
      replyRequired: fc.boolean(),
      ...header,
      checksum,
      serverInformation: serverInformation(profile),
    }, {
      requiredKeys: [
        "type",
        "replyRequired",
        "sendingRegistrarId",
        "receivingRegistrarId",
        "checksum",
      ],
    }),
    record({
      type: fc.constant("HandleTableRequest" as const),
      ownChildrenOnly: fc.boolean(),
      ...header,
    }),
    record({
      type: fc.constant("HandleTableResponse" as const),
      reject: fc.boolean(),
      moreToSend: fc.boolean(),
      ...header,
      pools: fc.array(
        record({ poolHandle, poolElements: fc.array(pe, { minLength: 1, maxLength: 3 }) }),
        { maxLength: 3 },
      ),
    }),
    record({
      type: fc.constant("HandleUpdate" as const),
      takeoverSuggested: fc.boolean(),
      ...header,
      updateAction: fc.oneof(fc.constantFrom(0, 1), u16),
      poolHandle,
      poolElement: pe,
    }),
    record({ type: fc.constant("ListRequest" as const), ...header }),
    record({
      type: fc.constant("ListResponse" as const),
      reject: fc.boolean(),
      ...header,
      servers: fc.array(serverInformation(profile), { maxLength: 4 }),
    }),
    takeover("InitTakeover"),
    takeover("InitTakeoverAck"),
    takeover("TakeoverServer"),
    record({ type: fc.constant("EnrpError" as const), ...header, operationError }),
  );
}
