################################################################################
# REST API (api_type = "rest", the default)
################################################################################

resource "aws_api_gateway_rest_api" "this" {
  count = local.rest ? 1 : 0

  name = var.name
  # The default execute-api endpoint would bypass mutual TLS entirely.
  disable_execute_api_endpoint = true

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

################################################################################
# backend = "api-handler": the readings API's routes, validated at the edge
################################################################################

resource "aws_api_gateway_resource" "this" {
  for_each = local.rest && local.api_handler ? toset(distinct([for r in local.routes : r.path])) : toset([])

  rest_api_id = aws_api_gateway_rest_api.this[0].id
  parent_id   = aws_api_gateway_rest_api.this[0].root_resource_id
  path_part   = each.key
}

resource "aws_api_gateway_authorizer" "this" {
  count = local.rest ? 1 : 0

  name                             = "${var.name}-mtls"
  rest_api_id                      = aws_api_gateway_rest_api.this[0].id
  type                             = "REQUEST"
  authorizer_uri                   = aws_lambda_function.authorizer.invoke_arn
  authorizer_result_ttl_in_seconds = var.authorizer_result_ttl_seconds
  # With caching off, no identity source: a REQUEST authorizer then runs on
  # every request. With caching on, the cache key is the certificate by
  # default, never a header the client chooses.
  identity_source = var.authorizer_result_ttl_seconds > 0 ? join(",", local.identity_sources) : ""
}

resource "aws_api_gateway_model" "reading" {
  count = local.rest && local.api_handler ? 1 : 0

  rest_api_id  = aws_api_gateway_rest_api.this[0].id
  name         = "TemperatureReading"
  description  = "POST /temps body; the api-handler validates against the same file."
  content_type = "application/json"
  schema       = file(local.schema_file)
}

resource "aws_api_gateway_request_validator" "body" {
  count = local.rest && local.api_handler ? 1 : 0

  rest_api_id           = aws_api_gateway_rest_api.this[0].id
  name                  = "body"
  validate_request_body = true
}

resource "aws_api_gateway_method" "this" {
  for_each = local.rest && local.api_handler ? local.routes : {}

  rest_api_id   = aws_api_gateway_rest_api.this[0].id
  resource_id   = aws_api_gateway_resource.this[each.value.path].id
  http_method   = each.value.method
  authorization = "CUSTOM"
  authorizer_id = aws_api_gateway_authorizer.this[0].id

  request_validator_id = each.value.method == "POST" ? aws_api_gateway_request_validator.body[0].id : null
  request_models       = each.value.method == "POST" ? { "application/json" = aws_api_gateway_model.reading[0].name } : null
}

resource "aws_api_gateway_integration" "this" {
  for_each = local.rest && local.api_handler ? local.routes : {}

  rest_api_id             = aws_api_gateway_rest_api.this[0].id
  resource_id             = aws_api_gateway_resource.this[each.value.path].id
  http_method             = aws_api_gateway_method.this[each.key].http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.api_handler[0].invoke_arn
}

################################################################################
# backend = an HTTP origin: every method and path, proxied with the identity
################################################################################

locals {
  # The root and everything under it. The HTTP service owns its routes, so
  # the API does not repeat them; the authorizer still runs on each one.
  rest_backend_methods = local.rest && local.http_backend ? {
    root  = { path = "/", uri = "${var.backend}/" }
    proxy = { path = "/{proxy+}", uri = "${var.backend}/{proxy}" }
  } : {}
}

resource "aws_api_gateway_resource" "proxy" {
  count = local.rest && local.http_backend ? 1 : 0

  rest_api_id = aws_api_gateway_rest_api.this[0].id
  parent_id   = aws_api_gateway_rest_api.this[0].root_resource_id
  path_part   = "{proxy+}"
}

resource "aws_api_gateway_method" "backend" {
  #checkov:skip=CKV2_AWS_53:The HTTP backend owns its routes and body schemas, which the module cannot know; the backend validates its own requests.
  for_each = local.rest_backend_methods

  rest_api_id   = aws_api_gateway_rest_api.this[0].id
  resource_id   = each.key == "root" ? aws_api_gateway_rest_api.this[0].root_resource_id : aws_api_gateway_resource.proxy[0].id
  http_method   = "ANY"
  authorization = "CUSTOM"
  authorizer_id = aws_api_gateway_authorizer.this[0].id

  request_parameters = each.key == "proxy" ? { "method.request.path.proxy" = true } : null
}

resource "aws_api_gateway_vpc_link" "this" {
  count = local.rest && local.vpc_link && try(var.backend_vpc_link.nlb_arn, null) != null ? 1 : 0

  name        = var.name
  description = "${var.name}: API Gateway to the backend's Network Load Balancer."
  target_arns = [var.backend_vpc_link.nlb_arn]
  tags        = var.tags
}

resource "aws_api_gateway_integration" "backend" {
  for_each = local.rest_backend_methods

  rest_api_id             = aws_api_gateway_rest_api.this[0].id
  resource_id             = aws_api_gateway_method.backend[each.key].resource_id
  http_method             = aws_api_gateway_method.backend[each.key].http_method
  type                    = "HTTP_PROXY"
  integration_http_method = "ANY"
  uri                     = each.value.uri
  timeout_milliseconds    = var.backend_timeout_ms

  connection_type = local.vpc_link ? "VPC_LINK" : "INTERNET"
  connection_id   = local.vpc_link ? try(coalesce(var.backend_vpc_link.id, aws_api_gateway_vpc_link.this[0].id), null) : null

  # The identity from the authorizer's context, as headers that replace any
  # the client sent; and the greedy path, for everything below the root.
  request_parameters = merge(
    local.rest_identity_headers,
    each.key == "proxy" ? { "integration.request.path.proxy" = "method.request.path.proxy" } : {},
  )

  lifecycle {
    precondition {
      condition = var.backend_vpc_link == null || (
        (try(var.backend_vpc_link.id, null) != null) != (try(var.backend_vpc_link.nlb_arn, null) != null)
        && try(var.backend_vpc_link.listener_arn, null) == null
        && length(try(var.backend_vpc_link.subnet_ids, [])) == 0
      )
      error_message = "For a REST API, backend_vpc_link takes exactly one of id (an existing VPC link) or nlb_arn (a Network Load Balancer to link to); listener_arn and subnet_ids are for HTTP APIs."
    }
  }
}

# A Deny says why: the same body the local gateway returns.
resource "aws_api_gateway_gateway_response" "access_denied" {
  count = local.rest ? 1 : 0

  rest_api_id   = aws_api_gateway_rest_api.this[0].id
  response_type = "ACCESS_DENIED"
  status_code   = "403"

  response_templates = {
    "application/json" = "{\"message\":\"Forbidden\",\"reason\":\"$context.authorizer.reason\"}"
  }
}

resource "aws_api_gateway_deployment" "this" {
  count = local.rest ? 1 : 0

  rest_api_id = aws_api_gateway_rest_api.this[0].id

  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_rest_api.this[0].disable_execute_api_endpoint,
      aws_api_gateway_authorizer.this[0],
      [for m in aws_api_gateway_model.reading : m.schema],
      aws_api_gateway_gateway_response.access_denied[0],
      [for k, m in aws_api_gateway_method.this : m.id],
      [for k, i in aws_api_gateway_integration.this : i.id],
      [for k, m in aws_api_gateway_method.backend : m.id],
      [for k, i in aws_api_gateway_integration.backend : [i.id, i.uri, i.request_parameters, i.connection_id]],
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_stage" "this" {
  #checkov:skip=CKV_AWS_120:Response caching would serve one device's readings to another.
  #checkov:skip=CKV_AWS_73:X-Ray tracing is left to the caller; the access log carries the request id, certificate serial and authorizer reason.
  #checkov:skip=CKV2_AWS_51:That check is about a client certificate for the backend; clients authenticate with mutual TLS on the custom domain.
  #checkov:skip=CKV2_AWS_29:A WAF web ACL is the caller's to associate; mutual TLS already refuses clients without a trusted certificate.
  #checkov:skip=CKV2_AWS_4:Execution logging needs the account-level API Gateway CloudWatch role, which a module must not change; access logging is on.
  count = local.rest ? 1 : 0

  deployment_id = aws_api_gateway_deployment.this[0].id
  rest_api_id   = aws_api_gateway_rest_api.this[0].id
  stage_name    = var.stage_name

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode(merge(local.access_log_fields, {
      extendedRequestId = "$context.extendedRequestId"
      resourcePath      = "$context.resourcePath"
      authorizerStatus  = "$context.authorizer.status"
      authorizerLatency = "$context.authorizer.integrationLatency"
      integrationStatus = "$context.integration.status"
      validationError   = "$context.error.validationErrorString"
    }))
  }

  tags = var.tags
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225:Response caching would serve one device's readings to another.
  #checkov:skip=CKV_AWS_308:Caching is off, so there is no cache to encrypt.
  count = local.rest ? 1 : 0

  rest_api_id = aws_api_gateway_rest_api.this[0].id
  stage_name  = aws_api_gateway_stage.this[0].stage_name
  method_path = "*/*"

  settings {
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
    caching_enabled        = false
  }
}

resource "aws_api_gateway_domain_name" "this" {
  count = local.rest ? 1 : 0

  domain_name              = var.domain_name
  regional_certificate_arn = var.certificate_arn
  security_policy          = "TLS_1_2"

  ownership_verification_certificate_arn = var.ownership_verification_certificate_arn

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  mutual_tls_authentication {
    truststore_uri = local.truststore_uri
    # The uploaded object's version: apply after changing the file rotates
    # the truststore.
    truststore_version = aws_s3_object.truststore.version_id
  }

  tags = var.tags
}

resource "aws_api_gateway_base_path_mapping" "this" {
  count = local.rest ? 1 : 0

  api_id      = aws_api_gateway_rest_api.this[0].id
  stage_name  = aws_api_gateway_stage.this[0].stage_name
  domain_name = aws_api_gateway_domain_name.this[0].domain_name
}
