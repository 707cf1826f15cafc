/**
 * A StrykerJS ignorer ("conformance-wire"): code whose mutants no
 * conformance case run against the built-in targets (conformance/builtin.ts,
 * profile rfc) can tell apart from the original. That is code without effect
 * on the wire, and code of options the built-in run does not enable, where
 * enabling them is no conformance requirement (unit tests cover them).
 * Stryker marks every mutant inside a matched node Ignored, with the rule's
 * reason as its status reason (the summary counts ignored mutants by reason).
 *
 * How Stryker 10.1 applies it (@stryker-mutator/instrumenter,
 * transformers/babel-transformer.js and ignorer-bookkeeper.js): walking the
 * AST, it asks `shouldIgnore(path)` of every node not inside an ignored one;
 * a matched node is ignored with everything in it, the mutants on the node
 * itself included. Each mutant sits on the node it replaces: an
 * if-statement's test carries the ConditionalExpression mutants (`true`,
 * `false`) and the operator mutants of its operators, its block the
 * BlockStatement mutant (`{}`), `a ?? b` the LogicalOperator mutant
 * (`a && b`) with `a` and `b` inside. So a rule can ignore a branch and keep
 * its condition, never a node without its children.
 *
 * What the option rules ignore: the code that runs only when the option is
 * on. A plain guard `if (option !== undefined) { … }` goes with its block:
 * its test's mutants either drop the feature (invisible while the option is
 * unset) or use the unset option (a crash, or a no-op for the rate limits),
 * which tells nothing about the suite. A condition that also decides
 * behaviour of the built-in run stays mutated: `this.uniqueConnection && …`
 * (forcing it true refuses re-registrations), `s.nextgen ? … : …`,
 * `only !== undefined && …` (forcing it true sends no Handle Updates).
 *
 * To add a rule: append { name, reason, files?, match?(path), inside?(path) }
 * to RULES. `files` (optional) is a regular expression on the file's path
 * relative to the project root. `match` gets Babel's NodePath of each node
 * Stryker reaches and says whether to ignore it. `inside` gets the same and
 * returns nodes within it to ignore when Stryker reaches them: a rule that
 * decides by an `if`'s test whether to ignore its consequent must use it,
 * because Stryker replaces the test with its instrumented form (mutant
 * switches) as it leaves it, before it walks the consequent; when Stryker
 * enters a node, nothing inside it is instrumented yet. Match by code shape
 * and names, never by line numbers. ignorers_test.ts lists what each rule
 * matches in the real sources: update it with the rules.
 */

import { relative } from "node:path";
import process from "node:process";
import { declareValuePlugin, PluginKind } from "@stryker-mutator/api/plugin";

// ---------------------------------------------------------------------------
// Shapes

/** The name of a non-computed member, object property or class member key. */
function keyName(node) {
  if (node == null || node.computed) return undefined;
  const key = node.property ?? node.key;
  if (key?.type === "Identifier") return key.name;
  if (key?.type === "StringLiteral") return key.value;
  return undefined;
}

function isMember(node) {
  return node?.type === "MemberExpression" ||
    node?.type === "OptionalMemberExpression";
}

/** `<anything>.name` (or `?.name`). */
function isMemberNamed(node, name) {
  return isMember(node) && keyName(node) === name;
}

/** `<anything>.options.NAME` → NAME. */
function optionMember(node) {
  if (!isMember(node) || !isMemberNamed(node.object, "options")) {
    return undefined;
  }
  return keyName(node);
}

/** The option an expression reads: `….options.NAME`, or a constant initialised with it. */
function optionRead(path) {
  const direct = optionMember(path.node);
  if (direct !== undefined) return direct;
  if (!path.isIdentifier()) return undefined;
  const binding = path.scope.getBinding(path.node.name);
  if (
    binding === undefined || !binding.constant ||
    !binding.path.isVariableDeclarator()
  ) {
    return undefined;
  }
  return optionMember(binding.path.node.init);
}

/** For `x !== undefined` (or `undefined !== x`, `!=`): the path of `x`. */
function definedOperand(path) {
  if (!path.isBinaryExpression()) return undefined;
  const { operator, left, right } = path.node;
  if (operator !== "!==" && operator !== "!=") return undefined;
  const isUndefined = (n) => n.type === "Identifier" && n.name === "undefined";
  if (isUndefined(right)) return path.get("left");
  if (isUndefined(left)) return path.get("right");
  return undefined;
}

