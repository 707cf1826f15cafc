/**
 * Every conformance case, in the order the runner takes them.
 *
 * @module
 */

import type { ConformanceCase } from "../types.ts";
import { ELEMENT_CASES } from "./element.ts";
import { REGISTRAR_ASAP_CASES } from "./registrar_asap.ts";
import { REGISTRAR_ASAP_DETAIL_CASES } from "./registrar_asap_details.ts";
import { REGISTRAR_ENRP_CASES } from "./registrar_enrp.ts";
import { ASAP_ERROR_CASES, ENRP_ERROR_CASES } from "./registrar_errors.ts";
import { REGISTRAR_KEEPALIVE_CASES } from "./registrar_keepalive.ts";
import { REGISTRAR_MULTICAST_CASES } from "./registrar_multicast.ts";
import { REGISTRAR_PEER_CASES } from "./registrar_peers.ts";
import { REGISTRAR_POLICY_CASES } from "./registrar_policy.ts";
import { REGISTRAR_POLICY_CHANGE_CASES } from "./registrar_policy_changes.ts";
import { REGISTRAR_TAKEOVER_CASES } from "./registrar_takeover.ts";
import { ROBUSTNESS_CASES } from "./robustness.ts";
import { USER_CASES } from "./user.ts";

/** All cases. */
export const ALL_CASES: readonly ConformanceCase[] = [
  ...REGISTRAR_ASAP_CASES,
  ...REGISTRAR_ASAP_DETAIL_CASES,
  ...REGISTRAR_KEEPALIVE_CASES,
  ...REGISTRAR_POLICY_CASES,
  ...REGISTRAR_POLICY_CHANGE_CASES,
  ...ASAP_ERROR_CASES,
  ...REGISTRAR_ENRP_CASES,
  ...REGISTRAR_PEER_CASES,
  ...REGISTRAR_TAKEOVER_CASES,
  ...REGISTRAR_MULTICAST_CASES,
  ...ENRP_ERROR_CASES,
  ...ELEMENT_CASES,
  ...USER_CASES,
  ...ROBUSTNESS_CASES,
];
