# Plan-time checks with a mocked AWS provider: `terraform init && terraform test`
# in infra/terraform. They need the hashicorp/aws provider installed (a mock
# still needs its schema); CI skips them, and says so, where it cannot be.
# `override_during = plan` (Terraform 1.11 or later) gives the mocked computed
# values (the bucket name, the object version) at plan time, where the
# assertions read them; without it they are unknown and every run fails.

mock_provider "aws" {
  override_during = plan
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { id = "mtls-authorizer-truststore-mocked", arn = "arn:aws:s3:::mtls-authorizer-truststore-mocked" }
  }
  mock_resource "aws_s3_object" {
    defaults = { version_id = "v-mocked-1" }
  }
  # The dashboard reads the region from the function's ARN.
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:mocked" }
  }
}

variables {
  domain_name     = "api.example.com"
  certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
  truststore_file = "tests/fixtures/truststore.pem"
  authorizer_zip  = "tests/fixtures/bootstrap.zip"
  api_handler_zip = "tests/fixtures/bootstrap.zip"
  issuers = [{
    name  = "devices"
    match = { CN = "Devices CA" }
    crl   = "s3://pki-bucket/devices.crl"
  }]
}

run "secure_defaults" {
  command = plan

  assert {
    condition     = aws_api_gateway_rest_api.this[0].disable_execute_api_endpoint == true
    error_message = "The execute-api endpoint must be disabled: it bypasses mutual TLS."
  }

  assert {
    condition     = aws_api_gateway_authorizer.this[0].authorizer_result_ttl_in_seconds == 0
    error_message = "The authorizer cache TTL must default to 0."
  }

  assert {
    condition     = aws_s3_bucket_versioning.truststore.versioning_configuration[0].status == "Enabled"
    error_message = "The truststore bucket must be versioned."
  }

  assert {
    condition     = alltrue([for m in aws_api_gateway_method.this : m.authorization == "CUSTOM"])
    error_message = "Every method must use the authorizer."
  }

  assert {
    condition     = aws_api_gateway_domain_name.this[0].security_policy == "TLS_1_2"
    error_message = "The domain must require TLS 1.2."
  }

  assert {
    condition     = aws_lambda_function.authorizer.architectures[0] == "arm64" && aws_lambda_function.authorizer.runtime == "provided.al2023"
    error_message = "The functions run on provided.al2023, arm64."
  }

  assert {
    condition     = aws_api_gateway_domain_name.this[0].mutual_tls_authentication[0].truststore_version == "v-mocked-1"
    error_message = "The domain must pin the uploaded truststore object's version."
  }

  assert {
    condition     = aws_api_gateway_authorizer.this[0].identity_source == ""
    error_message = "Without a cache, the authorizer has no identity source and runs on every request."
  }

  assert {
    condition     = length(aws_apigatewayv2_api.this) == 0
    error_message = "api_type = \"rest\" creates no HTTP API."
  }
}

run "cache_is_keyed_by_the_certificate" {
  command = plan

  variables {
    authorizer_result_ttl_seconds = 60
  }

  assert {
    condition     = aws_api_gateway_authorizer.this[0].identity_source == "context.identity.clientCert.serialNumber,context.identity.clientCert.issuerDN"
    error_message = "A cached Allow must belong to one certificate, not to a header any client can send."
  }

  assert {
    condition     = jsondecode(aws_lambda_function.authorizer.environment[0].variables.AUTHORIZER_CONFIG).policy_resource == "stage"
    error_message = "With a cache, the policy must cover every route of the stage."
  }
}

