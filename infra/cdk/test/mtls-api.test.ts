// Assertions on the synthesized template: the invariants that make mutual TLS
// hold, the same ones infra/tests asserts on the Terraform module.
//
// Why about 680 lines: one named assertion per invariant, for both API types and the options,
// sharing the synthesized stacks; they are grouped by describe() blocks.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import {
  App,
  Duration,
  Stack,
  aws_apigateway as apigw,
  aws_ec2 as ec2,
  aws_elasticloadbalancingv2 as elbv2,
  aws_iam as iam,
  aws_kms as kms,
} from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';

import {
  ApiType,
  Backend,
  DeltaCrls,
  EMPTY_DENY_LIST,
  MtlsApi,
  MtlsApiProps,
  OcspHash,
  ROUTES,
  Revocation,
  TEMPS_TABLE_LAYOUT,
  underscoreSpellings,
  RouteRule,
} from '../lib/mtls-api';
import { authorizerConfig as renderConfig, validate } from '../lib/validate';
import { CONFIGS, FIXTURE, logicalIds } from './logical-ids';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/**
 * infra/api-gateway.json, read here as the Terraform module and the local gateway read it: the
 * tests below compare what the construct renders with the file, not with a copy of its values.
 */
const API_GATEWAY = JSON.parse(fs.readFileSync(path.join(ROOT, 'infra', 'api-gateway.json'), 'utf8')) as {
  cache_key_fields: string[];
  access_log_fields: Record<string, string>;
};

/** The default cache key, the certificate fields of api-gateway.json, in each API type's syntax. */
function certificateKey(api: 'rest' | 'http'): string[] {
  return API_GATEWAY.cache_key_fields.map((f) => `${api === 'http' ? '$' : ''}context.identity.clientCert.${f}`);
}

/**
 * A stage's access-log format is api-gateway.json's fields, in the file's order and with its
 * values, then the stage's `own` fields: exactly the string CloudFormation receives.
 */
function assertAccessLogFormat(format: string, own: string[]): void {
  const fields = JSON.parse(format) as Record<string, string>;
  const shared = Object.keys(API_GATEWAY.access_log_fields);
  assert.deepEqual(Object.keys(fields), [...shared, ...own]);
  for (const name of shared) {
    assert.equal(fields[name], API_GATEWAY.access_log_fields[name], name);
  }
}

/** Every fixture directory, removed when the test process ends (synth reads them until then). */
const SCRATCH: string[] = [];
process.once('exit', () => {
  for (const dir of SCRATCH) fs.rmSync(dir, { recursive: true, force: true });
});

/** Placeholder inputs, generated per run: the construct only hashes and packages them. */
function fixtures(truststore = 'placeholder truststore\n'): { truststoreFile: string; zip: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-cdk-'));
  SCRATCH.push(dir);
  const truststoreFile = path.join(dir, 'truststore.pem');
  fs.writeFileSync(truststoreFile, truststore);
  // Code.fromAsset accepts a directory as well as a zip; a directory keeps
  // the fixture free of a zip writer.
  const zip = path.join(dir, 'function');
  fs.mkdirSync(zip);
  fs.writeFileSync(path.join(zip, 'bootstrap'), '#!/bin/sh\n');
  return { truststoreFile, zip };
}

function props(overrides: Partial<MtlsApiProps> = {}, truststore?: string): MtlsApiProps {
  const f = fixtures(truststore);
  return {
    domainName: 'api.example.com',
    certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
    truststoreFile: f.truststoreFile,
    authorizerZip: f.zip,
    apiHandlerZip: f.zip,
    issuers: [{ name: 'devices', match: { CN: 'Devices CA' }, crl: 's3://pki-bucket/devices.crl' }],
    ...overrides,
  };
}

function synth(overrides: Partial<MtlsApiProps> = {}, truststore?: string): { template: Template; api: MtlsApi } {
  const app = new App();
  const stack = new Stack(app, 'Test');
  const api = new MtlsApi(stack, 'MtlsApi', props(overrides, truststore));
  return { template: Template.fromStack(stack), api };
}

function only<T>(record: Record<string, T>): T {
  const values = Object.values(record);
  assert.equal(values.length, 1, `expected exactly one resource, got ${values.length}`);
  return values[0] as T;
}

type Resource = { Properties: Record<string, any>; Metadata?: Record<string, any> };

/** Two issuers with per-route rules: devices may write readings and ask who they are; ops, anything. */
const ROUTED_ISSUERS = [
  {
    name: 'devices',
    match: { CN: 'Devices CA' },
    crl: 's3://pki-bucket/devices.crl',
    routes: [
      { method: 'POST', path: '/temps' },
      { method: 'GET', path: '/whoami' },
    ],
  },
  { name: 'ops', match: { CN: 'Ops CA' }, crl: 's3://pki-bucket/ops.crl', routes: [{ method: '*', path: '/*' }] },
];

/** One issuer with these routes. */
function routed(routes: RouteRule[]): MtlsApiProps['issuers'] {
  return [{ name: 'devices', match: { CN: 'Devices CA' }, crl: 's3://pki-bucket/devices.crl', routes }];
}

function authorizerConfig(template: Template): Record<string, any> {
  const fns = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { AUTHORIZER_CONFIG: Match.anyValue() } } },
  });
  const env = (only(fns) as Resource).Properties.Environment.Variables.AUTHORIZER_CONFIG;
  // Tokens (the bucket name) make it an Fn::Join; the rest is literal JSON.
  const text = typeof env === 'string' ? env : env['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return JSON.parse(text);
}

/** The IAM policy statements attached to the role of the function whose id contains `fn`. */
function roleStatements(template: Template, fn: string): any[] {
  const fns = template.findResources('AWS::Lambda::Function');
  const [, f] = Object.entries(fns).find(([id]) => id.startsWith(`MtlsApi${fn}`)) as [string, Resource];
  const roleId = f.Properties.Role['Fn::GetAtt'][0];
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => (p as Resource).Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap((p) => (p as Resource).Properties.PolicyDocument.Statement);
}

