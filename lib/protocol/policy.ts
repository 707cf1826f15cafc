/**
 * Pool Member Selection Policy parameter (0x0008, RFC 5354 §3.8): the table
 * of known policies with their wire fields, and their codec.
 *
 * @module
 */

import { copyBytes } from "../wire/pool.ts";
import { EncodeError } from "../errors.ts";
import { ParameterType, PolicyTypeCode } from "./constants.ts";
import { type DecodeContext, fail, type Scanner, u16, u32 } from "./scanner.ts";
import type { PolicyName, PoolMemberSelectionPolicy } from "./types.ts";
import { checkBytes, checkUint, put16, put32, type Writer } from "./writer.ts";

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

// ---------------------------------------------------------------------------
// The codec. Each field layout has a number, and one switch per direction
// reads or writes its fields in line: decoded policies of one layout share
// one object shape, and no field is looked up by a computed name or written
// through a function value (a `Map` lookup, a keyed store per field or an
// indirect call each cost as much as the rest of the policy's encoding).

/** The field layouts of {@link POLICY_DEFINITIONS}. */
const Layout = {
  None: 0,
  Weight: 1,
  Priority: 2,
  Load: 3,
  LoadDegradation: 4,
  WeightDpfDistance: 5,
  LoadDpfDistance: 6,
  LoadDegradationDpfDistance: 7,
} as const;
type Layout = typeof Layout[keyof typeof Layout];

function layoutOf(fields: readonly PolicyField[]): Layout {
  switch (fields.join()) {
    case "":
      return Layout.None;
    case "weight":
      return Layout.Weight;
    case "priority":
      return Layout.Priority;
    case "load":
      return Layout.Load;
    case "load,loadDegradation":
      return Layout.LoadDegradation;
    case "weight,weightDpf,distance":
      return Layout.WeightDpfDistance;
    case "load,loadDpf,distance":
      return Layout.LoadDpfDistance;
    case "load,loadDegradation,loadDpf,distance":
      return Layout.LoadDegradationDpfDistance;
    default:
      throw new Error(`no layout for the policy fields ${fields.join()}`);
  }
}

/** A known policy with its wire layout. */
interface KnownPolicy {
  readonly name: PolicyName;
  readonly code: number;
  /** Value length: the policy type and the fields. */
  readonly valueLength: number;
  readonly layout: Layout;
}

const KNOWN: readonly KnownPolicy[] = POLICY_DEFINITIONS.map((def) => ({
  name: def.name,
  code: def.code,
  valueLength: 4 + 4 * def.fields.length,
  layout: layoutOf(def.fields),
}));

const KNOWN_BY_NAME: Readonly<Record<string, KnownPolicy>> = Object.assign(
  Object.create(null),
  Object.fromEntries(KNOWN.map((k) => [k.name, k])),
);
const KNOWN_BY_CODE: ReadonlyMap<number, KnownPolicy> = new Map(KNOWN.map((k) => [k.code, k]));
const ROUND_ROBIN = KNOWN_BY_NAME.RoundRobin;
const RANDOM = KNOWN_BY_NAME.Random;
const WEIGHTED_RANDOM = KNOWN_BY_NAME.WeightedRandom;
const LEAST_USED = KNOWN_BY_NAME.LeastUsed;

/**
 * The known policy of a wire code: the common ones by a switch (cheaper
 * than a `Map` lookup), the others from the map.
 */
function knownByCode(code: number): KnownPolicy | undefined {
  switch (code) {
    case PolicyTypeCode.RoundRobin:
      return ROUND_ROBIN;
    case PolicyTypeCode.Random:
      return RANDOM;
    case PolicyTypeCode.WeightedRandom:
      return WEIGHTED_RANDOM;
    case PolicyTypeCode.LeastUsed:
      return LEAST_USED;
    default:
      return KNOWN_BY_CODE.get(code);
  }
}

/** The known policy of a `type` name: the common ones by a switch, the others from a table. */
function knownByName(name: unknown): KnownPolicy | undefined {
  switch (name) {
    case "RoundRobin":
      return ROUND_ROBIN;
    case "Random":
      return RANDOM;
    case "WeightedRandom":
      return WEIGHTED_RANDOM;
    case "LeastUsed":
      return LEAST_USED;
    default:
      return typeof name === "string" ? KNOWN_BY_NAME[name] : undefined;
  }
}

/** Reads the fields of a known policy at `v` (after its policy type). */
function readFields(known: KnownPolicy, b: Uint8Array, v: number): PoolMemberSelectionPolicy {
  const type = known.name;
  let policy: object;
  switch (known.layout) {
    case Layout.None:
      policy = { type };
      break;
    case Layout.Weight:
      policy = { type, weight: u32(b, v) };
      break;
    case Layout.Priority:
      policy = { type, priority: u32(b, v) };
      break;
    case Layout.Load:
      policy = { type, load: u32(b, v) };
      break;
    case Layout.LoadDegradation:
      policy = { type, load: u32(b, v), loadDegradation: u32(b, v + 4) };
      break;
    case Layout.WeightDpfDistance:
      policy = { type, weight: u32(b, v), weightDpf: u32(b, v + 4), distance: u32(b, v + 8) };
      break;
    case Layout.LoadDpfDistance:
      policy = { type, load: u32(b, v), loadDpf: u32(b, v + 4), distance: u32(b, v + 8) };
      break;
    default:
      policy = {
        type,
        load: u32(b, v),
        loadDegradation: u32(b, v + 4),
        loadDpf: u32(b, v + 8),
        distance: u32(b, v + 12),
      };
  }
  return policy as PoolMemberSelectionPolicy;
}