run "http_api_variant" {
  command = plan

  variables {
    api_type = "http"
  }

  assert {
    condition     = length(aws_api_gateway_rest_api.this) == 0 && length(aws_apigatewayv2_api.this) == 1
    error_message = "api_type = \"http\" creates only the HTTP API."
  }

  assert {
    condition     = aws_apigatewayv2_api.this[0].disable_execute_api_endpoint == true
    error_message = "The execute-api endpoint must be disabled: it bypasses mutual TLS."
  }

  assert {
    condition     = alltrue([for r in aws_apigatewayv2_route.this : r.authorization_type == "CUSTOM"]) && length(aws_apigatewayv2_route.this) == 3
    error_message = "Every route must use the authorizer."
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.this[0].enable_simple_responses == true && aws_apigatewayv2_authorizer.this[0].authorizer_payload_format_version == "2.0"
    error_message = "The HTTP API authorizer uses payload 2.0 with simple responses."
  }

  assert {
    condition     = aws_apigatewayv2_domain_name.this[0].mutual_tls_authentication[0].truststore_version == "v-mocked-1"
    error_message = "The domain must pin the uploaded truststore object's version."
  }

  assert {
    condition     = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].security_policy == "TLS_1_2"
    error_message = "The domain must require TLS 1.2."
  }
}

run "unknown_api_type_is_refused" {
  command = plan

  variables {
    api_type = "websocket"
  }

  expect_failures = [var.api_type]
}

run "empty_issuer_list_is_refused" {
  command = plan

  variables {
    issuers = []
  }

  expect_failures = [var.issuers]
}

run "crl_uri_must_be_s3_or_https" {
  command = plan

  variables {
    issuers = [{ name = "x", match = { CN = "X" }, crl = "ftp://x/y" }]
  }

  expect_failures = [var.issuers]
}

run "ttl_over_an_hour_is_refused" {
  command = plan

  variables {
    authorizer_result_ttl_seconds = 7200
  }

  expect_failures = [var.authorizer_result_ttl_seconds]
}

run "monitoring_defaults" {
  command = plan

  assert {
    condition     = aws_lambda_function.authorizer.environment[0].variables["METRICS_NAMESPACE"] == "MtlsAuthorizer/${var.name}"
    error_message = "The authorizer publishes to MtlsAuthorizer/<name> by default."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.crl_stale.namespace == aws_lambda_function.authorizer.environment[0].variables["METRICS_NAMESPACE"]
    error_message = "The alarms watch the namespace the authorizer publishes to."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.crl_stale.threshold == 21600 && aws_cloudwatch_metric_alarm.truststore_expiring.threshold == 30 * 86400
    error_message = "The CRL-stale and CA-expiry alarms default to 6 h and 30 days."
  }

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 1
    error_message = "The dashboard is on by default."
  }
}

run "dashboard_can_be_turned_off" {
  command = plan

  variables {
    create_dashboard = false
  }

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 0
    error_message = "create_dashboard = false creates no dashboard."
  }
}

run "reserved_metrics_namespace_is_refused" {
  command = plan

  variables {
    metrics_namespace = "AWS/Lambda"
  }

  expect_failures = [var.metrics_namespace]
}

run "rest_http_backend_gets_the_identity_headers_and_no_api_handler" {
  command = plan

  variables {
    backend         = "https://orders.example.com"
    api_handler_zip = null
  }

  assert {
    condition     = length(aws_lambda_function.api_handler) == 0 && length(aws_dynamodb_table.temps) == 0
    error_message = "An HTTP backend replaces the api-handler and its table."
  }

  assert {
    condition = alltrue([for i in aws_api_gateway_integration.backend :
      i.type == "HTTP_PROXY"
      && i.request_parameters["integration.request.header.x-client-cert-subject"] == "context.authorizer.subjectDn"
      && i.request_parameters["integration.request.header.x-client-cert-serial"] == "context.authorizer.serialNumber"
    ])
    error_message = "Every backend integration maps the identity headers from the authorizer's context."
  }

  assert {
    condition = alltrue([for i in aws_api_gateway_integration.backend :
      i.request_parameters["integration.request.header.x_client_cert_subject"] == "context.authorizer.subjectDn"
      && i.request_parameters["integration.request.header.x-client_cert-subject"] == "context.authorizer.subjectDn"
      && i.request_parameters["integration.request.header.x_client_cert_name_sha256"] == "context.authorizer.nameSha256"
      && length([for k in keys(i.request_parameters) : k if startswith(k, "integration.request.header.")]) == 56
    ])
    error_message = "Every underscore spelling of every identity header is overwritten with the verified value (REST cannot remove a header)."
  }

  assert {
    condition     = aws_api_gateway_integration.backend["proxy"].uri == "https://orders.example.com/{proxy}"
    error_message = "The greedy path reaches the backend."
  }
}

