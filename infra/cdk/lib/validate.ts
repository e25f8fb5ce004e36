// Synth-time checks of MtlsApiProps, and the authorizer's configuration document built from them.
// A bad input fails `cdk synth` with a message that says what to fix, not a deployment.

import * as fs from 'node:fs';

import { Duration, Token } from 'aws-cdk-lib';

import { ApiType, CdpPrefix, DeltaCrls, MtlsApiProps, OcspHash, OcspOptions, Revocation, RouteRule } from './props';

const ACM_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate\/[0-9a-f-]+$/;
const DNS_NAME = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CRL_URI = /^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+|https:\/\/.+)$/;
/** A crlFromCdp prefix: http(s), a host, ending at a path boundary. */
const CDP_PREFIX = /^https?:\/\/[^/]+\/(.*\/)?$/;
/** A crlFromCdp fetch base: an S3 prefix or an HTTPS base, ending in "/". */
const CDP_FETCH = /^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/(.+\/)?|https:\/\/.+\/)$/;
/** An OCSP responder: http or https (OCSP answers are signed, and usually served over plain HTTP). */
const OCSP_RESPONDER = /^https?:\/\/[^/?#]+(\/.*)?$/;

/** The methods a route rule may name, as the authorizer lists them (policy/src/config/routes.rs), and `*`. */
const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', '*'];
/** A route rule's path: `/`, `/*`, or plain segments with an optional `/*` for every path below. */
const ROUTE_PATH = /^(\/|\/\*|(\/[A-Za-z0-9._~-]+)+(\/\*)?)$/;
/** A `.` or `..` segment, which a router would resolve into another path. */
const DOT_SEGMENT = /(^|\/)\.{1,2}(\/|$)/;
/** The most rules one issuer may list, and the longest path, as the authorizer bounds them. */
const MAX_ROUTES = 64;
const MAX_ROUTE_PATH = 256;

/** An S3 object key: no leading "/", the characters S3 documents as safe. */
const OBJECT_KEY = /^[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]{0,1023}$/;

/** What an issuer entry and a CA revocation entry share: where their CRLs are, and how deltas are read. */
interface CrlSources {
  readonly crl?: string;
  readonly crls?: string[];
  readonly crlFromCdp?: CdpPrefix[];
  readonly deltaCrl?: string;
  readonly deltaCrls?: string[];
  readonly delta?: DeltaCrls;
}

/** Every CRL URI an issuer or CA revocation entry names: its base CRLs (`crl`, `crls`) and delta CRLs (`deltaCrl`, `deltaCrls`). */
export function crlUris(i: CrlSources): string[] {
  return [...baseCrlUris(i), ...deltaCrlUris(i)];
}

function baseCrlUris(i: CrlSources): string[] {
  return [...(i.crl !== undefined ? [i.crl] : []), ...(i.crls ?? [])];
}

function deltaCrlUris(i: CrlSources): string[] {
  return [...(i.deltaCrl !== undefined ? [i.deltaCrl] : []), ...(i.deltaCrls ?? [])];
}

/** Whether an issuer lists `routes` (per-route rules). */
export function perRouteRules(props: MtlsApiProps): boolean {
  return props.issuers.some((i) => i.routes !== undefined);
}

/** The deny list's settings, with their defaults. */
export function denyListSettings(props: MtlsApiProps): { key: string; create: boolean; refresh: Duration; maxAge: Duration } | undefined {
  const d = props.denyList;
  if (d === undefined) return undefined;
  return {
    key: d.key ?? 'deny-list.json',
    create: d.create ?? true,
    refresh: d.refresh ?? Duration.seconds(10),
    maxAge: d.maxAge ?? Duration.minutes(15),
  };
}

/** A prefix list as the authorizer's configuration takes it: `fetch` only when set. */
function prefixes(list: { prefix: string; fetch?: string }[]): { prefix: string; fetch?: string }[] {
  return list.map((p) => (p.fetch !== undefined ? { prefix: p.prefix, fetch: p.fetch } : { prefix: p.prefix }));
}

/**
 * `crl` (one URI or a list), `crl_from_cdp`, `delta_crl` (one URI or a list) and `delta`, as the
 * authorizer's configuration names them. `delta: "apply"`, the default, is left out.
 */
function crlFields(i: CrlSources): Record<string, unknown> {
  return {
    ...(i.crl !== undefined ? { crl: i.crl } : {}),
    ...(i.crls !== undefined ? { crl: i.crls } : {}),
    ...(i.crlFromCdp !== undefined ? { crl_from_cdp: prefixes(i.crlFromCdp) } : {}),
    ...(i.deltaCrl !== undefined ? { delta_crl: i.deltaCrl } : {}),
    ...(i.deltaCrls !== undefined ? { delta_crl: i.deltaCrls } : {}),
    ...(i.delta === DeltaCrls.IGNORE ? { delta: 'ignore' } : {}),
  };
}

/** The OCSP settings with their defaults, as the authorizer's configuration names them. */
function ocspFields(o: OcspOptions): Record<string, unknown> {
  return {
    ...(o.responder !== undefined ? { responder: o.responder } : {}),
    ...(o.respondersFromAia !== undefined ? { responders_from_aia: prefixes(o.respondersFromAia) } : {}),
    cache_seconds: (o.cache ?? Duration.minutes(5)).toSeconds(),
    timeout_ms: (o.timeout ?? Duration.seconds(2)).toMilliseconds(),
    max_entries: o.maxEntries ?? 10000,
    retry_seconds: (o.retry ?? Duration.seconds(30)).toSeconds(),
    hash: o.hash ?? OcspHash.SHA256,
  };
}

/**
 * The authorizer's configuration document (docs/configuration.md), from the props. `denyListUri`
 * is `s3://bucket/key` of the deny list, when there is one.
 */
export function authorizerConfig(props: MtlsApiProps, truststoreUri: string, ttl: Duration, denyListUri?: string): Record<string, unknown> {
  const denyList = denyListSettings(props);
  const caRevocation = props.caRevocation ?? [];
  return {
    truststore: truststoreUri,
    issuers: props.issuers.map((i) => ({
      name: i.name,
      match: i.match,
      ...crlFields(i),
      ...(i.ocsp !== undefined ? { ocsp: ocspFields(i.ocsp) } : {}),
      ...(i.revocation === Revocation.NONE ? { revocation: 'none' } : {}),
      ...(i.subject !== undefined ? { subject: i.subject } : {}),
      ...(i.routes !== undefined ? { routes: i.routes.map((r) => ({ method: r.method, path: r.path })) } : {}),
    })),
    crl_refresh_seconds: (props.crlRefresh ?? Duration.minutes(5)).toSeconds(),
    crl_grace_seconds: (props.crlGrace ?? Duration.hours(1)).toSeconds(),
    max_cdp_crls_per_issuer: props.maxCdpCrlsPerIssuer ?? 64,
    // A cached policy is reused for every route of the caller, so with a
    // cache it must cover the stage, not the one method that was called:
    // every route, or with `routes`, one statement per rule of the entry.
    policy_resource: ttl.toSeconds() > 0 ? 'stage' : 'method',
    // The deny list and CA revocation (docs/revoking.md). Keys of what is not
    // configured are left out: the configuration is strict.
    ...(denyList !== undefined && denyListUri !== undefined
      ? {
          deny_list: denyListUri,
          deny_list_refresh_seconds: denyList.refresh.toSeconds(),
          deny_list_max_age_seconds: denyList.maxAge.toSeconds(),
        }
      : {}),
    ...(caRevocation.length > 0 ? { ca_revocation: caRevocation.map((c) => ({ name: c.name, match: c.match, ...crlFields(c) })) } : {}),
    ca_revocation_required: props.caRevocationRequired ?? false,
  };
}

/** Refuse CRL sources that the authorizer would refuse: `what` names the entry in the message. */
function validateCrlSources(what: string, i: CrlSources): void {
  for (const uri of crlUris(i)) {
    if (!CRL_URI.test(uri)) {
      throw new Error(`${what} needs crl URIs "s3://bucket/key" or "https://…", not "${uri}"`);
    }
  }
  const deltas = deltaCrlUris(i);
  if (i.deltaCrl !== undefined || i.deltaCrls !== undefined) {
    if (i.crl === undefined && i.crls === undefined) {
      throw new Error(
        `${what}: deltaCrl and deltaCrls go beside crl or crls; with crlFromCdp, delta CRLs are found through each base CRL's Freshest CRL extension`,
      );
    }
    if (i.deltaCrl !== undefined && i.deltaCrls !== undefined) {
      throw new Error(`${what}: set deltaCrl or deltaCrls, not both`);
    }
    if (i.delta === DeltaCrls.IGNORE) {
      throw new Error(`${what}: delta: DeltaCrls.IGNORE contradicts the delta CRLs it also sets`);
    }
    const all = [...baseCrlUris(i), ...deltas];
    if (deltas.length === 0 || new Set(all).size !== all.length || all.length > 64) {
      throw new Error(`${what}: deltaCrls lists 1 or more URIs, none of them also a base CRL, and 64 CRLs in all at most`);
    }
  }
  if (i.crls !== undefined && (i.crls.length === 0 || i.crls.length > 64 || new Set(i.crls).size !== i.crls.length)) {
    throw new Error(`${what}: crls lists 1 to 64 distinct URIs`);
  }
  if (i.crlFromCdp !== undefined && (i.crlFromCdp.length === 0 || i.crlFromCdp.length > 16)) {
    throw new Error(`${what}: crlFromCdp lists 1 to 16 prefixes`);
  }
  for (const p of i.crlFromCdp ?? []) {
    if (!CDP_PREFIX.test(p.prefix)) {
      throw new Error(`${what}: crlFromCdp prefix must be an http:// or https:// URI with a host, ending in "/", not "${p.prefix}"`);
    }
    if (p.fetch !== undefined && !CDP_FETCH.test(p.fetch)) {
      throw new Error(`${what}: crlFromCdp fetch must be "s3://bucket/prefix/" or "https://…/", ending in "/", not "${p.fetch}"`);
    }
  }
}

/** Refuse OCSP settings that the authorizer would refuse: `what` names the entry in the message. */
function validateOcsp(what: string, o: OcspOptions): void {
  if ((o.responder === undefined) === (o.respondersFromAia === undefined)) {
    throw new Error(`${what}: ocsp needs responder or respondersFromAia, exactly one`);
  }
  if (o.responder !== undefined && !OCSP_RESPONDER.test(o.responder)) {
    throw new Error(`${what}: ocsp.responder must be an http:// or https:// URI, not "${o.responder}"`);
  }
  if (o.respondersFromAia !== undefined && (o.respondersFromAia.length === 0 || o.respondersFromAia.length > 16)) {
    throw new Error(`${what}: ocsp.respondersFromAia lists 1 to 16 prefixes`);
  }
  for (const p of o.respondersFromAia ?? []) {
    if (!CDP_PREFIX.test(p.prefix)) {
      throw new Error(`${what}: ocsp.respondersFromAia prefix must be an http:// or https:// URI with a host, ending in "/", not "${p.prefix}"`);
    }
    if (p.fetch !== undefined && !CDP_PREFIX.test(p.fetch)) {
      throw new Error(`${what}: ocsp.respondersFromAia fetch must be an http:// or https:// base ending in "/", not "${p.fetch}"`);
    }
  }
  const whole = (name: string, v: number, lo: number, hi: number) => {
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw new Error(`${what}: ${name} must be a whole number from ${lo} to ${hi}, not ${v}`);
    }
  };
  if (o.cache) whole('ocsp.cache (seconds)', o.cache.toSeconds(), 1, 86400);
  if (o.timeout) whole('ocsp.timeout (milliseconds)', o.timeout.toMilliseconds(), 50, 30000);
  if (o.maxEntries !== undefined) whole('ocsp.maxEntries', o.maxEntries, 1, 1000000);
  if (o.retry) whole('ocsp.retry (seconds)', o.retry.toSeconds(), 1, 3600);
}

