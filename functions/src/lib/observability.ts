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
/**
 * Metrics report through the logger: its one warning, that an invocation published no application metric,
 * holds for most invocations of most functions and is only noise in the logs (debug level, then).
 */
const metricsLogger = {
  debug: (message: string) => logger.debug(message),
  info: (message: string) => logger.info(message),
  warn: (message: string) =>
    message.startsWith('No application metrics') ? logger.debug(message) : logger.warn(message),
  error: (message: string) => logger.error(message),
};
export const metrics = new Metrics({ serviceName, namespace: 'CipherTalk', logger: metricsLogger });
export const tracer = new Tracer({ serviceName, captureHTTPsRequests: true });