run "http_api_backend_overwrites_the_identity_headers" {
  command = plan

  variables {
    api_type        = "http"
    backend         = "https://orders.example.com"
    api_handler_zip = null
  }

  assert {
    condition     = aws_apigatewayv2_integration.backend[0].request_parameters["overwrite:header.x-client-cert-sha256"] == "$context.authorizer.fingerprintSha256"
    error_message = "The HTTP API overwrites client-sent identity headers."
  }

  assert {
    condition = (
      aws_apigatewayv2_integration.backend[0].request_parameters["remove:header.x_client_cert_subject"] == "''"
      && aws_apigatewayv2_integration.backend[0].request_parameters["remove:header.x-client_cert-subject"] == "''"
      && aws_apigatewayv2_integration.backend[0].request_parameters["remove:header.x_client_cert_name_sha256"] == "''"
      && length([for k in keys(aws_apigatewayv2_integration.backend[0].request_parameters) : k if startswith(k, "remove:header.")]) == 50
    )
    error_message = "The HTTP API removes every underscore spelling of every identity header."
  }

  assert {
    condition     = aws_apigatewayv2_route.backend[0].route_key == "$default" && aws_apigatewayv2_route.backend[0].authorization_type == "CUSTOM"
    error_message = "One authorized $default route serves the backend."
  }
}

run "http_api_vpc_link_needs_a_listener" {
  command = plan

  variables {
    api_type         = "http"
    backend          = "https://orders.internal.example.com"
    api_handler_zip  = null
    backend_vpc_link = { subnet_ids = ["subnet-0123456789abcdef0"], security_group_ids = ["sg-0123456789abcdef0"] }
  }

  expect_failures = [aws_apigatewayv2_integration.backend]
}

run "backend_with_a_path_is_refused" {
  command = plan

  variables {
    backend = "https://orders.example.com/base/"
  }

  expect_failures = [var.backend]
}

run "no_deny_list_and_no_ca_revocation_by_default" {
  command = plan

  assert {
    condition = alltrue([for k in ["deny_list", "deny_list_refresh_seconds", "deny_list_max_age_seconds", "ca_revocation"] :
    !contains(keys(jsondecode(aws_lambda_function.authorizer.environment[0].variables.AUTHORIZER_CONFIG)), k)])
    error_message = "Without deny_list and ca_revocation the configuration has none of their keys (null is not a value the authorizer takes)."
  }

  assert {
    condition     = jsondecode(aws_lambda_function.authorizer.environment[0].variables.AUTHORIZER_CONFIG).ca_revocation_required == false
    error_message = "ca_revocation_required defaults to false."
  }

  assert {
    condition     = length(aws_s3_object.deny_list) == 0 && length(aws_cloudwatch_metric_alarm.deny_list_stale) == 0 && length(aws_cloudwatch_metric_alarm.deny_list_unavailable) == 0
    error_message = "No deny list: no object and no deny-list alarms."
  }

  assert {
    condition     = output.deny_list_uri == null && output.deny_list_object_arn == null
    error_message = "The deny-list outputs are null without a deny list."
  }

  assert {
    condition     = !contains([for st in data.aws_iam_policy_document.authorizer.statement : st.sid], "ReadDenyList")
    error_message = "No deny list: no grant to read one."
  }
}

