import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  Duration,
  aws_apigateway as apigw,
  aws_certificatemanager as acm,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_route53 as route53,
  aws_s3 as s3,
} from 'aws-cdk-lib';

import { Backend } from './backend';
import { MtlsMonitoringProps } from './monitoring';

/**
 * The api-handler's routes, served by both API types: the operations of
 * api-handler/openapi.yaml, the API's contract (infra/tests/test_openapi.py
 * fails when they differ).
 */
export const ROUTES: ReadonlyArray<{ method: string; path: string }> = [
  { method: 'GET', path: 'temps' },
  { method: 'POST', path: 'temps' },
  { method: 'GET', path: 'whoami' },
];

/**
 * `infra/api-gateway.json`: the settings the Terraform module renders alike
 * and the local gateway defaults to, read from one file so the three cannot
 * drift.
 */
interface ApiGatewaySettings {
  readonly cache_key_fields: readonly string[];
  readonly access_log_fields: Readonly<Record<string, string>>;
}

function apiGatewaySettings(): ApiGatewaySettings {
  // dist/lib/front.js → infra/api-gateway.json is three levels up.
  const file = path.resolve(__dirname, '..', '..', '..', 'api-gateway.json');
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as ApiGatewaySettings;
  // A file that lost a key must not render a cache key or an access log without its fields
  // (spreading a missing access_log_fields would drop them silently).
  const strings = (v: unknown): boolean => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string');
  const fields = doc.access_log_fields;
  if (!strings(doc.cache_key_fields) || typeof fields !== 'object' || fields === null || !strings(Object.values(fields))) {
    throw new Error(`${file}: cache_key_fields must be a list of strings, access_log_fields an object of strings`);
  }
  return doc;
}

const API_GATEWAY = apiGatewaySettings();

/**
 * The access log of either API type: the client certificate and the
 * authorizer's reason code. Each front adds its own fields after these, in
 * the file's order.
 */
export const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = API_GATEWAY.access_log_fields;

/**
 * The authorizer cache key by default: the certificate (a serial is unique
 * only per issuer, RFC 5280 §4.1.2.2), never a header the client chooses.
 */
export const CACHE_KEY_FIELDS: readonly string[] = API_GATEWAY.cache_key_fields;

/** What both API fronts (`restFront`, `httpFront`) take. */
export interface FrontProps {
  readonly domainName: string;
  readonly certificate: acm.ICertificate;
  readonly ownershipVerificationCertificateArn?: string;
  /** The truststore object and version the domain pins. */
  readonly mtls: { bucket: s3.IBucket; key: string; version: string };
  readonly stageName: string;
  readonly throttle: { rate: number; burst: number };
  readonly accessLogGroup: logs.ILogGroup;
  readonly authorizer: lambda.IFunction;
  readonly resultsCacheTtl: Duration;
  /** The cache key when caching. @default - the certificate, CACHE_KEY_FIELDS (and the HTTP API's route key with `perRouteRules`) */
  readonly identitySources?: string[];
  /** An issuer lists `routes`: an HTTP API's default cache key then names the route too. */
  readonly perRouteRules: boolean;
  /** The api-handler, when it is the backend. */
  readonly apiHandler?: lambda.IFunction;
  readonly backend: Backend;
  /** REST only: the POST /temps model. */
  readonly readingSchemaFile?: string;
}

/** What an API front gives the rest of the stack. */
export interface Front {
  readonly apiId: string;
  readonly regionalDomainName: string;
  readonly regionalHostedZoneId: string;
  readonly aliasTarget: route53.IAliasRecordTarget;
  readonly metrics: MtlsMonitoringProps['api'];
  /** REST only: the stage, for its checkov notes. */
  readonly restStage?: apigw.Stage;
}
