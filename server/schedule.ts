import type { Config } from "./config.js";
import type { Db } from "./db/client.js";
import { AppError } from "./errors.js";
import type { LotteryService } from "./modules/drops/lottery.js";
import type { ComplianceService } from "./modules/compliance/service.js";
import type { KycService } from "./modules/kyc/service.js";
import type { RegistrySync } from "./modules/kyc/registry-sync.js";
import type { MintWorker } from "./modules/minting/worker.js";
import type { PaymentsService } from "./modules/payments/service.js";
import type { ScheduledJob } from "./scheduler.js";

/** The China day ("YYYY-MM-DD", UTC+8) before the one `now` falls in. */
export function previousChinaDay(now: Date): string {
  return new Date(now.getTime() + 8 * 3_600_000 - 86_400_000).toISOString().slice(0, 10);
}

export interface ScheduleParts {
  config: Config;
  db: Db;
  clock: () => Date;
  payments: Pick<PaymentsService, "settleExpiring" | "resumeRefunds" | "reconcileDay">;
  kyc: Pick<KycService, "purgeExpired">;
  lottery: Pick<LotteryService, "drawDue">;
  /** Null without a chain: compliance actions then wait in their outbox. */
  compliance: Pick<ComplianceService, "runOnce"> | null;
  /** Null without a chain: paid orders and registry writes then wait in their outboxes. */
  mintWorker: Pick<MintWorker, "runOnce"> | null;
  registrySync: Pick<RegistrySync, "runOnce"> | null;
  /** Whether the payment provider publishes daily statements. */
  statements: boolean;
}

/**
 * Every periodic job of the platform, in one table: its name, its interval
 * (from configuration) and what one round does. The scheduler runs each
 * round on one instance at a time.
 */
export function platformJobs(parts: ScheduleParts): ScheduledJob[] {
  const env = parts.config.env;
  const { db } = parts;
  const jobs: ScheduledJob[] = [];
  if (parts.mintWorker !== null) {
    const worker = parts.mintWorker;
    jobs.push({ name: "mint-rounds", intervalMs: env.MINT_INTERVAL_MS, run: () => worker.runOnce() });
  }
  if (parts.registrySync !== null) {
    const sync = parts.registrySync;
    jobs.push({ name: "registry-sync", intervalMs: env.REGISTRY_SYNC_INTERVAL_MS, run: () => sync.runOnce() });
  }
  if (parts.compliance !== null) {
    const compliance = parts.compliance;
    // Compliance actions recorded but not (yet) on chain: a node that was away, a sender that died.
    jobs.push({
      name: "compliance-outbox",
      intervalMs: env.COMPLIANCE_SEND_INTERVAL_MS,
      run: () => compliance.runOnce(db),
    });
  }
  jobs.push(
    // Unpaid orders past their window give their editions back, after asking the provider about late payments.
    { name: "order-expiry", intervalMs: env.ORDER_EXPIRY_INTERVAL_MS, run: () => parts.payments.settleExpiring(db) },
    // Refunds the provider has not confirmed are asked for again (the first request may never have left).
    {
      name: "refund-resends",
      intervalMs: env.REFUND_RESEND_INTERVAL_MS,
      run: () => parts.payments.resumeRefunds(db, env.REFUND_RESEND_AFTER_SECONDS * 1000),
    },
    // Lotteries are drawn at their fixed time, by the platform, not by an operator's choice of moment.
    { name: "lottery-draws", intervalMs: env.LOTTERY_DRAW_INTERVAL_MS, run: () => parts.lottery.drawDue(db) },
    // Names and ID numbers past their retention are erased (PII_RETENTION_YEARS after the account closed).
    { name: "pii-purge", intervalMs: env.PII_PURGE_INTERVAL_MS, run: () => parts.kyc.purgeExpired(db) },
  );
  if (parts.statements) {
    // Yesterday's statement, once the provider has produced it; an operator can reconcile any day by hand.
    let reconciled: string | null = null;
    jobs.push({
      name: "reconciliation",
      intervalMs: env.RECONCILE_INTERVAL_MS,
      async run() {
        const day = previousChinaDay(parts.clock());
        if (reconciled === day) return;
        try {
          await parts.payments.reconcileDay(db, day);
          reconciled = day;
        } catch (error) {
          if (error instanceof AppError && error.code === "payments.statementNotReady") return;
          throw error;
        }
      },
    });
  }
  return jobs;
}
