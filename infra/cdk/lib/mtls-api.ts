import * as fs from 'node:fs';

import {
  Aws,
  CfnResource,
  Duration,
  RemovalPolicy,
  Stack,
  Token,
  aws_apigateway as apigw,
  aws_certificatemanager as acm,
  aws_cloudwatch as cloudwatch,
  aws_dynamodb as dynamodb,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_route53 as route53,
  aws_s3 as s3,
} from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';

import { Backend } from './backend';
import { FrontProps } from './front';
import { httpFront } from './http-front';
import { AlarmThresholds, MtlsMonitoring } from './monitoring';
import { restFront } from './rest-front';
import { RustFunction, writeOwnLogs } from './rust-function';
import { TruststoreBucket } from './truststore-bucket';

export { Backend, HttpBackendOptions, PrivateBackend, identityHeaders } from './backend';
export { ROUTES } from './front';

/** Which API Gateway flavour fronts the functions. */
export enum ApiType {
  /**
   * REST API: the request body is validated at the edge against the
   * api-handler's JSON Schema, and a Deny answers 403 with the reason.
   */
  REST = 'rest',
  /**
   * HTTP API: cheaper and faster, without request validation at the edge
   * (the api-handler still validates) or a custom 403 body.
   */
  HTTP = 'http',
}

/** How the authorizer treats revocation for one issuer. */
export enum Revocation {
  /** Check the serial against the issuer's CRL; deny when it cannot be had. */
  CRL = 'crl',
  /** No revocation check, for issuers that publish no CRL. Say so knowingly. */
  NONE = 'none',
}

/**
 * One family of CRL distribution points for `crlFromCdp`: certificates whose
 * cRLDistributionPoints URI starts with `prefix` have their CRL fetched from
 * `fetch` plus the rest of the URI, or from the URI itself.
 */
export interface CdpPrefix {
  /** An `http://` or `https://` URI with a host, ending in `/`. */
  readonly prefix: string;
  /**
   * Where those CRLs are read instead: `s3://bucket/prefix/` or `https://…/`.
   * The authorizer role may read the objects under an `s3://` base.
   *
   * @default - the distribution point URI itself
   */
  readonly fetch?: string;
}

/** One issuer entry of the authorizer's policy. */
export interface IssuerPolicy {
  /** Name of the entry, in logs and the `issuer` context key. Unique. */
  readonly name: string;
  /**
   * Issuer DN attributes that must all match, e.g. `{ CN: 'Devices CA' }`.
   * A value may be a list of acceptable values.
   */
  readonly match: Record<string, string | string[]>;
  /**
   * Where the issuer publishes its CRL: `s3://bucket/key` or `https://…`.
   * The authorizer role may read exactly the `s3://` objects named here.
   *
   * Set exactly one of `crl`, `crls` and `crlFromCdp` unless `revocation` is
   * `Revocation.NONE`.
   *
   * @default - none
   */
  readonly crl?: string;
  /**
   * Several CRLs of this issuer, `s3://` or `https://`: the partitions of one
   * CA, or one CRL per key across a key rollover. Each certificate is checked
   * against those that cover it.
   *
   * @default - none
   */
  readonly crls?: string[];
  /**
   * Find each certificate's CRL from its CRL distribution points, within
   * these prefixes only: how AWS Private CA's partitioned CRLs are checked.
   *
   * @default - none
   */
  readonly crlFromCdp?: CdpPrefix[];
  /** @default Revocation.CRL */
  readonly revocation?: Revocation;
  /**
   * Client certificate constraints, as in the authorizer's configuration:
   * DN attributes, `san_dns`, `san_uri`, `eku`.
   *
   * @default - none
   */
  readonly subject?: Record<string, unknown>;
}

/** Properties of {@link MtlsApi}. */
export interface MtlsApiProps {
  /** The custom domain clients call, e.g. `api.example.com`. */
  readonly domainName: string;

  /** ACM certificate for `domainName`, in the stack's region. */
  readonly certificateArn: string;

  /**
   * ACM-issued certificate proving ownership of the domain. API Gateway
   * requires it when `certificateArn` is imported or issued by AWS Private CA.
   *
   * @default - none
   */
  readonly ownershipVerificationCertificateArn?: string;

