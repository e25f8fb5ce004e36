// Synth-time checks of MtlsApiProps, and the authorizer's configuration document built from them.
// A bad input fails `cdk synth` with a message that says what to fix, not a deployment.

import * as fs from 'node:fs';

import { Duration, Token } from 'aws-cdk-lib';

import { IssuerPolicy, MtlsApiProps, Revocation } from './props';

const ACM_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate\/[0-9a-f-]+$/;
const DNS_NAME = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CRL_URI = /^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+|https:\/\/.+)$/;
/** A crlFromCdp prefix: http(s), a host, ending at a path boundary. */
const CDP_PREFIX = /^https?:\/\/[^/]+\/(.*\/)?$/;
/** A crlFromCdp fetch base: an S3 prefix or an HTTPS base, ending in "/". */
const CDP_FETCH = /^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/(.+\/)?|https:\/\/.+\/)$/;

/** Every CRL URI an issuer entry names, through `crl` or `crls`. */
export function crlUris(i: IssuerPolicy): string[] {
  return [...(i.crl !== undefined ? [i.crl] : []), ...(i.crls ?? [])];
}

/** The authorizer's configuration document (docs/configuration.md), from the props. */
export function authorizerConfig(props: MtlsApiProps, truststoreUri: string, ttl: Duration): Record<string, unknown> {
  return {
    truststore: truststoreUri,
    issuers: props.issuers.map((i) => ({
      name: i.name,
      match: i.match,
      ...(i.crl !== undefined ? { crl: i.crl } : {}),
      ...(i.crls !== undefined ? { crl: i.crls } : {}),
      ...(i.crlFromCdp !== undefined
        ? { crl_from_cdp: i.crlFromCdp.map((p) => (p.fetch !== undefined ? { prefix: p.prefix, fetch: p.fetch } : { prefix: p.prefix })) }
        : {}),
      ...(i.revocation === Revocation.NONE ? { revocation: 'none' } : {}),
      ...(i.subject !== undefined ? { subject: i.subject } : {}),
    })),
    crl_refresh_seconds: (props.crlRefresh ?? Duration.minutes(5)).toSeconds(),
    crl_grace_seconds: (props.crlGrace ?? Duration.hours(1)).toSeconds(),
    max_cdp_crls_per_issuer: props.maxCdpCrlsPerIssuer ?? 64,
    // A cached policy is reused for every route of the caller, so with a
    // cache it must cover the stage, not the one method that was called.
    policy_resource: ttl.toSeconds() > 0 ? 'stage' : 'method',
  };
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
    if (revocation === Revocation.NONE && sources > 0) {
      throw new Error(`issuer "${i.name}": revocation: Revocation.NONE contradicts the CRLs it also sets`);
    }
    if (revocation === Revocation.CRL && sources !== 1) {
      throw new Error(
        `issuer "${i.name}" needs crl: "s3://bucket/key" or "https://…", crls: [...], or crlFromCdp: [...] (exactly one; or revocation: Revocation.NONE, knowingly)`,
      );
    }
    for (const uri of crlUris(i)) {
      if (!CRL_URI.test(uri)) {
        throw new Error(`issuer "${i.name}" needs crl URIs "s3://bucket/key" or "https://…", not "${uri}"`);
      }
    }
    if (i.crls !== undefined && (i.crls.length === 0 || i.crls.length > 64 || new Set(i.crls).size !== i.crls.length)) {
      throw new Error(`issuer "${i.name}": crls lists 1 to 64 distinct URIs`);
    }
    if (i.crlFromCdp !== undefined && (i.crlFromCdp.length === 0 || i.crlFromCdp.length > 16)) {
      throw new Error(`issuer "${i.name}": crlFromCdp lists 1 to 16 prefixes`);
    }
    for (const p of i.crlFromCdp ?? []) {
      if (!CDP_PREFIX.test(p.prefix)) {
        throw new Error(
          `issuer "${i.name}": crlFromCdp prefix must be an http:// or https:// URI with a host, ending in "/", not "${p.prefix}"`,
        );
      }
      if (p.fetch !== undefined && !CDP_FETCH.test(p.fetch)) {
        throw new Error(
          `issuer "${i.name}": crlFromCdp fetch must be "s3://bucket/prefix/" or "https://…/", ending in "/", not "${p.fetch}"`,
        );
      }
    }
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
  if (props.authorizerIdentitySources !== undefined && props.authorizerIdentitySources.length === 0) {
    throw new Error('authorizerIdentitySources must be omitted (the certificate) or name at least one source');
  }
  if (props.stageName !== undefined && !/^[A-Za-z0-9_]{1,128}$/.test(props.stageName)) {
    throw new Error(`stageName may hold letters, digits and underscores, not "${props.stageName}"`);
  }
  const apiHandler = props.backend === undefined || props.backend.isApiHandler;
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
