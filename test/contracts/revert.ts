import type { BaseContract } from "ethers";
import { expect } from "vitest";

function revertData(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== null && typeof current === "object"; depth++) {
    const record = current as { data?: unknown; error?: unknown; cause?: unknown };
    if (typeof record.data === "string" && record.data.startsWith("0x")) return record.data;
    if (record.data !== null && typeof record.data === "object") {
      const nested = (record.data as { data?: unknown }).data;
      if (typeof nested === "string" && nested.startsWith("0x")) return nested;
    }
    current = record.error ?? record.cause;
  }
  return undefined;
}

/**
 * Asserts that `action` reverts with the custom error `name` of `contract`
 * (and, when given, exactly these arguments).
 */
export async function expectRevert(
  action: Promise<unknown>,
  contract: BaseContract,
  name: string,
  args?: unknown[],
): Promise<void> {
  let caught: unknown;
  try {
    await action;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a revert with ${name}`).toBeDefined();
  const data = revertData(caught);
  expect(data, `no revert data in ${String(caught)}`).toBeDefined();
  const parsed = contract.interface.parseError(data!);
  expect(parsed?.name).toBe(name);
  if (args !== undefined) {
    expect(parsed!.args.toArray()).toEqual(args);
  }
}
