// The authorizer's alarms and dashboard: the same set as the Terraform
// module's monitoring.tf, on the EMF metrics listed in infra/metrics.json.
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Where every alarm description sends the operator. */
export const RUNBOOK = 'What to check: mtls-authorizer docs/monitoring.md, Alarms.';

/** Thresholds of the alarms; every one has a documented default. */
export interface AlarmThresholds {
  /**
   * The CRL-going-stale alarm fires when a CRL in use is closer than this to its nextUpdate.
   *
   * @default Duration.hours(6)
   */
  readonly crlStale?: Duration;

  /**
   * The CRL-refresh-failing alarm fires after this many consecutive 5-minute periods with a
   * failed or rejected CRL refresh, or a failed OCSP exchange.
   *
   * @default 3
   */
  readonly crlRefreshFailurePeriods?: number;

  /**
   * The truststore-CA-expiring alarm fires when a truststore CA expires within this time.
   *
   * @default Duration.days(30)
   */
  readonly truststoreExpiry?: Duration;

  /**
   * The revocation-spike alarm fires when more requests than this are denied `revoked` in 5 minutes.
   *
   * @default 20
   */
  readonly revokedPer5Minutes?: number;

  /**
   * The authorizer-slow alarm fires when the authorizer's p99 Duration stays above this for 15 minutes.
   *
   * @default Duration.seconds(1)
   */
  readonly authorizerP99?: Duration;

  /**
   * With a deny list: the deny-list-stale alarm fires when the list in use was last confirmed
   * current longer ago than this (its refreshes are failing). Keep it below the deny list's
   * `maxAge`, when every request starts being denied, and above its `refresh`.
   *
   * @default Duration.minutes(2)
   */
  readonly denyListStale?: Duration;
}

export interface MtlsMonitoringProps {
  /** The authorizer's METRICS_NAMESPACE. */
  readonly namespace: string;
  readonly authorizer: lambda.IFunction;
  readonly authorizerLogGroup: logs.ILogGroup;
  /** The API's 4xx, 5xx and latency metrics (REST and HTTP APIs name them differently). */
  readonly api: { clientErrors: cloudwatch.Metric; serverErrors: cloudwatch.Metric; latency: cloudwatch.Metric };
  readonly thresholds?: AlarmThresholds;
  readonly dashboard: boolean;
  readonly alarmActions: cloudwatch.IAlarmAction[];
  /** With a deny list: its maxAge, for the deny-list alarms and widgets. @default - no deny list */
  readonly denyListMaxAge?: Duration;
  /** Whether an issuer asks an OCSP responder, for the OCSP widgets. @default false */
  readonly ocsp?: boolean;
}

const FIVE_MINUTES = Duration.minutes(5);