/** `if (x !== undefined) { … }` where `x` reads one of the options `names`. */
function isOptionGuard(path, names) {
  if (!path.isIfStatement()) return false;
  const operand = definedOperand(path.get("test"));
  return operand !== undefined && names.includes(optionRead(operand));
}

/** The first operand of an `&&` chain (the expression itself when it is none). */
function firstOfAnd(path) {
  while (path.isLogicalExpression({ operator: "&&" })) path = path.get("left");
  return path;
}

/**
 * The code within `path` that runs only when `condition` holds: of an `if` or
 * `?:` whose test is the condition or an `&&` chain starting with it, the
 * consequent; of such an `&&` chain, the later operands. Never the condition.
 */
function guardedBy(path, condition) {
  const out = [];
  if (
    (path.isIfStatement() || path.isConditionalExpression()) &&
    condition(firstOfAnd(path.get("test")))
  ) {
    out.push(path.node.consequent);
  }
  if (
    path.isLogicalExpression({ operator: "&&" }) && condition(firstOfAnd(path))
  ) {
    for (
      let p = path;
      p.isLogicalExpression({ operator: "&&" });
      p = p.get("left")
    ) {
      out.push(p.node.right);
    }
  }
  return out;
}

/** A method or accessor (`kind`: "method", "get", "set") named in `members[kind]` of class `className`. */
function isClassMember(path, className, members) {
  if (!path.isClassMethod()) return false;
  const names = Object.hasOwn(members, path.node.kind) ? members[path.node.kind] : [];
  if (!names.includes(keyName(path.node))) return false;
  const cls = path.parentPath?.parentPath;
  return cls != null && (cls.isClassDeclaration() || cls.isClassExpression()) &&
    cls.node.id?.name === className;
}

function isClassNamed(path, name) {
  return path.isClassDeclaration() && path.node.id?.name === name;
}

/**
 * A module-level function declaration, not exported, every use of which is
 * inside code `inside` matches (so it runs only when that code does).
 */
function isOnlyUsedInside(path, inside) {
  if (!path.isFunctionDeclaration() || path.node.id == null) return false;
  if (!path.parentPath.isProgram()) return false;
  const binding = path.parentPath.scope.getBinding(path.node.id.name);
  if (binding === undefined || binding.referencePaths.length === 0) {
    return false;
  }
  return binding.referencePaths.every((ref) => ref.findParent(inside) !== null);
}

/** `<anything>.name = …` or `name = …`, `name += …` (an assignment, or its statement). */
function isAssignmentTo(path, name) {
  const node = path.isExpressionStatement() ? path.node.expression : path.node;
  if (node?.type !== "AssignmentExpression") return false;
  return node.left.type === "Identifier" ? node.left.name === name : isMemberNamed(node.left, name);
}

/** A loop whose body does nothing but assign to `name` (it computes `name` alone). */
function isLoopComputingOnly(path, name) {
  if (!path.isForStatement() && !path.isWhileStatement()) return false;
  const body = path.get("body");
  const statements = body.isBlockStatement() ? body.get("body") : [body];
  return statements.length > 0 &&
    statements.every((s) => isAssignmentTo(s, name));
}

// ---------------------------------------------------------------------------
// Option-dependent shapes

/** A test true in the nextgen profile only: `….nextgen`, or `typeof x === "bigint"` (64-bit identifiers). */
function isNextgenTest(path) {
  const node = path.node;
  if (isMemberNamed(node, "nextgen")) return true;
  if (
    !path.isBinaryExpression() ||
    (node.operator !== "===" && node.operator !== "==")
  ) {
    return false;
  }
  const typeofBigint = (a, b) =>
    a.type === "UnaryExpression" && a.operator === "typeof" &&
    b.type === "StringLiteral" && b.value === "bigint";
  return typeofBigint(node.left, node.right) ||
    typeofBigint(node.right, node.left);
}

/** The statement `<anything>.NAME.add(…);` or `<anything>.NAME.subtract(…);` (a checksum accumulator's update). */
function isAccumulatorUpdate(path, name) {
  if (!path.isExpressionStatement()) return false;
  const call = path.node.expression;
  return call.type === "CallExpression" &&
    (isMemberNamed(call.callee, "add") || isMemberNamed(call.callee, "subtract")) &&
    isMemberNamed(call.callee.object, name);
}

/**
 * Internet-32 checksum terms (the nextgen profile's checksum), kept for every
 * element but read only through `checksum(…, "internet32")`: the element's
 * term, the loop summing the pool handle's 32-bit words and the accumulator's
 * updates.
 */
function isInternet32Term(path) {
  return isAssignmentTo(path, "checksumTerm32") ||
    isLoopComputingOnly(path, "sum32") || isAccumulatorUpdate(path, "internet32");
}