run "deny_list_is_created_empty_read_by_the_authorizer_and_watched" {
  command = plan

  variables {
    deny_list = {}
  }

  assert {
    condition     = jsondecode(aws_lambda_function.authorizer.environment[0].variables.AUTHORIZER_CONFIG).deny_list == "s3://mtls-authorizer-truststore-mocked/deny-list.json"
    error_message = "The authorizer reads the deny list from the module's bucket."
  }

  assert {
    condition = (
      jsondecode(aws_lambda_function.authorizer.environment[0].variables.AUTHORIZER_CONFIG).deny_list_refresh_seconds == 10
      && jsondecode(aws_lambda_function.authorizer.environment[0].variables.AUTHORIZER_CONFIG).deny_list_max_age_seconds == 900
    )
    error_message = "The deny list refreshes every 10 s and is trusted for 900 s by default."
  }

  assert {
    condition     = jsondecode(aws_s3_object.deny_list[0].content) == { version = 1, sequence = 0, entries = [] } && aws_s3_object.deny_list[0].key == "deny-list.json"
    error_message = "The module creates the deny list empty, at sequence 0."
  }

  assert {
    condition     = output.deny_list_object_arn == "arn:aws:s3:::mtls-authorizer-truststore-mocked/deny-list.json" && output.deny_list_uri == "s3://mtls-authorizer-truststore-mocked/deny-list.json"
    error_message = "The outputs name the deny list object, for the operators' write grant and --list."
  }

  assert {
    condition = anytrue([for st in data.aws_iam_policy_document.authorizer.statement :
      st.sid == "ReadDenyList" && st.actions == toset(["s3:GetObject"]) && st.resources == toset(["arn:aws:s3:::mtls-authorizer-truststore-mocked/deny-list.json"])
    ])
    error_message = "The authorizer may GetObject the deny list object, and nothing else of it."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.deny_list_stale[0].metric_name == "DenyListAgeSeconds"
      && aws_cloudwatch_metric_alarm.deny_list_stale[0].statistic == "Maximum"
      && aws_cloudwatch_metric_alarm.deny_list_stale[0].threshold == 120
      && aws_cloudwatch_metric_alarm.deny_list_stale[0].comparison_operator == "GreaterThanThreshold"
    )
    error_message = "The deny-list-stale alarm watches the maximum DenyListAgeSeconds against 120 s by default."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.deny_list_unavailable[0].dimensions.reason == "deny_list_unavailable"
    error_message = "The deny-list-unavailable alarm counts those denials."
  }

  assert {
    condition     = strcontains(aws_cloudwatch_dashboard.this[0].dashboard_body, "DenyListAgeSeconds") && strcontains(aws_cloudwatch_dashboard.this[0].dashboard_body, "DenyListRejected")
    error_message = "The dashboard shows the deny list."
  }
}

run "deny_list_can_be_left_to_the_operators" {
  command = plan

  variables {
    deny_list                     = { key = "lists/devices.json", create = false, refresh_seconds = 1, max_age_seconds = 60 }
    alarm_deny_list_stale_seconds = 30
  }

  assert {
    condition     = length(aws_s3_object.deny_list) == 0
    error_message = "create = false leaves the object to the operators."
  }

  assert {
    condition = (
      jsondecode(aws_lambda_function.authorizer.environment[0].variables.AUTHORIZER_CONFIG).deny_list == "s3://mtls-authorizer-truststore-mocked/lists/devices.json"
      && jsondecode(aws_lambda_function.authorizer.environment[0].variables.AUTHORIZER_CONFIG).deny_list_refresh_seconds == 1
      && jsondecode(aws_lambda_function.authorizer.environment[0].variables.AUTHORIZER_CONFIG).deny_list_max_age_seconds == 60
    )
    error_message = "The key and the times reach the configuration."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.deny_list_stale[0].threshold == 30
    error_message = "alarm_deny_list_stale_seconds sets the alarm's threshold."
  }
}

run "deny_list_max_age_below_refresh_is_refused" {
  command = plan

  variables {
    deny_list = { refresh_seconds = 60, max_age_seconds = 30 }
  }

  expect_failures = [var.deny_list]
}

run "deny_list_refresh_over_an_hour_is_refused" {
  command = plan

  variables {
    deny_list = { refresh_seconds = 7200 }
  }

  expect_failures = [var.deny_list]
}

run "deny_list_at_the_truststore_key_is_refused" {
  command = plan

  variables {
    deny_list = { key = "truststore.pem" }
  }

  expect_failures = [aws_lambda_function.authorizer]
}

run "stale_alarm_past_max_age_is_refused" {
  command = plan

  variables {
    deny_list                     = { max_age_seconds = 100 }
    alarm_deny_list_stale_seconds = 120
  }

  expect_failures = [aws_cloudwatch_metric_alarm.deny_list_stale]
}

