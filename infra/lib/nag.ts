import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { CipherTalkStack } from './ciphertalk-stack.ts';
import { routeTable } from './ciphertalk-stack.ts';

/**
 * Why each public route is public. A route the route table marks `auth: 'none'`
 * without a reason here stays an unacknowledged cdk-nag finding (AwsSolutions-APIG4),
 * which fails `cdk synth` and the nag test: making an endpoint public is a decision to write down.
 */
export const publicRouteReasons: Readonly<Record<string, string>> = {
  'GET /health': 'Load balancers and uptime checks call it unauthenticated; it answers only ok/down per dependency.',
  'POST /auth/register': 'Creates an account: the caller has no token yet. Rate-limited per address (DynamoDB).',
  'POST /auth/login': 'Exchanges credentials for tokens: the caller has no token yet. Rate-limited per address.',
  'POST /auth/password-reset':
    'Starts the reset of a forgotten password (the caller cannot log in by definition); answers the same whether ' +
    'or not the account exists, and is rate-limited.',
  'POST /auth/password-reset/confirm':
    'Completes a reset: the single-use, expiring reset token in the body is the credential, checked by the handler.',
  'POST /auth/refresh':
    'Authenticated by the HttpOnly refresh cookie (rotated, revocable), not by an access token, which has expired.',
};

/** WebSocket route keys: authentication is the $connect handler's (API Gateway WebSocket APIs authorise $connect only). */
const webSocketReason =
  'WebSocket API: a connection is authenticated once, by the $connect handler, before it is registered; ' +
  'frames on other routes arrive only on connections $connect accepted, and handlers look the connection up.';

/**
 * cdk-nag AwsSolutions acknowledgements, each for one finding on one construct, with its reason.
 */