/**
 * RSPLIB checksum terms (option `checksum: "rsplib16"`), kept for every
 * element but read only through `checksum(…, "rsplib16")`: the element's term,
 * the pool handle's little-endian sum and the helpers only they use.
 */
function isRsplibTerm(path) {
  return isAssignmentTo(path, "rsplibTerm") || isAssignmentTo(path, "sumLE") ||
    isAccumulatorUpdate(path, "rsplib16");
}

/**
 * A string or template literal given as the code (first) or the message
 * (third argument) of `new ProtocolError(…)`: the registrar puts only the
 * cause and its information (second and fourth) on the wire.
 */
function isProtocolErrorText(path) {
  if (!path.isStringLiteral() && !path.isTemplateLiteral()) return false;
  const parent = path.parentPath;
  if (
    !parent?.isNewExpression() ||
    !parent.get("callee").isIdentifier({ name: "ProtocolError" })
  ) {
    return false;
  }
  const at = parent.node.arguments.indexOf(path.node);
  return at === 0 || at === 2;
}

/** `only !== undefined` on the parameter `only` of `announceUpdate` (set only to suggest a takeover). */
function isSuggestionTarget(path) {
  const operand = definedOperand(path);
  if (operand === undefined || !operand.isIdentifier({ name: "only" })) {
    return false;
  }
  const binding = operand.scope.getBinding("only");
  return binding?.kind === "param" &&
    binding.scope.path.node.id?.name === "announceUpdate";
}

/**
 * Timers the built-in run gives explicitly (conformance/builtin.ts, passed
 * through lib/runtime/{registrar,element,user}.ts unchanged), by the constant
 * holding their defaults. `true`: the constant is never read by the built-in
 * run. Fields not listed keep their default there: RFC_ELEMENT_TIMERS'
 * deregistrationTimeout and announceTimeout, RFC_USER_TIMERS' announceTimeout.
 * ignorers_test.ts checks the lists against builtin.ts.
 */
export const TIMERS_GIVEN = Object.freeze({
  RFC_REGISTRAR_TIMERS: Object.freeze([
    "serverAnnounceCycle",
    "keepAliveInterval",
    "keepAliveTimeout",
    "peerHeartbeatCycle",
    "maxTimeLastHeard",
    "maxTimeNoResponse",
    "mentorHuntTimeout",
    "takeoverExpiry",
  ]),
  RSPLIB_REGISTRAR_TIMERS: true,
  RFC_ELEMENT_TIMERS: Object.freeze([
    "registrationTimeout",
    "connectTimeout",
    "huntRetry",
  ]),
  RFC_USER_TIMERS: Object.freeze([
    "requestTimeout",
    "staleCache",
    "connectTimeout",
    "huntRetry",
  ]),
});

/** For the object literal of `const NAME = Object.freeze({…})` (or `= {…}`): NAME. */
function constantOfObject(path) {
  if (!path.isObjectExpression()) return undefined;
  let holder = path.parentPath;
  if (holder.isCallExpression() && holder.node.arguments[0] === path.node) {
    holder = holder.parentPath;
  }
  if (!holder.isVariableDeclarator() || holder.node.id.type !== "Identifier") {
    return undefined;
  }
  return holder.node.id.name;
}

/** A default timer the built-in run overrides: the whole object when it overrides them all. */
function isOverriddenTimerDefault(path) {
  const given = (object) => TIMERS_GIVEN[constantOfObject(object)];
  if (path.isObjectExpression()) {
    const names = given(path);
    return names === true ||
      (Array.isArray(names) && path.node.properties.length > 0 &&
        path.node.properties.every((p) =>
          p.type === "ObjectProperty" && names.includes(keyName(p))
        ));
  }
  if (path.isObjectProperty() && path.parentPath.isObjectExpression()) {
    const names = given(path.parentPath);
    return Array.isArray(names) && names.includes(keyName(path.node));
  }
  return false;
}

// ---------------------------------------------------------------------------
// Rules

/** A call `<anything>.emit(...)` (or `?.emit(...)`), as a node. */
function isEmitCallNode(node) {
  if (
    node?.type !== "CallExpression" && node?.type !== "OptionalCallExpression"
  ) return false;
  const callee = node.callee;
  return (callee.type === "MemberExpression" ||
    callee.type === "OptionalMemberExpression") &&
    !callee.computed && callee.property.type === "Identifier" &&
    callee.property.name === "emit";
}

