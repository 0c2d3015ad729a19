/**
 * Recovery after faults (part of `npm run bench:messaging`): the fault suite's scenario (infra/test/faults)
 * with its own PostgreSQL and Redis, restarted under a small live load through the twin. Prints, per fault,
 * how long the service was down, how long after it was back live delivery held again, and how long until
 * the backlog (messages acknowledged from the fault until then) had reached every recipient device. Figures, not assertions.
 */
import { runFaultScenario } from '../test/faults/scenario.ts';

async function main() {
  console.log('\nRecovery after faults (private PostgreSQL and Redis, restarted under load through the twin):');
  const report = await runFaultScenario({ log: (line) => console.log(line) });
  const ms = (value: number | null) => (value === null ? 'never' : `${(value / 1000).toFixed(1)} s`);
  for (const phase of report.phases) {
    console.log(
      `  ${phase.name.padEnd(32)} down ${ms(phase.downMs).padStart(6)}   live again after ${ms(phase.liveRecoveryMs).padStart(6)}   backlog delivered after ${ms(phase.backlogDeliveredMs).padStart(6)}`,
    );
  }
  console.log(
    `  ${report.acknowledged} messages acknowledged, ${report.delivered}/${report.owed} deliveries arrived ` +
      `(${report.deliveredLive} live), ${report.missing.length} missing, ${report.duplicates.length} duplicated, ` +
      `${report.finalFailures.length} final failures, ${report.reconnects} reconnects; retries ${JSON.stringify(report.retries)}`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