describe('REST API (the default)', () => {
  const { template } = synth();

  it('execute_api_endpoint_is_disabled', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      DisableExecuteApiEndpoint: true,
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
  });

  it('domain_requires_tls_1_2_and_pins_the_uploaded_truststore_version', () => {
    const domain = only(template.findResources('AWS::ApiGateway::DomainName')) as Resource;
    assert.equal(domain.Properties.SecurityPolicy, 'TLS_1_2');
    assert.deepEqual(domain.Properties.EndpointConfiguration, { Types: ['REGIONAL'] });
    const version = domain.Properties.MutualTlsAuthentication.TruststoreVersion;
    assert.equal(version['Fn::GetAtt'][1], 'VersionId');
    const reader = template.findResources('Custom::TruststoreVersion');
    assert.ok(version['Fn::GetAtt'][0] in reader, 'the version comes from the read-back of the uploaded object');
    template.resourceCountIs('Custom::CDKBucketDeployment', 1);
    template.resourceCountIs('AWS::ApiGateway::BasePathMapping', 1);
  });

  it('a_changed_truststore_file_updates_the_pinned_version', () => {
    const hash = (t: Template) => (only(t.findResources('Custom::TruststoreVersion')) as Resource).Properties.TruststoreSha256;
    const a = hash(synth({}, 'one\n').template);
    const b = hash(synth({}, 'two\n').template);
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.notEqual(a, b);
  });

  it('truststore_bucket_is_versioned_private_encrypted_and_tls_only', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: Match.objectLike({}),
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 90, NewerNoncurrentVersions: 10 } })],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('every_method_uses_the_request_authorizer', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as Resource[];
    assert.deepEqual(
      methods.map((m) => m.Properties.HttpMethod).sort(),
      ROUTES.map((r) => r.method).sort(),
    );
    const authorizerId = Object.keys(template.findResources('AWS::ApiGateway::Authorizer'))[0];
    for (const m of methods) {
      assert.equal(m.Properties.AuthorizationType, 'CUSTOM');
      assert.deepEqual(m.Properties.AuthorizerId, { Ref: authorizerId });
    }
  });

  it('routes_are_the_api_handlers_routes', () => {
    const app = fs.readFileSync(path.join(ROOT, 'api-handler', 'src', 'app.rs'), 'utf8');
    const table = /const ROUTES: [^=]+= &\[(.*?)\];/s.exec(app)?.[1] ?? '';
    const handled = [...table.matchAll(/\("\/(\w+)", &\[([^\]]*)\]\)/g)].flatMap(([, p, ms]) =>
      [...(ms ?? '').matchAll(/"(\w+)"/g)].map(([, m]) => `${m} ${p}`),
    );
    assert.ok(handled.length > 0, 'the api-handler route table was found');
    assert.deepEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort(), handled.sort());
  });

  it('authorizer_is_a_request_authorizer_with_ttl_zero_and_no_identity_source', () => {
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      AuthorizerResultTtlInSeconds: 0,
      IdentitySource: '',
    });
    assert.equal(authorizerConfig(template).policy_resource, 'method');
  });

  it('authorizer_config_is_rendered_from_the_props', () => {
    const config = authorizerConfig(template);
    assert.equal(config.truststore, 's3://TOKEN/truststore.pem');
    assert.deepEqual(config.issuers, [{ name: 'devices', match: { CN: 'Devices CA' }, crl: 's3://pki-bucket/devices.crl' }]);
    assert.equal(config.crl_refresh_seconds, 300);
    assert.equal(config.crl_grace_seconds, 3600);
    assert.equal(config.max_cdp_crls_per_issuer, 64);
  });

  it('authorizer_role_reads_only_the_truststore_and_crl_objects', () => {
    const statements = roleStatements(template, 'Authorizer');
    const actions = statements.flatMap((s) => [s.Action].flat()).sort();
    assert.deepEqual(actions, ['logs:CreateLogStream', 'logs:PutLogEvents', 's3:GetObject', 's3:GetObjectVersion']);
    const text = JSON.stringify(statements);
    assert.doesNotMatch(text, /"Resource":"\*"|"\*"\]/);
    assert.match(text, /pki-bucket\/devices\.crl/);
    assert.match(text, /\/truststore\.pem/);
    // No AWSLambdaBasicExecutionRole on either function: it grants logs on "*".
    const fns = template.findResources('AWS::Lambda::Function');
    const ours = Object.entries(fns).filter(([id]) => /^MtlsApi(Authorizer|ApiHandler)[0-9A-F]{8}$/.test(id));
    assert.equal(ours.length, 2);
    const roles = template.findResources('AWS::IAM::Role');
    for (const [, f] of ours) {
      const role = roles[(f as Resource).Properties.Role['Fn::GetAtt'][0]] as Resource;
      assert.equal(role.Properties.ManagedPolicyArns, undefined);
    }
  });

  it('api_handler_gets_only_the_dynamodb_actions_it_uses_on_its_table', () => {
    const statements = roleStatements(template, 'ApiHandler');
    const dynamo = statements.find((s) => s.Sid === 'Readings');
    assert.deepEqual([dynamo.Action].flat().sort(), ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    assert.equal(dynamo.Resource['Fn::GetAtt'][1], 'Arn');
    assert.match(dynamo.Resource['Fn::GetAtt'][0], /^MtlsApiTemps/);
  });

  it('table_matches_the_api_handler_layout', () => {
    const src = fs.readFileSync(path.join(ROOT, 'api-handler', 'src', 'store', 'dynamo.rs'), 'utf8');
    const consts = Object.fromEntries([...src.matchAll(/pub const (\w+): &str = "(\w+)";/g)].map(([, k, v]) => [k, v]));
    assert.equal(TEMPS_TABLE_LAYOUT.partitionKey, consts.PARTITION_KEY);
    assert.equal(TEMPS_TABLE_LAYOUT.sortKey, consts.SORT_KEY);
    assert.equal(TEMPS_TABLE_LAYOUT.ttlAttribute, consts.TTL_ATTRIBUTE);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: consts.PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: consts.SORT_KEY, KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: consts.TTL_ATTRIBUTE, Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('post_body_is_validated_with_the_api_handler_schema', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'api-handler', 'schema', 'temperature.json'), 'utf8'));
    template.hasResourceProperties('AWS::ApiGateway::Model', { ContentType: 'application/json', Schema: schema });
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      RequestValidatorId: Match.anyValue(),
      RequestModels: { 'application/json': Match.anyValue() },
    });
  });

  it('denials_and_access_logs_carry_the_reason_and_serial', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'ACCESS_DENIED',
      StatusCode: '403',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('\\$context\\.authorizer\\.reason') },
    });
    const stage = only(template.findResources('AWS::ApiGateway::Stage')) as Resource;
    const format = stage.Properties.AccessLogSetting.Format as string;
    assert.match(format, /\$context\.identity\.clientCert\.serialNumber/);
    assert.match(format, /\$context\.authorizer\.reason/);
    assertAccessLogFormat(format, [
      'extendedRequestId',
      'resourcePath',
      'authorizerStatus',
      'authorizerLatency',
      'integrationStatus',
      'validationError',
    ]);
    assert.equal(stage.Properties.MethodSettings[0].CachingEnabled, false);
  });

  it('functions_are_arm64_on_provided_al2023_and_logs_are_retained', () => {
    const fns = template.findResources('AWS::Lambda::Function', { Properties: { Runtime: 'provided.al2023' } });
    assert.equal(Object.keys(fns).length, 2);
    for (const f of Object.values(fns) as Resource[]) {
      assert.deepEqual(f.Properties.Architectures, ['arm64']);
      assert.equal(f.Properties.Handler, 'bootstrap');
    }
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')) as Resource[];
    assert.equal(groups.length, 3);
    for (const g of groups) {
      assert.equal(g.Properties.RetentionInDays, 365);
    }
  });

  it('checkov_skips_carry_a_reason', () => {
    for (const r of Object.values(template.toJSON().Resources) as Resource[]) {
      for (const skip of r.Metadata?.checkov?.skip ?? []) {
        assert.match(skip.id, /^CKV2?_AWS_\d+$/);
        assert.ok(skip.comment.length > 20, `${skip.id} needs a reason`);
      }
    }
  });
});

describe('authorizer result caching', () => {
  it('a_cache_is_keyed_by_the_client_certificate_and_covers_the_stage', () => {
    const { template } = synth({ authorizerResultTtl: Duration.seconds(60) });
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      AuthorizerResultTtlInSeconds: 60,
      IdentitySource: certificateKey('rest').join(','),
    });
    assert.equal(authorizerConfig(template).policy_resource, 'stage');
  });

  it('the_http_api_cache_uses_the_http_syntax', () => {
    const { template } = synth({ apiType: ApiType.HTTP, authorizerResultTtl: Duration.seconds(60) });
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerResultTtlInSeconds: 60,
      IdentitySource: certificateKey('http'),
    });
  });

  it('an_http_api_cache_with_per_route_rules_is_keyed_by_the_route_too', () => {
    // A simple response answers for the route that was asked: one route's `true` must not
    // answer for another.
    const { template } = synth({ apiType: ApiType.HTTP, authorizerResultTtl: Duration.seconds(60), issuers: ROUTED_ISSUERS });
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerResultTtlInSeconds: 60,
      IdentitySource: [...certificateKey('http'), '$context.routeKey'],
    });
    const own = synth({
      apiType: ApiType.HTTP,
      authorizerResultTtl: Duration.seconds(60),
      issuers: ROUTED_ISSUERS,
      authorizerIdentitySources: ['$context.identity.clientCert.serialNumber', '$context.routeKey'],
    });
    own.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      IdentitySource: ['$context.identity.clientCert.serialNumber', '$context.routeKey'],
    });
  });

  it('a_rest_cache_with_per_route_rules_keeps_the_certificate_key_and_a_stage_wide_policy', () => {
    // The REST authorizer answers with a policy that lists every rule of the entry, so the one
    // cached policy is right for every route (authorizer/src/lambda/events.rs, policy_for).
    const { template } = synth({ authorizerResultTtl: Duration.seconds(60), issuers: ROUTED_ISSUERS });
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      IdentitySource: certificateKey('rest').join(','),
    });
    const config = authorizerConfig(template);
    assert.equal(config.policy_resource, 'stage');
    assert.deepEqual(config.issuers[0].routes, ROUTED_ISSUERS[0].routes);
  });
});