  /**
   * Public hosted zone in which to create an alias record for `domainName`.
   *
   * @default - no record: point your DNS at the `regionalDomainName` output
   */
  readonly hostedZone?: route53.IHostedZone;

  /** Local path of the CA bundle, built with `truststore build`. */
  readonly truststoreFile: string;

  /** @default 'truststore.pem' */
  readonly truststoreKey?: string;

  /**
   * Zip of the authorizer:
   * `cargo lambda build --release --arm64 --output-format zip -p authorizer`.
   */
  readonly authorizerZip: string;

  /**
   * Zip of the api-handler, built the same way with `-p api-handler`.
   * Required when the backend is the api-handler (the default); unused otherwise.
   */
  readonly apiHandlerZip?: string;

  /**
   * What the API serves: the bundled api-handler, or your HTTP service
   * (`Backend.http('https://orders.example.com', { private: … })`), which
   * receives every method and path with the verified client certificate in
   * the `x-client-cert-*` headers of `infra/identity-headers.json`.
   *
   * @default Backend.apiHandler()
   */
  readonly backend?: Backend;

  /** The authorizer's issuer entries, tried in order. At least one. */
  readonly issuers: IssuerPolicy[];

  /**
   * For issuers with `crlFromCdp`: the most CRLs (partitions) held at once per
   * issuer; the least recently used is dropped beyond it. A Private CA
   * partition is at most 1 MB of DER, about 0.4 MB in memory.
   *
   * @default 64
   */
  readonly maxCdpCrlsPerIssuer?: number;

  /** @default ApiType.REST */
  readonly apiType?: ApiType;

  /**
   * JSON Schema (draft 4) of `POST /temps` bodies, installed as the REST
   * API's request validator model.
   *
   * @default - the api-handler's own `api-handler/schema/temperature.json`
   */
  readonly readingSchemaFile?: string;

  /**
   * How often the authorizer re-checks each CRL.
   *
   * @default Duration.minutes(5)
   */
  readonly crlRefresh?: Duration;

  /**
   * How long a CRL stays usable past its nextUpdate while refreshes fail;
   * after that, requests are denied with `crl_unavailable`. At most a week.
   *
   * @default Duration.hours(1)
   */
  readonly crlGrace?: Duration;

  /**
   * API Gateway's authorizer result cache. Zero asks the authorizer on every
   * request, so a revocation takes effect at the next CRL refresh. A TTL lets
   * a cached Allow outlive a revocation by up to the TTL. At most an hour.
   *
   * @default Duration.seconds(0)
   */
  readonly authorizerResultTtl?: Duration;

  /**
   * The cache key when `authorizerResultTtl` is not zero, in the syntax of
   * `apiType`. A header or query string is chosen by the client, so one client
   * could replay another's cached Allow and identity.
   *
   * @default - the client certificate's serial number and issuer DN
   */
  readonly authorizerIdentitySources?: string[];

  /** @default 256 */
  readonly authorizerMemoryMb?: number;

  /**
   * At least fetch timeout × (1 + issuers) + 1 s, since a cold start loads
   * the truststore and every CRL. At most 30 s.
   *
   * @default Duration.seconds(15)
   */
  readonly authorizerTimeout?: Duration;

  /** @default 128 */
  readonly apiHandlerMemoryMb?: number;

  /** @default 90 */
  readonly tempsRetentionDays?: number;

  /** @default 'prod' */
  readonly stageName?: string;

  /** Stage throttling, requests per second. @default 100 */
  readonly throttlingRateLimit?: number;

  /** Stage throttling burst. @default 200 */
  readonly throttlingBurstLimit?: number;

  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Customer managed key for the bucket, the table and the log groups.
   *
   * @default - AWS managed encryption
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Notified by every alarm (docs/monitoring.md).
   *
   * @default - none
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];

  /**
   * CloudWatch namespace of the authorizer's metrics (its METRICS_NAMESPACE).
   *
   * @default - `MtlsAuthorizer/<stack name>`, so two stacks in one account keep their metrics apart
   */
  readonly metricsNamespace?: string;

  /**
   * The alarms' thresholds.
   *
   * @default - CRL stale at 6 h to nextUpdate, 3 failing periods, CA expiry within 30 days,
   * 20 revoked denials per 5 minutes, authorizer p99 1 s
   */
  readonly alarmThresholds?: AlarmThresholds;

  /**
   * Create the CloudWatch dashboard `<stack name>-mtls`.
   *
   * @default true
   */
  readonly dashboard?: boolean;
}

