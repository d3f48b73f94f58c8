/**
 * The flash-sale benchmark's load generator, an open-loop crowd in its own process (it shares no event loop with
 * the server it measures). Request i of the list is due at `startAt + i / rate`: it is sent then whether or not
 * earlier ones have been answered (arrivals do not wait for answers, as a crowd does not), over a pool of
 * keep-alive connections (undici, one request at a time on each; a request finding every connection busy waits in
 * the pool, and that wait counts). Latency is measured from the moment a request was due, not from when it left,
 * so a generator or server falling behind shows in the figures instead of slowing the arrivals down (no coordinated
 * omission). Prints one JSON line: the rate asked for and the rate achieved (sends per second, and how late the
 * latest send was), latency percentiles, answers by status and by the server's error code, the time of the first
 * and last successful answer, and answers and p99 per second.
 *
 *   tsx scripts/bench/load-generator.ts <config.json>
 *   config: { origin, origins?, path, rate, startAt (epoch ms), connections, requestsFile, headers }
 *   origins: several instances, request i going to origins[i % n] as a round-robin load balancer sends them
 *   (each with its own pool of `connections`); absent, every request goes to `origin`
 *   requestsFile: JSON [{ cookie, csrf, body }, …] in arrival order
 */
import { readFileSync } from "node:fs";

import { Pool } from "undici";

interface LoadConfig {
  origin: string;
  origins?: string[];
  path: string;
  rate: number;
  startAt: number;
  connections: number;
  requestsFile: string;
  /** Headers every request carries (the browser's), besides the cookie, CSRF token and body length. */
  headers: Record<string, string>;
}

interface PreparedRequest {
  cookie: string;
  csrf: string;
  body: string;
}

const config = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as LoadConfig;
const requests = JSON.parse(readFileSync(config.requestsFile, "utf8")) as PreparedRequest[];
const total = requests.length;
const origins = config.origins !== undefined && config.origins.length > 0 ? config.origins : [config.origin];
const pools = origins.map(
  (origin) =>
    new Pool(origin, {
      connections: config.connections,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    }),
);

/** Opens the connections before the sale (a load balancer keeps its connections to the server open). */
async function openConnections() {
  await Promise.all(
    pools.flatMap((pool) =>
      Array.from({ length: config.connections }, async () => {
        const { body } = await pool.request({ path: "/healthz", method: "GET" });
        await body.dump();
      }),
    ),
  );
}

const latency = new Float64Array(total);
const sentLate = new Float64Array(total);
const answeredAt = new Float64Array(total);
const statusOf: string[] = new Array<string>(total);
const statuses: Record<string, number> = {};
const codes: Record<string, number> = {};

/** The server's error code of a refusal (tRPC's error shape: error.data.appCode). */
function appCodeOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { data?: { appCode?: string; code?: string } } };
    return parsed.error?.data?.appCode ?? parsed.error?.data?.code ?? "unknown";
  } catch {
    return "not-json";
  }
}

function record(index: number, status: string, code: string | null, due: number) {
  const now = performance.now();
  latency[index] = now - due;
  answeredAt[index] = now - start;
  statusOf[index] = status;
  statuses[status] = (statuses[status] ?? 0) + 1;
  if (code !== null) codes[code] = (codes[code] ?? 0) + 1;
}

/**
 * Each request's headers and body, made before the sale: a send only hands them to its connection. The headers go
 * as undici's flat list of names and values (what it writes without converting an object first).
 */
const browserHeaders = Object.entries(config.headers).flat();
const prepared = requests.map(({ cookie, csrf, body }) => {
  const payload = Buffer.from(body);
  const headers = [
    ...browserHeaders,
    "cookie",
    cookie,
    "x-csrf-token",
    csrf,
    "content-type",
    "application/json",
    "content-length",
    String(payload.length),
  ];
  return { headers, payload };
});

/**
 * Sends request `index`, due at `due`, and records its answer when the last byte of it has come. Through undici's
 * dispatch interface: the answer's bytes come to these callbacks as they arrive, with no stream or promise made for
 * each answer, so the generator spends less of the machine's CPU than its request() would (the server it measures
 * shares the cores). Only a refusal's body is kept, for its error code.
 */
function send(index: number, due: number): Promise<void> {
  const { headers, payload } = prepared[index]!;
  sentLate[index] = performance.now() - due;
  return new Promise<void>((resolve) => {
    let status = 0;
    let chunks: Buffer[] | null = null;
    pools[index % pools.length]!.dispatch(
      { path: config.path, method: "POST", headers, body: payload },
      {
        // Its presence marks these callbacks as undici's current handler interface (else it wraps them as legacy).
        onRequestStart() {},
        onResponseStart(_controller, statusCode) {
          status = statusCode;
          if (statusCode !== 200) chunks = [];
        },
        onResponseData(_controller, chunk) {
          chunks?.push(chunk);
        },
        onResponseEnd() {
          record(index, String(status), chunks === null ? null : appCodeOf(Buffer.concat(chunks).toString()), due);
          resolve();
        },
        onResponseError(_controller, error) {
          record(index, "error", (error as { code?: string }).code ?? "network", due);
          resolve();
        },
      },
    );
  });
}

await openConnections();
// The clock of the other process is this machine's wall clock: start when it reads startAt.
const startLateMs = Math.max(0, Date.now() - config.startAt);
const start = performance.now() + Math.max(0, config.startAt - Date.now());
const inFlight: Promise<void>[] = [];
let sent = 0;
await new Promise<void>((resolve) => {
  const tick = () => {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) * config.rate) / 1000) + 1);
    while (sent < due) {
      inFlight.push(send(sent, start + (sent * 1000) / config.rate));
      sent++;
    }
    if (sent < total) setTimeout(tick, 1);
    else resolve();
  };
  setTimeout(tick, Math.max(0, start - performance.now()));
});
const lastSent = performance.now();
await Promise.all(inFlight);
const seconds = (performance.now() - start) / 1000;
await Promise.all(pools.map((pool) => pool.close()));

const percentile = (values: ArrayLike<number>, q: number) => {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
};
const all = Array.from(latency);
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
const successes = Array.from(answeredAt).filter((_, i) => statusOf[i] === "200");
const sendSeconds = (lastSent - start) / 1000;
process.stdout.write(
  `${JSON.stringify({
    count: total,
    target_per_s: config.rate,
    // Sends over the time they took; the last request was due at (total - 1) / rate.
    achieved_per_s: Math.round(total / Math.max(sendSeconds, (total - 1) / config.rate, 0.001)),
    // How late the first arrival came after T0 (the generator was still starting), and later sends after their time.
    start_late_ms: startLateMs,
    max_send_late_ms: percentile(sentLate, 1),
    p99_send_late_ms: percentile(sentLate, 0.99),
    seconds: Math.round(seconds * 1000) / 1000,
    p50_ms: percentile(all, 0.5),
    p90_ms: percentile(all, 0.9),
    p99_ms: percentile(all, 0.99),
    max_ms: percentile(all, 1),
    statuses,
    codes,
    by_status: byStatus,
    first_success_ms: successes.length === 0 ? null : Math.round(successes.reduce((a, b) => Math.min(a, b))),
    last_success_ms: successes.length === 0 ? null : Math.round(successes.reduce((a, b) => Math.max(a, b))),
    by_second: bySecond,
  })}\n`,
);
