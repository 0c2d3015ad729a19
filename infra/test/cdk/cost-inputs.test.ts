import { beforeAll, describe, expect, it } from 'vitest';
import { resources, type Synthesized, synthCipherTalk } from './synth.ts';

/**
 * The README's idle-cost table ("Monthly cost estimate") counts these resources of the template; when
 * one changes, this fails, and the table must be recomputed with it (issue 13, finding 12).
 */
let s: Synthesized;
beforeAll(() => {
  s = synthCipherTalk();
});

/** CloudWatch bills an alarm per metric it evaluates: a metric-math alarm counts each metric. */
function alarmMetrics(synth: Synthesized): number {
  return resources(synth.template, 'AWS::CloudWatch::Alarm').reduce((sum, [, alarm]) => {
    const metrics = alarm.Metrics as { MetricStat?: unknown }[] | undefined;
    return sum + (metrics ? metrics.filter((m) => m.MetricStat).length : 1);
  }, 0);
}

describe("the README's idle cost inputs", () => {
  it('counts 38 alarms over 42 metrics, 1 dashboard, 3 secrets, 1 KMS key and 1 NAT gateway', () => {
    expect(resources(s.template, 'AWS::CloudWatch::Alarm')).toHaveLength(38);
    expect(alarmMetrics(s)).toBe(42);
    s.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 3);
    s.template.resourceCountIs('AWS::KMS::Key', 1);
    s.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    s.template.resourceCountIs('AWS::ElastiCache::ServerlessCache', 1);
    // One alarm more with account mail on.
    expect(alarmMetrics(synthCipherTalk({ 'ciphertalk:mailFrom': 'no-reply@example.com' }))).toBe(43);
  });

  it('wakes Aurora once an hour for the retention job, with a 10-minute auto-pause', () => {
    s.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
    s.template.hasResourceProperties('AWS::RDS::DBCluster', {
      ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 4, SecondsUntilAutoPause: 600 },
    });
  });
});
