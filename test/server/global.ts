/** The server suites use the contracts' artifacts and typed bindings: build them first. */
export async function setup(): Promise<void> {
  const { default: hre } = await import("hardhat");
  await hre.tasks.getTask("build").run({ quiet: true });
}
