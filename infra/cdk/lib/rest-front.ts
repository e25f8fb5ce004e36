import * as fs from 'node:fs';
import * as path from 'node:path';

import { Duration, Stack, aws_apigateway as apigw, aws_route53_targets as targets } from 'aws-cdk-lib';
import { Construct } from 'constructs';

import { addRestBackend } from './backend';
import { ACCESS_LOG_FIELDS, CACHE_KEY_FIELDS, Front, FrontProps, ROUTES } from './front';

/**
 * The REST API front, the same as `infra/terraform/rest.tf`: the API with the
 * `execute-api` endpoint disabled, the REQUEST authorizer on every method,
 * the api-handler's validated routes or an HTTP backend, the `ACCESS_DENIED`
 * response with the reason, and the custom domain with mutual TLS. Adds its
 * resources to `scope` under the released construct's ids.
 */
export function restFront(scope: Construct, props: FrontProps): Front {
  const api = new apigw.RestApi(scope, 'RestApi', {
    restApiName: Stack.of(scope).stackName,
    description: 'mtls-authorizer: mutual TLS on the custom domain only',
    // The default execute-api endpoint would bypass mutual TLS entirely.
    disableExecuteApiEndpoint: true,
    endpointTypes: [apigw.EndpointType.REGIONAL],
    // The account-level CloudWatch role is not a construct's to change.
    cloudWatchRole: false,
    deployOptions: {
      stageName: props.stageName,
      throttlingRateLimit: props.throttle.rate,
      throttlingBurstLimit: props.throttle.burst,
      cachingEnabled: false,
      accessLogDestination: new apigw.LogGroupLogDestination(props.accessLogGroup),
      accessLogFormat: apigw.AccessLogFormat.custom(
        JSON.stringify({
          ...ACCESS_LOG_FIELDS,
          extendedRequestId: '$context.extendedRequestId',
          resourcePath: '$context.resourcePath',
          authorizerStatus: '$context.authorizer.status',
          authorizerLatency: '$context.authorizer.integrationLatency',
          integrationStatus: '$context.integration.status',
          validationError: '$context.error.validationErrorString',
        }),
      ),
    },
  });

  // Disabling execute-api takes effect on a REST API only with a new
  // deployment: tie the deployment to it, as the Terraform module does.
  api.latestDeployment?.addToLogicalId({ disableExecuteApiEndpoint: true });

  const ttl = props.resultsCacheTtl;
  const authorizer = new apigw.RequestAuthorizer(scope, 'RestAuthorizer', {
    handler: props.authorizer,
    resultsCacheTtl: ttl,
    // No identity source without a cache: a REQUEST authorizer then runs
    // on every request.
    identitySources:
      ttl.toSeconds() > 0
        ? (props.identitySources ?? CACHE_KEY_FIELDS.map((f) => `context.identity.clientCert.${f}`))
        : [],
  });

  if (props.apiHandler) {
    const schemaFile = props.readingSchemaFile ?? defaultSchemaFile();
    const model = api.addModel('TemperatureReading', {
      modelName: 'TemperatureReading',
      description: 'POST /temps body; the api-handler validates against the same file.',
      contentType: 'application/json',
      schema: JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as apigw.JsonSchema,
    });
    const validator = api.addRequestValidator('Body', { validateRequestBody: true });
    const integration = new apigw.LambdaIntegration(props.apiHandler, { proxy: true });

    for (const r of ROUTES) {
      const resource = api.root.getResource(r.path) ?? api.root.addResource(r.path);
      resource.addMethod(r.method, integration, {
        authorizationType: apigw.AuthorizationType.CUSTOM,
        authorizer,
        ...(r.method === 'POST' ? { requestValidator: validator, requestModels: { 'application/json': model } } : {}),
      });
    }
  } else {
    addRestBackend(api, props.backend, authorizer);
  }

  // A Deny says why: the same body the local gateway returns.
  api.addGatewayResponse('AccessDenied', {
    type: apigw.ResponseType.ACCESS_DENIED,
    statusCode: '403',
    templates: { 'application/json': '{"message":"Forbidden","reason":"$context.authorizer.reason"}' },
  });

  const domain = new apigw.DomainName(scope, 'Domain', {
    domainName: props.domainName,
    certificate: props.certificate,
    endpointType: apigw.EndpointType.REGIONAL,
    securityPolicy: apigw.SecurityPolicy.TLS_1_2,
    mtls: props.mtls,
  });
  if (props.ownershipVerificationCertificateArn) {
    (domain.node.defaultChild as apigw.CfnDomainName).ownershipVerificationCertificateArn =
      props.ownershipVerificationCertificateArn;
  }
  domain.addBasePathMapping(api, { stage: api.deploymentStage });

  const period = Duration.minutes(5);
  return {
    apiId: api.restApiId,
    regionalDomainName: domain.domainNameAliasDomainName,
    regionalHostedZoneId: domain.domainNameAliasHostedZoneId,
    aliasTarget: new targets.ApiGatewayDomain(domain),
    metrics: {
      clientErrors: api.metricClientError({ period, statistic: 'Sum' }),
      serverErrors: api.metricServerError({ period, statistic: 'Sum' }),
      latency: api.metricLatency({ period }),
    },
    restStage: api.deploymentStage,
  };
}

function defaultSchemaFile(): string {
  // dist/lib/rest-front.js → the repository root is four levels up.
  return path.resolve(__dirname, '..', '..', '..', '..', 'api-handler', 'schema', 'temperature.json');
}
