/**
 * Scale: 10 registrars, 10,000 pool elements, 1,000 pool users, 30 s of
 * churn. Checked after every simulation step: no registrar ever holds more
 * elements than there are element hosts. Checked at the end: every
 * registrar holds exactly the live elements, with the same owners and
 * checksums, and every resolution was answered with elements.
 * (Real time and message counts: `deno task bench:scale`, docs/performance.md.)
 */
import assert from "node:assert/strict";
import { FULL_SCALE, runScale } from "./scale.ts";

Deno.test("scale: 10 registrars, 10,000 elements, 1,000 users with churn converge", () => {
  const r = runScale(FULL_SCALE);
  const { sim, registrars } = r;
  assert.equal(r.churn.left, r.churn.joined);
  assert.ok(r.churn.left >= 100);
  assert.equal(r.resolutions.empty, 0);
  assert.ok(
    r.resolutions.answered >=
      FULL_SCALE.users * (FULL_SCALE.duration / FULL_SCALE.resolveEvery) * 0.9,
  );
  const live = new Set<string>();
  for (const name of r.liveElements) {
    const pe = sim.element(name);
    assert.ok(pe.isRegistered, name);
    live.add(`${new TextDecoder().decode(pe.poolHandle)}/${pe.identifier}`);
  }
  assert.equal(live.size, FULL_SCALE.elements);
  const reference = sim.registrar(registrars[0]);
  for (const name of registrars) {
    const pr = sim.registrar(name);
    const rows: string[] = [];
    for (const pool of pr.handlespace.allPools()) {
      for (const node of pool.elements.values()) {
        rows.push(`${new TextDecoder().decode(pool.handle)}/${node.identifier}`);
      }
    }
    assert.deepEqual(new Set(rows), live, name);
    for (const owner of registrars) {
      const id = sim.registrar(owner).id;
      assert.equal(
        pr.handlespace.checksum(id),
        reference.handlespace.checksum(id),
        `${name}: checksum of ${owner}`,
      );
      assert.equal(pr.handlespace.ownedCount(id), reference.handlespace.ownedCount(id));
    }
  }
});
