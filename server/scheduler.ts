import { errorSummary, periodic } from "./jobs.js";

/**
 * The one place periodic work starts. Each job runs on its own
 * non-overlapping loop at its configured interval; each run first takes the
 * job's cluster-wide lock (`exclusive`, a PostgreSQL advisory lock), so when
 * several instances run the same table, each round runs on one of them.
 * What each job did last is kept for /metrics and the operator view.
 */
export interface ScheduledJob {
  /** Stable name: the lock key and the metrics label. */
  name: string;
  intervalMs: number;
  run(): Promise<unknown>;
}

export interface JobStatus {
  name: string;
  intervalMs: number;
  runs: number;
  failures: number;
  /** Rounds another instance held the lock for. */
  skipped: number;
  lastStartedAt: Date | null;
  lastSucceededAt: Date | null;
  lastFailedAt: Date | null;
  lastError: string | null;
}

/** Runs `work` unless another instance holds the lock `name`; answers whether it ran. */
export type Exclusive = (name: string, work: () => Promise<unknown>) => Promise<boolean>;

export interface Scheduler {
  start(): void;
  /** Stops every loop and waits for the runs under way. */
  stop(): Promise<void>;
  /** One round of a job now (under its lock), as the loop would run it; false when another instance holds it. */
  runNow(name: string): Promise<boolean>;
  status(): JobStatus[];
}

export interface SchedulerOptions {
  jobs: ScheduledJob[];
  exclusive: Exclusive;
  clock?: () => Date;
  onError?: (error: unknown, job: string) => void;
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const clock = options.clock ?? (() => new Date());
  const names = new Set<string>();
  for (const job of options.jobs) {
    if (names.has(job.name)) throw new Error(`scheduler: job ${job.name} is listed twice`);
    names.add(job.name);
  }
  const state = new Map<string, JobStatus>(
    options.jobs.map((job) => [
      job.name,
      {
        name: job.name,
        intervalMs: job.intervalMs,
        runs: 0,
        failures: 0,
        skipped: 0,
        lastStartedAt: null,
        lastSucceededAt: null,
        lastFailedAt: null,
        lastError: null,
      },
    ]),
  );

  // A session advisory lock is re-entrant for its own connection, so rounds of one job on this instance
  // (the loop and a runNow) are kept apart here.
  const running = new Set<string>();

  async function round(job: ScheduledJob): Promise<boolean> {
    const status = state.get(job.name)!;
    if (running.has(job.name)) {
      status.skipped++;
      return false;
    }
    running.add(job.name);
    try {
      return await lockedRound(job, status);
    } finally {
      running.delete(job.name);
    }
  }

  async function lockedRound(job: ScheduledJob, status: JobStatus): Promise<boolean> {
    const ran = await options.exclusive(job.name, async () => {
      status.lastStartedAt = clock();
      status.runs++;
      try {
        await job.run();
        status.lastSucceededAt = clock();
      } catch (error) {
        status.failures++;
        status.lastFailedAt = clock();
        status.lastError = errorSummary(error);
        options.onError?.(error, job.name);
      }
    });
    if (!ran) status.skipped++;
    return ran;
  }

  const loops = options.jobs.map((job) => ({
    job,
    // A failure to take the lock (the database is down) is reported like a failed run and retried next round.
    loop: periodic(
      () => round(job),
      (error) => {
        const status = state.get(job.name)!;
        status.failures++;
        status.lastFailedAt = clock();
        status.lastError = errorSummary(error);
        options.onError?.(error, job.name);
      },
    ),
  }));

  return {
    start() {
      for (const { job, loop } of loops) loop.start(job.intervalMs);
    },
    async stop() {
      await Promise.all(loops.map(({ loop }) => loop.stop()));
    },
    runNow(name) {
      const job = options.jobs.find((j) => j.name === name);
      if (job === undefined) throw new Error(`scheduler: no job ${name}`);
      return round(job);
    },
    status() {
      return [...state.values()].map((s) => ({ ...s }));
    },
  };
}