/**
 * Whether some request matches both rules: their methods are the same or one is `*`, and their
 * paths are the same, or one is a `/*` prefix that covers the other path or prefix.
 */
function routesOverlap(a: RouteRule, b: RouteRule): boolean {
  const methods = a.method === b.method || a.method === '*' || b.method === '*';
  const prefix = (r: RouteRule) => (r.path.endsWith('/*') ? r.path.slice(0, -1) : undefined);
  const [pa, pb] = [prefix(a), prefix(b)];
  const paths =
    pa !== undefined && pb !== undefined
      ? pa.startsWith(pb) || pb.startsWith(pa)
      : pa !== undefined
        ? b.path.startsWith(pa)
        : pb !== undefined
          ? a.path.startsWith(pb)
          : a.path === b.path;
  return methods && paths;
}

/** Refuse per-route rules that the authorizer would refuse at cold start: `what` names the entry. */
function validateRoutes(what: string, routes: RouteRule[]): void {
  if (routes.length === 0 || routes.length > MAX_ROUTES) {
    throw new Error(`${what}: list 1 to ${MAX_ROUTES} routes, or leave routes out to allow every route`);
  }
  const seen: RouteRule[] = [];
  for (const r of routes) {
    if (!ROUTE_METHODS.includes(r.method)) {
      throw new Error(`${what}: route method "${r.method}" is not one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS (upper case) or "*"`);
    }
    if (!ROUTE_PATH.test(r.path) || DOT_SEGMENT.test(r.path) || r.path.length > MAX_ROUTE_PATH) {
      throw new Error(
        `${what}: route path "${r.path}" must start with "/", be at most ${MAX_ROUTE_PATH} characters of plain segments (letters, digits, -._~; no "." or ".." segment, no empty one), and end in "/*" only to name every path below it`,
      );
    }
    const other = seen.find((o) => routesOverlap(o, r));
    if (other !== undefined) {
      throw new Error(`${what}: route "${r.method} ${r.path}" overlaps "${other.method} ${other.path}"; list each route once`);
    }
    seen.push(r);
  }
}

