/**
 * Which conformance cases a static mutant meets (conformance/mutants/deno-runner.mjs).
 *
 * @module
 */

/**
 * The roles whose cases can observe a static mutant (one reached outside any
 * case, e.g. in a timer) of this file: the built-in pool element runs only in
 * the element cases and the built-in pool user only in the user cases
 * (conformance/cases/element.ts and user.ts are the only ones that start
 * them), so a mutant there meets only those; anything else meets every case.
 */
export function staticRoles(fileName) {
  const path = String(fileName).replaceAll("\\", "/");
  if (/(^|\/)lib\/element\//.test(path)) return ["element"];
  if (/(^|\/)lib\/user\//.test(path)) return ["user"];
  return undefined;
}