/** The DynamoDB layout the api-handler reads and writes (api-handler/src/store/dynamo.rs). */
export const TEMPS_TABLE_LAYOUT = {
  partitionKey: 'identityKey',
  sortKey: 'readingTime',
  ttlAttribute: 'expiresAt',
} as const;

const ACM_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate\/[0-9a-f-]+$/;
const DNS_NAME = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CRL_URI = /^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+|https:\/\/.+)$/;
/** A crlFromCdp prefix: http(s), a host, ending at a path boundary. */
const CDP_PREFIX = /^https?:\/\/[^/]+\/(.*\/)?$/;
/** A crlFromCdp fetch base: an S3 prefix or an HTTPS base, ending in "/". */
const CDP_FETCH = /^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/(.+\/)?|https:\/\/.+\/)$/;

/** Every CRL URI an issuer entry names, through `crl` or `crls`. */
function crlUris(i: IssuerPolicy): string[] {
  return [...(i.crl !== undefined ? [i.crl] : []), ...(i.crls ?? [])];
}

/** The authorizer's configuration document (docs/configuration.md), from the props. */
function authorizerConfig(props: MtlsApiProps, truststoreUri: string, ttl: Duration): Record<string, unknown> {
  return {
    truststore: truststoreUri,
    issuers: props.issuers.map((i) => ({
      name: i.name,
      match: i.match,
      ...(i.crl !== undefined ? { crl: i.crl } : {}),
      ...(i.crls !== undefined ? { crl: i.crls } : {}),
      ...(i.crlFromCdp !== undefined
        ? { crl_from_cdp: i.crlFromCdp.map((p) => (p.fetch !== undefined ? { prefix: p.prefix, fetch: p.fetch } : { prefix: p.prefix })) }
        : {}),
      ...(i.revocation === Revocation.NONE ? { revocation: 'none' } : {}),
      ...(i.subject !== undefined ? { subject: i.subject } : {}),
    })),
    crl_refresh_seconds: (props.crlRefresh ?? Duration.minutes(5)).toSeconds(),
    crl_grace_seconds: (props.crlGrace ?? Duration.hours(1)).toSeconds(),
    max_cdp_crls_per_issuer: props.maxCdpCrlsPerIssuer ?? 64,
    // A cached policy is reused for every route of the caller, so with a
    // cache it must cover the stage, not the one method that was called.
    policy_resource: ttl.toSeconds() > 0 ? 'stage' : 'method',
  };
}

/**
 * Mutual TLS for API Gateway, with revocation: a regional custom domain that
 * requires client certificates from a versioned truststore, a REQUEST Lambda
 * authorizer that checks each certificate against its issuer's CRL, and the
 * api-handler behind it. The same architecture as the Terraform module in
 * `infra/terraform`.
 */
export class MtlsApi extends Construct {
  /** The versioned truststore bucket (for `truststore rotate --bucket`). */
  public readonly truststoreBucket: s3.Bucket;
  /** The truststore object key (for `truststore rotate --key`). */
  public readonly truststoreKey: string;
  /** The object version the domain pins. */
  public readonly truststoreVersion: string;
  public readonly authorizer: lambda.Function;
  /** The api-handler function (undefined with an HTTP backend). */
  public readonly apiHandler?: lambda.Function;
  /** The readings table (undefined with an HTTP backend). */
  public readonly table?: dynamodb.Table;
  /** The custom domain's API Gateway target, for DNS. */
  public readonly regionalDomainName: string;
  public readonly regionalHostedZoneId: string;
  /** The API's id (REST API or HTTP API). */
  public readonly apiId: string;
  public readonly accessLogGroup: logs.LogGroup;
  public readonly authorizerLogGroup: logs.LogGroup;
  public readonly apiHandlerLogGroup?: logs.LogGroup;
  /** What the API serves. */
  public readonly backend: Backend;
  /** The alarms and the dashboard. */
  public readonly monitoring: MtlsMonitoring;
  /** The namespace of the authorizer's metrics. */
  public readonly metricsNamespace: string;

