import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Aws, Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { permissionsPolicy, siteContentSecurityPolicy } from '../site-policy.ts';

export interface WebProps {
  /** web/dist: `npm run build -w web`. */
  readonly distDir: string;
  readonly domain?: { readonly name: string; readonly certificateArn: string };
  /**
   * The REST API, served by this distribution under its stage path (`/prod/*`), so the SPA and
   * the API share an origin: the SameSite=Strict refresh cookie is first-party, and no CORS.
   */
  readonly restApi: {
    readonly host: string;
    readonly stageName: string;
    /** CloudFront adds `<name>: <value>` to every API request; the API refuses requests without it. */
    readonly originKey: { readonly header: string; readonly value: string };
  };
  /** The WebSocket stage (`wss://{host}/prod`): the CSP's one origin besides the site's own. */
  readonly webSocket: { readonly host: string; readonly url: string };
  /**
   * The attachments bucket: browsers upload ciphertext to it with presigned POSTs and download with presigned
   * GETs, so the CSP's connect-src names its virtual-hosted origins (regional, and the global one the SDK may
   * sign for in us-east-1).
   */
  readonly attachmentsBucketName: string;
  readonly accessLogsBucket: s3.IBucket;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The SPA: a private bucket behind CloudFront with origin access control,
 * security headers (a CSP whose connect-src is exactly the API, which is the
 * site's own origin, the WebSocket origin and the attachments bucket; HSTS), SPA routing to
 * index.html, the REST API under the stage path of the same origin, and
 * `config.json` written at deploy time with the API and WebSocket URLs.
 */
export class Web extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly contentSecurityPolicy: string;
  readonly siteDomain: string;
  /** The REST API as the SPA calls it: the site's origin and the stage path. */
  readonly apiUrl: string;

  constructor(scope: Construct, id: string, props: WebProps) {
    super(scope, id);
    if (!existsSync(join(props.distDir, 'index.html'))) {
      throw new Error(`${props.distDir}/index.html is missing: run \`npm run build -w web\` before synth`);
    }

    this.bucket = new s3.Bucket(this, 'Site', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'site/',
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    this.contentSecurityPolicy = siteContentSecurityPolicy([
      `wss://${props.webSocket.host}`,
      `https://${props.attachmentsBucketName}.s3.${Aws.REGION}.${Aws.URL_SUFFIX}`,
      `https://${props.attachmentsBucketName}.s3.${Aws.URL_SUFFIX}`,
    ]);

    // CloudFront's names are global to the account: the region keeps two regions' stacks apart.
    const regional = (name: string) => `${name}-${Aws.REGION}`;
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      responseHeadersPolicyName: regional(`${Names.uniqueResourceName(this, { maxLength: 100 })}`),
      comment: 'CipherTalk SPA: CSP, HSTS and friends',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: this.contentSecurityPolicy, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          preload: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
      customHeadersBehavior: {
        customHeaders: [{ header: 'Permissions-Policy', value: permissionsPolicy, override: true }],
      },
    });

    const origin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket, {
      originAccessControl: new cloudfront.S3OriginAccessControl(this, 'OriginAccessControl', {
        originAccessControlName: regional(Names.uniqueResourceName(this, { maxLength: 40 })),
      }),
    });
    // Client-side routes (paths without a file extension) are the SPA; files are served as they are.
    // A viewer-request function, not distribution-wide error pages, so API answers keep their status.
    const spaRouting = new cloudfront.Function(this, 'SpaRouting', {
      comment: 'CipherTalk SPA: client-side routes serve index.html',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(
        [
          'function handler(event) {',
          '  var request = event.request;',
          "  if (!/\\.[A-Za-z0-9]+$/.test(request.uri)) request.uri = '/index.html';",
          '  return request;',
          '}',
        ].join('\n'),
      ),
    });
    const api = new origins.HttpOrigin(props.restApi.host, {
      customHeaders: { [props.restApi.originKey.header]: props.restApi.originKey.value },
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'CipherTalk SPA',
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: props.accessLogsBucket,
      logFilePrefix: 'cloudfront/',
      ...(props.domain
        ? {
            domainNames: [props.domain.name],
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
          }
        : {}),
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: headers,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        compress: true,
        functionAssociations: [{ function: spaRouting, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: {
        // The REST API: never cached, every method, all viewer headers but Host (API Gateway routes on its own).
        [`/${props.restApi.stageName}/*`]: {
          origin: api,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: headers,
        },
        // Read at every start of the SPA: never cached, so a redeploy's URLs take effect at once.
        '/config.json': {
          origin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          responseHeadersPolicy: headers,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        },
      },
    });

    this.siteDomain = props.domain?.name ?? this.distribution.distributionDomainName;
    this.apiUrl = `${this.siteUrl}/${props.restApi.stageName}`;

    new s3deploy.BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      sources: [
        // Source maps stay in web/dist for debugging; published they would hand out the SPA's sources.
        s3deploy.Source.asset(props.distDir, { exclude: ['**/*.map'] }),
        s3deploy.Source.jsonData('config.json', { apiUrl: this.apiUrl, wsUrl: props.webSocket.url }),
      ],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 512,
      logGroup: new logs.LogGroup(this, 'DeployLogs', {
        retention: props.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
  }

  /** `https://` and the custom domain, or CloudFront's. */
  get siteUrl(): string {
    return `https://${this.siteDomain}`;
  }
}