/**
 * An emit call, or the statement that is one (Stryker's statement mutators,
 * e.g. `s.emit({...});` → `;`, place their mutant on the statement).
 */
function isEmitCall(path) {
  return isEmitCallNode(path.node) ||
    (path.isExpressionStatement() && isEmitCallNode(path.node.expression));
}

export const RULES = [
  {
    name: "registrar-event",
    reason: "registrar application event (emit): only logs and counters " +
      "(lib/runtime/registrar.ts), nothing on the wire",
    // Not lib/element or lib/user: their runtimes act on the events (cookie-echo,
    // business-card, session-up, resolved, registered...), which shows on the wire.
    files: /^lib\/registrar\//,
    match: isEmitCall,
  },
  {
    name: "operator-api",
    reason: "operator API (Registrar status, evict and its id, timers, handlespace getters; " +
      "Handlespace policies, owners, allPools, size, poolCount): read by status endpoints, " +
      "logs and tests, never on a protocol path; tested in lib/registrar/model_test.ts, " +
      "lib/runtime/runtime_test.ts and lib/handlespace/handlespace_test.ts (evict and " +
      "policies by none)",
    // Not ownedBy / ownedCount / find / checksum: Presences, takeovers and
    // resynchronisation use them.
    files: /^lib\/(registrar\/registrar|handlespace\/handlespace)\.ts$/,
    match: (path) =>
      isClassMember(path, "Registrar", {
        method: ["status", "evict"],
        get: ["id", "timers", "handlespace"],
      }) ||
      isClassMember(path, "Handlespace", {
        method: ["policies", "owners", "allPools"],
        get: ["size", "poolCount"],
      }),
  },
  {
    name: "http-api",
    reason: "registrations and resolutions on behalf of programs without ASAP (the registrar's " +
      "HTTP API, lib/runtime/api.ts): no conformance case speaks HTTP; tested in " +
      "lib/runtime/api_test.ts",
    files: /^lib\/registrar\/(asap|registrar)\.ts$/,
    match: (path) =>
      (path.isFunctionDeclaration() &&
        ["registerOnBehalf", "deregisterOnBehalf"].includes(path.node.id?.name)) ||
      isClassMember(path, "Registrar", {
        method: ["registerOnBehalf", "deregisterOnBehalf", "resolve"],
      }),
  },
  {
    name: "distance-measurement",
    reason: "option distanceStep (distances for the DPF policies measured as RSPLIB does, " +
      "lib/registrar/distance.ts) and the round-trip samples it reads, unset in the built-in " +
      "run; tested in lib/registrar/distance_test.ts (simulated links with delays)",
    files: /^lib\/registrar\/(distance|asap|enrp)\.ts$/,
    match: (path) =>
      (fileOf(path) === "lib/registrar/distance.ts" && path.isFunctionDeclaration()) ||
      isAssignmentTo(path, "keepAliveSentAt") || isAssignmentTo(path, "presenceSentAt") ||
      (path.isIfStatement() &&
        (path.get("test").isIdentifier({ name: "measuring" }) ||
          /\b(keepAliveSentAt|presenceSentAt)\b/.test(path.get("test").toString()))),
  },
  {
    name: "authorization-hook",
    reason: "option authorize (registration authorization, RFC 5355), which the built-in " +
      "run does not set; tested in lib/registrar/registrar_test.ts and " +
      "lib/runtime/authorize_test.ts",
    files: /^lib\/registrar\/asap\.ts$/,
    match: (path) => isOptionGuard(path, ["authorize"]),
  },
  {
    name: "rate-limits",
    reason: "options maxHandleResolutionRate and maxEndpointUnreachableRate (RSPLIB's " +
      "-maxhrrate, -maxeurate) and their token bucket RateLimit, unset in the built-in run; " +
      "tested in lib/registrar/registrar_test.ts",
    files: /^lib\/registrar\/(asap|state)\.ts$/,
    match: (path) =>
      isClassNamed(path, "RateLimit") ||
      isOptionGuard(path, [
        "maxHandleResolutionRate",
        "maxEndpointUnreachableRate",
      ]),
  },
  {
    name: "takeover-suggestion-sender",
    reason: "option suggestTakeover (sending Takeover Suggestions, " +
      "draft-dreibholz-rserpool-enrp-takeover), unset in the built-in run; tested in " +
      "lib/registrar/registrar_test.ts",
    // Kept: `only !== undefined` itself (forced true, no Handle Update is sent) and
    // `only?.takeoverSuggested ?? false` (its `false` is every Handle Update's T flag).
    files: /^lib\/registrar\/asap\.ts$/,
    match: (path) => isOptionGuard(path, ["suggestTakeover"]),
    inside: (path) => guardedBy(path, isSuggestionTarget),
  },
  {
    name: "unique-connection",
    reason: "handlespace option uniqueConnection (refuse re-registration over another " +
      "connection, RFC 5355 §2.3), off in the built-in run as in RSPLIB; tested in " +
      "lib/handlespace/handlespace_test.ts",
    // Kept: `this.uniqueConnection` and the `&&`s on it (forced true they refuse
    // re-registrations in the built-in run).
    files: /^lib\/handlespace\/handlespace\.ts$/,
    inside: (path) => guardedBy(path, (test) => isMemberNamed(test.node, "uniqueConnection")),
  },
  {
    name: "nextgen-profile",
    reason: "nextgen wire profile (64-bit identifiers, Internet-32 checksums): the mutation " +
      "run drives the built-in targets in profile rfc only; tested in " +
      "lib/registrar/registrar_test.ts, lib/handlespace/handlespace_test.ts, " +
      "lib/protocol/nextgen_test.ts and the nextgen run of conformance/conformance_test.ts",
    // The nextgen side only: tests such as `s.nextgen` stay mutated (forced true, the rfc
    // profile would change).
    files: /^lib\/(registrar|handlespace|policy|element|user)\//,
    match: isInternet32Term,
    inside: (path) => guardedBy(path, isNextgenTest),
  },
  {
    name: "rsplib-checksum",
    reason: 'registrar option checksum: "rsplib16" (RSPLIB\'s Internet-16 arithmetic, for ' +
      "interop): its terms are kept for every element but read only with that option, " +
      "unset in the built-in run; tested in lib/handlespace/handlespace_test.ts and " +
      "lib/handlespace/model_test.ts",
    // Not `this.options.checksum ?? "internet16"` (lib/registrar/state.ts): Stryker cannot
    // ignore its `&&` mutant without the "internet16" default inside it.
    files: /^lib\/handlespace\/(handlespace|pool)\.ts$/,
    match: (path) => isRsplibTerm(path) || isOnlyUsedInside(path, isRsplibTerm),
  },
  {
    name: "protocol-error-text",
    reason: "the code and message of a ProtocolError (new ProtocolError(code, cause, message, " +
      "info)): only events and logs show them (lib/registrar/asap.ts refuse(), enrp.ts); the " +
      "Operation Error on the wire carries the cause and its information",
    files: /^lib\/(handlespace|registrar)\//,
    match: isProtocolErrorText,
  },
  {
    name: "option-defaults",
    reason: "default timers the built-in run overrides (conformance/builtin.ts gives them " +
      "explicitly) and RSPLIB's timer set (rserpool registrar --timers rsplib, simulations); " +
      "the roles' unit tests run with the defaults, lib/testing/scenario_test.ts with RSPLIB's",
    files: /^lib\/(registrar\/options|element\/element|user\/user)\.ts$/,
    match: isOverriddenTimerDefault,
  },
  {
    name: "seeded-random",
    reason: "SeededRandom (xoshiro128**): randomness of unit tests, simulations and the " +
      "suite's own message fuzzing (lib/testing/mutate.ts), never of the targets, which " +
      "use systemRandom; exercised by the seeded unit tests (lib/policy/policy_test.ts, " +
      "lib/handlespace/*_test.ts, lib/registrar/*_test.ts)",
    files: /^lib\/policy\/random\.ts$/,
    match: (path) =>
      isClassNamed(path, "SeededRandom") ||
      isOnlyUsedInside(path, (p) => isClassNamed(p, "SeededRandom")),
  },
];

function fileOf(path) {
  const name = path.hub?.file?.opts?.filename;
  return typeof name === "string" ? relative(process.cwd(), name).replaceAll("\\", "/") : "";
}

export class WireIgnorer {
  /** Nodes rules' `inside` chose, with their status reason, until Stryker reaches them. */
  #chosen = new WeakMap();

  shouldIgnore(path) {
    const chosen = this.#chosen.get(path.node);
    if (chosen !== undefined) return chosen;
    let file;
    for (const rule of RULES) {
      if (rule.files !== undefined && !rule.files.test(file ??= fileOf(path))) {
        continue;
      }
      const reason = `${rule.name}: ${rule.reason}`;
      if (rule.match?.(path)) return reason;
      for (const node of rule.inside?.(path) ?? []) {
        if (!this.#chosen.has(node)) this.#chosen.set(node, reason);
      }
    }
    return undefined;
  }
}

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, "conformance-wire", new WireIgnorer()),
];