  constructor(scope: Construct, id: string, props: MtlsApiProps) {
    super(scope, id);
    validate(props);

    const apiType = props.apiType ?? ApiType.REST;
    this.backend = props.backend ?? Backend.apiHandler();
    const ttl = props.authorizerResultTtl ?? Duration.seconds(0);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const key = props.encryptionKey;
    this.truststoreKey = props.truststoreKey ?? 'truststore.pem';

    // Truststore bucket and object -----------------------------------------

    const truststore = new TruststoreBucket(this, {
      file: props.truststoreFile,
      key: this.truststoreKey,
      encryptionKey: key,
    });
    this.truststoreBucket = truststore.bucket;
    this.truststoreVersion = truststore.version;

    // Readings table (the api-handler's) -------------------------------------

    const table = this.backend.isApiHandler
      ? new dynamodb.Table(this, 'Temps', {
          partitionKey: { name: TEMPS_TABLE_LAYOUT.partitionKey, type: dynamodb.AttributeType.STRING },
          sortKey: { name: TEMPS_TABLE_LAYOUT.sortKey, type: dynamodb.AttributeType.STRING },
          timeToLiveAttribute: TEMPS_TABLE_LAYOUT.ttlAttribute,
          billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
          pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
          encryption: key ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
          encryptionKey: key,
          deletionProtection: true,
          removalPolicy: RemovalPolicy.RETAIN,
        })
      : undefined;

    // The authorizer ------------------------------------------------------------

    // Exactly the S3 CRLs named, and the objects under each S3 fetch base.
    const s3Arn = (u: string) => `arn:${Aws.PARTITION}:s3:::${u.slice('s3://'.length)}`;
    const crlObjects = [
      ...props.issuers
        .flatMap(crlUris)
        .filter((u) => u.startsWith('s3://'))
        .map(s3Arn),
      ...props.issuers
        .flatMap((i) => (i.crlFromCdp ?? []).map((p) => p.fetch))
        .filter((u): u is string => u !== undefined && u.startsWith('s3://'))
        .map((u) => `${s3Arn(u)}*`),
    ];
    const metricsNamespace = props.metricsNamespace ?? `MtlsAuthorizer/${Stack.of(this).stackName}`;
    this.metricsNamespace = metricsNamespace;
    const authorizer = new RustFunction(this, 'Authorizer', {
      zip: props.authorizerZip,
      memorySize: props.authorizerMemoryMb ?? 256,
      timeout: props.authorizerTimeout ?? Duration.seconds(15),
      retention,
      encryptionKey: key,
      environment: {
        AUTHORIZER_CONFIG: Stack.of(this).toJsonString(authorizerConfig(props, truststore.uri, ttl)),
        METRICS_NAMESPACE: metricsNamespace,
      },
      description: 'mtls-authorizer: client certificate policy and CRL check',
      statements: (logGroup) => [
        new iam.PolicyStatement({
          sid: 'ReadTruststoreAndCrls',
          actions: ['s3:GetObject', 's3:GetObjectVersion'],
          resources: [truststore.bucket.arnForObjects(truststore.key), ...crlObjects],
        }),
        writeOwnLogs(logGroup),
        ...(key ? [new iam.PolicyStatement({ sid: 'DecryptTruststore', actions: ['kms:Decrypt'], resources: [key.keyArn] })] : []),
      ],
    });
    this.authorizer = authorizer.function;
    this.authorizerLogGroup = authorizer.logGroup;

    // The api-handler, when it is the backend ------------------------------

    if (table) {
      this.table = table;
      const apiHandler = new RustFunction(this, 'ApiHandler', {
        zip: props.apiHandlerZip as string,
        memorySize: props.apiHandlerMemoryMb ?? 128,
        timeout: Duration.seconds(10),
        retention,
        encryptionKey: key,
        environment: {
          TEMPS_TABLE: table.tableName,
          TEMPS_RETENTION_DAYS: String(props.tempsRetentionDays ?? 90),
        },
        description: 'mtls-authorizer: the temperature API',
        statements: (logGroup) => [
          new iam.PolicyStatement({
            sid: 'Readings',
            actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query'],
            resources: [table.tableArn],
          }),
          writeOwnLogs(logGroup),
          ...(key
            ? [
                new iam.PolicyStatement({
                  sid: 'TableKey',
                  actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
                  resources: [key.keyArn],
                }),
              ]
            : []),
        ],
      });
      this.apiHandler = apiHandler.function;
      this.apiHandlerLogGroup = apiHandler.logGroup;
    }

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention, encryptionKey: key });

    // The API, by type (rest-front.ts, http-front.ts) ----------------------

    const front: FrontProps = {
      domainName: props.domainName,
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn),
      ownershipVerificationCertificateArn: props.ownershipVerificationCertificateArn,
      mtls: { bucket: truststore.bucket, key: truststore.key, version: truststore.version },
      stageName: props.stageName ?? 'prod',
      throttle: { rate: props.throttlingRateLimit ?? 100, burst: props.throttlingBurstLimit ?? 200 },
      accessLogGroup: this.accessLogGroup,
      authorizer: this.authorizer,
      resultsCacheTtl: ttl,
      identitySources: props.authorizerIdentitySources,
      apiHandler: this.apiHandler,
      backend: this.backend,
      readingSchemaFile: props.readingSchemaFile,
    };
    const api = apiType === ApiType.REST ? restFront(this, front) : httpFront(this, front);
    this.apiId = api.apiId;
    this.regionalDomainName = api.regionalDomainName;
    this.regionalHostedZoneId = api.regionalHostedZoneId;

    if (props.hostedZone) {
      new route53.ARecord(this, 'Alias', {
        zone: props.hostedZone,
        recordName: props.domainName,
        target: route53.RecordTarget.fromAlias(api.aliasTarget),
      });
    }

    // Alarms and dashboard (docs/monitoring.md) -----------------------------

    this.monitoring = new MtlsMonitoring(this, 'Monitoring', {
      namespace: metricsNamespace,
      authorizer: this.authorizer,
      authorizerLogGroup: this.authorizerLogGroup,
      api: api.metrics,
      thresholds: props.alarmThresholds,
      dashboard: props.dashboard ?? true,
      alarmActions: props.alarmActions ?? [],
    });

    this.explainCheckovSkips(key === undefined, api.restStage);
  }

  /**
   * checkov rules this design does not follow, each with its reason, as
   * inline skips in the synthesized template (zero unexplained failures).
   */
  private explainCheckovSkips(awsManagedEncryption: boolean, restStage?: apigw.Stage): void {
    const functionSkips = [
      { id: 'CKV_AWS_115', comment: 'Reserved concurrency would throttle API Gateway calls; size the account concurrency instead.' },
      { id: 'CKV_AWS_116', comment: 'Invoked synchronously (by API Gateway or CloudFormation); a dead-letter queue never receives anything.' },
      { id: 'CKV_AWS_117', comment: 'Talks to S3, DynamoDB or HTTPS CRLs only; a VPC would add NAT cost and cold-start latency for no isolation gain.' },
      { id: 'CKV_AWS_173', comment: 'The environment holds no secret: public policy configuration, a table name, a number of days.' },
    ];
    for (const c of this.node.findAll()) {
      const res = cfnOf(c);
      if (res?.cfnResourceType === 'AWS::Lambda::Function') {
        addCheckovSkips(res, functionSkips);
      }
    }
    // CDK's singleton functions (the truststore upload and version reader)
    // and their log groups live at stack level.
    for (const c of Stack.of(this).node.findAll()) {
      if (c.node.scopes.includes(this)) {
        continue;
      }
      const res = cfnOf(c);
      if (res?.cfnResourceType === 'AWS::Lambda::Function') {
        addCheckovSkips(res, functionSkips);
      } else if (res?.cfnResourceType === 'AWS::Logs::LogGroup' && awsManagedEncryption) {
        addCheckovSkips(res, [{ id: 'CKV_AWS_158', comment: 'Logs of a CDK deployment helper, with AWS managed encryption unless the encryptionKey prop names a key.' }]);
      }
    }
    if (awsManagedEncryption) {
      const why = 'AWS managed encryption unless the encryptionKey prop names a customer managed key.';
      if (this.table) {
        addCheckovSkips(this.table.node.defaultChild as CfnResource, [{ id: 'CKV_AWS_119', comment: why }]);
      }
      for (const lg of [this.authorizerLogGroup, this.accessLogGroup, ...(this.apiHandlerLogGroup ? [this.apiHandlerLogGroup] : [])]) {
        addCheckovSkips(lg.node.defaultChild as CfnResource, [{ id: 'CKV_AWS_158', comment: why }]);
      }
    }
    if (restStage) {
      addCheckovSkips(restStage.node.defaultChild as CfnResource, [
        { id: 'CKV_AWS_120', comment: "Response caching would serve one device's readings to another." },
        { id: 'CKV_AWS_73', comment: 'X-Ray is left to the caller; the access log carries the request id, certificate serial and authorizer reason.' },
      ]);
    }
    const bucket = this.truststoreBucket.node.defaultChild as s3.CfnBucket;
    addCheckovSkips(bucket, [
      { id: 'CKV_AWS_18', comment: 'Access logging needs a separate log bucket; CloudTrail data events are the recommended audit trail for this one object.' },
    ]);
  }
}