describe('HTTP API (apiType: ApiType.HTTP)', () => {
  const { template } = synth({ apiType: ApiType.HTTP });

  it('execute_api_endpoint_is_disabled_and_no_rest_api_exists', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP', DisableExecuteApiEndpoint: true });
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
  });

  it('every_route_uses_the_authorizer_with_simple_responses', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')) as Resource[];
    assert.deepEqual(routes.map((r) => r.Properties.RouteKey).sort(), ROUTES.map((r) => `${r.method} /${r.path}`).sort());
    for (const r of routes) {
      assert.equal(r.Properties.AuthorizationType, 'CUSTOM');
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      AuthorizerResultTtlInSeconds: 0,
      IdentitySource: [],
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
  });

  it('domain_requires_tls_1_2_and_pins_the_uploaded_truststore_version', () => {
    const domain = only(template.findResources('AWS::ApiGatewayV2::DomainName')) as Resource;
    assert.deepEqual(domain.Properties.DomainNameConfigurations[0].SecurityPolicy, 'TLS_1_2');
    assert.deepEqual(domain.Properties.DomainNameConfigurations[0].EndpointType, 'REGIONAL');
    assert.equal(domain.Properties.MutualTlsAuthentication.TruststoreVersion['Fn::GetAtt'][1], 'VersionId');
    template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
  });

  it('access_logs_carry_the_serial_and_reason', () => {
    const stage = only(template.findResources('AWS::ApiGatewayV2::Stage')) as Resource;
    assert.match(stage.Properties.AccessLogSettings.Format, /\$context\.identity\.clientCert\.serialNumber/);
    assert.match(stage.Properties.AccessLogSettings.Format, /\$context\.authorizer\.reason/);
    assertAccessLogFormat(stage.Properties.AccessLogSettings.Format, ['routeKey', 'integrationError']);
    assert.equal(stage.Properties.AutoDeploy, true);
  });
});

describe('optional parts', () => {
  it('ownership_verification_certificate_reaches_both_domain_types', () => {
    const arn = 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
    synth({ ownershipVerificationCertificateArn: arn }).template.hasResourceProperties('AWS::ApiGateway::DomainName', {
      OwnershipVerificationCertificateArn: arn,
    });
    synth({ apiType: ApiType.HTTP, ownershipVerificationCertificateArn: arn }).template.hasResourceProperties(
      'AWS::ApiGatewayV2::DomainName',
      { DomainNameConfigurations: [Match.objectLike({ OwnershipVerificationCertificateArn: arn })] },
    );
  });

  it('crl_lists_and_crl_from_cdp_reach_the_config_and_the_read_policy', () => {
    const { template } = synth({
      issuers: [
        { name: 'rolled', match: { CN: 'Rolled CA' }, crls: ['s3://pki-bucket/key1.crl', 'https://crl.example.com/key2.crl'] },
        {
          name: 'private-ca',
          match: { CN: 'Private CA' },
          crlFromCdp: [{ prefix: 'http://crl.example.com/crl/', fetch: 's3://pca-crls/crl/' }, { prefix: 'https://pki.example.org/' }],
        },
      ],
      maxCdpCrlsPerIssuer: 200,
    });
    const config = authorizerConfig(template);
    assert.deepEqual(config.issuers, [
      { name: 'rolled', match: { CN: 'Rolled CA' }, crl: ['s3://pki-bucket/key1.crl', 'https://crl.example.com/key2.crl'] },
      {
        name: 'private-ca',
        match: { CN: 'Private CA' },
        crl_from_cdp: [{ prefix: 'http://crl.example.com/crl/', fetch: 's3://pca-crls/crl/' }, { prefix: 'https://pki.example.org/' }],
      },
    ]);
    assert.equal(config.max_cdp_crls_per_issuer, 200);
    const text = JSON.stringify(roleStatements(template, 'Authorizer'));
    assert.match(text, /pki-bucket\/key1\.crl/);
    // The objects under the fetch base, never the whole bucket.
    assert.match(text, /pca-crls\/crl\/\*/);
    assert.doesNotMatch(text, /pca-crls\/\*/);
  });

  it('delta_crls_and_ocsp_reach_the_config_and_delta_crls_the_read_policy', () => {
    const { template } = synth({
      issuers: [
        {
          name: 'ad-cs',
          match: { CN: 'Corp Issuing CA' },
          crl: 's3://pki-bucket/corp.crl',
          deltaCrl: 's3://pki-bucket/corp+.crl',
          ocsp: { responder: 'http://ocsp.corp.example.com/ocsp', cache: Duration.minutes(10) },
        },
        {
          name: 'partner',
          match: { O: 'Partner' },
          ocsp: {
            respondersFromAia: [{ prefix: 'http://ocsp.partner.example/' }, { prefix: 'http://ocsp2.partner.example/', fetch: 'https://proxy.example.com/p2/' }],
            timeout: Duration.millis(1500),
            maxEntries: 500,
            retry: Duration.minutes(1),
            hash: OcspHash.SHA1,
          },
        },
        {
          name: 'private-ca',
          match: { CN: 'PCA' },
          crlFromCdp: [{ prefix: 'http://crl.example.com/crl/', fetch: 's3://pca-crls/crl/' }],
          delta: DeltaCrls.IGNORE,
        },
      ],
      caRevocation: [{ name: 'root', match: { CN: 'Root' }, crls: ['s3://pki-bucket/root.crl'], deltaCrls: ['s3://pki-bucket/root+.crl'] }],
    });
    const config = authorizerConfig(template);
    assert.deepEqual(config.issuers, [
      {
        name: 'ad-cs',
        match: { CN: 'Corp Issuing CA' },
        crl: 's3://pki-bucket/corp.crl',
        delta_crl: 's3://pki-bucket/corp+.crl',
        ocsp: { responder: 'http://ocsp.corp.example.com/ocsp', cache_seconds: 600, timeout_ms: 2000, max_entries: 10000, retry_seconds: 30, hash: 'sha256' },
      },
      {
        name: 'partner',
        match: { O: 'Partner' },
        ocsp: {
          responders_from_aia: [{ prefix: 'http://ocsp.partner.example/' }, { prefix: 'http://ocsp2.partner.example/', fetch: 'https://proxy.example.com/p2/' }],
          cache_seconds: 300,
          timeout_ms: 1500,
          max_entries: 500,
          retry_seconds: 60,
          hash: 'sha1',
        },
      },
      {
        name: 'private-ca',
        match: { CN: 'PCA' },
        crl_from_cdp: [{ prefix: 'http://crl.example.com/crl/', fetch: 's3://pca-crls/crl/' }],
        delta: 'ignore',
      },
    ]);
    assert.deepEqual(config.ca_revocation, [
      { name: 'root', match: { CN: 'Root' }, crl: ['s3://pki-bucket/root.crl'], delta_crl: ['s3://pki-bucket/root+.crl'] },
    ]);
    const text = JSON.stringify(roleStatements(template, 'Authorizer'));
    assert.match(text, /pki-bucket\/corp\+\.crl/);
    assert.match(text, /pki-bucket\/root\+\.crl/);
    // OCSP needs no grant: the responders are asked over HTTP.
    assert.doesNotMatch(text, /ocsp/);
    // With OCSP, the dashboard shows the exchanges, their latency and the cache hits.
    const body = dashboardBody(template);
    for (const what of ['OCSP exchanges by result', 'OCSP exchange latency', 'OcspRequests', 'OcspLatency', 'OcspCacheHits']) {
      assert.ok(body.includes(what), what);
    }
  });

  it('per_route_rules_reach_the_config_as_given_and_no_routes_means_every_route', () => {
    const { template } = synth({ issuers: ROUTED_ISSUERS });
    const config = authorizerConfig(template);
    assert.deepEqual(config.issuers, [
      {
        name: 'devices',
        match: { CN: 'Devices CA' },
        crl: 's3://pki-bucket/devices.crl',
        routes: [
          { method: 'POST', path: '/temps' },
          { method: 'GET', path: '/whoami' },
        ],
      },
      { name: 'ops', match: { CN: 'Ops CA' }, crl: 's3://pki-bucket/ops.crl', routes: [{ method: '*', path: '/*' }] },
    ]);
    // Without `routes`, the key is left out: the authorizer then allows every route.
    assert.ok(!('routes' in authorizerConfig(synth().template).issuers[0]));
  });

  it('an_issuer_without_revocation_is_rendered_knowingly', () => {
    const { template } = synth({
      issuers: [{ name: 'lab', match: { O: 'Lab' }, revocation: Revocation.NONE }],
    });
    assert.deepEqual(authorizerConfig(template).issuers, [{ name: 'lab', match: { O: 'Lab' }, revocation: 'none' }]);
  });
});

