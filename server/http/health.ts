import type { Platform } from "../platform.js";
import { sameSecret } from "../security/crypto.js";
import { unencapsulated } from "./plugin.js";
import { refusal } from "./refusal.js";

/**
 * Liveness (/healthz), readiness (/readyz: database and chain), the Prometheus
 * scrape (/metrics) and the no-work ping (/api/ping).
 */
export const health = unencapsulated<{ platform: Platform }>(async (app, { platform }) => {
  app.get("/healthz", async () => ({ status: "ok" }));

  // Prometheus scrape endpoint: behind the scraper's bearer token when METRICS_TOKEN is set; keep it on the
  // internal network either way.
  const metricsToken = platform.config.env.METRICS_TOKEN;
  app.get("/metrics", async (request, reply) => {
    if (metricsToken !== undefined && !sameSecret(request.headers.authorization ?? "", `Bearer ${metricsToken}`)) {
      return reply.code(401).header("www-authenticate", "Bearer").send(refusal("auth.required"));
    }
    return reply
      .header("content-type", platform.metrics.registry.contentType)
      .send(await platform.metrics.registry.metrics());
  });

  app.get("/readyz", async (_request, reply) => {
    const [database, chain] = await Promise.all([
      platform.database.ping(),
      platform.chain === null ? Promise.resolve(false) : platform.chain.ping(),
    ]);
    const ready = database && chain;
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not-ready", database, chain });
  });

  // The same stack with no work: the ceiling the hot path is measured against (`npm run bench:flash-sale`).
  app.get("/api/ping", async () => ({ ok: true }));
});