function cfnOf(c: IConstruct): CfnResource | undefined {
  if (c instanceof CfnResource) {
    return c;
  }
  const child = c.node.defaultChild;
  return child instanceof CfnResource ? child : undefined;
}

function addCheckovSkips(res: CfnResource, skips: { id: string; comment: string }[]): void {
  const existing = (res.getMetadata('checkov') as { skip?: { id: string; comment: string }[] } | undefined)?.skip ?? [];
  const ids = new Set(existing.map((s) => s.id));
  res.addMetadata('checkov', { skip: [...existing, ...skips.filter((s) => !ids.has(s.id))] });
}

/** Refuse bad input at synth time, with a message that says what to fix. */
function validate(props: MtlsApiProps): void {
  const known = (s: string) => !Token.isUnresolved(s);
  if (known(props.domainName) && !DNS_NAME.test(props.domainName)) {
    throw new Error(`domainName must be a lower-case DNS name such as api.example.com, not "${props.domainName}"`);
  }
  for (const [name, arn] of [
    ['certificateArn', props.certificateArn],
    ['ownershipVerificationCertificateArn', props.ownershipVerificationCertificateArn],
  ] as const) {
    if (arn !== undefined && known(arn) && !ACM_ARN.test(arn)) {
      throw new Error(`${name} must be an ACM certificate ARN, not "${arn}"`);
    }
  }
  if (
    props.metricsNamespace !== undefined &&
    known(props.metricsNamespace) &&
    (!/^[A-Za-z0-9._/#: -]{1,255}$/.test(props.metricsNamespace) || props.metricsNamespace.startsWith('AWS/'))
  ) {
    throw new Error('metricsNamespace must be 1-255 letters, digits or .-_/#: and space, not starting with AWS/');
  }
  if (props.issuers.length === 0) {
    throw new Error('issuers must hold at least one entry: with none, every request is denied');
  }
  const names = new Set<string>();
  for (const i of props.issuers) {
    if (names.has(i.name)) {
      throw new Error(`issuer names must be unique: "${i.name}" appears twice`);
    }
    names.add(i.name);
    if (Object.keys(i.match).length === 0) {
      throw new Error(`issuer "${i.name}" needs at least one match attribute, such as { CN: 'Devices CA' }`);
    }
    const revocation = i.revocation ?? Revocation.CRL;
    const sources = [i.crl, i.crls, i.crlFromCdp].filter((x) => x !== undefined).length;
    if (revocation === Revocation.NONE && sources > 0) {
      throw new Error(`issuer "${i.name}": revocation: Revocation.NONE contradicts the CRLs it also sets`);
    }
    if (revocation === Revocation.CRL && sources !== 1) {
      throw new Error(
        `issuer "${i.name}" needs crl: "s3://bucket/key" or "https://…", crls: [...], or crlFromCdp: [...] (exactly one; or revocation: Revocation.NONE, knowingly)`,
      );
    }
    for (const uri of crlUris(i)) {
      if (!CRL_URI.test(uri)) {
        throw new Error(`issuer "${i.name}" needs crl URIs "s3://bucket/key" or "https://…", not "${uri}"`);
      }
    }
    if (i.crls !== undefined && (i.crls.length === 0 || i.crls.length > 64 || new Set(i.crls).size !== i.crls.length)) {
      throw new Error(`issuer "${i.name}": crls lists 1 to 64 distinct URIs`);
    }
    if (i.crlFromCdp !== undefined && (i.crlFromCdp.length === 0 || i.crlFromCdp.length > 16)) {
      throw new Error(`issuer "${i.name}": crlFromCdp lists 1 to 16 prefixes`);
    }
    for (const p of i.crlFromCdp ?? []) {
      if (!CDP_PREFIX.test(p.prefix)) {
        throw new Error(
          `issuer "${i.name}": crlFromCdp prefix must be an http:// or https:// URI with a host, ending in "/", not "${p.prefix}"`,
        );
      }
      if (p.fetch !== undefined && !CDP_FETCH.test(p.fetch)) {
        throw new Error(
          `issuer "${i.name}": crlFromCdp fetch must be "s3://bucket/prefix/" or "https://…/", ending in "/", not "${p.fetch}"`,
        );
      }
    }
  }
  const seconds = (d: Duration | undefined) => d?.toSeconds() ?? 0;
  const range = (name: string, v: number, lo: number, hi: number) => {
    if (v < lo || v > hi) {
      throw new Error(`${name} must be from ${lo} to ${hi}, not ${v}`);
    }
  };
  range('authorizerResultTtl (seconds)', seconds(props.authorizerResultTtl), 0, 3600);
  if (props.crlRefresh) range('crlRefresh (seconds)', seconds(props.crlRefresh), 1, 86400);
  if (props.crlGrace) range('crlGrace (seconds)', seconds(props.crlGrace), 0, 604800);
  if (props.maxCdpCrlsPerIssuer !== undefined) range('maxCdpCrlsPerIssuer', props.maxCdpCrlsPerIssuer, 1, 10000);
  if (props.authorizerTimeout) range('authorizerTimeout (seconds)', seconds(props.authorizerTimeout), 3, 30);
  if (props.authorizerMemoryMb !== undefined) range('authorizerMemoryMb', props.authorizerMemoryMb, 128, 10240);
  if (props.apiHandlerMemoryMb !== undefined) range('apiHandlerMemoryMb', props.apiHandlerMemoryMb, 128, 10240);
  if (props.tempsRetentionDays !== undefined) range('tempsRetentionDays', props.tempsRetentionDays, 1, 36500);
  if (props.authorizerIdentitySources !== undefined && props.authorizerIdentitySources.length === 0) {
    throw new Error('authorizerIdentitySources must be omitted (the certificate) or name at least one source');
  }
  if (props.stageName !== undefined && !/^[A-Za-z0-9_]{1,128}$/.test(props.stageName)) {
    throw new Error(`stageName may hold letters, digits and underscores, not "${props.stageName}"`);
  }
  const apiHandler = props.backend === undefined || props.backend.isApiHandler;
  if (apiHandler && props.apiHandlerZip === undefined) {
    throw new Error('apiHandlerZip is required when the backend is the api-handler (the default)');
  }
  for (const [name, file] of [
    ['truststoreFile', props.truststoreFile],
    ['authorizerZip', props.authorizerZip],
    ...(apiHandler ? [['apiHandlerZip', props.apiHandlerZip as string] as const] : []),
  ] as const) {
    if (!fs.existsSync(file)) {
      throw new Error(`${name}: ${file} does not exist (see infra/cdk/README.md for how to build it)`);
    }
  }
}
