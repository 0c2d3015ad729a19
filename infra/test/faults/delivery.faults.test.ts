import { describe, expect, it } from 'vitest';
import { type FaultReport, runFaultScenario } from './scenario.ts';

/**
 * The done-when of issue 21: under a small live load through the twin, the twin's own Redis is killed (every
 * key lost) and restarted, then its own PostgreSQL; every acknowledged message reaches every recipient device,
 * live or by catch-up, exactly once after dedupe; no request fails for good (dependency down is retryable);
 * and live delivery comes back within a bound after each restart. Private services: never the shared ones.
 */
const LIVE_RECOVERY_BOUND_MS = 10_000;

describe('delivery through Redis and PostgreSQL restarts', () => {
  let report: FaultReport;

  it('delivers every acknowledged message to every recipient device exactly once', async () => {
    report = await runFaultScenario();
    expect(report.acknowledged).toBeGreaterThan(50);
    expect(report.missing).toEqual([]);
    expect(report.delivered).toBe(report.owed);
    expect(report.duplicates).toEqual([]);
  });

  it('answers every request during the outages as retryable (503 / unavailable), never as a final failure', () => {
    expect(report.finalFailures).toEqual([]);
    // The faults did hit: requests were refused as unavailable and sockets reconnected.
    expect(report.retries.unavailable ?? 0).toBeGreaterThan(0);
    expect(report.reconnects).toBeGreaterThan(0);
  });

  it('brings live delivery back within the bound after each restart', () => {
    expect(report.phases.map((phase) => phase.name)).toEqual(['Redis restart (every key lost)', 'PostgreSQL restart']);
    for (const phase of report.phases) {
      expect(phase.liveRecoveryMs, phase.name).not.toBeNull();
      expect(phase.liveRecoveryMs as number, phase.name).toBeLessThan(LIVE_RECOVERY_BOUND_MS);
    }
  });
});