/** Alarms that warn before devices are locked out, and the dashboard. */
export class MtlsMonitoring extends Construct {
  public readonly alarms: cloudwatch.Alarm[];
  public readonly dashboard?: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MtlsMonitoringProps) {
    super(scope, id);
    const t = props.thresholds ?? {};
    const ns = props.namespace;
    const emf = (metricName: string, statistic: string, dimensionsMap?: Record<string, string>, period = FIVE_MINUTES) =>
      new cloudwatch.Metric({ namespace: ns, metricName, statistic, dimensionsMap, period });

    const staleSeconds = (t.crlStale ?? Duration.hours(6)).toSeconds();
    const failurePeriods = t.crlRefreshFailurePeriods ?? 3;
    const expiryDays = (t.truststoreExpiry ?? Duration.days(30)).toDays();
    const revoked = t.revokedPer5Minutes ?? 20;
    const p99Ms = (t.authorizerP99 ?? Duration.seconds(1)).toMilliseconds();
    const denyListStaleSeconds = (t.denyListStale ?? Duration.minutes(2)).toSeconds();

    const alarm = (id: string, description: string, options: Omit<cloudwatch.AlarmProps, 'alarmDescription'>) =>
      new cloudwatch.Alarm(this, id, { alarmDescription: `${description} ${RUNBOOK}`, ...options });

    this.alarms = [
      alarm('CrlStaleAlarm',
        `A CRL in use is less than ${staleSeconds} s from its nextUpdate and no newer one has loaded: is the CA still publishing, and can the authorizer read it (crl_metrics lines, cause)? After nextUpdate + grace its devices are denied crl_unavailable.`, {
          metric: emf('CrlSecondsToNextUpdate', 'Minimum'),
          threshold: staleSeconds,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          // Points come with refreshes, which come with traffic: a quiet period keeps the state.
          treatMissingData: cloudwatch.TreatMissingData.MISSING,
        }),
      alarm('CrlRefreshFailingAlarm',
        `CRL refreshes have failed or been rejected, or OCSP exchanges have failed, in each of ${failurePeriods} consecutive 5-minute periods. The last good CRL stays in use until nextUpdate + grace, and a cached OCSP answer until its nextUpdate; a certificate without one is denied ocsp_unavailable. The crl_metrics lines' cause (fetch, too_large, signature, scope, rollback, expired, parse) and the ocsp_metrics lines' error (fetch, timeout, http_status, status, signature, signer, certid, stale, ...) say what to fix.`, {
          metric: new cloudwatch.MathExpression({
            // OCSP exchanges that gave no verified answer. None are written without
            // OCSP, and FILL makes the missing series 0.
            expression: 'FILL(failures, 0) + FILL(rejected, 0) + FILL(ocsperrors, 0)',
            usingMetrics: {
              failures: emf('CrlRefreshFailures', 'Sum'),
              rejected: emf('CrlRejected', 'Sum'),
              ocsperrors: emf('OcspRequests', 'Sum', { result: 'error' }),
            },
            label: 'Failed or rejected CRL refreshes, and failed OCSP exchanges',
            period: FIVE_MINUTES,
          }),
          threshold: 1,
          evaluationPeriods: failurePeriods,
          datapointsToAlarm: failurePeriods,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      alarm('TruststoreExpiringAlarm',
        `A CA in the truststore expires within ${expiryDays} days (truststore_metrics lines name it); after that API Gateway refuses every device that chains to it. Add its successor to the bundle and roll devices over.`, {
          metric: emf('TruststoreSecondsToFirstExpiry', 'Minimum', undefined, Duration.hours(1)),
          threshold: expiryDays * 86400,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.MISSING,
        }),
      alarm('RevocationSpikeAlarm',
        `More than ${revoked} requests in 5 minutes were denied as revoked: a mass revocation, or revoked (possibly stolen) certificates in use. Check the decision lines' serial and issuer.`, {
          metric: emf('Decisions', 'Sum', { reason: 'revoked' }),
          threshold: revoked,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      alarm('CrlUnavailableAlarm',
        `Requests are denied crl_unavailable: no verified CRL within nextUpdate + grace covers their certificates. Devices are locked out now; check the CRL source and the crl_metrics lines' cause.`, {
          metric: emf('Decisions', 'Sum', { reason: 'crl_unavailable' }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      alarm('AuthorizerSlowAlarm',
        `The authorizer's p99 duration has been above ${p99Ms} ms for 15 minutes: requests are waiting for CRL loads (no usable CRL) or OCSP exchanges, or the function needs more memory (CPU). Compare DecisionLatency, CrlLoadMs and OcspLatency.`, {
          metric: props.authorizer.metricDuration({ period: FIVE_MINUTES, statistic: 'p99' }),
          threshold: p99Ms,
          evaluationPeriods: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      alarm('AuthorizerErrorsAlarm',
        'The authorizer failed invocations (API Gateway answers 500 to those requests): look for init_failed and panics in its log.', {
          metric: props.authorizer.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
          threshold: 5,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      alarm('Api5xxAlarm',
        "A spike of 5xx answers from the API: authorizer or backend failures (the access log's authorizerError and errorMessage).", {
          metric: props.api.serverErrors,
          threshold: 10,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    ];
    if (props.denyListMaxAge) {
      const maxAge = props.denyListMaxAge.toSeconds();
      this.alarms.push(
        alarm('DenyListStaleAlarm',
          `The deny list in use was last confirmed current more than ${denyListStaleSeconds} s ago: its refreshes are failing (deny_list_metrics lines, cause fetch or too_large) or being refused (parse, rollback). Revocations written since then are not enforced yet, and ${maxAge} s after the last good fetch every request is denied deny_list_unavailable.`, {
            metric: emf('DenyListAgeSeconds', 'Maximum', undefined, Duration.minutes(1)),
            threshold: denyListStaleSeconds,
            evaluationPeriods: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            // Points come with refreshes, which come with traffic: a quiet period keeps the state.
            treatMissingData: cloudwatch.TreatMissingData.MISSING,
          }),
        alarm('DenyListUnavailableAlarm',
          'Requests are denied deny_list_unavailable: the deny list could not be loaded at cold start, or it is older than its maxAge. Every device is locked out now; check the object exists, the authorizer may read it, and the deny_list_metrics lines\' cause.', {
            metric: emf('Decisions', 'Sum', { reason: 'deny_list_unavailable' }),
            threshold: 1,
            evaluationPeriods: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
      );
    }
    for (const a of this.alarms) {
      for (const action of props.alarmActions) {
        a.addAlarmAction(action);
        a.addOkAction(action);
      }
    }

    if (!props.dashboard) return;
    const search = (schema: string, metricName: string, statistic: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{"${ns}",${schema}} MetricName="${metricName}"', '${statistic}', 300)`,
        label: '',
        period: FIVE_MINUTES,
      });
    const graph = (title: string, left: cloudwatch.IMetric[], stacked = false) =>
      new cloudwatch.GraphWidget({ title, left, stacked, width: 12, height: 6 });
    const duration = (statistic: string) => props.authorizer.metricDuration({ period: FIVE_MINUTES, statistic });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-mtls`,
    });
    this.dashboard.addWidgets(
      graph('Decisions by reason (per 5 min)', [search('reason', 'Decisions', 'Sum')], true),
      graph('Allow rate (%)', [
        new cloudwatch.MathExpression({
          expression: '100 * FILL(allow, 0) / (FILL(allow, 0) + FILL(deny, 0))',
          usingMetrics: {
            allow: emf('Decisions', 'Sum', { decision: 'allow' }),
            deny: emf('Decisions', 'Sum', { decision: 'deny' }),
          },
          label: 'allowed %',
          period: FIVE_MINUTES,
        }),
      ]),
    );
    this.dashboard.addWidgets(
      graph('CRL seconds to nextUpdate (min) and age (max), per issuer', [
        search('issuer', 'CrlSecondsToNextUpdate', 'Minimum'),
        search('issuer', 'CrlAgeSeconds', 'Maximum'),
      ]),
      graph('CRL entries, per issuer', [search('issuer', 'CrlEntries', 'Maximum')]),
    );
    this.dashboard.addWidgets(
      graph('CRL refresh failures and rejections, by issuer and cause', [
        search('issuer,cause', 'CrlRefreshFailures', 'Sum'),
        search('issuer,cause', 'CrlRejected', 'Sum'),
      ], true),
      graph('Authorizer duration p50 / p99 (ms) and its own work (DecisionLatency p99)', [
        duration('p50'),
        duration('p99'),
        emf('DecisionLatency', 'p99'),
      ]),
    );
    this.dashboard.addWidgets(
      graph('API 4xx / 5xx', [props.api.clientErrors, props.api.serverErrors]),
      graph('API latency p50 / p99 (ms)', [
        props.api.latency.with({ statistic: 'p50' }),
        props.api.latency.with({ statistic: 'p99' }),
      ]),
    );
    if (props.denyListMaxAge) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Deny list age (max, s) and entries (right)',
          left: [emf('DenyListAgeSeconds', 'Maximum').with({ label: 'age (s)' })],
          right: [emf('DenyListEntries', 'Maximum').with({ label: 'entries' })],
          width: 12,
          height: 6,
        }),
        graph('Deny list refresh failures and rejections, by cause', [
          search('cause', 'DenyListRefreshFailures', 'Sum'),
          search('cause', 'DenyListRejected', 'Sum'),
        ], true),
      );
    }
    if (props.ocsp) {
      // The exchanges by result beside the answers served from the cache, and how long the
      // exchanges take.
      this.dashboard.addWidgets(
        graph('OCSP exchanges by result, and cache hits (per 5 min)', [
          search('result', 'OcspRequests', 'Sum'),
          emf('OcspCacheHits', 'Sum').with({ label: 'cache hits' }),
        ]),
        graph('OCSP exchange latency p50 / p99 (ms)', [emf('OcspLatency', 'p50'), emf('OcspLatency', 'p99')]),
      );
    }
    this.dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Authorizer cold starts (per 5 min)',
        logGroupNames: [props.authorizerLogGroup.logGroupName],
        view: cloudwatch.LogQueryVisualizationType.LINE,
        queryLines: [
          'filter @type = "REPORT" and ispresent(@initDuration)',
          'stats count(*) as coldStarts by bin(5m)',
        ],
        width: 24,
        height: 6,
      }),
    );
  }
}
