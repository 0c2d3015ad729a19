import { createHash, randomBytes } from 'node:crypto';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { CallerCredentials } from './caller.ts';
import type { IamModel } from './model.ts';

/** One AWS call as a service front sees it: who signed it, and what it asks for. */
export interface AccessRequest {
  /** The SigV4 credential's access key id. */
  readonly accessKeyId: string;
  /** `s3:GetObject`, `dynamodb:PutItem`... */
  readonly action: string;
  /** The ARN the call would have in AWS. */
  readonly resource: string;
  /** Request context keys (`s3:prefix`...); `aws:SecureTransport` is always true (every AWS endpoint is HTTPS). */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

export interface Denial {
  readonly principalArn: string;
  readonly action: string;
  readonly resource: string;
  /** AWS's wording: `User: <principal> is not authorized to perform: <action> on resource: <arn> because …`. */
  readonly message: string;
}

/** What a service front asks before it serves a call: null lets it through, a denial refuses it. */
export type Authorize = (request: AccessRequest) => Promise<Denial | null>;

export interface TwinIam {
  /** The access key id and secret each function signs with (in AWS, its role's session credentials). */
  credentialsOf(functionName: string): CallerCredentials;
  /** Every function's access key id → its secret, for the fronts that verify signatures. */
  readonly secrets: Readonly<Record<string, string>>;
  /**
   * Evaluates a call against the policies of the function whose key signed it, and the resource's own policy
   * (the bucket policy). Calls signed with any other key (the twin's own set-up, a test's own clients) are
   * not evaluated.
   */
  readonly authorize: Authorize;
  readonly model: IamModel;
}

/**
 * Per-function credentials over the template's roles, and an IAM evaluator: `@cloud-copilot/iam-simulate`
 * (identity and resource policies, every condition operator, explicit and implicit denies). Decisions are
 * cached per (function, action, resource, context).
 */
export function createTwinIam(model: IamModel, functionNames: readonly string[]): TwinIam {
  const byKey = new Map<string, string>();
  const credentials = new Map<string, CallerCredentials>();
  for (const name of functionNames) {
    // `ASIA` like a role session's key; the rest names the function stably, so logs can tell them apart.
    const accessKeyId = `ASIATWIN${createHash('sha256').update(name).digest('hex').slice(0, 12).toUpperCase()}`;
    credentials.set(name, { accessKeyId, secretAccessKey: randomBytes(30).toString('base64') });
    byKey.set(accessKeyId, name);
  }
  const decisions = new Map<string, Promise<Denial | null>>();

  const evaluate = async (name: string, request: AccessRequest): Promise<Denial | null> => {
    const role = model.roles.get(name);
    const principalArn =
      role?.principalArn ?? `arn:aws:sts::${model.accountId}:assumed-role/${name}-no-role-in-template/${name}`;
    const bucket = /^arn:aws:s3:::([^/]+)/.exec(request.resource)?.[1];
    const resourcePolicy = bucket ? model.bucketPolicies.get(bucket) : undefined;
    const response = await runSimulation(
      {
        identityPolicies: (role?.policies ?? []).map(({ name: policyName, policy }) => ({
          name: policyName,
          policy: policy as never,
        })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(resourcePolicy ? { resourcePolicy: resourcePolicy as never } : {}),
        request: {
          action: request.action,
          principal: principalArn,
          resource: { accountId: model.accountId, resource: request.resource },
          contextVariables: {
            'aws:SecureTransport': 'true',
            'aws:PrincipalArn': role?.roleArn ?? principalArn,
            'aws:PrincipalAccount': model.accountId,
            'aws:CurrentTime': new Date().toISOString(),
            ...(request.context as Record<string, string | string[]> | undefined),
          },
        },
      },
      {},
    );
    // A request the evaluator cannot place (an ARN of a type the action does not take) is allowed by nothing.
    const result: string = response.resultType === 'error' ? 'ImplicitlyDenied' : response.overallResult;
    if (result === 'Allowed') return null;
    const because =
      result === 'ExplicitlyDenied'
        ? `with an explicit deny in ${resourcePolicy ? 'a resource-based or ' : 'an '}identity-based policy`
        : `because no identity-based policy allows the ${request.action} action`;
    return {
      principalArn,
      action: request.action,
      resource: request.resource,
      message: `User: ${principalArn} is not authorized to perform: ${request.action} on resource: ${request.resource} ${because}`,
    };
  };

  return {
    model,
    secrets: Object.fromEntries([...credentials.values()].map((c) => [c.accessKeyId, c.secretAccessKey])),
    credentialsOf(name) {
      const found = credentials.get(name);
      if (!found) throw new Error(`no twin credentials for function ${name}`);
      return found;
    },
    authorize(request) {
      const name = byKey.get(request.accessKeyId);
      if (name === undefined) return Promise.resolve(null);
      const key = `${name}\n${request.action}\n${request.resource}\n${JSON.stringify(request.context ?? {})}`;
      let decision = decisions.get(key);
      if (!decision) {
        if (decisions.size > 20_000) decisions.clear();
        decision = evaluate(name, request);
        decisions.set(key, decision);
        decision.catch(() => decisions.delete(key));
      }
      return decision;
    },
  };
}

/** The access key id of a SigV4 `Authorization` header (`AWS4-HMAC-SHA256 Credential=AKID/…`), or null. */
export function signingKeyId(authorization: string | undefined): string | null {
  return /^AWS4-HMAC-SHA256 .*?Credential=([^/,\s]+)\//.exec(authorization ?? '')?.[1] ?? null;
}