run "ca_revocation_reaches_the_config_and_the_read_policy" {
  command = plan

  variables {
    ca_revocation = [
      { name = "root", match = { CN = "Devices Root CA" }, crl = "s3://pki-bucket/root.arl" },
      { name = "partner", match = { O = "Partner" }, crls = ["https://pki.example.org/a.arl", "s3://pki-bucket/b.arl"] },
    ]
    ca_revocation_required = true
  }

  assert {
    condition = jsondecode(aws_lambda_function.authorizer.environment[0].variables.AUTHORIZER_CONFIG).ca_revocation == [
      { name = "root", match = { CN = "Devices Root CA" }, crl = "s3://pki-bucket/root.arl" },
      { name = "partner", match = { O = "Partner" }, crl = ["https://pki.example.org/a.arl", "s3://pki-bucket/b.arl"] },
    ]
    error_message = "ca_revocation is rendered as the authorizer takes it (crls as a crl list)."
  }

  assert {
    condition     = jsondecode(aws_lambda_function.authorizer.environment[0].variables.AUTHORIZER_CONFIG).ca_revocation_required == true
    error_message = "ca_revocation_required reaches the configuration."
  }

  assert {
    condition = alltrue([for arn in ["arn:aws:s3:::pki-bucket/root.arl", "arn:aws:s3:::pki-bucket/b.arl"] :
      anytrue([for st in data.aws_iam_policy_document.authorizer.statement : contains(tolist(st.resources), arn)])
    ])
    error_message = "The authorizer may read the S3 CA CRLs."
  }
}

run "ca_revocation_without_a_crl_is_refused" {
  command = plan

  variables {
    ca_revocation = [{ name = "root", match = { CN = "Root" } }]
  }

  expect_failures = [var.ca_revocation]
}

run "delta_crls_and_ocsp_reach_the_config_and_the_read_policy" {
  command = plan

  variables {
    issuers = [
      {
        name      = "ad-cs"
        match     = { CN = "Corp Issuing CA" }
        crl       = "s3://pki-bucket/corp.crl"
        delta_crl = "s3://pki-bucket/corp+.crl"
        ocsp      = { responder = "http://ocsp.corp.example.com/ocsp", cache_seconds = 600 }
      },
      {
        name  = "partner"
        match = { O = "Partner" }
        ocsp  = { responders_from_aia = [{ prefix = "http://ocsp.partner.example/" }], hash = "sha1" }
      },
      {
        name         = "private-ca"
        match        = { CN = "PCA" }
        crl_from_cdp = [{ prefix = "http://crl.example.com/crl/", fetch = "s3://pca-crls/crl/" }]
        delta        = "ignore"
      },
    ]
    ca_revocation = [
      { name = "root", match = { CN = "Root" }, crls = ["s3://pki-bucket/root.crl"], delta_crls = ["s3://pki-bucket/root+.crl"] },
    ]
  }

  assert {
    condition = jsondecode(aws_lambda_function.authorizer.environment[0].variables.AUTHORIZER_CONFIG).issuers == [
      {
        name      = "ad-cs"
        match     = { CN = "Corp Issuing CA" }
        crl       = "s3://pki-bucket/corp.crl"
        delta_crl = "s3://pki-bucket/corp+.crl"
        ocsp      = { responder = "http://ocsp.corp.example.com/ocsp", cache_seconds = 600, timeout_ms = 2000, max_entries = 10000, retry_seconds = 30, hash = "sha256" }
      },
      {
        name  = "partner"
        match = { O = "Partner" }
        ocsp  = { responders_from_aia = [{ prefix = "http://ocsp.partner.example/" }], cache_seconds = 300, timeout_ms = 2000, max_entries = 10000, retry_seconds = 30, hash = "sha1" }
      },
      {
        name         = "private-ca"
        match        = { CN = "PCA" }
        crl_from_cdp = [{ prefix = "http://crl.example.com/crl/", fetch = "s3://pca-crls/crl/" }]
        delta        = "ignore"
      },
    ]
    error_message = "delta_crl, delta and ocsp are rendered as the authorizer takes them: an OCSP-only issuer has no crl, and delta \"apply\" (the default) is left out."
  }

  assert {
    condition = jsondecode(aws_lambda_function.authorizer.environment[0].variables.AUTHORIZER_CONFIG).ca_revocation == [
      { name = "root", match = { CN = "Root" }, crl = ["s3://pki-bucket/root.crl"], delta_crl = ["s3://pki-bucket/root+.crl"] },
    ]
    error_message = "ca_revocation's delta_crls is rendered as a delta_crl list."
  }

  assert {
    condition = alltrue([for arn in ["arn:aws:s3:::pki-bucket/corp+.crl", "arn:aws:s3:::pki-bucket/root+.crl"] :
      anytrue([for st in data.aws_iam_policy_document.authorizer.statement : contains(tolist(st.resources), arn)])
    ])
    error_message = "The authorizer may read the S3 delta CRLs."
  }

  assert {
    condition     = strcontains(aws_cloudwatch_dashboard.this[0].dashboard_body, "OcspRequests") && strcontains(aws_cloudwatch_dashboard.this[0].dashboard_body, "OcspLatency") && strcontains(aws_cloudwatch_dashboard.this[0].dashboard_body, "OcspCacheHits")
    error_message = "With OCSP, the dashboard shows the exchanges by result, their latency and the cache hits."
  }
}

