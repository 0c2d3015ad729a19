import { z } from 'zod';

export const DependencyStatus = z.enum(['ok', 'down']);
export type DependencyStatus = z.infer<typeof DependencyStatus>;

/** `GET /health`: one real check per dependency; 503 when any is down. */
export const HealthResponse = z.object({
  status: DependencyStatus,
  database: DependencyStatus,
  redis: DependencyStatus,
  s3: DependencyStatus,
  dynamodb: DependencyStatus,
});
export type HealthResponse = z.infer<typeof HealthResponse>;