/** Refuse bad input at synth time, with a message that says what to fix. */
export function validate(props: MtlsApiProps): void {
  const known = (s: string) => !Token.isUnresolved(s);
  if (known(props.domainName) && !DNS_NAME.test(props.domainName)) {
    throw new Error(`domainName must be a lower-case DNS name such as api.example.com, not "${props.domainName}"`);
  }
  for (const [name, arn] of [
    ['certificateArn', props.certificateArn],
    ['ownershipVerificationCertificateArn', props.ownershipVerificationCertificateArn],
  ] as const) {
    if (arn !== undefined && known(arn) && !ACM_ARN.test(arn)) {
      throw new Error(`${name} must be an ACM certificate ARN, not "${arn}"`);
    }
  }
  if (
    props.metricsNamespace !== undefined &&
    known(props.metricsNamespace) &&
    (!/^[A-Za-z0-9._/#: -]{1,255}$/.test(props.metricsNamespace) || props.metricsNamespace.startsWith('AWS/'))
  ) {
    throw new Error('metricsNamespace must be 1-255 letters, digits or .-_/#: and space, not starting with AWS/');
  }
  if (props.issuers.length === 0) {
    throw new Error('issuers must hold at least one entry: with none, every request is denied');
  }
  const names = new Set<string>();
  for (const i of props.issuers) {
    if (names.has(i.name)) {
      throw new Error(`issuer names must be unique: "${i.name}" appears twice`);
    }
    names.add(i.name);
    if (Object.keys(i.match).length === 0) {
      throw new Error(`issuer "${i.name}" needs at least one match attribute, such as { CN: 'Devices CA' }`);
    }
    const revocation = i.revocation ?? Revocation.CRL;
    const sources = [i.crl, i.crls, i.crlFromCdp].filter((x) => x !== undefined).length;
    if (revocation === Revocation.NONE && (sources > 0 || i.ocsp !== undefined || i.deltaCrl !== undefined || i.deltaCrls !== undefined)) {
      throw new Error(`issuer "${i.name}": revocation: Revocation.NONE contradicts the CRLs or OCSP it also sets`);
    }
    if (revocation === Revocation.CRL && (sources > 1 || (sources === 0 && i.ocsp === undefined))) {
      throw new Error(
        `issuer "${i.name}" needs crl: "s3://bucket/key" or "https://…", crls: [...], or crlFromCdp: [...] (exactly one), ocsp: {...}, or both a CRL and ocsp (or revocation: Revocation.NONE, knowingly)`,
      );
    }
    validateCrlSources(`issuer "${i.name}"`, i);
    if (i.ocsp !== undefined) validateOcsp(`issuer "${i.name}"`, i.ocsp);
    if (i.routes !== undefined) validateRoutes(`issuer "${i.name}"`, i.routes);
  }
  const caNames = new Set<string>();
  for (const c of props.caRevocation ?? []) {
    if (caNames.has(c.name)) {
      throw new Error(`caRevocation names must be unique: "${c.name}" appears twice`);
    }
    caNames.add(c.name);
    if (Object.keys(c.match).length === 0) {
      throw new Error(`caRevocation "${c.name}" needs at least one match attribute, such as { CN: 'Root CA' }`);
    }
    if ([c.crl, c.crls, c.crlFromCdp].filter((x) => x !== undefined).length !== 1) {
      throw new Error(`caRevocation "${c.name}" needs crl: "s3://bucket/key" or "https://…", crls: [...], or crlFromCdp: [...] (exactly one)`);
    }
    validateCrlSources(`caRevocation "${c.name}"`, c);
  }
  const seconds = (d: Duration | undefined) => d?.toSeconds() ?? 0;
  const range = (name: string, v: number, lo: number, hi: number) => {
    if (v < lo || v > hi) {
      throw new Error(`${name} must be from ${lo} to ${hi}, not ${v}`);
    }
  };
  range('authorizerResultTtl (seconds)', seconds(props.authorizerResultTtl), 0, 3600);
  if (props.crlRefresh) range('crlRefresh (seconds)', seconds(props.crlRefresh), 1, 86400);
  if (props.crlGrace) range('crlGrace (seconds)', seconds(props.crlGrace), 0, 604800);
  if (props.maxCdpCrlsPerIssuer !== undefined) range('maxCdpCrlsPerIssuer', props.maxCdpCrlsPerIssuer, 1, 10000);
  if (props.authorizerTimeout) range('authorizerTimeout (seconds)', seconds(props.authorizerTimeout), 3, 30);
  if (props.authorizerMemoryMb !== undefined) range('authorizerMemoryMb', props.authorizerMemoryMb, 128, 10240);
  if (props.apiHandlerMemoryMb !== undefined) range('apiHandlerMemoryMb', props.apiHandlerMemoryMb, 128, 10240);
  if (props.tempsRetentionDays !== undefined) range('tempsRetentionDays', props.tempsRetentionDays, 1, 36500);
  const denyList = denyListSettings(props);
  if (denyList !== undefined) {
    if (known(denyList.key) && !OBJECT_KEY.test(denyList.key)) {
      throw new Error(`denyList.key must be an S3 object key of letters, digits and !_.*'()/- that does not start with "/", not "${denyList.key}"`);
    }
    if (denyList.key === (props.truststoreKey ?? 'truststore.pem')) {
      throw new Error('denyList.key must differ from truststoreKey');
    }
    range('denyList.refresh (seconds)', denyList.refresh.toSeconds(), 1, 3600);
    range('denyList.maxAge (seconds)', denyList.maxAge.toSeconds(), 1, 604800);
    if (denyList.maxAge.toSeconds() < denyList.refresh.toSeconds()) {
      throw new Error('denyList.maxAge must be at least denyList.refresh');
    }
    const stale = seconds(props.alarmThresholds?.denyListStale ?? Duration.minutes(2));
    if (stale < 1 || stale >= denyList.maxAge.toSeconds()) {
      throw new Error(
        `alarmThresholds.denyListStale (${stale} s) must be at least 1 s and below denyList.maxAge (${denyList.maxAge.toSeconds()} s), or the alarm fires only once every request is already denied`,
      );
    }
  }
  if (props.authorizerIdentitySources !== undefined && props.authorizerIdentitySources.length === 0) {
    throw new Error('authorizerIdentitySources must be omitted (the certificate) or name at least one source');
  }
  if (props.stageName !== undefined && !/^[A-Za-z0-9_]{1,128}$/.test(props.stageName)) {
    throw new Error(`stageName may hold letters, digits and underscores, not "${props.stageName}"`);
  }
  const apiHandler = props.backend === undefined || props.backend.isApiHandler;
  // An HTTP API caches the simple response for the route that was asked: with per-route rules,
  // a cache key without the route would serve one route's Allow to another. The api-handler's
  // routes are exact paths, so the route key names the route; an HTTP backend's single
  // `$default` route has one route key for every path.
  if (perRouteRules(props) && props.apiType === ApiType.HTTP && seconds(props.authorizerResultTtl) > 0) {
    if (!apiHandler) {
      throw new Error(
        'an issuer lists routes, and the HTTP API caches authorizer results behind an HTTP backend, whose one $default route has the same route key for every path: set authorizerResultTtl to 0, or use ApiType.REST',
      );
    }
    if (props.authorizerIdentitySources !== undefined && !props.authorizerIdentitySources.includes('$context.routeKey')) {
      throw new Error(
        'an issuer lists routes, and the HTTP API caches authorizer results: add "$context.routeKey" to authorizerIdentitySources (or omit it for the certificate and the route key), or one route\'s cached Allow answers for another',
      );
    }
  }
  if (apiHandler && props.apiHandlerZip === undefined) {
    throw new Error('apiHandlerZip is required when the backend is the api-handler (the default)');
  }
  for (const [name, file] of [
    ['truststoreFile', props.truststoreFile],
    ['authorizerZip', props.authorizerZip],
    ...(apiHandler ? [['apiHandlerZip', props.apiHandlerZip as string] as const] : []),
  ] as const) {
    if (!fs.existsSync(file)) {
      throw new Error(`${name}: ${file} does not exist (see infra/cdk/README.md for how to build it)`);
    }
  }
}
