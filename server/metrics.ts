import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

import type { Db } from "./db/client.js";
import type { JobStatus } from "./scheduler.js";
import { orderCountsByStatus, slotCountsByState } from "./modules/drops/reports.js";
import { pendingBindingCount } from "./modules/kyc/reports.js";

/**
 * Prometheus metrics of one server instance, served at /metrics. Queue
 * depths and order counts are read from the database at scrape time, so
 * every instance reports the shared truth; counters count this instance's work.
 */
export interface Metrics {
  registry: Registry;
  mintedTokens: Counter;
  mintFailures: Counter;
  paymentNotifications: Counter<"outcome">;
  /** Payment events an operator must look at (partial or foreign refunds, signed notices not for our amount…). */
  paymentAlerts: Counter<"reason">;
  reservations: Counter<"path">;
  /** Every HTTP answer by method, route (tRPC: procedure) and status class, with its duration. */
  httpRequests: Histogram<"method" | "route" | "status">;
  /** Requests answered 503 because the event loop was overloaded. */
  shedRequests: Counter;
}

/** Payment notifications by outcome, and the payment events an operator must look at, by reason. */
function paymentCounters(registry: Registry) {
  return {
    paymentNotifications: new Counter({
      name: "shuzang_payment_notifications_total",
      help: "Payment notifications received, by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    paymentAlerts: new Counter({
      name: "shuzang_payment_alerts_total",
      help: "Payment events that need an operator (each also in the audit log as payments.alert), by reason",
      labelNames: ["reason"],
      registers: [registry],
    }),
  };
}

export function createMetrics(
  db: Db,
  queues: {
    mintDepth: () => Promise<{ pending: number; inFlight: number; parked: number }> | null;
    /** The scheduler's periodic jobs as this instance saw them. */
    jobs?: () => JobStatus[];
  },
  /** Asks the chain for its latest block number; null without a chain. */
  chainProbe: (() => Promise<unknown>) | null = null,
): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const mintedTokens = new Counter({
    name: "shuzang_minted_tokens_total",
    help: "Tokens minted by this instance",
    registers: [registry],
  });
  const mintFailures = new Counter({
    name: "shuzang_mint_failures_total",
    help: "Failed mint rounds of this instance",
    registers: [registry],
  });
  const { paymentNotifications, paymentAlerts } = paymentCounters(registry);

  const reservations = new Counter({
    name: "shuzang_reservation_attempts_total",
    help: "Admitted reservation attempts by how the database decided them: in a group statement, or alone",
    labelNames: ["path"],
    registers: [registry],
  });

  jobGauges(registry, queues.jobs ?? (() => []));
  const httpRequests = new Histogram({
    name: "shuzang_http_request_duration_seconds",
    help: "HTTP answers by method, route (tRPC: procedure) and status class, and how long they took",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const shedRequests = new Counter({
    name: "shuzang_http_shed_total",
    help: "Requests answered 503 server.busy because the event loop was overloaded",
    registers: [registry],
  });

  new Gauge({
    name: "shuzang_mint_queue_jobs",
    help: "Mint jobs by state (pending, in flight, parked)",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      const depth = await queues.mintDepth();
      if (depth === null) return;
      this.set({ state: "pending" }, depth.pending);
      this.set({ state: "in_flight" }, depth.inFlight);
      this.set({ state: "parked" }, depth.parked);
    },
  });

  new Gauge({
    name: "shuzang_orders",
    help: "Orders by status",
    labelNames: ["status"],
    registers: [registry],
    async collect() {
      const rows = await orderCountsByStatus(db);
      this.reset();
      for (const row of rows) this.set({ status: row.status }, row.n);
    },
  });

  new Gauge({
    name: "shuzang_registry_bindings_pending",
    help: "Identity registry bindings waiting for the chain",
    registers: [registry],
    async collect() {
      this.set(await pendingBindingCount(db));
    },
  });

  new Gauge({
    name: "shuzang_edition_slots",
    help: "Editions of published collections by state (available, reserved for an unpaid order, sold)",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      const rows = await slotCountsByState(db);
      this.reset();
      for (const row of rows) this.set({ state: row.status }, row.n);
    },
  });

  if (chainProbe !== null) {
    new Gauge({
      name: "shuzang_chain_rpc_latency_seconds",
      help: "Round trip of one eth_blockNumber call to the chain, measured at scrape time (-1 when it failed)",
      registers: [registry],
      async collect() {
        const started = performance.now();
        try {
          await Promise.race([
            chainProbe(),
            new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 2000)),
          ]);
          this.set((performance.now() - started) / 1000);
        } catch {
          this.set(-1);
        }
      },
    });
  }

  return {
    registry,
    mintedTokens,
    mintFailures,
    paymentNotifications,
    paymentAlerts,
    reservations,
    httpRequests,
    shedRequests,
  };
}

/** What each periodic job did last on this instance: when it ran, when it last succeeded, how often it failed. */
function jobGauges(registry: Registry, jobs: () => JobStatus[]) {
  const seconds = (at: Date | null) => (at === null ? 0 : at.getTime() / 1000);
  const perJob = (name: string, help: string, value: (job: JobStatus) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["job"],
      registers: [registry],
      collect() {
        for (const job of jobs()) this.set({ job: job.name }, value(job));
      },
    });
  perJob("shuzang_job_last_run_seconds", "Unix time this instance last started the job (0: never)", (job) =>
    seconds(job.lastStartedAt),
  );
  perJob("shuzang_job_last_success_seconds", "Unix time the job last succeeded on this instance (0: never)", (job) =>
    seconds(job.lastSucceededAt),
  );
  perJob("shuzang_job_failures", "Failed runs of the job on this instance since start", (job) => job.failures);
  perJob(
    "shuzang_job_last_failed",
    "1 when the job's latest run on this instance failed (its error is in the log and the status view)",
    (job) =>
      job.lastFailedAt !== null && (job.lastSucceededAt === null || job.lastFailedAt > job.lastSucceededAt) ? 1 : 0,
  );
  perJob("shuzang_job_skipped", "Rounds left to another instance that held the job's lock", (job) => job.skipped);
}
