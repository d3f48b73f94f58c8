import { loadConfigOrExit } from "./config.js";
import { SchemaNotMigratedError } from "./db/client.js";
import { buildHttpApp } from "./http/app.js";
import { type DemoSummary, seedDemo } from "./demo/seed.js";
import { appendAudit } from "./modules/audit/service.js";
import { createPlatform } from "./platform.js";

function printDemo(demo: DemoSummary, port: number) {
  const lines = [
    "",
    demo.seeded ? "Demo data seeded (演示数据已生成):" : "Demo data already present (演示数据已存在):",
    ...demo.accounts.map((a) => `  ${a.phone}  ${a.role.padEnd(12)} ${a.note}`),
    "  Log in with the phone number; the 6-digit code is printed in this console (console SMS).",
    "  用手机号登录，6 位验证码会打印在本控制台。",
    `  Storefront: http://127.0.0.1:${port}/   Issuer admin: /studio   Operator admin: /ops`,
    "",
  ];
  console.log(lines.join("\n"));
}

/**
 * Composition root: configuration → database → chain → modules → HTTP.
 * Stops on a bad setting with a message naming it; shuts down gracefully.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const platform = await createPlatform(config, {
    onBackgroundError: (error) => app.log.warn({ err: error }, "background job failed; it will be retried"),
  }).catch((error: unknown) => {
    if (error instanceof SchemaNotMigratedError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  });
  const app = await buildHttpApp(platform);
  // A promise some library left to fail unobserved (a background request to an unreachable chain, say) must not
  // take the shop down with it: every state that matters is in the database, and each worker retries its own work.
  process.on("unhandledRejection", (reason) => {
    app.log.error({ err: reason }, "unhandled promise rejection; the server keeps running");
  });
  if (config.secretsSource === "development-file") {
    app.log.warn(
      `development secrets in ${config.env.DATA_DIR}/dev-secrets.json; set them in the environment for production`,
    );
  }
  for (const phone of config.env.OPERATOR_PHONES) {
    const { user, changed } = await platform.identity.grantOperator(platform.db, phone);
    if (changed) {
      await appendAudit(
        platform.db,
        {
          actor: { userId: user.id, role: "operator" },
          action: "operator.granted",
          subject: { type: "user", id: user.id },
          details: { source: "OPERATOR_PHONES" },
        },
        platform.clock(),
      );
    }
  }
  if (config.env.DEMO_SEED) {
    const demo = await seedDemo(platform);
    printDemo(demo, config.env.PORT);
  }
  // Every periodic job (mint rounds, registry sync, order expiry, refund resends, PII purge, reconciliation)
  // runs from the one scheduler, each round on one instance at a time (server/schedule.ts). API-only instances
  // (SERVER_ROLE=api) leave them to the worker; a worker still answers /healthz, /readyz and /metrics.
  if (config.env.SERVER_ROLE !== "api") platform.scheduler.start();
  // Artwork stored before responsive variants existed gets them once, in the background (the demo seed's are
  // made at upload like any other): until then, and for any image that fails, the original is served.
  if (config.env.SERVER_ROLE !== "api") {
    void platform.catalog.backfillMediaVariants(platform.db).then(
      (count) => {
        if (count > 0) app.log.info({ count }, "artwork variants made for stored images");
      },
      (error: unknown) => app.log.warn({ err: error }, "artwork variant backfill failed; originals are served"),
    );
  }
  app.log.info({ role: config.env.SERVER_ROLE }, "server role");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, "shutting down");
    await app.close();
    await platform.scheduler.stop();
    platform.sandboxPayments?.close();
    await platform.gate.close();
    await platform.database.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  await app.listen({ host: config.env.HOST, port: config.env.PORT });
}

await main();
