import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * One logger, metrics and tracer per container. Logs are JSON lines; metrics
 * are CloudWatch EMF; tracing is X-Ray (off outside Lambda). Nothing here logs
 * events, bodies or headers: secrets and tokens must never reach a log line.
 */
export const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'ciphertalk';
export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ serviceName, namespace: 'CipherTalk' });
export const tracer = new Tracer({ serviceName, captureHTTPsRequests: true });