describe('bad input is refused at synth time', () => {
  const cases: [string, Partial<MtlsApiProps>, RegExp][] = [
    ['empty_issuer_list', { issuers: [] }, /at least one entry/],
    ['crl_uri_that_is_not_s3_or_https', { issuers: [{ name: 'x', match: { CN: 'X' }, crl: 'ftp://x/y' }] }, /needs crl/],
    ['issuer_without_a_crl', { issuers: [{ name: 'x', match: { CN: 'X' } }] }, /needs crl/],
    ['issuer_with_crl_and_crls', {
      issuers: [{ name: 'x', match: { CN: 'X' }, crl: 'https://x/crl', crls: ['https://y/crl'] }],
    }, /exactly one/],
    ['crl_list_with_a_duplicate', {
      issuers: [{ name: 'x', match: { CN: 'X' }, crls: ['https://x/crl', 'https://x/crl'] }],
    }, /distinct/],
    ['crl_from_cdp_prefix_not_ending_at_a_path', {
      issuers: [{ name: 'x', match: { CN: 'X' }, crlFromCdp: [{ prefix: 'http://crl.example.com' }] }],
    }, /prefix/],
    ['crl_from_cdp_fetch_of_a_whole_bucket_without_slash', {
      issuers: [{ name: 'x', match: { CN: 'X' }, crlFromCdp: [{ prefix: 'http://crl.example.com/', fetch: 's3://bucket' }] }],
    }, /fetch/],
    ['revocation_none_with_a_crl', {
      issuers: [{ name: 'x', match: { CN: 'X' }, crl: 'https://x/crl', revocation: Revocation.NONE }],
    }, /contradicts/],
    ['max_cdp_crls_of_zero', { maxCdpCrlsPerIssuer: 0 }, /maxCdpCrlsPerIssuer/],
    ['issuer_with_ocsp_and_revocation_none', {
      issuers: [{ name: 'x', match: { CN: 'X' }, revocation: Revocation.NONE, ocsp: { responder: 'http://ocsp.example.com/' } }],
    }, /contradicts/],
    ['delta_crl_without_a_base_crl', {
      issuers: [{ name: 'x', match: { CN: 'X' }, crlFromCdp: [{ prefix: 'http://crl.example.com/' }], deltaCrl: 'https://x/delta.crl' }],
    }, /beside crl or crls/],
    ['delta_crl_with_delta_ignore', {
      issuers: [{ name: 'x', match: { CN: 'X' }, crl: 'https://x/crl', deltaCrl: 'https://x/delta.crl', delta: DeltaCrls.IGNORE }],
    }, /contradicts/],
    ['delta_crl_that_is_also_a_base', {
      issuers: [{ name: 'x', match: { CN: 'X' }, crls: ['https://x/crl', 'https://y/crl'], deltaCrls: ['https://y/crl'] }],
    }, /none of them also a base/],
    ['delta_crl_over_http', {
      issuers: [{ name: 'x', match: { CN: 'X' }, crl: 'https://x/crl', deltaCrl: 'http://x/delta.crl' }],
    }, /crl URIs/],
    ['ocsp_with_two_responder_sources', {
      issuers: [{ name: 'x', match: { CN: 'X' }, ocsp: { responder: 'http://ocsp.example.com/', respondersFromAia: [{ prefix: 'http://ocsp.example.com/' }] } }],
    }, /exactly one/],
    ['ocsp_without_a_responder', { issuers: [{ name: 'x', match: { CN: 'X' }, ocsp: {} }] }, /exactly one/],
    ['ocsp_responder_that_is_not_http', {
      issuers: [{ name: 'x', match: { CN: 'X' }, ocsp: { responder: 's3://bucket/ocsp' } }],
    }, /ocsp.responder/],
    ['ocsp_aia_prefix_not_ending_at_a_path', {
      issuers: [{ name: 'x', match: { CN: 'X' }, ocsp: { respondersFromAia: [{ prefix: 'http://ocsp.example.com' }] } }],
    }, /respondersFromAia prefix/],
    ['ocsp_timeout_under_50_ms', {
      issuers: [{ name: 'x', match: { CN: 'X' }, ocsp: { responder: 'http://ocsp.example.com/', timeout: Duration.millis(10) } }],
    }, /ocsp.timeout/],
    ['ocsp_cache_over_a_day', {
      issuers: [{ name: 'x', match: { CN: 'X' }, ocsp: { responder: 'http://ocsp.example.com/', cache: Duration.days(2) } }],
    }, /ocsp.cache/],
    ['ocsp_max_entries_of_zero', {
      issuers: [{ name: 'x', match: { CN: 'X' }, ocsp: { responder: 'http://ocsp.example.com/', maxEntries: 0 } }],
    }, /ocsp.maxEntries/],
    ['ca_revocation_delta_crl_without_a_base_crl', {
      caRevocation: [{ name: 'root', match: { CN: 'Root' }, crlFromCdp: [{ prefix: 'http://crl.example.com/' }], deltaCrl: 's3://pki-bucket/root+.crl' }],
    }, /beside crl or crls/],
    ['duplicate_issuer_names', {
      issuers: [
        { name: 'x', match: { CN: 'X' }, crl: 'https://x/crl' },
        { name: 'x', match: { CN: 'Y' }, crl: 'https://y/crl' },
      ],
    }, /unique/],
    ['ttl_over_an_hour', { authorizerResultTtl: Duration.hours(2) }, /authorizerResultTtl/],
    ['upper_case_domain', { domainName: 'API.example.com' }, /domainName/],
    ['certificate_arn_that_is_not_acm', { certificateArn: 'arn:aws:iam::123456789012:server-certificate/x' }, /certificateArn/],
    ['missing_authorizer_zip', { authorizerZip: '/nonexistent/bootstrap.zip' }, /authorizerZip/],
    ['timeout_over_api_gateway_limit', { authorizerTimeout: Duration.seconds(31) }, /authorizerTimeout/],
    ['deny_list_max_age_below_its_refresh', { denyList: { refresh: Duration.minutes(2), maxAge: Duration.minutes(1) } }, /maxAge must be at least/],
    ['deny_list_refresh_over_an_hour', { denyList: { refresh: Duration.hours(2), maxAge: Duration.hours(3) } }, /denyList.refresh/],
    ['deny_list_max_age_over_a_week', { denyList: { maxAge: Duration.days(8) } }, /denyList.maxAge/],
    ['deny_list_at_the_truststore_key', { denyList: { key: 'truststore.pem' } }, /differ from truststoreKey/],
    ['deny_list_key_with_a_leading_slash', { denyList: { key: '/deny-list.json' } }, /denyList.key/],
    ['deny_list_stale_alarm_past_max_age', {
      denyList: { maxAge: Duration.seconds(100) },
      alarmThresholds: { denyListStale: Duration.seconds(120) },
    }, /denyListStale/],
    ['ca_revocation_without_a_crl', { caRevocation: [{ name: 'root', match: { CN: 'Root' } }] }, /exactly one/],
    ['ca_revocation_with_an_ftp_crl', { caRevocation: [{ name: 'root', match: { CN: 'Root' }, crl: 'ftp://x/root.arl' }] }, /crl URIs/],
    ['ca_revocation_without_a_match', { caRevocation: [{ name: 'root', match: {}, crl: 's3://pki-bucket/root.arl' }] }, /match attribute/],
    ['duplicate_ca_revocation_names', {
      caRevocation: [
        { name: 'root', match: { CN: 'Root' }, crl: 's3://pki-bucket/root.arl' },
        { name: 'root', match: { CN: 'Other Root' }, crl: 's3://pki-bucket/other.arl' },
      ],
    }, /unique/],
    ['an_empty_route_list', { issuers: routed([]) }, /list 1 to 64 routes/],
    ['65_routes', { issuers: routed(Array.from({ length: 65 }, (_, n) => ({ method: 'GET', path: `/r${n}` }))) }, /list 1 to 64 routes/],
    ['a_lower_case_route_method', { issuers: routed([{ method: 'get', path: '/temps' }]) }, /route method "get" is not one of/],
    ['an_unknown_route_method', { issuers: routed([{ method: 'FETCH', path: '/temps' }]) }, /route method "FETCH"/],
    ['a_route_path_without_a_leading_slash', { issuers: routed([{ method: 'GET', path: 'temps' }]) }, /route path "temps" must start with/],
    ['a_route_path_with_a_star_inside', { issuers: routed([{ method: 'GET', path: '/temps/*/x' }]) }, /route path/],
    ['a_route_path_with_a_dot_dot_segment', { issuers: routed([{ method: 'GET', path: '/a/../b' }]) }, /route path/],
    ['a_route_path_with_a_star_not_after_a_slash', { issuers: routed([{ method: 'GET', path: '/a*' }]) }, /route path/],
    ['a_route_path_with_a_trailing_slash', { issuers: routed([{ method: 'GET', path: '/temps/' }]) }, /route path/],
    ['a_route_path_with_a_percent_escape', { issuers: routed([{ method: 'GET', path: '/a%2fb' }]) }, /route path/],
    ['a_route_path_over_256_characters', { issuers: routed([{ method: 'GET', path: `/${'a'.repeat(256)}` }]) }, /route path/],
    ['the_same_route_twice', {
      issuers: routed([{ method: 'GET', path: '/temps' }, { method: 'GET', path: '/temps' }]),
    }, /"GET \/temps" overlaps "GET \/temps"/],
    ['a_method_and_star_on_one_path', {
      issuers: routed([{ method: 'GET', path: '/temps' }, { method: '*', path: '/temps' }]),
    }, /overlaps/],
    ['a_path_below_a_prefix_of_another_rule', {
      issuers: routed([{ method: '*', path: '/admin/*' }, { method: 'GET', path: '/admin/users' }]),
    }, /"GET \/admin\/users" overlaps "\* \/admin\/\*"/],
    ['nested_prefixes', {
      issuers: routed([{ method: 'GET', path: '/admin/users/*' }, { method: 'GET', path: '/admin/*' }]),
    }, /overlaps/],
    ['an_http_api_cache_with_routes_behind_an_http_backend', {
      apiType: ApiType.HTTP,
      backend: Backend.http('https://orders.example.com'),
      apiHandlerZip: undefined,
      authorizerResultTtl: Duration.seconds(60),
      issuers: ROUTED_ISSUERS,
    }, /\$default route has the same route key for every path/],
    ['an_http_api_cache_with_routes_keyed_without_the_route', {
      apiType: ApiType.HTTP,
      authorizerResultTtl: Duration.seconds(60),
      authorizerIdentitySources: ['$context.identity.clientCert.serialNumber'],
      issuers: ROUTED_ISSUERS,
    }, /add "\$context.routeKey" to authorizerIdentitySources/],
  ];
  for (const [name, overrides, message] of cases) {
    it(`${name}_is_refused`, () => {
      assert.throws(() => synth(overrides), message);
    });
  }
});

