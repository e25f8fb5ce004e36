// The construct's props and the enums they use: the whole configuration surface of MtlsApi, kept
// apart from the construct so the class reads as wiring.

import { Duration, aws_cloudwatch as cloudwatch, aws_kms as kms, aws_logs as logs, aws_route53 as route53 } from 'aws-cdk-lib';

import { Backend } from './backend';
import { AlarmThresholds } from './monitoring';

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
  /**
   * Check the serial against the issuer's CRLs, its OCSP responder, or both; deny when the
   * answer cannot be had.
   */
  CRL = 'crl',
  /** No revocation check, for issuers that publish no CRL and run no responder. Say so knowingly. */
  NONE = 'none',
}

/** How an entry reads delta CRLs (RFC 5280 §5.2.4). */
export enum DeltaCrls {
  /**
   * Read each base CRL with its delta: a base that names a delta (Freshest CRL), or every base
   * of an entry with `deltaCrl` or `deltaCrls`, is never read alone.
   */
  APPLY = 'apply',
  /**
   * Read base CRLs alone, and fetch no delta. A device revoked since the last base stays
   * allowed until the next base (a week, with AD CS's defaults). Say so knowingly.
   */
  IGNORE = 'ignore',
}

/** The hash of the CertID in OCSP requests (RFC 6960 §4.1.1). */
export enum OcspHash {
  /** SHA-256. */
  SHA256 = 'sha256',
  /** SHA-1, for responders that only index SHA-1 CertIDs (RFC 5019's profile). */
  SHA1 = 'sha1',
}

/**
 * One family of OCSP responder URIs for `respondersFromAia`: certificates whose
 * authorityInfoAccess OCSP URI starts with `prefix` are asked there, or at `fetch` plus the
 * rest of the URI.
 */
export interface OcspResponderPrefix {
  /** An `http://` or `https://` URI with a host, ending in `/`. */
  readonly prefix: string;
  /**
   * Where those responders are asked instead: an `http://` or `https://` base ending in `/`.
   *
   * @default - the certificate's OCSP URI itself
   */
  readonly fetch?: string;
}

/**
 * OCSP for one issuer (RFC 6960, in RFC 5019's profile; docs/ocsp.md). The authorizer function
 * needs a network path to the responder: the construct's function runs outside a VPC, so it
 * reaches responders on the internet.
 */
