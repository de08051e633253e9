import type { ManualClock } from '../core/clock.js';

/** A scheduled task that can be called off. */
export interface ScheduledTask {
  cancel(): void;
}

/**
 * Runs background work later (JWKS refreshes, revocation polls). Injected so tests move time by hand
 * instead of sleeping; the system implementation never keeps the process alive.
 */
export interface Scheduler {
  /** Runs `task` once after `delayMs`. A rejected task is swallowed: tasks handle their own errors. */
  schedule(delayMs: number, task: () => void | Promise<void>): ScheduledTask;
}

/** Node's `setTimeout` accepts at most 2^31 − 1 ms; longer delays would fire at once. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** The real-time scheduler: `setTimeout` with `unref()`, so pending refreshes never block shutdown. */
export const systemScheduler: Scheduler = {
  schedule(delayMs, task) {
    const delay = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, Number.isFinite(delayMs) ? delayMs : 0));
    const timer = setTimeout(() => {
      // A throwing task must not become an unhandled rejection that could take the process down.
      Promise.resolve()
        .then(task)
        .catch(() => {});
    }, delay);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

interface ManualEntry {
  readonly dueAtMs: number;
  readonly sequence: number;
  readonly task: () => void | Promise<void>;
  cancelled: boolean;
}

/**
 * A scheduler driven by a {@link ManualClock}: `advance(ms)` moves the clock and runs every task that
 * falls due, in due-time order, awaiting each one (so tests are deterministic and never sleep).
 */
export class ManualScheduler implements Scheduler {
  private entries: ManualEntry[] = [];
  private sequence = 0;

  constructor(readonly clock: ManualClock) {}

  schedule(delayMs: number, task: () => void | Promise<void>): ScheduledTask {
    const entry: ManualEntry = {
      dueAtMs: this.clock.now() + Math.max(0, Number.isFinite(delayMs) ? delayMs : 0),
      sequence: this.sequence++,
      task,
      cancelled: false,
    };
    this.entries.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** How many tasks are waiting (cancelled ones excluded). */
  get pendingCount(): number {
    return this.entries.filter((entry) => !entry.cancelled).length;
  }

  /** The due time of the earliest waiting task, if any. */
  get nextDueAtMs(): number | undefined {
    return this.nextEntry()?.dueAtMs;
  }

  /** Moves the clock forward by `ms`, running each task as its due time is reached. */
  async advance(ms: number): Promise<void> {
    const target = this.clock.now() + ms;
    for (;;) {
      const next = this.nextEntry();
      if (next === undefined || next.dueAtMs > target) break;
      if (next.dueAtMs > this.clock.now()) this.clock.set(next.dueAtMs);
      await this.run(next);
    }
    if (target > this.clock.now()) this.clock.set(target);
  }

  /** Runs the tasks already due at the current time (including ones they schedule with no delay). */
  async runDue(): Promise<void> {
    await this.advance(0);
  }

  private nextEntry(): ManualEntry | undefined {
    this.entries = this.entries.filter((entry) => !entry.cancelled);
    let best: ManualEntry | undefined;
    for (const entry of this.entries) {
      if (
        best === undefined ||
        entry.dueAtMs < best.dueAtMs ||
        (entry.dueAtMs === best.dueAtMs && entry.sequence < best.sequence)
      ) {
        best = entry;
      }
    }
    return best;
  }

  private async run(entry: ManualEntry): Promise<void> {
    entry.cancelled = true;
    try {
      await entry.task();
    } catch {
      // Same contract as the system scheduler: task failures are the task's business.
    }
  }
}
