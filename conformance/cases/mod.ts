/**
 * Every conformance case, in the order the runner takes them.
 *
 * @module
 */

import type { ConformanceCase } from "../types.ts";
import { ELEMENT_CASES } from "./element.ts";
import { REGISTRAR_ASAP_CASES } from "./registrar_asap.ts";
import { REGISTRAR_ENRP_CASES } from "./registrar_enrp.ts";
import { ROBUSTNESS_CASES } from "./robustness.ts";
import { USER_CASES } from "./user.ts";

/** All cases. */
export const ALL_CASES: readonly ConformanceCase[] = [
  ...REGISTRAR_ASAP_CASES,
  ...REGISTRAR_ENRP_CASES,
  ...ELEMENT_CASES,
  ...USER_CASES,
  ...ROBUSTNESS_CASES,
];
