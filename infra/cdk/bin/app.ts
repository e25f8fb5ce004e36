#!/usr/bin/env node
// The example app: one stack with MtlsApi, configured by context values
// (`cdk synth -c domainName=api.example.com …` or cdk.json). Synthesis needs
// no AWS account: the stack is environment-agnostic and looks nothing up.
import * as path from 'node:path';

import { App, CfnOutput, Stack, aws_route53 as route53 } from 'aws-cdk-lib';

import { ApiType, Backend, IssuerPolicy, MtlsApi } from '../lib/mtls-api';

const app = new App();
const ctx = (key: string): string | undefined => {
  const v: unknown = app.node.tryGetContext(key);
  return v === undefined || v === null || v === '' ? undefined : String(v);
};
const required = (key: string): string => {
  const v = ctx(key);
  if (v === undefined) {
    throw new Error(`context value "${key}" is required: cdk synth -c ${key}=… (see infra/cdk/README.md)`);
  }
  return v;
};

// Paths in context are relative to the repository root.
const root = path.resolve(__dirname, '..', '..', '..', '..');
const fromRoot = (p: string): string => path.resolve(root, p);

const issuersJson = ctx('issuers');
const issuers: IssuerPolicy[] = issuersJson
  ? (JSON.parse(issuersJson) as IssuerPolicy[])
  : [{ name: 'devices', match: { O: 'Temperature Testers', CN: 'Temperature Testers Issuing CA' }, crl: required('crlUri') }];

const stack = new Stack(app, ctx('stackName') ?? 'MtlsAuthorizer', {
  description: 'mtls-authorizer: mutual TLS API Gateway with CRL checks in a Lambda authorizer',
});

// `backend`: the api-handler (default) or the origin of an HTTP service reached over the
// internet. A private backend needs your VPC's load balancer: use the construct in your own app.
const backendUrl = ctx('backend');
const backend = backendUrl === undefined || backendUrl === 'api-handler' ? Backend.apiHandler() : Backend.http(backendUrl);

// `denyList`: `true` for an operator deny list at deny-list.json in the truststore bucket, or its
// object key (docs/revoking.md).
const denyListCtx = ctx('denyList');
const denyList = denyListCtx === undefined || denyListCtx === 'false' ? undefined : denyListCtx === 'true' ? {} : { key: denyListCtx };

const zoneId = ctx('hostedZoneId');
const api = new MtlsApi(stack, 'MtlsApi', {
  domainName: required('domainName'),
  certificateArn: required('certificateArn'),
  ownershipVerificationCertificateArn: ctx('ownershipVerificationCertificateArn'),
  hostedZone: zoneId
    ? route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: zoneId, zoneName: required('zoneName') })
    : undefined,
  apiType: ctx('apiType') === 'http' ? ApiType.HTTP : ApiType.REST,
  truststoreFile: fromRoot(ctx('truststoreFile') ?? '.local/pki/truststore.pem'),
  authorizerZip: fromRoot(ctx('authorizerZip') ?? 'target/lambda/authorizer/bootstrap.zip'),
  backend,
  apiHandlerZip: backend.isApiHandler ? fromRoot(ctx('apiHandlerZip') ?? 'target/lambda/api-handler/bootstrap.zip') : undefined,
  issuers,
  denyList,
});

new CfnOutput(stack, 'DomainName', { value: required('domainName'), description: 'Call this with a client certificate.' });
new CfnOutput(stack, 'RegionalDomainName', { value: api.regionalDomainName, description: 'DNS alias target of the domain.' });
new CfnOutput(stack, 'TruststoreBucket', { value: api.truststoreBucket.bucketName, description: 'For truststore rotate --bucket.' });
new CfnOutput(stack, 'TruststoreKey', { value: api.truststoreKey, description: 'For truststore rotate --key.' });
new CfnOutput(stack, 'TruststoreVersion', { value: api.truststoreVersion, description: 'The object version the domain pins.' });
new CfnOutput(stack, 'AuthorizerLogGroup', { value: api.authorizerLogGroup.logGroupName, description: 'One JSON line per decision.' });
if (api.denyList) {
  new CfnOutput(stack, 'DenyListUri', { value: api.denyList.uri, description: 'For truststore deny … --list and truststore revoke --list.' });
  new CfnOutput(stack, 'DenyListObjectArn', {
    value: api.denyList.objectArn,
    description: 'Grant the operators who revoke devices s3:GetObject and s3:PutObject on this (MtlsApi.grantDenyListWrite).',
  });
}
