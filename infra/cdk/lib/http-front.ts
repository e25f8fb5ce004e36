import {
  Duration,
  Stack,
  aws_apigateway as apigw,
  aws_apigatewayv2 as apigwv2,
  aws_apigatewayv2_authorizers as apigwv2Auth,
  aws_apigatewayv2_integrations as apigwv2Int,
  aws_certificatemanager as acm,
  aws_cloudwatch as cloudwatch,
  aws_route53_targets as targets,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';

import { addHttpApiBackend } from './backend';
import { ACCESS_LOG_FIELDS, CACHE_KEY_FIELDS, Front, FrontProps, ROUTES } from './front';

/**
 * The HTTP API front, the same as `infra/terraform/http.tf`: the API with the
 * `execute-api` endpoint disabled, the payload 2.0 REQUEST authorizer with
 * simple responses on every route, the api-handler's routes or an HTTP
 * backend, and the custom domain with mutual TLS. Adds its resources to
 * `scope` under the released construct's ids.
 */
export function httpFront(scope: Construct, props: FrontProps): Front {
  const api = new apigwv2.HttpApi(scope, 'HttpApi', {
    apiName: Stack.of(scope).stackName,
    description: 'mtls-authorizer: mutual TLS on the custom domain only',
    // The default execute-api endpoint would bypass mutual TLS entirely.
    disableExecuteApiEndpoint: true,
    createDefaultStage: false,
  });

  // Payload 2.0 carries the certificate in requestContext.authentication;
  // the authorizer answers {"isAuthorized", "context"} to it. That answer is
  // for the route that was asked: with per-route rules, the cache key names
  // the route too (validate.ts refuses a key without it).
  const ttl = props.resultsCacheTtl;
  const authorizer = new apigwv2Auth.HttpLambdaAuthorizer('mtls', props.authorizer, {
    authorizerName: 'mtls',
    responseTypes: [apigwv2Auth.HttpLambdaResponseType.SIMPLE],
    resultsCacheTtl: ttl,
    identitySource:
      ttl.toSeconds() > 0
        ? (props.identitySources ?? [
            ...CACHE_KEY_FIELDS.map((f) => `$context.identity.clientCert.${f}`),
            ...(props.perRouteRules ? ['$context.routeKey'] : []),
          ])
        : [],
  });
  if (props.apiHandler) {
    const integration = new apigwv2Int.HttpLambdaIntegration('ApiHandler', props.apiHandler, {
      payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      timeout: Duration.seconds(10),
    });
    for (const r of ROUTES) {
      api.addRoutes({
        path: `/${r.path}`,
        methods: [r.method as apigwv2.HttpMethod],
        integration,
        authorizer,
      });
    }
  } else {
    addHttpApiBackend(api, props.backend, authorizer);
  }

  const domain = new apigwv2.DomainName(scope, 'Domain', {
    domainName: props.domainName,
    certificate: props.certificate,
    endpointType: apigwv2.EndpointType.REGIONAL,
    securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
    ownershipCertificate: props.ownershipVerificationCertificateArn
      ? acm.Certificate.fromCertificateArn(scope, 'OwnershipCertificate', props.ownershipVerificationCertificateArn)
      : undefined,
    mtls: props.mtls,
  });

  const stage = new apigwv2.HttpStage(scope, 'Stage', {
    httpApi: api,
    stageName: props.stageName,
    autoDeploy: true,
    throttle: { rateLimit: props.throttle.rate, burstLimit: props.throttle.burst },
    domainMapping: { domainName: domain },
    accessLogSettings: {
      destination: new apigwv2.LogGroupLogDestination(props.accessLogGroup),
      format: apigw.AccessLogFormat.custom(
        JSON.stringify({
          ...ACCESS_LOG_FIELDS,
          routeKey: '$context.routeKey',
          integrationError: '$context.integrationErrorMessage',
        }),
      ),
    },
  });

  const httpMetric = (metricName: string, statistic: string) =>
    new cloudwatch.Metric({
      namespace: 'AWS/ApiGateway',
      metricName,
      dimensionsMap: { ApiId: api.apiId, Stage: stage.stageName },
      period: Duration.minutes(5),
      statistic,
    });
  return {
    apiId: api.apiId,
    regionalDomainName: domain.regionalDomainName,
    regionalHostedZoneId: domain.regionalHostedZoneId,
    aliasTarget: new targets.ApiGatewayv2DomainProperties(domain.regionalDomainName, domain.regionalHostedZoneId),
    metrics: {
      clientErrors: httpMetric('4xx', 'Sum'),
      serverErrors: httpMetric('5xx', 'Sum'),
      latency: httpMetric('Latency', 'Average'),
    },
  };
}
