import { describe, expect, it } from '@jest/globals';
import { systemScheduler } from '../../lib/network/scheduler.js';

/** Timers that keep the event loop (the process) alive right now. */
const liveTimers = () =>
  process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

describe('systemScheduler', () => {
  it('never keeps the process alive for a pending refresh (the timer is unref()ed)', () => {
    const before = liveTimers();
    const task = systemScheduler.schedule(3_600_000, () => {});
    try {
      expect(liveTimers()).toBe(before);
    } finally {
      task.cancel();
    }
  });

  it('counts a ref()ed timer, so the check above can see one', () => {
    const before = liveTimers();
    const timer = setTimeout(() => {}, 3_600_000);
    try {
      expect(liveTimers()).toBe(before + 1);
    } finally {
      clearTimeout(timer);
    }
  });
});
