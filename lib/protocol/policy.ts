/**
 * Pool Member Selection Policy parameter (0x0008, RFC 5354 §3.8): the table
 * of known policies with their wire fields, and their codec.
 *
 * @module
 */

import { copyBytes } from "../wire/pool.ts";
import { EncodeError } from "../errors.ts";
import { ParameterType, PolicyTypeCode } from "./constants.ts";
import { type DecodeContext, fail, type Scanner, u32 } from "./scanner.ts";
import type { PolicyName, PoolMemberSelectionPolicy } from "./types.ts";
import { checkBytes, checkUint, type Writer } from "./writer.ts";

/** A policy field name, in wire order inside the parameter. */
export type PolicyField =
  | "weight"
  | "priority"
  | "load"
  | "loadDegradation"
  | "loadDpf"
  | "weightDpf"
  | "distance";

/** One known policy: its name, code and 32-bit fields in wire order. */
export interface PolicyDefinition {
  /** Name used as the `type` discriminant. */
  readonly name: PolicyName;
  /** 32-bit policy type code. */
  readonly code: number;
  /** Fields after the policy type, in wire order. */
  readonly fields: readonly PolicyField[];
}

const LD: readonly PolicyField[] = ["load", "loadDegradation"];
const LDD: readonly PolicyField[] = ["load", "loadDegradation", "loadDpf", "distance"];

/**
 * Every policy this library encodes and decodes. Layouts follow RSPLIB
 * 3.4.4's creator and parser; RSPLIB defines codes but no layout for
 * PriorityLeastUsedDPF and PriorityLeastUsedDegradationDPF, for which this
 * library uses the LeastUsedDegradationDPF layout (`docs/wire.md`).
 */
export const POLICY_DEFINITIONS: readonly PolicyDefinition[] = [
  { name: "RoundRobin", code: PolicyTypeCode.RoundRobin, fields: [] },
  { name: "WeightedRoundRobin", code: PolicyTypeCode.WeightedRoundRobin, fields: ["weight"] },
  { name: "Random", code: PolicyTypeCode.Random, fields: [] },
  { name: "WeightedRandom", code: PolicyTypeCode.WeightedRandom, fields: ["weight"] },
  { name: "Priority", code: PolicyTypeCode.Priority, fields: ["priority"] },
  { name: "LeastUsed", code: PolicyTypeCode.LeastUsed, fields: ["load"] },
  { name: "LeastUsedDegradation", code: PolicyTypeCode.LeastUsedDegradation, fields: LD },
  { name: "PriorityLeastUsed", code: PolicyTypeCode.PriorityLeastUsed, fields: LD },
  { name: "RandomizedLeastUsed", code: PolicyTypeCode.RandomizedLeastUsed, fields: ["load"] },
  {
    name: "RandomizedPriorityLeastUsed",
    code: PolicyTypeCode.RandomizedPriorityLeastUsed,
    fields: LD,
  },
  {
    name: "RandomizedLeastUsedDegradation",
    code: PolicyTypeCode.RandomizedLeastUsedDegradation,
    fields: LD,
  },
  {
    name: "PriorityLeastUsedDegradation",
    code: PolicyTypeCode.PriorityLeastUsedDegradation,
    fields: LD,
  },
  {
    name: "RandomizedPriorityLeastUsedDegradation",
    code: PolicyTypeCode.RandomizedPriorityLeastUsedDegradation,
    fields: LD,
  },
  {
    name: "WeightedRandomDPF",
    code: PolicyTypeCode.WeightedRandomDPF,
    fields: ["weight", "weightDpf", "distance"],
  },
  {
    name: "LeastUsedDPF",
    code: PolicyTypeCode.LeastUsedDPF,
    fields: ["load", "loadDpf", "distance"],
  },
  { name: "LeastUsedDegradationDPF", code: PolicyTypeCode.LeastUsedDegradationDPF, fields: LDD },
  { name: "PriorityLeastUsedDPF", code: PolicyTypeCode.PriorityLeastUsedDPF, fields: LDD },
  {
    name: "PriorityLeastUsedDegradationDPF",
    code: PolicyTypeCode.PriorityLeastUsedDegradationDPF,
    fields: LDD,
  },
];

const BY_CODE = new Map<number, PolicyDefinition>(
  POLICY_DEFINITIONS.map((d) => [d.code, d]),
);
const BY_NAME = new Map<string, PolicyDefinition>(
  POLICY_DEFINITIONS.map((d) => [d.name, d]),
);

/** The definition of a known policy by name or code. */
export function policyDefinition(nameOrCode: string | number): PolicyDefinition | undefined {
  return typeof nameOrCode === "number" ? BY_CODE.get(nameOrCode) : BY_NAME.get(nameOrCode);
}

/** The 32-bit policy type code of a policy value. */
export function policyTypeCode(policy: PoolMemberSelectionPolicy): number {
  if (policy.type === "Unknown") return policy.policyType;
  return BY_NAME.get(policy.type)!.code;
}

/** Decodes the peeked Pool Member Selection Policy parameter and advances past it. */
export function decodePolicy(d: DecodeContext, s: Scanner): PoolMemberSelectionPolicy {
  const b = d.b;
  const v = s.value;
  const valueLength = s.length - 4;
  if (valueLength < 4) {
    fail("bad-parameter-length", s.start + 2, "policy parameter shorter than its policy type");
  }
  const code = u32(b, v);
  const def = BY_CODE.get(code);
  let policy: PoolMemberSelectionPolicy;
  if (def === undefined) {
    policy = { type: "Unknown", policyType: code, data: copyBytes(b, v + 4, v + valueLength) };
  } else {
    const need = 4 + 4 * def.fields.length;
    if (valueLength < need || (d.strict && valueLength !== need)) {
      fail(
        "bad-parameter-length",
        s.start + 2,
        `${def.name} policy has Length ${s.length}, expected ${need + 4}`,
      );
    }
    const out: Record<string, unknown> = { type: def.name };
    const fields = def.fields;
    for (let i = 0; i < fields.length; i++) out[fields[i]] = u32(b, v + 4 + 4 * i);
    policy = out as unknown as PoolMemberSelectionPolicy;
  }
  s.advance();
  return policy;
}

/** Encodes a Pool Member Selection Policy parameter. */
export function encodePolicy(w: Writer, policy: PoolMemberSelectionPolicy): void {
  if (policy === null || typeof policy !== "object") {
    throw new EncodeError("bad-value", "", "expected a policy object");
  }
  const start = w.beginTlv(ParameterType.PoolMemberSelectionPolicy);
  if (policy.type === "Unknown") {
    const code = checkUint(policy.policyType, 32, "policyType");
    const data = checkBytes(policy.data, "data");
    w.room(4);
    w.u32(code);
    w.bytes(data);
  } else {
    const def = BY_NAME.get(policy.type);
    if (def === undefined) {
      throw new EncodeError("bad-value", "type", `unknown policy ${String(policy.type)}`);
    }
    const fields = def.fields;
    w.room(4 + 4 * fields.length);
    w.u32(def.code);
    const values = policy as unknown as Record<string, unknown>;
    for (let i = 0; i < fields.length; i++) w.u32(checkUint(values[fields[i]], 32, fields[i]));
  }
  w.endTlv(start);
}