describe('per-route rules, as the authorizer reads them (--check-config)', () => {
  // The authorizer binary: AUTHORIZER_BIN (infra/check builds it and sets it), or the debug
  // build when there is one. Without either, these skip and say so.
  const bin = process.env.AUTHORIZER_BIN ?? path.join(ROOT, 'target', 'debug', 'authorizer');
  const skip = process.env.AUTHORIZER_BIN === undefined && !fs.existsSync(bin) ? 'no authorizer binary: set AUTHORIZER_BIN, or cargo build -p authorizer' : false;

  /** The authorizer's verdict on the configuration the construct renders from `props`. */
  function checkConfig(p: MtlsApiProps): { ok: boolean; out: string } {
    assert.ok(fs.existsSync(bin), `AUTHORIZER_BIN ${bin} does not exist`);
    const config = renderConfig(p, 's3://example-truststore-bucket/truststore.pem', p.authorizerResultTtl ?? Duration.seconds(0));
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-cdk-config-')), 'authorizer.json');
    SCRATCH.push(path.dirname(file));
    fs.writeFileSync(file, JSON.stringify(config));
    const run = spawnSync(bin, ['--check-config', file], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    assert.ok(run.status === 0 || run.status === 1, `--check-config exited ${run.status}: ${run.stderr}`);
    return { ok: run.status === 0, out: run.stdout + run.stderr };
  }

  it('the_rendered_configuration_with_routes_passes_the_authorizers_check', { skip }, () => {
    for (const ttl of [Duration.seconds(0), Duration.seconds(60)]) {
      const verdict = checkConfig(props({ issuers: ROUTED_ISSUERS, authorizerResultTtl: ttl }));
      assert.ok(verdict.ok, verdict.out);
      assert.match(verdict.out, /^valid: /);
      assert.match(verdict.out, ttl.toSeconds() > 0 ? /policy resource stage/ : /policy resource method/);
    }
  });

  it('the_construct_refuses_exactly_the_route_lists_the_authorizer_refuses', { skip }, () => {
    const lists: RouteRule[][] = [
      [{ method: 'POST', path: '/temps' }, { method: 'GET', path: '/temps' }, { method: 'GET', path: '/whoami' }],
      [{ method: '*', path: '/*' }],
      [{ method: 'GET', path: '/' }, { method: 'GET', path: '/admin' }, { method: 'GET', path: '/admin/*' }],
      [{ method: '*', path: '/a/*' }, { method: '*', path: '/ab/*' }, { method: 'HEAD', path: '/x.y/~z_-' }, { method: 'OPTIONS', path: '/...' }],
      [{ method: 'GET', path: '/*' }, { method: 'POST', path: '/*' }],
      [{ method: 'GET', path: `/${'a'.repeat(255)}` }],
      Array.from({ length: 64 }, (_, n) => ({ method: 'GET', path: `/r${n}` })),
      Array.from({ length: 65 }, (_, n) => ({ method: 'GET', path: `/r${n}` })),
      [],
      [{ method: 'get', path: '/temps' }],
      [{ method: 'FETCH', path: '/temps' }],
      [{ method: 'GET', path: 'temps' }],
      [{ method: 'GET', path: '/temps/' }],
      [{ method: 'GET', path: '/temps/*/x' }],
      [{ method: 'GET', path: '/a/../b' }],
      [{ method: 'GET', path: '/a/./b' }],
      [{ method: 'GET', path: '/a//b' }],
      [{ method: 'GET', path: '/a*' }],
      [{ method: 'GET', path: '/a%2e' }],
      [{ method: 'GET', path: `/${'a'.repeat(256)}` }],
      [{ method: 'GET', path: '/temps' }, { method: 'GET', path: '/temps' }],
      [{ method: 'GET', path: '/temps' }, { method: '*', path: '/temps' }],
      [{ method: '*', path: '/admin/*' }, { method: 'GET', path: '/admin/users' }],
      [{ method: 'GET', path: '/admin/users/*' }, { method: 'GET', path: '/admin/*' }],
      [{ method: 'GET', path: '/' }, { method: 'GET', path: '/*' }],
      [{ method: 'PUT', path: '/*' }, { method: '*', path: '/a/*' }],
    ];
    for (const routes of lists) {
      const p = props({ issuers: routed(routes) });
      let refused: string | undefined;
      try {
        validate(p);
      } catch (e) {
        refused = (e as Error).message;
      }
      const verdict = checkConfig(p);
      const what = JSON.stringify(routes).slice(0, 200);
      assert.equal(refused === undefined, verdict.ok, `${what}: construct ${refused ?? 'accepts'}; authorizer ${verdict.out}`);
    }
  });
});

/** The metrics the authorizer emits (`authorizer --print-metrics`, kept in step by a Rust test). */
const CATALOGUE = JSON.parse(fs.readFileSync(path.join(ROOT, 'infra', 'metrics.json'), 'utf8')) as {
  default_namespace: string;
  metrics: { name: string; unit: string; dimensions: string[][] }[];
  dimension_values: Record<string, string[]>;
};

/** Every metric an alarm or a dashboard reads from `namespace`: [name, dimension keys and values]. */
function emfMetricsUsed(template: Template, namespace: string): { name: string; dims: Record<string, string> }[] {
  const used: { name: string; dims: Record<string, string> }[] = [];
  for (const a of Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[]) {
    const stats = [a.Properties, ...(a.Properties.Metrics ?? []).map((m: any) => m.MetricStat?.Metric).filter(Boolean)];
    for (const m of stats) {
      if (m.Namespace !== namespace) continue;
      const dims = Object.fromEntries((m.Dimensions ?? []).map((d: any) => [d.Name, d.Value]));
      used.push({ name: m.MetricName, dims });
    }
  }
  return used;
}

function dashboardBody(template: Template): string {
  const dash = only(template.findResources('AWS::CloudWatch::Dashboard')) as Resource;
  const body = dash.Properties.DashboardBody;
  return typeof body === 'string' ? body : body['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'TOKEN')).join('');
}

for (const apiType of [ApiType.REST, ApiType.HTTP]) {
  describe(`monitoring (${apiType})`, () => {
    const { template, api } = synth({ apiType });
    const namespace = api.metricsNamespace;

    it('the_function_publishes_to_the_namespace_the_alarms_watch', () => {
      assert.match(namespace, /^MtlsAuthorizer\//);
      const fn = only(template.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { AUTHORIZER_CONFIG: Match.anyValue() } } },
      })) as Resource;
      assert.equal(fn.Properties.Environment.Variables.METRICS_NAMESPACE, namespace);
    });

    it('every_alarm_exists_with_a_runbook_and_its_actions', () => {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
      assert.equal(alarms.length, 8);
      for (const a of alarms) {
        assert.match(a.Properties.AlarmDescription, /docs\/monitoring\.md/);
      }
      assert.deepEqual(template.findResources('AWS::Logs::MetricFilter'), {});
      const described = alarms.map((a) => a.Properties.AlarmDescription).join('\n');
      for (const what of ['nextUpdate', 'have failed or been rejected', 'truststore expires', 'denied as revoked',
        'crl_unavailable', "p99 duration", 'failed invocations', '5xx']) {
        assert.ok(described.includes(what) || described.toLowerCase().includes(what.toLowerCase()), what);
      }
    });

    it('alarms_watch_only_metrics_the_authorizer_emits', () => {
      const byName = new Map(CATALOGUE.metrics.map((m) => [m.name, m]));
      const used = emfMetricsUsed(template, namespace);
      assert.deepEqual(new Set(used.map((u) => u.name)), new Set([
        'CrlSecondsToNextUpdate', 'CrlRefreshFailures', 'CrlRejected', 'TruststoreSecondsToFirstExpiry', 'Decisions',
        'OcspRequests',
      ]));
      assert.deepEqual(used.filter((u) => u.name === 'OcspRequests').map((u) => u.dims), [{ result: 'error' }]);
      for (const u of used) {
        const m = byName.get(u.name);
        assert.ok(m, u.name);
        const keys = Object.keys(u.dims).sort();
        assert.ok(m!.dimensions.some((set) => [...set].sort().join() === keys.join()), `${u.name} by ${keys}`);
        for (const [k, v] of Object.entries(u.dims)) {
          assert.ok(CATALOGUE.dimension_values[k].includes(v), `${k}=${v}`);
        }
      }
    });

    it('thresholds_have_the_documented_defaults', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'CrlSecondsToNextUpdate', Threshold: 21600, ComparisonOperator: 'LessThanThreshold' });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'TruststoreSecondsToFirstExpiry', Threshold: 30 * 86400 });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Decisions', Dimensions: [{ Name: 'reason', Value: 'revoked' }], Threshold: 20 });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', ExtendedStatistic: 'p99', Threshold: 1000, EvaluationPeriods: 3 });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        AlarmDescription: Match.stringLikeRegexp('OCSP exchanges have failed'),
        Metrics: Match.arrayWith([Match.objectLike({ Expression: 'FILL(failures, 0) + FILL(rejected, 0) + FILL(ocsperrors, 0)' })]),
      });
    });

    it('the_dashboard_shows_every_widget_on_emitted_metrics', () => {
      const body = dashboardBody(template);
      for (const title of ['Decisions by reason', 'Allow rate', 'CRL seconds to nextUpdate', 'CRL entries',
        'CRL refresh failures', 'Authorizer duration p50 / p99', 'API 4xx / 5xx', 'API latency', 'Authorizer cold starts']) {
        assert.ok(body.includes(title), title);
      }
      const names = new Set(CATALOGUE.metrics.map((m) => m.name));
      const searched = [...body.matchAll(/MetricName=\\"(\w+)\\"/g)].map((m) => m[1]);
      assert.ok(searched.length >= 5);
      for (const n of searched) assert.ok(names.has(n), n);
      assert.ok(body.includes(apiType === ApiType.REST ? '5XXError' : '"5xx"'));
      // No issuer asks an OCSP responder: no OCSP widgets.
      assert.ok(!body.includes('OcspLatency'), 'no OCSP widgets without OCSP');
    });
  });
}

