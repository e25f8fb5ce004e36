// The logical ids and types of every resource the construct synthesizes, for
// a set of configurations. A CloudFormation logical id names a resource across
// deployments: a change in one replaces the resource, which for the readings
// table (deletion protection, retained) or the truststore bucket means a new,
// empty one on the next deploy. test/logical-ids.json holds the ids
// of the released construct; the tests compare against it, and
// `RECORD=1 node dist/test/logical-ids.js` rewrites it (only for a deliberate,
// documented change).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { App, Duration, Stack, aws_kms as kms, aws_route53 as route53 } from 'aws-cdk-lib';

import { ApiType, Backend, MtlsApi, MtlsApiProps } from '../lib/mtls-api';

export const FIXTURE = path.resolve(__dirname, '..', '..', 'test', 'logical-ids.json');

type Config = { name: string; props: (stack: Stack) => Partial<MtlsApiProps> };

export const CONFIGS: Config[] = [
  { name: 'rest', props: () => ({}) },
  { name: 'http', props: () => ({ apiType: ApiType.HTTP }) },
  {
    name: 'rest-everything',
    props: (stack) => ({
      encryptionKey: new kms.Key(stack, 'Key'),
      hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' }),
      authorizerResultTtl: Duration.seconds(60),
      ownershipVerificationCertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
    }),
  },
  {
    name: 'http-everything',
    props: (stack) => ({
      apiType: ApiType.HTTP,
      encryptionKey: new kms.Key(stack, 'Key'),
      hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' }),
      authorizerResultTtl: Duration.seconds(60),
    }),
  },
  { name: 'rest-backend', props: () => ({ backend: Backend.http('https://orders.example.com'), apiHandlerZip: undefined }) },
  { name: 'http-backend', props: () => ({ apiType: ApiType.HTTP, backend: Backend.http('https://orders.example.com'), apiHandlerZip: undefined }) },
  {
    // The deny list object (a custom resource that creates it once) and its alarms: a changed id
    // would run the create-if-absent write again (harmless), and replace the alarms.
    name: 'rest-deny-list',
    props: () => ({
      denyList: {},
      caRevocation: [{ name: 'root', match: { CN: 'Devices Root CA' }, crl: 's3://pki-bucket/root.arl' }],
    }),
  },
];

/** `logicalId: type` of every resource of one configuration, sorted. */
export function logicalIds(config: Config): Record<string, string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-cdk-ids-'));
  try {
    const truststoreFile = path.join(dir, 'truststore.pem');
    fs.writeFileSync(truststoreFile, 'placeholder truststore\n');
    const zip = path.join(dir, 'function');
    fs.mkdirSync(zip);
    fs.writeFileSync(path.join(zip, 'bootstrap'), '#!/bin/sh\n');
    const app = new App();
    const stack = new Stack(app, 'Test');
    new MtlsApi(stack, 'MtlsApi', {
      domainName: 'api.example.com',
      certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
      truststoreFile,
      authorizerZip: zip,
      apiHandlerZip: zip,
      issuers: [{ name: 'devices', match: { CN: 'Devices CA' }, crl: 's3://pki-bucket/devices.crl' }],
      ...config.props(stack),
    });
    const resources = app.synth().getStackByName('Test').template.Resources as Record<string, { Type: string }>;
    return Object.fromEntries(
      Object.entries(resources)
        // A REST API deployment's id hashes the API's definition on purpose:
        // a changed API must be deployed again.
        .map(([id, r]) => [r.Type === 'AWS::ApiGateway::Deployment' ? id.replace(/[0-9a-f]{32}$/, '…') : id, r.Type])
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module && process.env.RECORD === '1') {
  const all = Object.fromEntries(CONFIGS.map((c) => [c.name, logicalIds(c)]));
  fs.writeFileSync(FIXTURE, JSON.stringify(all, null, 2) + '\n');
  console.log(`wrote ${FIXTURE}`);
}
