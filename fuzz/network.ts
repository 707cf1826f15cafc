/**
 * Network fuzzing for `deno task fuzz --network`: the conformance suite's
 * mutated bursts (conformance/network.ts), started from fast-check's
 * structure-aware messages as well as one sample of every type.
 *
 * @module
 */

import fc from "fast-check";
import {
  healthCheck,
  networkFuzz as bursts,
  type NetworkFuzzOptions,
  type NetworkFuzzStats,
} from "../conformance/network.ts";
import { sampleMessages } from "../conformance/samples.ts";
import { encodeMessage } from "../lib/protocol/codec.ts";
import type { RSerPoolMessage } from "../lib/protocol/types.ts";
import { asapMessage, enrpMessage } from "../lib/testing/arbitraries.ts";

export { healthCheck, type NetworkFuzzOptions, type NetworkFuzzStats };

/**
 * Mutated bursts from generated and sample messages (and the corpus, when
 * given), with a health check after each.
 */
export function networkFuzz(
  options: NetworkFuzzOptions & { readonly corpus?: readonly Uint8Array[] },
): Promise<NetworkFuzzStats> {
  const protocol = options.protocol ?? "asap";
  const profile = options.profile ?? "rfc";
  const generated: fc.Arbitrary<RSerPoolMessage> = protocol === "asap"
    ? asapMessage({ profile, rsplibExtensions: true })
    : enrpMessage({ profile });
  const valid = [
    ...sampleMessages(profile, protocol),
    ...fc.sample(generated, { numRuns: 300, seed: options.seed }),
  ].map((m) => encodeMessage(m, { profile }));
  valid.push(...(options.corpus ?? []).filter((m) => m.length > 0));
  return bursts({ ...options, valid: options.valid ?? valid });
}
