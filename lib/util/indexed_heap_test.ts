import assert from "node:assert/strict";
import fc from "fast-check";
import { IndexedMinHeap } from "./indexed_heap.ts";

Deno.test("indexed heap: behaves like a map of priorities whose minimum it keeps at the top", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(fc.constantFrom("set", "delete"), fc.integer({ min: 0, max: 15 }), fc.integer()),
        { maxLength: 200 },
      ),
      (ops) => {
        const heap = new IndexedMinHeap<number>();
        const model = new Map<number, number>();
        for (const [op, item, priority] of ops) {
          if (op === "set") {
            heap.set(item, priority);
            model.set(item, priority);
          } else {
            heap.delete(item);
            model.delete(item);
          }
          assert.equal(heap.size, model.size);
          const min = Math.min(...model.values());
          if (model.size === 0) assert.equal(heap.peek(), undefined);
          else {
            assert.equal(heap.peekPriority(), min);
            assert.equal(model.get(heap.peek()!), min);
          }
          for (const [k, v] of model) assert.equal(heap.priorityOf(k), v);
        }
      },
    ),
    { numRuns: 500 },
  );
});