describe('deny list and CA revocation (docs/revoking.md)', () => {
  const denyListArn = /deny-list\.json/;

  it('there_is_neither_by_default', () => {
    const { template, api } = synth();
    const config = authorizerConfig(template);
    for (const key of ['deny_list', 'deny_list_refresh_seconds', 'deny_list_max_age_seconds', 'ca_revocation']) {
      assert.ok(!(key in config), key);
    }
    assert.equal(config.ca_revocation_required, false);
    template.resourceCountIs('Custom::DenyListObject', 0);
    assert.equal(api.denyList, undefined);
    assert.doesNotMatch(JSON.stringify(roleStatements(template, 'Authorizer')), /ReadDenyList/);
    assert.throws(() => api.grantDenyListWrite(new iam.AccountRootPrincipal()), /no deny list/);
  });

  describe('with a deny list', () => {
    const { template, api } = synth({ denyList: {} });

    it('the_authorizer_reads_it_from_the_truststore_bucket_with_the_documented_defaults', () => {
      const config = authorizerConfig(template);
      assert.equal(config.deny_list, 's3://TOKEN/deny-list.json');
      assert.equal(config.deny_list_refresh_seconds, 10);
      assert.equal(config.deny_list_max_age_seconds, 900);
      assert.equal(api.denyList?.key, 'deny-list.json');
    });

    it('the_authorizer_may_only_get_that_object', () => {
      const statements = roleStatements(template, 'Authorizer');
      const read = statements.find((s) => s.Sid === 'ReadDenyList');
      assert.ok(read, 'a ReadDenyList statement');
      assert.equal(read.Action, 's3:GetObject');
      assert.match(JSON.stringify(read.Resource), denyListArn);
      assert.doesNotMatch(JSON.stringify(read.Resource), /\/\*"/);
      const actions = statements.flatMap((s) => [s.Action].flat()).sort();
      assert.deepEqual([...new Set(actions)], ['logs:CreateLogStream', 'logs:PutLogEvents', 's3:GetObject', 's3:GetObjectVersion']);
    });

    it('it_is_created_empty_and_never_overwritten', () => {
      const created = only(template.findResources('Custom::DenyListObject')) as Resource;
      for (const phase of ['Create', 'Update']) {
        const call = JSON.stringify(created.Properties[phase]);
        assert.match(call, /putObject/, phase);
        assert.match(call, /\\"IfNoneMatch\\":\\"\*\\"/, `${phase}: a conditional write that never replaces the operators' list`);
        assert.match(call, /PreconditionFailed/, phase);
        assert.ok(call.includes(JSON.stringify(JSON.stringify(EMPTY_DENY_LIST)).slice(1, -1)), `${phase}: the empty list`);
      }
      assert.equal(created.Properties.Delete, undefined, 'the stack never deletes the list');
      assert.deepEqual(JSON.parse(EMPTY_DENY_LIST), { version: 1, sequence: 0, entries: [] });
      const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
      // Only the create-if-absent call may write the list (the truststore upload writes the
      // bucket too, but names no deny list).
      const writers = policies.filter((p) => {
        const doc = JSON.stringify(p.Properties.PolicyDocument);
        return doc.includes('s3:PutObject') && denyListArn.test(doc);
      });
      assert.equal(writers.length, 1);
      assert.deepEqual(writers[0]!.Properties.PolicyDocument.Statement.map((st: any) => st.Action), ['s3:PutObject']);
    });

    it('the_stale_and_unavailable_alarms_and_the_widgets_watch_it', () => {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
      assert.equal(alarms.length, 10);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'DenyListAgeSeconds', Statistic: 'Maximum', Threshold: 120, Period: 60,
        ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'missing',
        AlarmDescription: Match.stringLikeRegexp('docs/monitoring\\.md'),
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Decisions', Dimensions: [{ Name: 'reason', Value: 'deny_list_unavailable' }], Threshold: 1,
      });
      const used = emfMetricsUsed(template, api.metricsNamespace);
      const byName = new Map(CATALOGUE.metrics.map((m) => [m.name, m]));
      for (const u of used) {
        const m = byName.get(u.name);
        assert.ok(m, u.name);
        assert.ok(m!.dimensions.some((set) => [...set].sort().join() === Object.keys(u.dims).sort().join()), u.name);
        for (const [k, v] of Object.entries(u.dims)) assert.ok(CATALOGUE.dimension_values[k].includes(v), `${k}=${v}`);
      }
      const body = dashboardBody(template);
      for (const title of ['Deny list age', 'Deny list refresh failures']) assert.ok(body.includes(title), title);
      for (const metric of ['DenyListAgeSeconds', 'DenyListEntries', 'DenyListRefreshFailures', 'DenyListRejected']) {
        assert.ok(byName.has(metric), metric);
        assert.ok(body.includes(metric), metric);
      }
    });

    it('operators_get_write_access_to_that_object_only', () => {
      const app = new App();
      const stack = new Stack(app, 'Test');
      const encryptionKey = new kms.Key(stack, 'Key');
      const withKey = new MtlsApi(stack, 'MtlsApi', props({ denyList: {}, encryptionKey }));
      const operators = new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() });
      withKey.grantDenyListWrite(operators);
      const t = Template.fromStack(stack);
      const policies = Object.values(t.findResources('AWS::IAM::Policy')) as Resource[];
      const own = policies.find((p) => JSON.stringify(p.Properties.Roles).includes('Operators'));
      const statements = own!.Properties.PolicyDocument.Statement as any[];
      const s3 = statements.find((st) => [st.Action].flat().includes('s3:PutObject'));
      assert.deepEqual([s3.Action].flat().sort(), ['s3:GetObject', 's3:PutObject']);
      assert.match(JSON.stringify(s3.Resource), denyListArn);
      assert.ok(statements.some((st) => [st.Action].flat().includes('kms:GenerateDataKey')), 'the bucket key');
      // The empty list is written under the bucket key too.
      const created = JSON.stringify(t.findResources('AWS::IAM::Policy'));
      assert.match(created, /kms:GenerateDataKey/);
    });
  });

  it('a_list_left_to_the_operators_is_not_created_and_its_settings_reach_the_config', () => {
    const { template, api } = synth({
      denyList: { key: 'lists/devices.json', create: false, refresh: Duration.seconds(1), maxAge: Duration.minutes(1) },
      alarmThresholds: { denyListStale: Duration.seconds(30) },
    });
    template.resourceCountIs('Custom::DenyListObject', 0);
    const config = authorizerConfig(template);
    assert.equal(config.deny_list, 's3://TOKEN/lists/devices.json');
    assert.equal(config.deny_list_refresh_seconds, 1);
    assert.equal(config.deny_list_max_age_seconds, 60);
    assert.match(api.denyList!.uri, /\/lists\/devices\.json$/);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'DenyListAgeSeconds', Threshold: 30 });
  });

  it('ca_revocation_reaches_the_config_and_the_read_policy', () => {
    const { template } = synth({
      caRevocation: [
        { name: 'root', match: { CN: 'Devices Root CA' }, crl: 's3://pki-bucket/root.arl' },
        { name: 'partner', match: { O: 'Partner' }, crls: ['https://pki.example.org/a.arl', 's3://pki-bucket/b.arl'] },
        { name: 'pca', match: { CN: 'PCA Root' }, crlFromCdp: [{ prefix: 'http://crl.example.com/crl/', fetch: 's3://pca-arls/crl/' }] },
      ],
      caRevocationRequired: true,
    });
    const config = authorizerConfig(template);
    assert.deepEqual(config.ca_revocation, [
      { name: 'root', match: { CN: 'Devices Root CA' }, crl: 's3://pki-bucket/root.arl' },
      { name: 'partner', match: { O: 'Partner' }, crl: ['https://pki.example.org/a.arl', 's3://pki-bucket/b.arl'] },
      { name: 'pca', match: { CN: 'PCA Root' }, crl_from_cdp: [{ prefix: 'http://crl.example.com/crl/', fetch: 's3://pca-arls/crl/' }] },
    ]);
    assert.equal(config.ca_revocation_required, true);
    const text = JSON.stringify(roleStatements(template, 'Authorizer'));
    assert.match(text, /pki-bucket\/root\.arl/);
    assert.match(text, /pki-bucket\/b\.arl/);
    assert.match(text, /pca-arls\/crl\/\*/);
  });
});