run "ocsp_errors_count_as_refresh_failures_and_no_ocsp_widgets_by_default" {
  command = plan

  assert {
    condition = anytrue([for q in aws_cloudwatch_metric_alarm.crl_refresh_failing.metric_query :
      try(q.metric[0].metric_name, "") == "OcspRequests" && try(q.metric[0].dimensions.result, "") == "error"
    ])
    error_message = "The refresh-failing alarm counts OCSP exchanges that gave no verified answer."
  }

  assert {
    condition = anytrue([for q in aws_cloudwatch_metric_alarm.crl_refresh_failing.metric_query :
      q.return_data == true && q.expression == "FILL(failures, 0) + FILL(rejected, 0) + FILL(ocsperrors, 0)"
    ])
    error_message = "The alarm sums CRL refresh failures, CRL rejections and OCSP errors."
  }

  assert {
    condition     = !strcontains(aws_cloudwatch_dashboard.this[0].dashboard_body, "OcspLatency")
    error_message = "Without OCSP, the dashboard has no OCSP widgets."
  }
}

run "delta_crl_beside_crl_from_cdp_is_refused" {
  command = plan

  variables {
    issuers = [{ name = "x", match = { CN = "X" }, crl_from_cdp = [{ prefix = "http://crl.example.com/" }], delta_crl = "s3://pki-bucket/x+.crl" }]
  }

  expect_failures = [var.issuers]
}

run "delta_ignore_with_a_delta_crl_is_refused" {
  command = plan

  variables {
    issuers = [{ name = "x", match = { CN = "X" }, crl = "s3://pki-bucket/x.crl", delta_crl = "s3://pki-bucket/x+.crl", delta = "ignore" }]
  }

  expect_failures = [var.issuers]
}

run "ocsp_with_two_responder_sources_is_refused" {
  command = plan

  variables {
    issuers = [{ name = "x", match = { CN = "X" }, ocsp = { responder = "http://ocsp.example.com/", responders_from_aia = [{ prefix = "http://ocsp.example.com/" }] } }]
  }

  expect_failures = [var.issuers]
}

run "ocsp_cache_seconds_out_of_range_is_refused" {
  command = plan

  variables {
    issuers = [{ name = "x", match = { CN = "X" }, ocsp = { responder = "http://ocsp.example.com/", cache_seconds = 0 } }]
  }

  expect_failures = [var.issuers]
}

run "revocation_none_with_ocsp_is_refused" {
  command = plan

  variables {
    issuers = [{ name = "x", match = { CN = "X" }, revocation = "none", ocsp = { responder = "http://ocsp.example.com/" } }]
  }

  expect_failures = [var.issuers]
}