/** Writes the fields of a known policy (room for them ensured), checking each. */
function writeFields(w: Writer, known: KnownPolicy, policy: Record<string, unknown>): void {
  switch (known.layout) {
    case Layout.None:
      return;
    case Layout.Weight:
      w.u32(checkUint(policy.weight, 32, "weight"));
      return;
    case Layout.Priority:
      w.u32(checkUint(policy.priority, 32, "priority"));
      return;
    case Layout.Load:
      w.u32(checkUint(policy.load, 32, "load"));
      return;
    case Layout.LoadDegradation:
      w.u32(checkUint(policy.load, 32, "load"));
      w.u32(checkUint(policy.loadDegradation, 32, "loadDegradation"));
      return;
    case Layout.WeightDpfDistance:
      w.u32(checkUint(policy.weight, 32, "weight"));
      w.u32(checkUint(policy.weightDpf, 32, "weightDpf"));
      w.u32(checkUint(policy.distance, 32, "distance"));
      return;
    case Layout.LoadDpfDistance:
      w.u32(checkUint(policy.load, 32, "load"));
      w.u32(checkUint(policy.loadDpf, 32, "loadDpf"));
      w.u32(checkUint(policy.distance, 32, "distance"));
      return;
    default:
      w.u32(checkUint(policy.load, 32, "load"));
      w.u32(checkUint(policy.loadDegradation, 32, "loadDegradation"));
      w.u32(checkUint(policy.loadDpf, 32, "loadDpf"));
      w.u32(checkUint(policy.distance, 32, "distance"));
  }
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
  const known = knownByCode(code);
  let policy: PoolMemberSelectionPolicy;
  if (known === undefined) {
    policy = { type: "Unknown", policyType: code, data: copyBytes(b, v + 4, v + valueLength) };
  } else {
    const need = known.valueLength;
    if (valueLength < need || (d.strict && valueLength !== need)) {
      fail(
        "bad-parameter-length",
        s.start + 2,
        `${known.name} policy has Length ${s.length}, expected ${need + 4}`,
      );
    }
    policy = readFields(known, b, v + 4);
  }
  s.advance();
  return policy;
}

/**
 * A Pool Member Selection Policy parameter at `p` of a known policy with
 * exactly its layout's length, decoded in one pass; `undefined` for anything
 * else (which {@link decodePolicy} then decodes, to the same result for
 * every parameter accepted here). The parameter's length is at `p + 2`.
 */
export function decodeCommonPolicy(
  b: Uint8Array,
  p: number,
  end: number,
): PoolMemberSelectionPolicy | undefined {
  if (p + 8 > end || u16(b, p) !== ParameterType.PoolMemberSelectionPolicy) return undefined;
  const known = knownByCode(u32(b, p + 4));
  if (known === undefined) return undefined;
  const length = u16(b, p + 2);
  if (length !== known.valueLength + 4 || p + length > end) return undefined;
  return readFields(known, b, p + 8);
}

/** Encodes a Pool Member Selection Policy parameter. */
export function encodePolicy(w: Writer, policy: PoolMemberSelectionPolicy): void {
  if (policy === null || typeof policy !== "object") {
    throw new EncodeError("bad-value", "", "expected a policy object");
  }
  // The common policies in line (no table lookup, no writer calls), the others by their layout.
  let code: number;
  let value = -1;
  switch (policy.type) {
    case "RoundRobin":
      code = PolicyTypeCode.RoundRobin;
      break;
    case "LeastUsed":
      code = PolicyTypeCode.LeastUsed;
      value = checkUint(policy.load, 32, "load");
      break;
    case "Random":
      code = PolicyTypeCode.Random;
      break;
    case "WeightedRandom":
      code = PolicyTypeCode.WeightedRandom;
      value = checkUint(policy.weight, 32, "weight");
      break;
    default: {
      const start = w.beginTlv(ParameterType.PoolMemberSelectionPolicy);
      encodeOtherPolicy(w, policy);
      w.endTlv(start);
      return;
    }
  }
  const size = value === -1 ? 8 : 12;
  const start = w.pos;
  if (start + size > w.limit) w.room(size);
  const b = w.buf;
  put16(b, start, ParameterType.PoolMemberSelectionPolicy);
  put16(b, start + 2, size);
  put32(b, start + 4, code);
  if (value !== -1) put32(b, start + 8, value);
  w.pos = start + size;
}

/** Writes the value of a policy other than the common ones of {@link encodePolicy}. */
function encodeOtherPolicy(w: Writer, policy: PoolMemberSelectionPolicy): void {
  if (policy.type === "Unknown") {
    const code = checkUint(policy.policyType, 32, "policyType");
    const data = checkBytes(policy.data, "data");
    w.room(4);
    w.u32(code);
    w.bytes(data);
    return;
  }
  const known = knownByName(policy.type);
  if (known === undefined) {
    throw new EncodeError("bad-value", "type", `unknown policy ${String(policy.type)}`);
  }
  w.room(known.valueLength);
  w.u32(known.code);
  writeFields(w, known, policy as unknown as Record<string, unknown>);
}
