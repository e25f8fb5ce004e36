import {
  Aws,
  CfnResource,
  Duration,
  RemovalPolicy,
  Stack,
  aws_apigateway as apigw,
  aws_certificatemanager as acm,
  aws_dynamodb as dynamodb,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_route53 as route53,
  aws_s3 as s3,
} from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';

import { Backend } from './backend';
import { DenyList } from './deny-list';
import { FrontProps } from './front';
import { httpFront } from './http-front';
import { MtlsMonitoring } from './monitoring';
import { restFront } from './rest-front';
import { RustFunction, writeOwnLogs } from './rust-function';
import { TruststoreBucket } from './truststore-bucket';
import { ApiType, MtlsApiProps, TEMPS_TABLE_LAYOUT } from './props';
import { authorizerConfig, crlUris, denyListSettings, perRouteRules, validate } from './validate';

export * from './props';

export { Backend, HttpBackendOptions, PrivateBackend, identityHeaders, underscoreSpellings } from './backend';
export { DenyList, EMPTY_DENY_LIST } from './deny-list';
export { ROUTES } from './front';


/**
 * Mutual TLS for API Gateway, with revocation: a regional custom domain that
 * requires client certificates from a versioned truststore, a REQUEST Lambda
 * authorizer that checks each certificate against its issuer's CRL (or OCSP responder), and the
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
  /**
   * The operator deny list, when `denyList` is set: `uri` for `truststore deny … --list`,
   * `objectArn` for the operators' write grant (see {@link grantDenyListWrite}).
   */
  public readonly denyList?: DenyList;

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

    // The operator deny list, in the same bucket (docs/revoking.md) -------------

    const denyListOptions = denyListSettings(props);
    if (denyListOptions) {
      this.denyList = new DenyList(this, {
        bucket: truststore.bucket,
        key: denyListOptions.key,
        create: denyListOptions.create,
        encryptionKey: key,
      });
    }

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

    // Exactly the S3 CRLs named (bases and deltas), and the objects under each
    // S3 fetch base (deltas found through a base's Freshest CRL extension map
    // through the same prefixes): the issuers' CRLs and the CA CRLs (ARLs) of
    // caRevocation. OCSP responders are asked over HTTP and need no grant.
    const s3Arn = (u: string) => `arn:${Aws.PARTITION}:s3:::${u.slice('s3://'.length)}`;
    const crlSources = [...props.issuers, ...(props.caRevocation ?? [])];
    const crlObjects = [
      ...crlSources
        .flatMap(crlUris)
        .filter((u) => u.startsWith('s3://'))
        .map(s3Arn),
      ...crlSources
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
        AUTHORIZER_CONFIG: Stack.of(this).toJsonString(authorizerConfig(props, truststore.uri, ttl, this.denyList?.uri)),
        METRICS_NAMESPACE: metricsNamespace,
      },
      description: 'mtls-authorizer: client certificate policy and CRL check',
      statements: (logGroup) => [
        new iam.PolicyStatement({
          sid: 'ReadTruststoreAndCrls',
          actions: ['s3:GetObject', 's3:GetObjectVersion'],
          resources: [truststore.bucket.arnForObjects(truststore.key), ...crlObjects],
        }),
        ...(this.denyList ? [this.denyList.readStatement()] : []),
        writeOwnLogs(logGroup),
        ...(key ? [new iam.PolicyStatement({ sid: 'DecryptTruststore', actions: ['kms:Decrypt'], resources: [key.keyArn] })] : []),
      ],
    });
    this.authorizer = authorizer.function;
    this.authorizerLogGroup = authorizer.logGroup;
    // A cold start before the list exists would deny every request until it does.
    if (this.denyList?.creation) {
      this.authorizer.node.addDependency(this.denyList.creation);
    }

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
      perRouteRules: perRouteRules(props),
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
      denyListMaxAge: denyListOptions?.maxAge,
      ocsp: props.issuers.some((i) => i.ocsp !== undefined),
    });

    this.explainCheckovSkips(key === undefined, api.restStage);
  }

  /**
   * Let `grantee` (the operators' role, a revocation pipeline) edit the deny
   * list with `truststore deny` and `truststore revoke`: `s3:GetObject` and
   * `s3:PutObject` on that one object, and the bucket key's `kms:Decrypt` and
   * `kms:GenerateDataKey` with `encryptionKey`. Whoever holds it can deny any
   * device, or empty the list: the list's integrity rests on this grant.
   */
  public grantDenyListWrite(grantee: iam.IGrantable): iam.Grant {
    if (!this.denyList) {
      throw new Error('grantDenyListWrite: this MtlsApi has no deny list (set the denyList prop)');
    }
    return this.denyList.grantWrite(grantee);
  }

  /**
   * checkov rules this design does not follow, each with its reason, as
   * inline skips in the synthesized template (zero unexplained failures).
   */
  private explainCheckovSkips(awsManagedEncryption: boolean, restStage?: apigw.Stage): void {
    const functionSkips = [
      { id: 'CKV_AWS_115', comment: 'Reserved concurrency would throttle API Gateway calls; size the account concurrency instead.' },
      { id: 'CKV_AWS_116', comment: 'Invoked synchronously (by API Gateway or CloudFormation); a dead-letter queue never receives anything.' },
      { id: 'CKV_AWS_117', comment: 'Talks to S3, DynamoDB, HTTPS CRLs or OCSP responders only; a VPC would add NAT cost and cold-start latency for no isolation gain.' },
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
