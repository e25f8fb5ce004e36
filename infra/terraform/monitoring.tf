################################################################################
# Monitoring: the authorizer's EMF metrics (infra/metrics.json lists them),
# alarms that warn before devices are locked out, and a dashboard.
################################################################################

locals {
  metrics_namespace = coalesce(var.metrics_namespace, "MtlsAuthorizer/${var.name}")

  # Where every alarm description sends the operator.
  runbook = "What to check: mtls-authorizer docs/monitoring.md, Alarms."

  # The region from an ARN: `data.aws_region` renamed its attribute in provider 6.
  region = split(":", aws_lambda_function.authorizer.arn)[3]

  api_metric_names = local.rest ? { e4 = "4XXError", e5 = "5XXError" } : { e4 = "4xx", e5 = "5xx" }
  api_dimensions   = local.rest ? { ApiName = var.name, Stage = var.stage_name } : { ApiId = local.api_id, Stage = var.stage_name }
}

resource "aws_cloudwatch_metric_alarm" "crl_stale" {
  alarm_name          = "${var.name}-crl-stale"
  alarm_description   = "A CRL in use is less than ${var.alarm_crl_stale_seconds} s from its nextUpdate and no newer one has loaded: is the CA still publishing, and can the authorizer read it (crl_metrics lines, cause)? After nextUpdate + grace its devices are denied crl_unavailable. ${local.runbook}"
  namespace           = local.metrics_namespace
  metric_name         = "CrlSecondsToNextUpdate"
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.alarm_crl_stale_seconds
  comparison_operator = "LessThanThreshold"
  # Points come with refreshes, which come with traffic: a quiet period keeps the state.
  treat_missing_data = "missing"
  alarm_actions      = var.alarm_actions
  ok_actions         = var.alarm_actions
  tags               = var.tags
}

