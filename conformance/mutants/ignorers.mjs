/**
 * A StrykerJS ignorer ("conformance-wire"): code that has no effect a
 * conformance case could see on the wire. Stryker marks every mutant inside
 * a matched node Ignored, with the rule's reason as its status reason (the
 * summary counts ignored mutants by reason).
 *
 * To add a rule: append { name, reason, files?, match(path) } to RULES.
 * `files` (optional) is a regular expression on the file's path relative to
 * the project root; `match` gets Babel's NodePath.
 */

import { relative } from "node:path";
import process from "node:process";
import { declareValuePlugin, PluginKind } from "@stryker-mutator/api/plugin";

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
];

function fileOf(path) {
  const name = path.hub?.file?.opts?.filename;
  return typeof name === "string" ? relative(process.cwd(), name).replaceAll("\\", "/") : "";
}

export class WireIgnorer {
  shouldIgnore(path) {
    let file;
    for (const rule of RULES) {
      if (rule.files !== undefined && !rule.files.test(file ??= fileOf(path))) {
        continue;
      }
      if (rule.match(path)) return `${rule.name}: ${rule.reason}`;
    }
    return undefined;
  }
}

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, "conformance-wire", new WireIgnorer()),
];
