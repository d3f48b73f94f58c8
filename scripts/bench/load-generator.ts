/**
 * The flash-sale benchmark's load generator, run as its own process so it
 * does not share an event loop with the server it measures. Keeps
 * `concurrency` requests in flight over keep-alive connections until `total`
 * have been answered, then prints one JSON line: count, seconds, rate,
 * latency percentiles and the answers by status code.
 *
 *   tsx scripts/bench/load-generator.ts <config.json>
 *   config: { url, urls?, mode: "ping" | "reserve", total, concurrency, tokensFile?, collectionId? }
 *   (urls: several server instances, taken in turn, as a load balancer would)
 */
import { Agent, request } from "node:http";
import { readFileSync } from "node:fs";

interface LoadConfig {
  url: string;
  urls?: string[];
  mode: "ping" | "reserve";
  total: number;
  concurrency: number;
  tokensFile?: string;
  collectionId?: number;
  keyPrefix?: string;
}

const config = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as LoadConfig;
const tokens: string[] =
  config.tokensFile === undefined ? [] : (JSON.parse(readFileSync(config.tokensFile, "utf8")) as string[]);
const targets = (config.urls ?? [config.url]).map((url) => new URL(url));
const agent = new Agent({ keepAlive: true, maxSockets: config.concurrency });
const latencies = new Float64Array(config.total);
/** When each answer came, from the start (ms), and its status, for the figures by kind and by second. */
const answeredAt = new Float64Array(config.total);
const statusOf: string[] = new Array<string>(config.total);
const statuses: Record<string, number> = {};
let issued = 0;
let answered = 0;

function send(index: number): Promise<void> {
  const started = performance.now();
  const reserve = config.mode === "reserve";
  const body = reserve
    ? JSON.stringify({
        collectionId: config.collectionId,
        quantity: 1,
        idempotencyKey: `${config.keyPrefix ?? "flash-sale-attempt"}-${index}`,
      })
    : undefined;
  const token = reserve ? tokens[index % tokens.length]! : "";
  const target = targets[index % targets.length]!;
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: reserve ? "POST" : "GET",
        // The storefront's own door: its tRPC client posts drops.reserve here (web/src/lib/trpc.ts).
        path: reserve ? "/trpc/drops.reserve" : target.pathname,
        headers: reserve
          ? {
              "content-type": "application/json",
              "content-length": Buffer.byteLength(body!),
              cookie: `csrf=bench-csrf-token; sid=${token}`,
              "x-csrf-token": "bench-csrf-token",
            }
          : {},
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          latencies[index] = performance.now() - started;
          answeredAt[index] = performance.now() - runStarted;
          statusOf[index] = String(res.statusCode);
          statuses[String(res.statusCode)] = (statuses[String(res.statusCode)] ?? 0) + 1;
          answered++;
          resolve();
        });
      },
    );
    req.on("error", () => {
      latencies[index] = performance.now() - started;
      answeredAt[index] = performance.now() - runStarted;
      statusOf[index] = "error";
      statuses.error = (statuses.error ?? 0) + 1;
      answered++;
      resolve();
    });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

async function worker() {
  while (issued < config.total) await send(issued++);
}

const runStarted = performance.now();
await Promise.all(Array.from({ length: config.concurrency }, worker));
const seconds = (performance.now() - runStarted) / 1000;
const percentile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
};
const all = Array.from(latencies);
const at = (q: number) => percentile(all, q);
// Latency by kind of answer (a sale, "sold out", "limit reached"…) and by second of the run.
const byStatus: Record<string, { count: number; p50_ms: number; p99_ms: number }> = {};
for (const status of Object.keys(statuses)) {
  const values = all.filter((_, i) => statusOf[i] === status);
  byStatus[status] = { count: values.length, p50_ms: percentile(values, 0.5), p99_ms: percentile(values, 0.99) };
}
const bySecond: { second: number; answers: number; p99_ms: number }[] = [];
for (let second = 0; second < Math.ceil(seconds); second++) {
  const values = all.filter((_, i) => Math.floor(answeredAt[i]! / 1000) === second);
  if (values.length > 0) bySecond.push({ second, answers: values.length, p99_ms: percentile(values, 0.99) });
}
agent.destroy();
process.stdout.write(
  `${JSON.stringify({
    count: answered,
    seconds: Math.round(seconds * 1000) / 1000,
    per_s: Math.round(answered / seconds),
    p50_ms: at(0.5),
    p90_ms: at(0.9),
    p99_ms: at(0.99),
    max_ms: Math.round(all.reduce((a, b) => Math.max(a, b), 0) * 10) / 10,
    statuses,
    by_status: byStatus,
    by_second: bySecond,
  })}\n`,
);