describe('monitoring options', () => {
  it('one_prop_turns_the_dashboard_off_and_thresholds_and_namespace_are_props', () => {
    const { template } = synth({
      dashboard: false,
      metricsNamespace: 'Acme/mTLS',
      alarmThresholds: { crlStale: Duration.hours(12), revokedPer5Minutes: 5, crlRefreshFailurePeriods: 6 },
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'Acme/mTLS', MetricName: 'CrlSecondsToNextUpdate', Threshold: 43200 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Decisions', Dimensions: [{ Name: 'reason', Value: 'revoked' }], Threshold: 5 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { EvaluationPeriods: 6, DatapointsToAlarm: 6 });
  });

  it('a_namespace_cloudwatch_would_drop_is_refused', () => {
    assert.throws(() => synth({ metricsNamespace: 'AWS/Lambda' }), /metricsNamespace/);
  });
});

/** infra/identity-headers.json: what the Terraform module and the local gateway map too. */
const IDENTITY_HEADERS = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'infra', 'identity-headers.json'), 'utf8')) as {
    headers: { header: string; context: string }[];
  }
).headers;

/**
 * Every spelling of `header` but its own with any of its '-' written '_',
 * derived here independently of the construct: each dash, in turn, either way.
 */
function spellingsOf(header: string): string[] {
  let spellings = [''];
  header.split('-').forEach((part, i) => {
    spellings = i === 0 ? [part] : spellings.flatMap((s) => [`${s}-${part}`, `${s}_${part}`]);
  });
  return spellings.filter((s) => s !== header);
}

/** The identity mappings each integration must carry, from identity-headers.json alone. */
const EXPECTED_REST_HEADERS: Record<string, string> = Object.fromEntries(
  IDENTITY_HEADERS.flatMap((h) =>
    [h.header, ...spellingsOf(h.header)].map((name) => [`integration.request.header.${name}`, `context.authorizer.${h.context}`]),
  ),
);
const EXPECTED_HTTP_HEADERS: Record<string, string> = Object.fromEntries([
  ...IDENTITY_HEADERS.map((h) => [`overwrite:header.${h.header}`, `$context.authorizer.${h.context}`]),
  ...IDENTITY_HEADERS.flatMap((h) => spellingsOf(h.header).map((s) => [`remove:header.${s}`, "''"])),
]);

/** A stack with a VPC, for private backends; `build` adds the load balancer and returns the props. */
function synthIn(build: (stack: Stack, vpc: ec2.Vpc) => Partial<MtlsApiProps>): Template {
  const app = new App();
  const stack = new Stack(app, 'Test');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const base = props({ apiHandlerZip: undefined });
  new MtlsApi(stack, 'MtlsApi', { ...base, ...build(stack, vpc) });
  return Template.fromStack(stack);
}

