import { describe, expect, it } from "vitest";

import { createBatcher } from "../../server/batching.js";

/** The group commit every hot lookup and the reservations use (server/batching.ts). */
describe("createBatcher", () => {
  const recording = (options: Parameters<typeof createBatcher>[1]) => {
    const batches: number[][] = [];
    const run = createBatcher(async (items: number[]) => {
      batches.push(items);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return items.map((item) =>
        item < 0 ? { ok: false as const, error: new Error(`no ${item}`) } : { ok: true as const, value: item * 10 },
      );
    }, options);
    return { batches, run };
  };

  it("answers each caller with its own outcome, and carries what arrives meanwhile in the next batch", async () => {
    const { batches, run } = recording({ maxBatch: 3, maxInFlight: 1 });
    const answers = await Promise.allSettled([1, 2, -3, 4, 5].map((item) => run(item)));
    expect(answers.map((answer) => (answer.status === "fulfilled" ? answer.value : String(answer.reason)))).toEqual([
      10,
      20,
      "Error: no -3",
      40,
      50,
    ]);
    // The first starts alone at once; the rest waited for it and went together, at most 3 a batch.
    expect(batches).toEqual([[1], [2, -3, 4], [5]]);
  });

  it("with minIntervalMs, starts a lone caller at once and gathers a crowd into fewer batches", async () => {
    const { batches, run } = recording({ maxBatch: 100, maxInFlight: 4, minIntervalMs: 30 });
    const alone = run(1);
    // Started in the same turn: no waiting for the interval.
    expect(batches).toEqual([[1]]);
    expect(await alone).toBe(10);
    await new Promise((resolve) => setTimeout(resolve, 40));
    batches.length = 0;
    // A crowd over ~60 ms: without the interval, four batches could run at once from the first arrivals on.
    const crowd: Promise<number>[] = [];
    for (let wave = 0; wave < 6; wave++) {
      for (let i = 0; i < 5; i++) crowd.push(run(wave * 5 + i));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await Promise.all(crowd)).length).toBe(30);
    expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(batches.length).toBeLessThanOrEqual(4);
  });
});
