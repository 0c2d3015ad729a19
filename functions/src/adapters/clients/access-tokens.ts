import { loadJwtKey } from '#adapters/jwt-key.ts';
import { config, required } from '#config';
import { AccessTokens } from '#domain/access-tokens.ts';
import { systemClock } from '#ports/clock.ts';
import { onceAsync } from './once.ts';

/** Signs and verifies access tokens with the JWT key (`data.grantJwtKey` in AWS, JWT_SECRET locally). */
const source = config.jwt.secret ?? required(config.jwt.secretArn, 'JWT_SECRET or JWT_SECRET_ARN');

export const accessTokens = onceAsync(
  async () =>
    new AccessTokens({
      key: await loadJwtKey(
        config.jwt.secret ? { secret: source, region: config.region } : { secretArn: source, region: config.region },
      ),
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      ttlSeconds: config.jwt.accessTokenTtlSeconds,
      clock: systemClock,
    }),
);