export interface OcspOptions {
  /**
   * The responder every certificate of the issuer is asked about: `http://` or `https://`.
   * Set exactly one of `responder` and `respondersFromAia`.
   *
   * @default - none
   */
  readonly responder?: string;
  /**
   * Ask the responder each certificate names in its authorityInfoAccess, within these
   * prefixes only: a certificate cannot make the authorizer connect anywhere else.
   *
   * @default - none
   */
  readonly respondersFromAia?: OcspResponderPrefix[];
  /**
   * A good answer is used until the earlier of its nextUpdate and this long after it was
   * fetched; past this but within nextUpdate, it is still used while one refresh runs behind
   * the requests. 1 s to 1 day.
   *
   * @default Duration.minutes(5)
   */
  readonly cache?: Duration;
  /**
   * The whole exchange with the responder. A request waits at most this long for it. 50 ms to 30 s.
   *
   * @default Duration.seconds(2)
   */
  readonly timeout?: Duration;
  /**
   * The answers kept per issuer, least recently used dropped first. 1 to 1,000,000.
   *
   * @default 10000
   */
  readonly maxEntries?: number;
  /**
   * A failed exchange is remembered this long: requests for that serial are denied
   * `ocsp_unavailable` without asking again. 1 s to 1 h.
   *
   * @default Duration.seconds(30)
   */
  readonly retry?: Duration;
  /** @default OcspHash.SHA256 */
  readonly hash?: OcspHash;
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

/**
 * One per-route rule of an issuer entry (docs/configuration.md#per-route-rules): a method and a
 * path its certificates may call.
 */
export interface RouteRule {
  /** `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD` or `OPTIONS` (upper case), or `*` for every method. */
  readonly method: string;
  /**
   * An exact path, `/temps`, or a prefix ending in `/*` for every path below it: `/admin/*` is
   * `/admin/` and anything after it, not `/admin` itself, and `/*` is every path. It starts with
   * `/` and is at most 256 characters of plain segments: letters, digits and `-._~`, no `.` or
   * `..` segment, no empty one.
   */
  readonly path: string;
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
   * Set at most one of `crl`, `crls` and `crlFromCdp`, and one of them or `ocsp`, unless
   * `revocation` is `Revocation.NONE`.
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
  /**
   * The delta CRL beside `crl` or `crls`, `s3://` or `https://`: every base CRL of the entry is
   * then read with a delta. With `crlFromCdp`, deltas are found through each base CRL's Freshest
   * CRL extension instead. Set at most one of `deltaCrl` and `deltaCrls`.
   *
   * @default - none
   */
  readonly deltaCrl?: string;
  /**
   * Several delta CRLs beside `crl` or `crls` (one per base across a key rollover).
   *
   * @default - none
   */
  readonly deltaCrls?: string[];
  /** @default DeltaCrls.APPLY */
  readonly delta?: DeltaCrls;
  /**
   * Ask the issuer's OCSP responder too (both the CRLs and OCSP must say good), or instead of
   * CRLs when the entry sets none.
   *
   * @default - no OCSP
   */
  readonly ocsp?: OcspOptions;
  /** @default Revocation.CRL */
  readonly revocation?: Revocation;
  /**
   * Client certificate constraints, as in the authorizer's configuration:
   * DN attributes, `san_dns`, `san_uri`, `eku`.
   *
   * @default - none
   */
  readonly subject?: Record<string, unknown>;
  /**
   * The only routes this issuer's certificates may call: 1 to 64 rules, no two overlapping (the
   * same path with the same method or `*`, or a path below another rule's `/*` prefix with a
   * compatible method). A request to another route is denied `route_not_allowed`, once the
   * certificate is otherwise good. With a REST API and an authorizer cache, the cached policy
   * allows exactly these routes. With an HTTP API and a cache, the cache key must name the route
   * (`$context.routeKey`, added to the default key), and an HTTP backend's single `$default`
   * route cannot be cached per route at all: the constructor refuses both.
   *
   * @default - every route
   */
  readonly routes?: RouteRule[];
}

/**
 * The operator deny list (docs/revoking.md): a JSON object in the truststore
 * bucket that denies listed certificates, and everything below a listed CA,
 * within seconds. `truststore deny` and `truststore revoke` edit it.
 */
export interface DenyListOptions {
  /**
   * Its object key in the truststore bucket. Not the truststore's key.
   *
   * @default 'deny-list.json'
   */
  readonly key?: string;
  /**
   * Create the object as an empty list (`{"version":1,"sequence":0,"entries":[]}`)
   * when it does not exist. The write is conditional (`If-None-Match: *`), so
   * a deploy never replaces a list the operators have edited.
   *
   * @default true
   */
  readonly create?: boolean;
  /**
   * No request is decided with a list fetched longer ago than this while S3
   * answers (the request that finds it due waits for the conditional GET).
   * 1 s to 1 h.
   *
   * @default Duration.seconds(10)
   */
  readonly refresh?: Duration;
  /**
   * While refreshes fail, the last good list stays in use this long after its
   * last successful fetch; then every request is denied `deny_list_unavailable`.
   * 1 s to 7 days, and at least `refresh`.
   *
   * @default Duration.minutes(15)
   */
  readonly maxAge?: Duration;
}

/**
 * One CA revocation entry: a CA that issues CA certificates (a root, say),
 * and its CRLs (ARLs). Each CA certificate on a client's path that this CA
 * issued is checked against them, verified with that CA's key from the
 * truststore; a revoked one denies the client `ca_revoked`.
 */
export interface CaRevocationPolicy {
  /** Name of the entry, in logs. Unique among the CA revocation entries. */
  readonly name: string;
  /** The CA's DN attributes that must all match, as in an issuer's `match`. */
  readonly match: Record<string, string | string[]>;
  /**
   * Its CRL: `s3://bucket/key` or `https://…`. Set exactly one of `crl`,
   * `crls` and `crlFromCdp`. The authorizer role may read the `s3://` objects.
   *
   * @default - none
   */
  readonly crl?: string;
  /**
   * Several CRLs of this CA, `s3://` or `https://`.
   *
   * @default - none
   */
  readonly crls?: string[];
  /**
   * Find each CA certificate's CRL from its CRL distribution points, within
   * these prefixes only.
   *
   * @default - none
   */
  readonly crlFromCdp?: CdpPrefix[];
  /**
   * The delta CRL beside `crl` or `crls`, as in an issuer entry.
   *
   * @default - none
   */
  readonly deltaCrl?: string;
  /**
   * Several delta CRLs beside `crl` or `crls`.
   *
   * @default - none
   */
  readonly deltaCrls?: string[];
  /** @default DeltaCrls.APPLY */
  readonly delta?: DeltaCrls;
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

  /**
   * The operator deny list (docs/revoking.md), an object in the truststore
   * bucket that the authorizer may `s3:GetObject` and nothing else. Operators
   * who revoke devices need write access to it: `MtlsApi.grantDenyListWrite()`.
   *
   * @default - no deny list
   */
  readonly denyList?: DenyListOptions;

  /**
   * CA revocation: CAs whose CRLs (ARLs) the CA certificates they issued, on a
   * client's path, are checked against (docs/revoking.md).
   *
   * @default - none: only the client certificate is checked against CRLs
   */
  readonly caRevocation?: CaRevocationPolicy[];

  /**
   * Require every CA on a client's path below the trust anchor to be covered
   * by a `caRevocation` CRL; a CA that is not is denied `crl_unavailable`.
   *
   * @default false
   */
  readonly caRevocationRequired?: boolean;

  /** @default ApiType.REST */
  readonly apiType?: ApiType;

  /**
   * JSON Schema (draft 4) of `POST /temps` bodies, installed as the REST
   * API's request validator model.
   *
   * @default - the api-handler's own `api-handler/schema/temperature.json`,
   * generated from the API's contract, `api-handler/openapi.yaml`
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
   * could replay another's cached Allow and identity. On an HTTP API where an
   * issuer lists `routes`, it must include `$context.routeKey`: the cached
   * answer is for one route.
   *
   * @default - the client certificate's serial number and issuer DN, and `$context.routeKey` on an HTTP API where an issuer lists `routes`
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
   * 20 revoked denials per 5 minutes, authorizer p99 1 s, deny list stale after 2 minutes
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