run "routes_reach_the_config_as_given" {
  command = plan

  variables {
    issuers = [
      {
        name   = "devices"
        match  = { CN = "Devices CA" }
        crl    = "s3://pki-bucket/devices.crl"
        routes = [{ method = "POST", path = "/temps" }, { method = "GET", path = "/whoami" }]
      },
      {
        name   = "ops"
        match  = { CN = "Ops CA" }
        crl    = "s3://pki-bucket/ops.crl"
        routes = [{ method = "*", path = "/*" }]
      },
    ]
    authorizer_result_ttl_seconds = 60
  }

  assert {
    condition = [for i in jsondecode(aws_lambda_function.authorizer.environment[0].variables.AUTHORIZER_CONFIG).issuers : i.routes] == [
      [{ method = "POST", path = "/temps" }, { method = "GET", path = "/whoami" }],
      [{ method = "*", path = "/*" }],
    ]
    error_message = "routes are rendered as the authorizer reads them."
  }

  assert {
    condition     = jsondecode(aws_lambda_function.authorizer.environment[0].variables.AUTHORIZER_CONFIG).policy_resource == "stage" && aws_api_gateway_authorizer.this[0].identity_source == "context.identity.clientCert.serialNumber,context.identity.clientCert.issuerDN"
    error_message = "A REST cache keeps the certificate key: the stage-wide policy lists every rule, so it is right for every route."
  }
}

run "an_http_api_cache_with_routes_is_keyed_by_the_route_too" {
  command = plan

  variables {
    api_type                      = "http"
    authorizer_result_ttl_seconds = 60
    issuers                       = [{ name = "devices", match = { CN = "Devices CA" }, crl = "s3://pki-bucket/devices.crl", routes = [{ method = "POST", path = "/temps" }] }]
  }

  assert {
    condition     = contains(tolist(aws_apigatewayv2_authorizer.this[0].identity_sources), "$context.routeKey") && length(aws_apigatewayv2_authorizer.this[0].identity_sources) == 3
    error_message = "An HTTP API caches the answer for one route: with routes, its cache key names the route."
  }
}

run "an_http_api_cache_key_without_the_route_is_refused" {
  command = plan

  variables {
    api_type                      = "http"
    authorizer_result_ttl_seconds = 60
    authorizer_identity_sources   = ["$context.identity.clientCert.serialNumber"]
    issuers                       = [{ name = "devices", match = { CN = "Devices CA" }, crl = "s3://pki-bucket/devices.crl", routes = [{ method = "POST", path = "/temps" }] }]
  }

  expect_failures = [aws_apigatewayv2_authorizer.this]
}

run "an_http_api_cache_with_routes_behind_an_http_backend_is_refused" {
  command = plan

  variables {
    api_type                      = "http"
    backend                       = "https://orders.example.com"
    authorizer_result_ttl_seconds = 60
    issuers                       = [{ name = "devices", match = { CN = "Devices CA" }, crl = "s3://pki-bucket/devices.crl", routes = [{ method = "POST", path = "/temps" }] }]
  }

  expect_failures = [aws_apigatewayv2_authorizer.this]
}

run "overlapping_routes_are_refused" {
  command = plan

  variables {
    issuers = [{ name = "x", match = { CN = "X" }, crl = "s3://pki-bucket/x.crl", routes = [{ method = "*", path = "/admin/*" }, { method = "GET", path = "/admin/users" }] }]
  }

  expect_failures = [var.issuers]
}

run "a_lower_case_route_method_is_refused" {
  command = plan

  variables {
    issuers = [{ name = "x", match = { CN = "X" }, crl = "s3://pki-bucket/x.crl", routes = [{ method = "get", path = "/temps" }] }]
  }

  expect_failures = [var.issuers]
}

run "a_route_path_with_a_dot_dot_segment_is_refused" {
  command = plan

  variables {
    issuers = [{ name = "x", match = { CN = "X" }, crl = "s3://pki-bucket/x.crl", routes = [{ method = "GET", path = "/temps/../admin" }] }]
  }

  expect_failures = [var.issuers]
}
