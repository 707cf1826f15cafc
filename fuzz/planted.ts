/**
 * Bugs planted in a test-only copy of the decoders, one kind each: exact
 * 8-, 16-, 32- and 64-bit values, byte strings of 8 and 16 bytes, a
 * relation between two fields, and a value deep in nested parameters.
 * `deno task fuzz:planted` fuzzes each copy and reports how long the engine
 * took to find the bug (within 60 s on one core, the goal), with feedback
 * and, with `--blind`, without it for comparison.
 *
 * The copies live in `fuzz/.instrumented/` (see `instrumented_tree.ts`);
 * the sources are never changed.
 *
 * @module
 */

import type { Patch } from "./instrumented_tree.ts";

/** A planted bug. */
export interface PlantedBug {
  /** Its name; the planted code throws `Error("planted: NAME")`. */
  readonly name: string;
  /** What kind of condition guards it. */
  readonly kind: string;
  /** The fuzz target that should find it. */
  readonly target: string;
  /** The change to the copy. */
  readonly patch: Patch;
}

const PARAMETERS = "lib/protocol/parameters.ts";
const crash = (name: string) => `throw new Error("planted: ${name}");`;

/** Every planted bug. */
export const PLANTED: readonly PlantedBug[] = [
  {
    name: "u8-transport-use",
    kind: "an 8-bit field equal to a constant (low byte of a Transport Use)",
    target: "asap-message",
    patch: {
      file: PARAMETERS,
      after: "  const port = u16(b, v);",
      insert: `  if (type !== ParameterType.UdpTransport && b[v + 3] === 0xc3) ${
        crash("u8-transport-use")
      }`,
    },
  },
  {
    name: "u16-port",
    kind: "a 16-bit port equal to a constant",
    target: "asap-message",
    patch: {
      file: PARAMETERS,
      after: "  const port = u16(b, v);",
      insert: `  if (port === 47806) ${crash("u16-port")}`,
    },
  },
  {
    name: "u32-registration-life",
    kind: "a 32-bit field equal to a constant",
    target: "asap-message",
    patch: {
      file: PARAMETERS,
      after: "  const registrationLife = u32(d.b, v + 2 * idSize);",
      insert: `  if (registrationLife === 0x5eed1e55) ${crash("u32-registration-life")}`,
    },
  },
  {
    name: "u64-identifier",
    kind: "a 64-bit identifier equal to a constant (next-generation profile)",
    target: "asap-message-nextgen",
    patch: {
      file: PARAMETERS,
      after: "  const identifier = d.id(v);",
      insert: `  if (identifier === 0x0123456789abcdefn) ${crash("u64-identifier")}`,
    },
  },
  {
    name: "bytes8-pool-handle",
    kind: "a pool handle equal to an 8-byte string",
    target: "asap-message",
    patch: {
      file: PARAMETERS,
      after: "  const handle = copyBytes(d.b, s.value, s.value + length);",
      insert: `  if (new TextDecoder().decode(handle) === "Xq7#pool") ${
        crash("bytes8-pool-handle")
      }`,
    },
  },
  {
    name: "bytes16-cookie",
    kind: "a cookie equal to a 16-byte string",
    target: "asap-message",
    patch: {
      file: PARAMETERS,
      after: "  const cookie = copyBytes(d.b, s.value, s.start + s.length);",
      insert: `  if (new TextDecoder().decode(cookie) === "RSerPool-cookie!") ${
        crash("bytes16-cookie")
      }`,
    },
  },
  {
    name: "relation-life-home",
    kind: "a relation between two fields (registration life = home registrar + 7)",
    target: "asap-message",
    patch: {
      file: PARAMETERS,
      after: "  const registrationLife = u32(d.b, v + 2 * idSize);",
      insert: `  if (homeRegistrarId !== 0 && registrationLife === Number(homeRegistrarId) + 7) ${
        crash("relation-life-home")
      }`,
    },
  },
  {
    name: "nested-third-address",
    kind:
      "deep nesting: the third IPv4 address 10.9.8.7 of an SCTP transport of a Pool Element in an ENRP message",
    target: "enrp-message",
    patch: {
      file: PARAMETERS,
      // In the one-pass decoding of a Pool Element's transport (commonTransport), which every
      // well-formed element takes; `count` is the number of addresses before this one.
      after: "      text = formatIPv4(b, a + 4);",
      insert: `      if (
        type === ParameterType.SctpTransport && count === 2 && u32(b, a + 4) === 0x0a090807
      ) ${crash("nested-third-address")}`,
    },
  },
];
