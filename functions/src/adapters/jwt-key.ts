import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * The JWT signing key: `JWT_SECRET` itself locally, or the SecretString of the Secrets Manager secret
 * `JWT_SECRET_ARN` in AWS, fetched once per container. Either way at least 32 bytes.
 */
export async function loadJwtKey(source: { secret?: string; secretArn?: string; region: string }): Promise<Uint8Array> {
  const secret = await loadSecret(source);
  const key = new TextEncoder().encode(secret ?? '');
  if (key.length < 32) throw new Error('the JWT signing key is missing or shorter than 32 bytes');
  return key;
}

/** A secret given as itself (local) or as a Secrets Manager ARN whose SecretString it is (AWS); undefined when neither. */
export async function loadSecret(source: {
  secret?: string;
  secretArn?: string;
  region: string;
}): Promise<string | undefined> {
  if (source.secret !== undefined || source.secretArn === undefined) return source.secret;
  const client = new SecretsManagerClient({ region: source.region });
  try {
    const result = await client.send(new GetSecretValueCommand({ SecretId: source.secretArn }));
    return result.SecretString;
  } finally {
    client.destroy();
  }
}
