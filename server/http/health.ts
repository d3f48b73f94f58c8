import { chainProblems } from "../chain/readiness.js";
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

  const chainChecks = chainChecker(platform);
  app.get("/readyz", async (_request, reply) => {
    const [database, chain, redis] = await Promise.all([
      platform.database.ping(),
      platform.chain === null ? Promise.resolve(false) : platform.chain.ping(),
      platform.redisPing === null ? Promise.resolve(null) : platform.redisPing(),
    ]);
    const problems = chain ? await chainChecks() : [];
    const ready = database && chain && redis !== false && problems.length === 0;
    return reply.code(ready ? 200 : 503).send({
      status: ready ? "ready" : "not-ready",
      database,
      chain,
      ...(redis === null ? {} : { redis }),
      ...(problems.length === 0 ? {} : { problems }),
    });
  });

  // The same stack with no work (a liveness probe that skips nothing of the HTTP stack).
  app.get("/api/ping", async () => ({ ok: true }));

  // BENCH_ECHO_ROUTE: a POST answered with its own JSON body, the ceiling of the reservation door (same headers,
  // cookies and body size; `npm run bench:flash-sale`). Registered only when set.
  if (platform.config.env.BENCH_ECHO_ROUTE) {
    app.post("/api/bench/echo", async (request) => ({ echo: request.body ?? null }));
  }
});

/**
 * The chain's standing facts (its id, the deployed contracts, the server's roles), asked at most every
 * 30 seconds while they hold and every time while they do not, so a fixed deployment turns ready at once.
 */
function chainChecker(platform: Platform): () => Promise<string[]> {
  let checkedAt = 0;
  let last: string[] = [];
  return async () => {
    const chain = platform.chain;
    if (chain === null) return [];
    if (last.length === 0 && Date.now() - checkedAt < 30_000) return last;
    try {
      last = await chainProblems(chain.provider, chain.addresses, platform.custody, platform.config.env.CHAIN_ID);
    } catch {
      last = ["chain: could not read the deployment (the chain stopped answering)"];
    }
    checkedAt = Date.now();
    return last;
  };
}
