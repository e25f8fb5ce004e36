import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  Duration,
  Token,
  aws_apigateway as apigw,
  aws_apigatewayv2 as apigwv2,
  aws_apigatewayv2_integrations as apigwv2Int,
  aws_elasticloadbalancingv2 as elbv2,
} from 'aws-cdk-lib';

/** One identity header an HTTP backend receives, and the authorizer context key it comes from. */
export interface IdentityHeader {
  readonly header: string;
  readonly context: string;
}

/**
 * The verified client certificate identity an HTTP backend receives, from
 * `infra/identity-headers.json`: the list the Terraform module and the local
 * gateway read too, so the three cannot drift.
 */
export function identityHeaders(): IdentityHeader[] {
  // dist/lib/backend.js → infra/identity-headers.json is three levels up.
  const file = path.resolve(__dirname, '..', '..', '..', 'identity-headers.json');
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { headers: IdentityHeader[] };
  return doc.headers;
}

/**
 * Every other spelling of `header` in which one or more of its `-` are
 * written `_` (`x_client_cert_subject`, `x-client_cert-subject`, ...): 2^n - 1
 * spellings for a name with n dashes, lower case (header names are
 * case-insensitive). API Gateway forwards headers whose names contain
 * underscores to an HTTP backend, and CGI, WSGI (Django's `request.META`,
 * Flask/Werkzeug), PHP and others read `-` and `_` as the same variable, so a
 * client sending one of these spellings could add to or replace the identity
 * the backend reads. The REST API overwrites each with the verified value, the
 * HTTP API removes each (Envoy's `headers_with_underscores_action` and
 * nginx's `underscores_in_headers off` are the same defence).
 */
export function underscoreSpellings(header: string): string[] {
  const parts = header.split('-');
  const spellings: string[] = [];
  // Spelling k writes the i-th dash `_` when bit i of k is set.
  for (let k = 1; k < 2 ** (parts.length - 1); k++) {
    spellings.push(parts.map((part, i) => (i === 0 ? part : (Math.floor(k / 2 ** (i - 1)) % 2 === 1 ? '_' : '-') + part)).join(''));
  }
  return spellings;
}