describe('HTTP backend', () => {
  const origin = 'https://orders.example.com';

  it('rest_http_backend_maps_every_identity_header_from_the_authorizer_context', () => {
    const { template, api } = synth({ backend: Backend.http(origin), apiHandlerZip: undefined });
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as Resource[];
    assert.equal(methods.length, 2, 'ANY / and ANY /{proxy+}');
    const authorizerId = Object.keys(template.findResources('AWS::ApiGateway::Authorizer'))[0];
    const expected = EXPECTED_REST_HEADERS;
    // Six headers, and 2^n - 1 underscore spellings of each (n dashes: five
    // of three, one of four): 6 + 5 * 7 + 15.
    assert.equal(IDENTITY_HEADERS.length, 6);
    assert.equal(Object.keys(expected).length, 56);
    for (const spelling of ['x_client_cert_subject', 'x-client_cert-subject', 'x_client_cert_name_sha256']) {
      assert.ok(`integration.request.header.${spelling}` in expected, spelling);
    }
    const uris = [];
    for (const m of methods) {
      assert.equal(m.Properties.HttpMethod, 'ANY');
      assert.equal(m.Properties.AuthorizationType, 'CUSTOM');
      assert.deepEqual(m.Properties.AuthorizerId, { Ref: authorizerId });
      const integ = m.Properties.Integration;
      assert.equal(integ.Type, 'HTTP_PROXY');
      assert.equal(integ.IntegrationHttpMethod, 'ANY');
      assert.equal(integ.TimeoutInMillis, 29000);
      // Every identity header and every underscore spelling of it, from the
      // verified context, and nothing else but the greedy path.
      const { ['integration.request.path.proxy']: proxy, ...headers } = integ.RequestParameters;
      assert.deepEqual(headers, expected);
      assert.equal(headers['integration.request.header.x_client_cert_subject'], 'context.authorizer.subjectDn');
      assert.equal(headers['integration.request.header.x-client_cert-subject'], 'context.authorizer.subjectDn');
      assert.equal(headers['integration.request.header.x_client_cert_name_sha256'], 'context.authorizer.nameSha256');
      if (proxy !== undefined) {
        assert.equal(proxy, 'method.request.path.proxy');
        assert.deepEqual(m.Properties.RequestParameters, { 'method.request.path.proxy': true });
      }
      uris.push(integ.Uri);
    }
    assert.deepEqual(uris.sort(), [`${origin}/`, `${origin}/{proxy}`]);
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
    // No api-handler, no table, no request model.
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.resourceCountIs('AWS::ApiGateway::Model', 0);
    assert.equal(api.apiHandler, undefined);
    const fns = Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('MtlsApi'));
    assert.deepEqual(fns.map((id) => id.replace(/[0-9A-F]{8}$/, '')), ['MtlsApiAuthorizer']);
    // Denials keep their reason.
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'ACCESS_DENIED' });
  });

  it('http_api_backend_overwrites_identity_headers_on_an_authorized_default_route', () => {
    const { template } = synth({ apiType: ApiType.HTTP, backend: Backend.http(origin), apiHandlerZip: undefined });
    const integ = only(template.findResources('AWS::ApiGatewayV2::Integration')) as Resource;
    assert.equal(integ.Properties.IntegrationType, 'HTTP_PROXY');
    assert.equal(integ.Properties.IntegrationUri, origin);
    assert.equal(integ.Properties.IntegrationMethod, 'ANY');
    assert.equal(integ.Properties.PayloadFormatVersion, '1.0');
    // Every identity header overwritten, every underscore spelling of it
    // removed, the path kept, and nothing else.
    assert.equal(Object.keys(EXPECTED_HTTP_HEADERS).length, 56);
    const params: Record<string, string> = integ.Properties.RequestParameters;
    const expected: Record<string, string> = { ...EXPECTED_HTTP_HEADERS, 'overwrite:path': '$request.path' };
    assert.deepEqual(params, expected);
    assert.equal(params['overwrite:header.x-client-cert-subject'], '$context.authorizer.subjectDn');
    for (const spelling of ['x_client_cert_subject', 'x-client_cert-subject', 'x_client_cert_name_sha256']) {
      assert.equal(params[`remove:header.${spelling}`], "''", spelling);
    }
    const route = only(template.findResources('AWS::ApiGatewayV2::Route')) as Resource;
    assert.equal(route.Properties.RouteKey, '$default');
    assert.equal(route.Properties.AuthorizationType, 'CUSTOM');
    assert.ok(route.Properties.AuthorizerId, 'the route has the authorizer');
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
  });

  it('rest_private_backend_goes_through_the_vpc_link_to_the_nlb', () => {
    const template = synthIn((stack, vpc) => {
      const nlb = new elbv2.NetworkLoadBalancer(stack, 'Nlb', { vpc });
      const link = new apigw.VpcLink(stack, 'Link', { targets: [nlb] });
      return { backend: Backend.http('https://orders.internal.example.com', { private: { restVpcLink: link } }) };
    });
    const linkId = Object.keys(template.findResources('AWS::ApiGateway::VpcLink'))[0];
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as Resource[];
    assert.equal(methods.length, 2);
    for (const m of methods) {
      assert.equal(m.Properties.Integration.ConnectionType, 'VPC_LINK');
      assert.deepEqual(m.Properties.Integration.ConnectionId, { Ref: linkId });
    }
  });

  it('http_api_private_backend_reaches_the_alb_listener_and_verifies_its_name', () => {
    const template = synthIn((stack, vpc) => {
      const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc });
      const listener = alb.addListener('Https', {
        port: 80,
        defaultAction: elbv2.ListenerAction.fixedResponse(200),
      });
      return {
        apiType: ApiType.HTTP,
        backend: Backend.http('https://orders.internal.example.com', { private: { httpApiListener: listener } }),
      };
    });
    template.resourceCountIs('AWS::ApiGatewayV2::VpcLink', 1);
    const integ = only(template.findResources('AWS::ApiGatewayV2::Integration')) as Resource;
    assert.equal(integ.Properties.ConnectionType, 'VPC_LINK');
    assert.equal(integ.Properties.IntegrationUri.Ref !== undefined, true, 'the listener ARN');
    assert.deepEqual(integ.Properties.TlsConfig, { ServerNameToVerify: 'orders.internal.example.com' });
    assert.equal(integ.Properties.RequestParameters['overwrite:header.x-client-cert-serial'], '$context.authorizer.serialNumber');
    assert.deepEqual(integ.Properties.RequestParameters, { ...EXPECTED_HTTP_HEADERS, 'overwrite:path': '$request.path' });
  });

  it('rest_private_backend_maps_every_underscore_spelling_too', () => {
    const template = synthIn((stack, vpc) => {
      const nlb = new elbv2.NetworkLoadBalancer(stack, 'Nlb', { vpc });
      const link = new apigw.VpcLink(stack, 'Link', { targets: [nlb] });
      return { backend: Backend.http('https://orders.internal.example.com', { private: { restVpcLink: link } }) };
    });
    for (const m of Object.values(template.findResources('AWS::ApiGateway::Method')) as Resource[]) {
      const { ['integration.request.path.proxy']: _proxy, ...headers } = m.Properties.Integration.RequestParameters;
      assert.deepEqual(headers, EXPECTED_REST_HEADERS);
    }
  });

  it('underscore_spellings_are_every_other_spelling_with_dashes_written_as_underscores', () => {
    assert.deepEqual(underscoreSpellings('x'), []);
    assert.deepEqual(underscoreSpellings('x-y'), ['x_y']);
    assert.deepEqual(underscoreSpellings('p-q-r').sort(), ['p-q_r', 'p_q-r', 'p_q_r']);
    for (const header of [...IDENTITY_HEADERS.map((h) => h.header), 'a-b-c-d-e-f']) {
      const spellings = underscoreSpellings(header);
      assert.deepEqual([...spellings].sort(), spellingsOf(header).sort(), header);
      assert.equal(new Set(spellings).size, 2 ** (header.split('-').length - 1) - 1, header);
      assert.ok(!spellings.includes(header), header);
    }
    assert.ok(underscoreSpellings('x-client-cert-subject').includes('x-client_cert-subject'));
  });

  it('bad_backends_are_refused_with_what_to_fix', () => {
    assert.throws(() => Backend.http('https://orders.example.com/base/'), /origin/);
    assert.throws(() => Backend.http('orders.example.com'), /origin/);
    assert.throws(
      () => synth({ backend: Backend.http(origin, { private: {} }), apiHandlerZip: undefined }),
      /restVpcLink/,
    );
    assert.throws(
      () => synth({ apiType: ApiType.HTTP, backend: Backend.http(origin, { private: {} }), apiHandlerZip: undefined }),
      /httpApiListener/,
    );
    assert.throws(() => synth({ apiHandlerZip: undefined }), /apiHandlerZip is required/);
  });
});

describe('upgrades keep every resource', () => {
  // A changed logical id replaces the resource on the next deploy: a new,
  // empty readings table and truststore bucket. test/logical-ids.ts says how
  // the recorded ids were made.
  const recorded = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as Record<string, Record<string, string>>;
  for (const config of CONFIGS) {
    it(`logical_ids_are_those_of_the_released_construct (${config.name})`, () => {
      assert.deepEqual(logicalIds(config), recorded[config.name]);
    });
  }
});