export function acknowledgeFindings(stack: CipherTalkStack): void {
  const ack = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });

  // --- Functions -----------------------------------------------------------------------------------------------
  for (const fn of stack.functions.values()) acknowledgeFunction(fn, ack);
  const migrate = stack.node.tryFindChild('Fn-migrate');
  if (migrate) acknowledgeFunction(migrate, ack);
  for (const name of stack.functions.keys()) {
    const fn = stack.functions.get(name);
    if (fn && stack.access.get(name)?.manageConnections) {
      ack(
        fn.role ?? fn,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${stack.getLogicalId(stack.realtime.api.node.defaultChild as never)}>/${stack.realtime.stage.stageName}/*/@connections/*]`,
        'Connection ids are known only at run time; the grant is limited to the @connections resource of this API and stage.',
      );
    }
  }

  for (const name of stack.functions.keys()) {
    const fn = stack.functions.get(name);
    if (fn && stack.access.get(name)?.attachmentObjects) {
      ack(
        fn.role ?? fn,
        `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(stack.data.attachmentsBucket.node.defaultChild as never)}.Arn>/attachments/*]`,
        'Attachment object keys are random ids known only at run time; the grant covers the attachments/ prefix of ' +
          'this bucket with four object actions, and every use is checked against membership in the database first.',
      );
    }
  }

  // --- REST API ------------------------------------------------------------------------------------------------
  const rest = stack.rest.api;
  ack(
    rest,
    'AwsSolutions-APIG2',
    'API Gateway validates path parameters (validator "parameters"); bodies are validated in every handler against ' +
      'the shared zod schemas, the single source of truth, which API Gateway models would duplicate and let drift.',
  );
  ack(
    rest,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    "API Gateway's account-level logging role: the AWS-managed policy is the documented one and allows only CloudWatch Logs writes.",
  );
  ack(
    rest.deploymentStage,
    'AwsSolutions-APIG3',
    'No WAF by default (about $6/month per web ACL plus rules). The stage answers only requests carrying the origin ' +
      'key that CloudFront adds (API key required on every route), is throttled, every non-public route needs a JWT and ' +
      'public auth routes are rate-limited per address. Organisations with a WAF policy attach their web ACL (Firewall Manager).',
  );
  ack(
    stack.rest.originKey,
    'AwsSolutions-SMG4',
    'The origin key CloudFront sends to the REST API: CloudFormation writes it into the API key and the distribution, ' +
      'so a rotation is a new value plus a deploy pinned to its version (README, "Origin key"), not a rotation Lambda.',
  );
  for (const route of routeTable.restRoutes) {
    const method = rest.root.resourceForPath(route.path).node.tryFindChild(route.method.toUpperCase());
    if (!method) continue;
    if (route.auth === 'jwt') {
      ack(
        method,
        'AwsSolutions-COG4',
        "Authorised by CipherTalk's REQUEST authorizer (short-lived JWT plus a live-session check), not Cognito: " +
          "accounts live in the deployment's own Aurora by design.",
      );
      continue;
    }
    const reason = publicRouteReasons[`${route.method} ${route.path}`];
    if (!reason) continue; // left unacknowledged on purpose: see publicRouteReasons
    ack(method, 'AwsSolutions-APIG4', reason);
    ack(method, 'AwsSolutions-COG4', reason);
  }

  // --- WebSocket API -------------------------------------------------------------------------------------------
  for (const route of routeTable.webSocketRoutes) {
    const found = stack.realtime.api.node.tryFindChild(`${route.routeKey}-Route`);
    if (found) ack(found, 'AwsSolutions-APIG4', webSocketReason);
  }

  // --- Data ----------------------------------------------------------------------------------------------------
  ack(
    stack.data.jwtKey,
    'AwsSolutions-SMG4',
    'The access-token signing key: rotating it logs every user out (tokens live 15 minutes, sessions are in Aurora). ' +
      'Rotate by hand when needed (`aws secretsmanager put-secret-value`); automatic rotation waits for key ids in tokens.',
  );

  ack(
    stack.data.cluster,
    'AwsSolutions-RDS10',
    stack.config.database.deletionProtection
      ? 'Deletion protection is switched on by the Data/DeletionProtectionCluster custom resource (rds:ModifyDBCluster) ' +
          'once the rest of the stack exists: a protected cluster could not be rolled back after a failed first deploy.'
      : 'This deployment sets ciphertalk:deletionProtection=false (a stack meant to be deleted with its data, such as ' +
          'a staging or test stack), so the cluster stays unprotected on purpose.',
  );
  const provider = stack.node.tryFindChild('AWS679f53fac002430cb0da5b7982bd2287');
  if (provider) {
    ack(
      provider,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "CDK's AwsCustomResource function (switches Aurora's deletion protection on at deploy time): Lambda's " +
        'AWS-managed logging policy; its own policy allows rds:ModifyDBCluster on this cluster only.',
    );
  }

  // --- Web -----------------------------------------------------------------------------------------------------
  const distribution = stack.web.distribution;
  ack(
    distribution,
    'AwsSolutions-CFR1',
    'A company messenger for a workforce that travels: no geo restriction by default.',
  );
  ack(
    distribution,
    'AwsSolutions-CFR2',
    'No WAF by default (about $6/month per web ACL plus rules). The distribution fronts the SPA (static files) and the ' +
      'REST API under the stage path; the API side is throttled and rate-limited as described for APIG3, and the API ' +
      'accepts only requests that come through this distribution. Organisations with a WAF policy attach their web ACL.',
  );
  if (!stack.config.domain) {
    ack(
      distribution,
      'AwsSolutions-CFR4',
      'Without a custom domain CloudFront serves its *.cloudfront.net certificate, whose TLS policy it fixes; ' +
        'set ciphertalk:domainName and ciphertalk:certificateArn to get TLSv1.2_2021.',
    );
  }
  const deployment = stack.node.tryFindChild('Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C512MiB');
  if (deployment) acknowledgeBucketDeployment(stack, deployment, ack);
}

type Ack = (scope: IConstruct, id: string, reason: string) => void;

function acknowledgeFunction(fn: IConstruct, ack: Ack): void {
  ack(
    fn,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    "Lambda's AWS-managed logging policy (CreateLogStream/PutLogEvents); the function logs to its own group with a retention.",
  );
  ack(
    fn,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
    "Lambda's AWS-managed policy for the network interfaces of a VPC function (functions that reach Redis only).",
  );
  ack(
    fn,
    'AwsSolutions-IAM5[Resource::*]',
    'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions; no other action has "*".',
  );
}

function acknowledgeBucketDeployment(stack: CipherTalkStack, deployment: IConstruct, ack: Ack): void {
  const reason =
    "CDK's BucketDeployment function (copies web/dist and config.json into the site bucket at deploy time): " +
    'its policy is generated by CDK and scoped to the CDK asset bucket and the site bucket.';
  ack(
    deployment,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason,
  );
  const site = stack.getLogicalId(stack.web.bucket.node.defaultChild as never);
  for (const finding of [
    'Action::s3:GetObject*',
    'Action::s3:GetBucket*',
    'Action::s3:List*',
    'Action::s3:DeleteObject*',
    'Action::s3:Abort*',
    'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
    `Resource::<${site}.Arn>/*`,
    'Resource::*',
  ]) {
    ack(deployment, `AwsSolutions-IAM5[${finding}]`, reason);
  }
  ack(
    deployment,
    'AwsSolutions-L1',
    'The runtime of the BucketDeployment function is chosen by aws-cdk-lib and moves with it; it runs at deploy time only.',
  );
}