/** An origin: scheme, host and optional port, no path (the client's path is appended). */
const ORIGIN = /^https?:\/\/[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$/;

/** How an HTTP backend inside a VPC is reached. */
export interface PrivateBackend {
  /**
   * REST API: a VPC link (v1) to the Network Load Balancer in front of the
   * service (`new apigw.VpcLink(scope, 'Link', { targets: [nlb] })`). The
   * backend `url` is then the NLB's DNS name, or a name its TLS certificate
   * covers. (An NLB can target an ALB.)
   */
  readonly restVpcLink?: apigw.IVpcLink;

  /**
   * HTTP API: the Application or Network Load Balancer listener the VPC link
   * (v2) reaches. The backend `url`'s host is then the name API Gateway
   * verifies the backend's certificate against (https).
   */
  readonly httpApiListener?: elbv2.IApplicationListener | elbv2.INetworkListener;

  /**
   * HTTP API: the VPC link (v2) to use.
   *
   * @default - one is created in the listener's VPC
   */
  readonly httpApiVpcLink?: apigwv2.IVpcLink;
}

/** Options of an HTTP backend. */
export interface HttpBackendOptions {
  /** A backend inside a VPC. @default - reached over the internet */
  readonly private?: PrivateBackend;

  /**
   * How long API Gateway waits for the backend.
   *
   * @default Duration.seconds(29)
   */
  readonly timeout?: Duration;
}

/**
 * What the API serves: the bundled api-handler (the default), or an HTTP
 * service you already run, which receives every method and path with the
 * verified certificate identity in `x-client-cert-*` request headers. API
 * Gateway sets those from the authorizer's context and overwrites any the
 * client sent, under any spelling with `_` for `-` too
 * ({@link underscoreSpellings}).
 */
export class Backend {
  /** The bundled readings API: a Lambda function and a DynamoDB table. */
  public static apiHandler(): Backend {
    return new Backend(undefined, {});
  }

  /**
   * An HTTP service, by its origin (`https://orders.example.com`,
   * `http://internal-nlb-123.elb.eu-west-1.amazonaws.com:8080`): scheme, host
   * and port, no path.
   */
  public static http(url: string, options: HttpBackendOptions = {}): Backend {
    if (!Token.isUnresolved(url) && !ORIGIN.test(url)) {
      throw new Error(`backend must be an origin such as https://orders.example.com (no path, no trailing slash), not "${url}"`);
    }
    return new Backend(url, options);
  }

  private constructor(
    /** The origin, or undefined for the api-handler. */
    public readonly url: string | undefined,
    public readonly options: HttpBackendOptions,
  ) {}

  /** True for the bundled api-handler. */
  public get isApiHandler(): boolean {
    return this.url === undefined;
  }
}

/**
 * REST API: `ANY /` and `ANY /{proxy+}` as HTTP_PROXY integrations to the
 * backend, each behind the authorizer, with the identity headers mapped from
 * the authorizer's context. A mapped integration request header replaces a
 * header of the same name the client sent; every underscore spelling of each
 * is mapped from the same context key (a REST integration cannot remove a
 * header).
 */
export function addRestBackend(
  api: apigw.RestApi,
  backend: Backend,
  authorizer: apigw.IAuthorizer,
): void {
  const url = backend.url as string;
  const vpcLink = backend.options.private?.restVpcLink;
  if (backend.options.private && !vpcLink) {
    throw new Error('a private backend on a REST API needs private.restVpcLink (a VPC link v1 to a Network Load Balancer)');
  }
  const headers = Object.fromEntries(
    identityHeaders().flatMap((h) =>
      [h.header, ...underscoreSpellings(h.header)].map((name) => [`integration.request.header.${name}`, `context.authorizer.${h.context}`]),
    ),
  );
  const integration = (uri: string, extra: Record<string, string>) =>
    new apigw.HttpIntegration(uri, {
      proxy: true,
      httpMethod: 'ANY',
      options: {
        requestParameters: { ...headers, ...extra },
        timeout: backend.options.timeout ?? Duration.seconds(29),
        ...(vpcLink ? { connectionType: apigw.ConnectionType.VPC_LINK, vpcLink } : {}),
      },
    });
  const method = { authorizationType: apigw.AuthorizationType.CUSTOM, authorizer };
  api.root.addMethod('ANY', integration(`${url}/`, {}), method);
  api.root
    .addResource('{proxy+}')
    .addMethod('ANY', integration(`${url}/{proxy}`, { 'integration.request.path.proxy': 'method.request.path.proxy' }), {
      ...method,
      requestParameters: { 'method.request.path.proxy': true },
    });
}

/**
 * HTTP API: one `$default` route behind the authorizer, to the backend over
 * the internet or through a VPC link, overwriting the identity headers,
 * removing every underscore spelling of them, and keeping the client's path.
 */
export function addHttpApiBackend(
  api: apigwv2.HttpApi,
  backend: Backend,
  authorizer: apigwv2.IHttpRouteAuthorizer,
): void {
  const url = backend.url as string;
  const priv = backend.options.private;
  if (priv && !priv.httpApiListener) {
    throw new Error('a private backend on an HTTP API needs private.httpApiListener (an ALB or NLB listener)');
  }
  const parameterMapping = new apigwv2.ParameterMapping();
  for (const h of identityHeaders()) {
    parameterMapping.overwriteHeader(h.header, apigwv2.MappingValue.contextVariable(`authorizer.${h.context}`));
    // A remove mapping's value is `''`, as in AWS's parameter mapping examples
    // and the Terraform module (ParameterMapping.removeHeader() writes "").
    for (const spelling of underscoreSpellings(h.header)) {
      parameterMapping.custom(`remove:header.${spelling}`, "''");
    }
  }
  parameterMapping.overwritePath(apigwv2.MappingValue.requestPath());
  const timeout = backend.options.timeout ?? Duration.seconds(29);
  const method = apigwv2.HttpMethod.ANY;
  let integration: apigwv2.HttpRouteIntegration;
  if (priv?.httpApiListener) {
    const secureServerName = url.startsWith('https://') ? new URL(url).hostname : undefined;
    const common = { method, parameterMapping, timeout, secureServerName, vpcLink: priv.httpApiVpcLink };
    integration =
      priv.httpApiListener instanceof elbv2.NetworkListener || isNetworkListener(priv.httpApiListener)
        ? new apigwv2Int.HttpNlbIntegration('Backend', priv.httpApiListener as elbv2.INetworkListener, common)
        : new apigwv2Int.HttpAlbIntegration('Backend', priv.httpApiListener as elbv2.IApplicationListener, common);
  } else {
    integration = new apigwv2Int.HttpUrlIntegration('Backend', url, { method, parameterMapping, timeout });
  }
  new apigwv2.HttpRoute(api, 'BackendRoute', {
    httpApi: api,
    routeKey: apigwv2.HttpRouteKey.DEFAULT,
    integration,
    authorizer,
  });
}

/** An imported listener carries no class; its ARN says which kind of load balancer it belongs to. */
function isNetworkListener(listener: elbv2.IApplicationListener | elbv2.INetworkListener): boolean {
  const arn = listener.listenerArn;
  return !Token.isUnresolved(arn) && arn.includes(':listener/net/');
}
