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

/** The access log of either API type: the client certificate and the authorizer's reason code. */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  httpMethod: '$context.httpMethod',
  status: '$context.status',
  responseLatency: '$context.responseLatency',
  clientCertSerial: '$context.identity.clientCert.serialNumber',
  clientCertSubject: '$context.identity.clientCert.subjectDN',
  clientCertIssuer: '$context.identity.clientCert.issuerDN',
  authorizerReason: '$context.authorizer.reason',
  authorizerError: '$context.authorizer.error',
  errorMessage: '$context.error.message',
} as const;

/**
 * The authorizer cache key by default: the certificate (a serial is unique
 * only per issuer, RFC 5280 §4.1.2.2), never a header the client chooses.
 */
export const CACHE_KEY_FIELDS = ['serialNumber', 'issuerDN'] as const;

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
