import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessRequest, Authorize } from '../iam/enforcement.ts';

export interface S3VerifierOptions {
  /** The emulator behind the verifier (s3rver's endpoint). */
  readonly target: string;
  readonly port: number;
  readonly host?: string;
  /** Access key id → secret access key: the keys S3 would know. */
  readonly credentials: Readonly<Record<string, string>>;
  /** Origins the bucket's CORS rule names (the SPA's); their preflights are answered, their answers readable. */
  readonly allowedOrigins: readonly string[];
  /** A browser POST upload is buffered to check its size against the policy; larger bodies are refused. */
  readonly maxUploadBytes?: number;
  /**
   * The twin's IAM: every verified request is evaluated as the function whose key signed it (a presigned
   * URL or POST policy acts with its signer's permissions, as in S3). A denial is `403 AccessDenied`; a
   * GET or HEAD of a missing key is `404` only if the signer may `s3:ListBucket` the bucket, else `403`.
   */
  readonly authorize?: Authorize;
}

export interface S3Verifier {
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * A verifying front for the local S3 emulator. s3rver checks no SigV4 signature, no POST policy and no expiry,
 * so this server checks what S3 checks before it streams a request to s3rver and pipes the answer back:
 *
 * - presigned query-string requests (`X-Amz-Algorithm=AWS4-HMAC-SHA256`, any method): the signature,
 *   recomputed from the canonical request (UNSIGNED-PAYLOAD unless `X-Amz-Content-Sha256` says otherwise),
 *   and the expiry (`X-Amz-Date` + `X-Amz-Expires`): `403 SignatureDoesNotMatch`, `403 AccessDenied`;
 * - requests signed in the `Authorization` header (the functions' own SDK calls): the signature over the
 *   canonical request with the `x-amz-content-sha256` the client declared, and the 15-minute clock skew;
 * - browser POST uploads (multipart/form-data to the bucket): the policy's signature, its `expiration`,
 *   every condition (`eq`, `starts-with`, the `{ field: value }` form, `content-length-range` against the
 *   file's real size), and that every field but `policy`, `x-amz-signature`, `file` and `x-ignore-*` is
 *   covered by a condition: `403 AccessDenied`, `400 EntityTooLarge` / `EntityTooSmall`;
 * - anything else (no signature at all): `403 AccessDenied`, as for a private bucket.
 *
 * With `authorize`, permissions too: the action and ARN each request needs (`s3Calls`), evaluated for the
 * signer's function.
 *
 * Not checked: that a body matches its declared SHA-256 (or aws-chunked chunk signatures), the credential
 * scope's region, the `${filename}` key variable (s3rver does not expand it either), session tokens, the
 * keys of a multi-object delete (evaluated as `s3:DeleteObject` on `<bucket>/*`), and anything s3rver
 * itself decides (buckets, keys).
 * CORS mirrors the bucket's rule in lib/constructs/data.ts: GET, HEAD and POST from `allowedOrigins`.
 */
export async function startS3Verifier(options: S3VerifierOptions): Promise<S3Verifier> {
  const target = new URL(options.target);
  const maxUploadBytes = options.maxUploadBytes ?? 128 * 1024 * 1024;
  const server = createServer((req, res) => {
    const cors = corsHeaders(req, options.allowedOrigins);
    handle(req, res, cors).catch((error: unknown) => {
      if (error instanceof S3Refusal) refuse(req, res, cors, error);
      else refuse(req, res, cors, internalError);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, cors: Record<string, string>): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://s3.local');
    if (req.method === 'OPTIONS') return preflight(req, res, options.allowedOrigins);
    const query = parseQuery(url.search);
    const presigned = query.some(([name]) => name === 'X-Amz-Algorithm');
    if (presigned && req.headers.authorization !== undefined) {
      throw new S3Refusal(400, 'InvalidArgument', 'Only one auth mechanism allowed');
    }
    if (!presigned && req.headers.authorization === undefined) {
      if (req.method === 'POST' && isBucketPath(url.pathname) && isMultipart(req.headers)) {
        const body = await readBody(req, maxUploadBytes);
        const bucket = decode(url.pathname.replace(/^\/|\/$/g, ''));
        const upload = verifyPostUpload(req.headers, bucket, body, options.credentials);
        await authorize(upload.accessKeyId, [
          { action: 's3:PutObject', resource: objectArn(bucket, upload.key) },
          ...(upload.tagged ? [{ action: 's3:PutObjectTagging', resource: objectArn(bucket, upload.key) }] : []),
        ]);
        return forward(req, res, target, cors, body, null);
      }
      throw new S3Refusal(403, 'AccessDenied', 'Access Denied');
    }
    const accessKeyId = presigned
      ? verifyPresigned(req, url, query, options.credentials)
      : verifyAuthorizationHeader(req, url, query, options.credentials);
    const calls = s3Calls(req.method ?? 'GET', url.pathname, query, req.headers);
    await authorize(accessKeyId, calls);
    // S3 tells a missing key (404) from a forbidden one only to a caller who may list the bucket.
    const read = calls.find(
      (call) => call.action === 's3:GetObject' && (req.method === 'GET' || req.method === 'HEAD'),
    );
    const onMissing =
      read && options.authorize
        ? async () => {
            const { bucket, key } = bucketAndKey(url.pathname);
            const denied = await options.authorize?.({
              accessKeyId,
              action: 's3:ListBucket',
              resource: `arn:aws:s3:::${bucket}`,
              context: { 's3:prefix': key },
            });
            return denied ? accessDenied(denied.message) : null;
          }
        : null;
    return forward(req, res, target, cors, null, onMissing);
  }

  async function authorize(accessKeyId: string, calls: readonly Omit<AccessRequest, 'accessKeyId'>[]): Promise<void> {
    if (!options.authorize) return;
    for (const call of calls) {
      const denied = await options.authorize({ accessKeyId, ...call });
      if (denied) throw accessDenied(denied.message);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${address}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** An answer S3 would give instead of doing the request: its status, code and message, as XML. */
class S3Refusal extends Error {
  override readonly name = 'S3Refusal';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const internalError = new S3Refusal(500, 'InternalError', 'We encountered an internal error. Please try again.');
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.';
const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGNED_EXPIRES_SECONDS = 7 * 24 * 60 * 60;

// --- SigV4 -------------------------------------------------------------------------------------------------

interface Credential {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly scope: string;
}

/** `AKID/20261126/us-east-1/s3/aws4_request`, its key known, its date the request's. */
function parseCredential(value: string, amzDate: string, credentials: Readonly<Record<string, string>>): Credential {
  const [accessKeyId = '', date = '', region = '', service = '', terminator = '', ...rest] = value.split('/');
  if (rest.length > 0 || !/^\d{8}$/.test(date) || !region || service !== 's3' || terminator !== 'aws4_request') {
    throw new S3Refusal(400, 'AuthorizationQueryParametersError', `Error parsing the X-Amz-Credential parameter`);
  }
  if (!Object.hasOwn(credentials, accessKeyId)) {
    throw new S3Refusal(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  }
  if (!amzDate.startsWith(date)) {
    throw new S3Refusal(403, 'SignatureDoesNotMatch', 'The credential date does not match the request date');
  }
  return { accessKeyId, date, region, service, scope: `${date}/${region}/${service}/aws4_request` };
}

function signingKey(secret: string, credential: Credential): Buffer {
  const dateKey = hmac(`AWS4${secret}`, credential.date);
  return hmac(hmac(hmac(dateKey, credential.region), credential.service), 'aws4_request');
}

const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');

/** The request's SigV4 signature (hex), from its canonical form. */
function signature(
  secret: string,
  credential: Credential,
  amzDate: string,
  parts: {
    method: string;
    path: string;
    query: [string, string][];
    headers: IncomingHttpHeaders;
    signedHeaders: string;
    payload: string;
  },
): string {
  const canonicalHeaders = parts.signedHeaders
    .split(';')
    .map((name) => `${name}:${headerValue(parts.headers, name)}\n`)
    .join('');
  const canonicalRequest = [
    parts.method,
    canonicalUri(parts.path),
    canonicalQuery(parts.query),
    canonicalHeaders,
    parts.signedHeaders,
    parts.payload,
  ].join('\n');
  const stringToSign = [ALGORITHM, amzDate, credential.scope, sha256(canonicalRequest)].join('\n');
  return createHmac('sha256', signingKey(secret, credential)).update(stringToSign, 'utf8').digest('hex');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined.trim().replace(/\s+/g, ' ');
}

/** RFC 3986 encoding, as SigV4 wants it: everything but `A-Za-z0-9-._~`. */
const encode = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new S3Refusal(400, 'InvalidURI', `Couldn't parse the specified URI.`);
  }
}

/** S3 does not normalise the path: each segment once encoded, slashes kept. */
const canonicalUri = (path: string) =>
  path
    .split('/')
    .map((segment) => encode(decode(segment)))
    .join('/');

const canonicalQuery = (query: [string, string][]) =>
  query
    .map(([name, value]) => `${encode(name)}=${encode(value)}`)
    .sort()
    .join('&');

/** The raw query, decoded pair by pair (`+` is not a space to S3's signer). */
function parseQuery(search: string): [string, string][] {
  return search
    .replace(/^\?/, '')
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      return at < 0 ? [decode(pair), ''] : [decode(pair.slice(0, at)), decode(pair.slice(at + 1))];
    });
}

/** `20261126T154527Z` as a time, or NaN. */
function amzTime(value: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return Number.NaN;
  const [year, month, day, hours, minutes, seconds] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return Date.UTC(year, month - 1, day, hours, minutes, seconds);
}

function sameSignature(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

function verifyPresigned(
  req: IncomingMessage,
  url: URL,
  query: [string, string][],
  credentials: Readonly<Record<string, string>>,
): string {
  const param = (name: string) => query.find(([key]) => key === name)?.[1];
  const [algorithm, credentialValue, amzDate, expiresValue, signedHeaders, provided] = [
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-Date',
    'X-Amz-Expires',
    'X-Amz-SignedHeaders',
    'X-Amz-Signature',
  ].map(param);
  if (!credentialValue || !amzDate || !expiresValue || !signedHeaders || !provided) {
    throw new S3Refusal(
      400,
      'AuthorizationQueryParametersError',
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, ' +
        'X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  if (algorithm !== ALGORITHM) {
    throw new S3Refusal(400, 'AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  const signedAt = amzTime(amzDate);
  if (Number.isNaN(signedAt)) {
    throw new S3Refusal(
      400,
      'AuthorizationQueryParametersError',
      `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`,
    );
  }
  const expires = Number(expiresValue);
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw new S3Refusal(
      400,
      'AuthorizationQueryParametersError',
      'X-Amz-Expires must be between 1 and 604800 seconds (a week)',
    );
  }
  const credential = parseCredential(credentialValue, amzDate, credentials);
  const expected = signature(credentials[credential.accessKeyId] ?? '', credential, amzDate, {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: query.filter(([name]) => name !== 'X-Amz-Signature'),
    headers: req.headers,
    signedHeaders,
    payload: param('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
  });
  if (!sameSignature(expected, provided)) throw new S3Refusal(403, 'SignatureDoesNotMatch', SIGNATURE_MISMATCH);
  if (Date.now() > signedAt + expires * 1000) throw new S3Refusal(403, 'AccessDenied', 'Request has expired');
  return credential.accessKeyId;
}

function verifyAuthorizationHeader(
  req: IncomingMessage,
  url: URL,
  query: [string, string][],
  credentials: Readonly<Record<string, string>>,
): string {
  const authorization = req.headers.authorization ?? '';
  if (!authorization.startsWith(`${ALGORITHM} `)) {
    throw new S3Refusal(400, 'InvalidArgument', 'Unsupported Authorization Type');
  }
  const components = new Map(
    authorization
      .slice(ALGORITHM.length + 1)
      .split(',')
      .map((component) => {
        const at = component.indexOf('=');
        return [component.slice(0, at).trim(), component.slice(at + 1).trim()] as const;
      }),
  );
  const credentialValue = components.get('Credential');
  const signedHeaders = components.get('SignedHeaders');
  const provided = components.get('Signature');
  const amzDate = headerValue(req.headers, 'x-amz-date');
  const payload = headerValue(req.headers, 'x-amz-content-sha256');
  if (!credentialValue || !signedHeaders || !provided) {
    throw new S3Refusal(
      400,
      'AuthorizationHeaderMalformed',
      'The authorization header is malformed; it requires Credential, SignedHeaders and Signature.',
    );
  }
  if (!payload) {
    throw new S3Refusal(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  const signedAt = amzTime(amzDate);
  if (Number.isNaN(signedAt)) {
    throw new S3Refusal(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  const credential = parseCredential(credentialValue, amzDate, credentials);
  const expected = signature(credentials[credential.accessKeyId] ?? '', credential, amzDate, {
    method: req.method ?? 'GET',
    path: url.pathname,
    query,
    headers: req.headers,
    signedHeaders,
    payload,
  });
  if (!sameSignature(expected, provided)) throw new S3Refusal(403, 'SignatureDoesNotMatch', SIGNATURE_MISMATCH);
  if (Math.abs(Date.now() - signedAt) > MAX_SKEW_MS) {
    throw new S3Refusal(
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
    );
  }
  return credential.accessKeyId;
}

// --- Browser POST uploads ----------------------------------------------------------------------------------

const isBucketPath = (path: string) => /^\/[^/]+\/?$/.test(path);
const isMultipart = (headers: IncomingHttpHeaders) => /^multipart\/form-data\b/i.test(headers['content-type'] ?? '');

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  if (size > limit) {
    throw new S3Refusal(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
  }
  return Buffer.concat(chunks);
}

interface FormPart {
  readonly name: string;
  readonly filename: string | null;
  readonly content: Buffer;
}

/** multipart/form-data (RFC 7578), buffered. */
function parseMultipart(body: Buffer, contentType: string): FormPart[] {
  const boundary = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const malformed = new S3Refusal(
    400,
    'MalformedPOSTRequest',
    'The body of your POST request is not well-formed multipart/form-data.',
  );
  if (!boundary) throw malformed;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const between = Buffer.concat([Buffer.from('\r\n'), delimiter]);
  let at = body.indexOf(delimiter);
  if (at < 0) throw malformed;
  at += delimiter.length;
  const parts: FormPart[] = [];
  while (body.subarray(at, at + 2).toString() !== '--') {
    if (body.subarray(at, at + 2).toString() !== '\r\n') throw malformed;
    const end = body.indexOf(between, at + 2);
    if (end < 0) throw malformed;
    const part = body.subarray(at + 2, end);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) throw malformed;
    const headers = part.subarray(0, headerEnd).toString('utf8');
    const disposition = /^content-disposition:\s*form-data(.*)$/im.exec(headers)?.[1] ?? '';
    const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw malformed;
    const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1] ?? null;
    parts.push({ name, filename, content: part.subarray(headerEnd + 4) });
    at = end + between.length;
  }
  return parts;
}

const policyFailed = (detail: string) => new S3Refusal(403, 'AccessDenied', `Invalid according to Policy: ${detail}`);
const invalidPolicy = (detail: string) => new S3Refusal(400, 'InvalidPolicyDocument', `Invalid Policy: ${detail}`);

/**
 * A browser POST upload as S3 takes it: the fields before `file` (names case-insensitive, each once), the
 * policy signed with the SigV4 signing key, not expired, every condition met and every field covered.
 */
function verifyPostUpload(
  headers: IncomingHttpHeaders,
  bucket: string,
  body: Buffer,
  credentials: Readonly<Record<string, string>>,
): { accessKeyId: string; key: string; tagged: boolean } {
  const parts = parseMultipart(body, headers['content-type'] ?? '');
  const fileAt = parts.findIndex((part) => part.name === 'file');
  const file = parts[fileAt];
  if (!file) throw new S3Refusal(400, 'InvalidArgument', 'POST requires exactly one file upload per request.');
  const fields = new Map<string, string>();
  for (const part of parts.slice(0, fileAt)) {
    const name = part.name.toLowerCase();
    // s3rver keeps the last of two `key` fields: a check of the first would not bind what it stores.
    if (fields.has(name)) throw new S3Refusal(400, 'InvalidArgument', `Field ${part.name} given more than once`);
    fields.set(name, part.content.toString('utf8'));
  }
  const policyBase64 = fields.get('policy');
  const provided = fields.get('x-amz-signature');
  if (policyBase64 === undefined || provided === undefined) throw new S3Refusal(403, 'AccessDenied', 'Access Denied');
  if (fields.get('x-amz-algorithm') !== ALGORITHM) {
    throw new S3Refusal(400, 'InvalidArgument', 'The x-amz-algorithm field must be AWS4-HMAC-SHA256');
  }
  if (!fields.has('key')) {
    throw new S3Refusal(400, 'InvalidArgument', "Bucket POST must contain a field named 'key'.");
  }
  const credential = parseCredential(fields.get('x-amz-credential') ?? '', fields.get('x-amz-date') ?? '', credentials);
  const expected = createHmac('sha256', signingKey(credentials[credential.accessKeyId] ?? '', credential))
    .update(policyBase64, 'utf8')
    .digest('hex');
  if (!sameSignature(expected, provided)) throw new S3Refusal(403, 'SignatureDoesNotMatch', SIGNATURE_MISMATCH);

  let policy: { expiration?: unknown; conditions?: unknown };
  try {
    policy = JSON.parse(Buffer.from(policyBase64, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Policy could not be parsed as a valid JSON string.');
  }
  const expiration = typeof policy.expiration === 'string' ? Date.parse(policy.expiration) : Number.NaN;
  if (Number.isNaN(expiration)) throw invalidPolicy('Invalid or missing expiration.');
  if (!Array.isArray(policy.conditions)) throw invalidPolicy('Invalid or missing conditions.');
  if (Date.now() >= expiration) throw policyFailed('Policy expired.');

  if ((fields.get('bucket') ?? bucket) !== bucket) throw policyFailed('Bucket field does not match the bucket');
  const value = (name: string) => (name === 'bucket' ? bucket : fields.get(name));
  const covered = new Set(['policy', 'x-amz-signature']);
  for (const condition of policy.conditions as unknown[]) {
    const shown = JSON.stringify(condition);
    if (Array.isArray(condition) && condition[0] === 'content-length-range') {
      const [, min, max] = condition.map(Number) as [number, number, number];
      if (!Number.isInteger(min) || !Number.isInteger(max)) {
        throw invalidPolicy(`Invalid content-length-range ${shown}`);
      }
      const size = file.content.length;
      if (size > max) {
        throw new S3Refusal(
          400,
          'EntityTooLarge',
          `Your proposed upload exceeds the maximum allowed size (${size} > ${max})`,
        );
      }
      if (size < min) {
        throw new S3Refusal(
          400,
          'EntityTooSmall',
          `Your proposed upload is smaller than the minimum allowed size (${size} < ${min})`,
        );
      }
    } else if (Array.isArray(condition)) {
      const [operator, field, expected] = condition as unknown[];
      if (
        (operator !== 'eq' && operator !== 'starts-with') ||
        typeof field !== 'string' ||
        !field.startsWith('$') ||
        typeof expected !== 'string' ||
        condition.length !== 3
      ) {
        throw invalidPolicy(`Invalid condition ${shown}`);
      }
      const name = field.slice(1).toLowerCase();
      const actual = value(name);
      const met = actual !== undefined && (operator === 'eq' ? actual === expected : actual.startsWith(expected));
      if (!met) throw policyFailed(`Policy Condition failed: ${shown}`);
      covered.add(name);
    } else if (condition !== null && typeof condition === 'object' && Object.keys(condition).length === 1) {
      const [[field, expected]] = Object.entries(condition) as [[string, unknown]];
      const name = field.toLowerCase();
      if (typeof expected !== 'string') throw invalidPolicy(`Invalid condition ${shown}`);
      if (value(name) !== expected) throw policyFailed(`Policy Condition failed: ${shown}`);
      covered.add(name);
    } else {
      throw invalidPolicy(`Invalid condition ${shown}`);
    }
  }
  const extra = [...fields.keys()].filter((name) => !covered.has(name) && !name.startsWith('x-ignore-'));
  if (extra.length > 0) throw policyFailed(`Extra input fields: ${extra.join(', ')}`);
  return { accessKeyId: credential.accessKeyId, key: fields.get('key') ?? '', tagged: fields.has('tagging') };
}

// --- Permissions --------------------------------------------------------------------------------------------

const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;
const accessDenied = (message: string) => new S3Refusal(403, 'AccessDenied', message);

/** Path-style `/bucket/key...`, decoded. */
function bucketAndKey(path: string): { bucket: string; key: string } {
  const [, bucket = '', ...key] = path.split('/');
  return { bucket: decode(bucket), key: decode(key.join('/')) };
}

/** The IAM actions S3 authorizes a (path-style) request by, with their ARNs and request context. */
export function s3Calls(
  method: string,
  path: string,
  query: readonly [string, string][],
  headers: IncomingHttpHeaders,
): Omit<AccessRequest, 'accessKeyId'>[] {
  const { bucket, key } = bucketAndKey(path);
  const has = (name: string) => query.some(([n]) => n === name);
  const param = (name: string) => query.find(([n]) => n === name)?.[1];
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const onBucket = (action: string, context?: Record<string, string>) => [
    { action: `s3:${action}`, resource: bucketArn, ...(context ? { context } : {}) },
  ];
  const onObject = (action: string) => ({ action: `s3:${action}`, resource: objectArn(bucket, key) });
  const subresource = ['cors', 'tagging', 'policy', 'lifecycle', 'versioning', 'location', 'acl'].find(has);
  const bucketActions: Record<string, Record<string, string>> = {
    GET: {
      cors: 'GetBucketCORS',
      tagging: 'GetBucketTagging',
      policy: 'GetBucketPolicy',
      lifecycle: 'GetLifecycleConfiguration',
      versioning: 'GetBucketVersioning',
      location: 'GetBucketLocation',
      acl: 'GetBucketAcl',
    },
    PUT: {
      cors: 'PutBucketCORS',
      tagging: 'PutBucketTagging',
      policy: 'PutBucketPolicy',
      lifecycle: 'PutLifecycleConfiguration',
      versioning: 'PutBucketVersioning',
      acl: 'PutBucketAcl',
    },
    DELETE: {
      cors: 'PutBucketCORS',
      tagging: 'PutBucketTagging',
      policy: 'DeleteBucketPolicy',
      lifecycle: 'PutLifecycleConfiguration',
    },
  };
  if (!key) {
    const named = subresource && bucketActions[method]?.[subresource];
    if (named) return onBucket(named);
    if (method === 'POST' && has('delete')) return [{ action: 's3:DeleteObject', resource: objectArn(bucket, '*') }];
    if (method === 'PUT') return onBucket('CreateBucket');
    if (method === 'DELETE') return onBucket('DeleteBucket');
    if (has('uploads')) return onBucket('ListBucketMultipartUploads');
    if (has('versions')) return onBucket('ListBucketVersions');
    const context: Record<string, string> = {};
    for (const name of ['prefix', 'delimiter', 'max-keys']) {
      const value = param(name);
      if (value !== undefined) context[`s3:${name}`] = value;
    }
    return onBucket('ListBucket', context);
  }
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (has('tagging')) return [onObject('GetObjectTagging')];
      if (has('acl')) return [onObject('GetObjectAcl')];
      if (has('uploadId')) return [onObject('ListMultipartUploadParts')];
      return [onObject('GetObject')];
    case 'PUT': {
      if (has('tagging')) return [onObject('PutObjectTagging')];
      if (has('acl')) return [onObject('PutObjectAcl')];
      const calls = [onObject('PutObject')];
      const source = headers['x-amz-copy-source'];
      if (typeof source === 'string') {
        calls.push({
          action: 's3:GetObject',
          resource: `arn:aws:s3:::${decode(source.replace(/^\//, '').split('?')[0] ?? '')}`,
        });
      }
      if (headers['x-amz-tagging'] !== undefined || has('x-amz-tagging')) calls.push(onObject('PutObjectTagging'));
      return calls;
    }
    case 'DELETE':
      if (has('tagging')) return [onObject('DeleteObjectTagging')];
      if (has('uploadId')) return [onObject('AbortMultipartUpload')];
      return [onObject('DeleteObject')];
    default:
      return [onObject(has('restore') ? 'RestoreObject' : 'PutObject')];
  }
}

// --- CORS, answers, forwarding -----------------------------------------------------------------------------

const CORS_METHODS = ['GET', 'HEAD', 'POST'];
const CORS_HEADERS = [/^content-type$/, /^content-length$/, /^x-amz-/];
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

/** What S3 adds to an answer for an origin its CORS rule allows (nothing for other origins). */
function corsHeaders(req: IncomingMessage, allowedOrigins: readonly string[]): Record<string, string> {
  const origin = req.headers.origin;
  if (!origin || !allowedOrigins.includes(origin)) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': CORS_METHODS.join(', '),
    'access-control-expose-headers': 'ETag',
    'access-control-max-age': '3600',
    'access-control-allow-credentials': 'true',
    vary: VARY,
  };
}

function preflight(req: IncomingMessage, res: ServerResponse, allowedOrigins: readonly string[]): void {
  const method = req.headers['access-control-request-method'];
  const requested = (req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((header) => header.trim().toLowerCase())
    .filter(Boolean);
  const origin = req.headers.origin;
  if (!origin || !method) {
    throw new S3Refusal(400, 'BadRequest', 'Insufficient information. Origin request header needed.');
  }
  if (
    !allowedOrigins.includes(origin) ||
    !CORS_METHODS.includes(method) ||
    !requested.every((header) => CORS_HEADERS.some((pattern) => pattern.test(header)))
  ) {
    throw new S3Refusal(403, 'AccessForbidden', 'CORSResponse: This CORS request is not allowed.');
  }
  res.writeHead(200, {
    ...corsHeaders(req, allowedOrigins),
    ...(requested.length > 0 ? { 'access-control-allow-headers': requested.join(', ') } : {}),
    'content-length': '0',
  });
  res.end();
}

const escapeXml = (text: string) =>
  text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

function refuse(req: IncomingMessage, res: ServerResponse, cors: Record<string, string>, refusal: S3Refusal): void {
  req.resume();
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const body = Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Error><Code>${refusal.code}</Code><Message>${escapeXml(refusal.message)}</Message>` +
      `<RequestId>${requestId}</RequestId></Error>`,
  );
  res.writeHead(refusal.status, {
    ...cors,
    'content-type': 'application/xml',
    'content-length': String(body.length),
    'x-amz-request-id': requestId,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'expect', 'upgrade']);

/** The request to the emulator as it came (the buffered body, or streamed), its answer piped back with CORS. */
function forward(
  req: IncomingMessage,
  res: ServerResponse,
  target: URL,
  cors: Record<string, string>,
  body: Buffer | null,
  onMissing: (() => Promise<S3Refusal | null>) | null,
): void {
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
  if (body) headers['content-length'] = String(body.length);
  const upstream = request(
    { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers },
    (answer) => {
      if (answer.statusCode === 404 && onMissing) {
        onMissing().then(
          (refusal) => {
            if (!refusal) return relay(answer);
            answer.resume();
            refuse(req, res, cors, refusal);
          },
          () => refuse(req, res, cors, internalError),
        );
        return;
      }
      relay(answer);
    },
  );
  function relay(answer: IncomingMessage): void {
    const answerHeaders = Object.fromEntries(
      Object.entries(answer.headers).filter(
        ([name]) => !HOP_BY_HOP.has(name) && !name.startsWith('access-control-') && name !== 'vary',
      ),
    );
    res.writeHead(answer.statusCode ?? 502, { ...answerHeaders, ...cors });
    answer.pipe(res);
  }
  upstream.on('error', () => refuse(req, res, cors, internalError));
  res.on('close', () => upstream.destroy());
  if (body) upstream.end(body);
  else req.pipe(upstream);
}