resource "aws_cloudwatch_metric_alarm" "crl_refresh_failing" {
  alarm_name          = "${var.name}-crl-refresh-failing"
  alarm_description   = "CRL refreshes have failed or been rejected, or OCSP exchanges have failed, in each of ${var.alarm_crl_refresh_failure_periods} consecutive 5-minute periods. The last good CRL stays in use until nextUpdate + grace, and a cached OCSP answer until its nextUpdate; a certificate without one is denied ocsp_unavailable. The crl_metrics lines' cause (fetch, too_large, signature, scope, rollback, expired, parse) and the ocsp_metrics lines' error (fetch, timeout, http_status, status, signature, signer, certid, stale, ...) say what to fix. ${local.runbook}"
  evaluation_periods  = var.alarm_crl_refresh_failure_periods
  datapoints_to_alarm = var.alarm_crl_refresh_failure_periods
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "problems"
    expression  = "FILL(failures, 0) + FILL(rejected, 0) + FILL(ocsperrors, 0)"
    label       = "Failed or rejected CRL refreshes, and failed OCSP exchanges"
    return_data = true
  }

  metric_query {
    id = "failures"
    metric {
      namespace   = local.metrics_namespace
      metric_name = "CrlRefreshFailures"
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id = "rejected"
    metric {
      namespace   = local.metrics_namespace
      metric_name = "CrlRejected"
      stat        = "Sum"
      period      = 300
    }
  }

  # An exchange with an OCSP responder that gave no verified answer. None are
  # written without `ocsp`, and FILL makes the missing series 0.
  metric_query {
    id = "ocsperrors"
    metric {
      namespace   = local.metrics_namespace
      metric_name = "OcspRequests"
      dimensions  = { result = "error" }
      stat        = "Sum"
      period      = 300
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "truststore_expiring" {
  alarm_name          = "${var.name}-truststore-ca-expiring"
  alarm_description   = "A CA in the truststore expires within ${var.alarm_truststore_expiry_days} days (truststore_metrics lines name it); after that API Gateway refuses every device that chains to it. Add its successor to the bundle and roll devices over. ${local.runbook}"
  namespace           = local.metrics_namespace
  metric_name         = "TruststoreSecondsToFirstExpiry"
  statistic           = "Minimum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = var.alarm_truststore_expiry_days * 86400
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "revocation_spike" {
  alarm_name          = "${var.name}-revocation-spike"
  alarm_description   = "More than ${var.alarm_revoked_per_5_minutes} requests in 5 minutes were denied as revoked: a mass revocation, or revoked (possibly stolen) certificates in use. Check the decision lines' serial and issuer. ${local.runbook}"
  namespace           = local.metrics_namespace
  metric_name         = "Decisions"
  dimensions          = { reason = "revoked" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.alarm_revoked_per_5_minutes
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "crl_unavailable" {
  alarm_name          = "${var.name}-crl-unavailable"
  alarm_description   = "Requests are denied crl_unavailable: no verified CRL within nextUpdate + grace covers their certificates. Devices are locked out now; check the CRL source and the crl_metrics lines' cause. ${local.runbook}"
  namespace           = local.metrics_namespace
  metric_name         = "Decisions"
  dimensions          = { reason = "crl_unavailable" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "deny_list_stale" {
  count = local.deny_list ? 1 : 0

  alarm_name          = "${var.name}-deny-list-stale"
  alarm_description   = "The deny list in use was last confirmed current more than ${var.alarm_deny_list_stale_seconds} s ago: its refreshes are failing (deny_list_metrics lines, cause fetch or too_large) or being refused (parse, rollback). Revocations written since then are not enforced yet, and ${try(var.deny_list.max_age_seconds, 0)} s after the last good fetch every request is denied deny_list_unavailable. ${local.runbook}"
  namespace           = local.metrics_namespace
  metric_name         = "DenyListAgeSeconds"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = var.alarm_deny_list_stale_seconds
  comparison_operator = "GreaterThanThreshold"
  # Points come with refreshes, which come with traffic: a quiet period keeps the state.
  treat_missing_data = "missing"
  alarm_actions      = var.alarm_actions
  ok_actions         = var.alarm_actions
  tags               = var.tags

  lifecycle {
    precondition {
      condition     = var.alarm_deny_list_stale_seconds < try(var.deny_list.max_age_seconds, 0)
      error_message = "alarm_deny_list_stale_seconds must be below deny_list.max_age_seconds, or the alarm fires only once every request is already denied."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "deny_list_unavailable" {
  count = local.deny_list ? 1 : 0

  alarm_name          = "${var.name}-deny-list-unavailable"
  alarm_description   = "Requests are denied deny_list_unavailable: the deny list could not be loaded at cold start, or it is older than deny_list max_age_seconds. Every device is locked out now; check the object exists, the authorizer may read it, and the deny_list_metrics lines' cause. ${local.runbook}"
  namespace           = local.metrics_namespace
  metric_name         = "Decisions"
  dimensions          = { reason = "deny_list_unavailable" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "authorizer_slow" {
  alarm_name          = "${var.name}-authorizer-slow"
  alarm_description   = "The authorizer's p99 duration has been above ${var.alarm_authorizer_p99_ms} ms for 15 minutes: requests are waiting for CRL loads (no usable CRL) or OCSP exchanges, or the function needs more memory (CPU). Compare DecisionLatency, CrlLoadMs and OcspLatency. ${local.runbook}"
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = aws_lambda_function.authorizer.function_name }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  threshold           = var.alarm_authorizer_p99_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "authorizer_errors" {
  alarm_name          = "${var.name}-authorizer-errors"
  alarm_description   = "The authorizer failed invocations (API Gateway answers 500 to those requests): look for init_failed and panics in its log. ${local.runbook}"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.authorizer.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${var.name}-api-5xx"
  alarm_description   = "A spike of 5xx answers from the API: authorizer or backend failures (the access log's authorizerError and errorMessage). ${local.runbook}"
  namespace           = "AWS/ApiGateway"
  metric_name         = local.api_metric_names.e5
  dimensions          = local.api_dimensions
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 10
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags

  # The stage must exist before its metric means anything.
  depends_on = [aws_api_gateway_stage.this, aws_apigatewayv2_stage.this]
}

locals {
  ns = local.metrics_namespace
  # Widgets, left to right and top to bottom, 12 units wide each.
  dashboard_widgets = [
    {
      title   = "Decisions by reason (per 5 min)"
      stacked = true
      metrics = [[{ expression = "SEARCH('{\"${local.ns}\",reason} MetricName=\"Decisions\"', 'Sum', 300)", id = "byreason", label = "" }]]
    },
    {
      title   = "Allow rate (%)"
      stacked = false
      metrics = [
        [{ expression = "100 * FILL(allow, 0) / (FILL(allow, 0) + FILL(deny, 0))", id = "rate", label = "allowed %" }],
        [local.ns, "Decisions", "decision", "allow", { id = "allow", stat = "Sum", visible = false }],
        [local.ns, "Decisions", "decision", "deny", { id = "deny", stat = "Sum", visible = false }],
      ]
    },
    {
      title   = "CRL seconds to nextUpdate (min) and age (max), per issuer"
      stacked = false
      metrics = [
        [{ expression = "SEARCH('{\"${local.ns}\",issuer} MetricName=\"CrlSecondsToNextUpdate\"', 'Minimum', 300)", id = "tonext", label = "" }],
        [{ expression = "SEARCH('{\"${local.ns}\",issuer} MetricName=\"CrlAgeSeconds\"', 'Maximum', 300)", id = "age", label = "" }],
      ]
    },
    {
      title   = "CRL entries, per issuer"
      stacked = false
      metrics = [[{ expression = "SEARCH('{\"${local.ns}\",issuer} MetricName=\"CrlEntries\"', 'Maximum', 300)", id = "entries", label = "" }]]
    },
    {
      title   = "CRL refresh failures and rejections, by issuer and cause"
      stacked = true
      metrics = [
        [{ expression = "SEARCH('{\"${local.ns}\",issuer,cause} MetricName=\"CrlRefreshFailures\"', 'Sum', 300)", id = "failures", label = "" }],
        [{ expression = "SEARCH('{\"${local.ns}\",issuer,cause} MetricName=\"CrlRejected\"', 'Sum', 300)", id = "rejected", label = "" }],
      ]
    },
    {
      title   = "Authorizer duration p50 / p99 (ms) and its own work (DecisionLatency p99)"
      stacked = false
      metrics = [
        ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.authorizer.function_name, { stat = "p50" }],
        ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.authorizer.function_name, { stat = "p99" }],
        [local.ns, "DecisionLatency", { stat = "p99" }],
      ]
    },
    {
      title   = "API 4xx / 5xx"
      stacked = false
      metrics = [
        concat(["AWS/ApiGateway", local.api_metric_names.e4], flatten([for k, v in local.api_dimensions : [k, v]]), [{ stat = "Sum" }]),
        concat(["AWS/ApiGateway", local.api_metric_names.e5], flatten([for k, v in local.api_dimensions : [k, v]]), [{ stat = "Sum" }]),
      ]
    },
    {
      title   = "API latency p50 / p99 (ms)"
      stacked = false
      metrics = [
        concat(["AWS/ApiGateway", "Latency"], flatten([for k, v in local.api_dimensions : [k, v]]), [{ stat = "p50" }]),
        concat(["AWS/ApiGateway", "Latency"], flatten([for k, v in local.api_dimensions : [k, v]]), [{ stat = "p99" }]),
      ]
    },
  ]
}

locals {
  # With a deny list: its age and size, and its failed and refused refreshes.
  deny_list_widgets = [
    {
      title   = "Deny list age (max, s) and entries (right)"
      stacked = false
      metrics = [
        [local.ns, "DenyListAgeSeconds", { stat = "Maximum", label = "age (s)" }],
        [local.ns, "DenyListEntries", { stat = "Maximum", label = "entries", yAxis = "right" }],
      ]
    },
    {
      title   = "Deny list refresh failures and rejections, by cause"
      stacked = true
      metrics = [
        [{ expression = "SEARCH('{\"${local.ns}\",cause} MetricName=\"DenyListRefreshFailures\"', 'Sum', 300)", id = "dlfailures", label = "" }],
        [{ expression = "SEARCH('{\"${local.ns}\",cause} MetricName=\"DenyListRejected\"', 'Sum', 300)", id = "dlrejected", label = "" }],
      ]
    },
  ]
  # With OCSP on any issuer: the exchanges by result beside the answers
  # served from the cache, and how long the exchanges take.
  ocsp = anytrue([for i in var.issuers : i.ocsp != null])
  ocsp_widgets = [
    {
      title   = "OCSP exchanges by result, and cache hits (per 5 min)"
      stacked = false
      metrics = [
        [{ expression = "SEARCH('{\"${local.ns}\",result} MetricName=\"OcspRequests\"', 'Sum', 300)", id = "ocspresults", label = "" }],
        [local.ns, "OcspCacheHits", { stat = "Sum", label = "cache hits" }],
      ]
    },
    {
      title   = "OCSP exchange latency p50 / p99 (ms)"
      stacked = false
      metrics = [
        [local.ns, "OcspLatency", { stat = "p50" }],
        [local.ns, "OcspLatency", { stat = "p99" }],
      ]
    },
  ]
  all_dashboard_widgets = concat(
    local.dashboard_widgets,
    [for w in local.deny_list_widgets : w if local.deny_list],
    [for w in local.ocsp_widgets : w if local.ocsp],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create_dashboard ? 1 : 0

  dashboard_name = "${var.name}-mtls"
  dashboard_body = jsonencode({
    widgets = concat(
      [for i, w in local.all_dashboard_widgets : {
        type   = "metric"
        x      = (i % 2) * 12
        y      = floor(i / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = w.title
          region  = local.region
          view    = "timeSeries"
          stacked = w.stacked
          period  = 300
          metrics = w.metrics
        }
      }],
      [{
        type   = "log"
        x      = 0
        y      = ceil(length(local.all_dashboard_widgets) / 2) * 6
        width  = 24
        height = 6
        properties = {
          title  = "Authorizer cold starts (per 5 min)"
          region = local.region
          view   = "timeSeries"
          query  = "SOURCE '${aws_cloudwatch_log_group.authorizer.name}' | filter @type = \"REPORT\" and ispresent(@initDuration) | stats count(*) as coldStarts by bin(5m)"
        }
      }],
    )
  })
}
