################################################################################
# HTTP API (api_type = "http")
#
# Cheaper and faster than REST, with two documented gaps: HTTP APIs have no
# request validator (the api-handler still validates every body against the
# same schema) and no gateway responses (a Deny is a bare 403; the reason is
# in the access log and the authorizer's decision log).
################################################################################

resource "aws_apigatewayv2_api" "this" {
  count = local.http ? 1 : 0

  name          = var.name
  protocol_type = "HTTP"
  # The default execute-api endpoint would bypass mutual TLS entirely.
  disable_execute_api_endpoint = true
  tags                         = var.tags
}

resource "aws_apigatewayv2_authorizer" "this" {
  count = local.http ? 1 : 0

  api_id          = aws_apigatewayv2_api.this[0].id
  name            = "${var.name}-mtls"
  authorizer_type = "REQUEST"
  authorizer_uri  = aws_lambda_function.authorizer.invoke_arn
  # Payload 2.0 carries the certificate in requestContext.authentication;
  # the authorizer answers {"isAuthorized", "context"} to it.
  authorizer_payload_format_version = "2.0"
  enable_simple_responses           = true
  authorizer_result_ttl_in_seconds  = var.authorizer_result_ttl_seconds
  # Same rule as the REST authorizer: no cache key unless caching, and then
  # the certificate, never a header the client chooses; with per-route
  # rules, and the route key (main.tf, local.identity_sources).
  identity_sources = var.authorizer_result_ttl_seconds > 0 ? local.identity_sources : null

  lifecycle {
    # A simple response answers for the route that was asked: cached under a
    # key without the route, one route's `true` would answer for another.
    precondition {
      condition     = !(local.per_route_rules && var.authorizer_result_ttl_seconds > 0) || (local.api_handler && contains(local.identity_sources, "$context.routeKey"))
      error_message = "An issuer lists routes, and the HTTP API caches authorizer results: the cache key must include the route. With the api-handler, leave authorizer_identity_sources null (the certificate and $context.routeKey) or add \"$context.routeKey\" to it. With an HTTP backend (one $default route, the same route key for every path), set authorizer_result_ttl_seconds = 0, or use api_type = \"rest\"."
    }
  }
}

resource "aws_apigatewayv2_integration" "api_handler" {
  count = local.http && local.api_handler ? 1 : 0

  api_id                 = aws_apigatewayv2_api.this[0].id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.api_handler[0].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 10000
}

resource "aws_apigatewayv2_route" "this" {
  for_each = local.http && local.api_handler ? local.routes : {}

  api_id             = aws_apigatewayv2_api.this[0].id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.api_handler[0].id}"
  authorization_type = "CUSTOM"
  authorizer_id      = aws_apigatewayv2_authorizer.this[0].id
}

# backend = an HTTP origin: one $default route catches every method and
# path, so the HTTP service owns its routes; the authorizer runs on each.

resource "aws_apigatewayv2_vpc_link" "this" {
  count = local.http && local.vpc_link && length(try(var.backend_vpc_link.subnet_ids, [])) > 0 ? 1 : 0

  name               = var.name
  subnet_ids         = var.backend_vpc_link.subnet_ids
  security_group_ids = var.backend_vpc_link.security_group_ids
  tags               = var.tags
}

resource "aws_apigatewayv2_integration" "backend" {
  count = local.http && local.http_backend ? 1 : 0

  api_id             = aws_apigatewayv2_api.this[0].id
  integration_type   = "HTTP_PROXY"
  integration_method = "ANY"
  # Over the internet: the origin. Through a VPC link: the load balancer's
  # listener (or Cloud Map service) the link reaches.
  integration_uri = local.vpc_link ? var.backend_vpc_link.listener_arn : var.backend
  connection_type = local.vpc_link ? "VPC_LINK" : "INTERNET"
  connection_id   = local.vpc_link ? try(coalesce(var.backend_vpc_link.id, aws_apigatewayv2_vpc_link.this[0].id), null) : null
  # HTTP proxy integrations take payload format 1.0 only.
  payload_format_version = "1.0"
  timeout_milliseconds   = var.backend_timeout_ms

  # The identity from the authorizer's context, overwriting any header of
  # the same name the client sent; and the client's path, unchanged.
  request_parameters = merge(local.http_identity_headers, { "overwrite:path" = "$request.path" })

  # Through a VPC link the integration URI is an ARN, so the name to check
  # the backend's certificate against comes from `backend`.
  dynamic "tls_config" {
    for_each = local.vpc_link && startswith(var.backend, "https://") ? [regex("^https://([^:/]+)", var.backend)[0]] : []
    content {
      server_name_to_verify = tls_config.value
    }
  }

  lifecycle {
    precondition {
      condition = var.backend_vpc_link == null || (
        try(var.backend_vpc_link.listener_arn, null) != null
        && (try(var.backend_vpc_link.id, null) != null) != (length(try(var.backend_vpc_link.subnet_ids, [])) > 0)
        && try(var.backend_vpc_link.nlb_arn, null) == null
      )
      error_message = "For an HTTP API, backend_vpc_link needs listener_arn and exactly one of id (an existing VPC link) or subnet_ids with security_group_ids (a new one); nlb_arn is for REST APIs."
    }
  }
}

resource "aws_apigatewayv2_route" "backend" {
  count = local.http && local.http_backend ? 1 : 0

  api_id             = aws_apigatewayv2_api.this[0].id
  route_key          = "$default"
  target             = "integrations/${aws_apigatewayv2_integration.backend[0].id}"
  authorization_type = "CUSTOM"
  authorizer_id      = aws_apigatewayv2_authorizer.this[0].id
}

resource "aws_apigatewayv2_stage" "this" {
  count = local.http ? 1 : 0

  api_id      = aws_apigatewayv2_api.this[0].id
  name        = var.stage_name
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode(merge(local.access_log_fields, {
      routeKey         = "$context.routeKey"
      integrationError = "$context.integrationErrorMessage"
    }))
  }

  tags = var.tags
}

resource "aws_apigatewayv2_domain_name" "this" {
  count = local.http ? 1 : 0

  domain_name = var.domain_name

  domain_name_configuration {
    certificate_arn                        = var.certificate_arn
    endpoint_type                          = "REGIONAL"
    security_policy                        = "TLS_1_2"
    ownership_verification_certificate_arn = var.ownership_verification_certificate_arn
  }

  mutual_tls_authentication {
    truststore_uri = local.truststore_uri
    # The uploaded object's version: apply after changing the file rotates
    # the truststore.
    truststore_version = aws_s3_object.truststore.version_id
  }

  tags = var.tags
}

resource "aws_apigatewayv2_api_mapping" "this" {
  count = local.http ? 1 : 0

  api_id      = aws_apigatewayv2_api.this[0].id
  domain_name = aws_apigatewayv2_domain_name.this[0].id
  stage       = aws_apigatewayv2_stage.this[0].id
}
