data "aws_partition" "current" {}

locals {
  rest = var.api_type == "rest"
  http = var.api_type == "http"

  # What the API serves: the bundled api-handler (Lambda and DynamoDB), or
  # the caller's HTTP service, reached over the internet or a VPC link.
  api_handler  = var.backend == "api-handler"
  http_backend = !local.api_handler
  vpc_link     = local.http_backend && var.backend_vpc_link != null

  # The verified identity an HTTP backend receives, one header per authorizer
  # context key. The list is shared with the local gateway and the CDK
  # construct, so the three cannot drift. A mapped header replaces a header
  # of the same name sent by the client (REST: integration request parameters
  # take precedence over passed-through headers; HTTP API: `overwrite:`).
  identity_headers = jsondecode(file("${path.module}/../identity-headers.json")).headers

  # Every other spelling of each identity header in which one or more of its
  # '-' are written '_' (x_client_cert_subject, x-client_cert-subject, ...):
  # 2^n - 1 spellings for a name with n dashes. API Gateway forwards headers
  # whose names contain underscores to an HTTP backend, and CGI, WSGI (Django's
  # request.META, Flask/Werkzeug), PHP and others map '-' and '_' to the same
  # variable, so a client could otherwise send one of these spellings to add
  # to or replace the identity the backend reads. Header names are
  # case-insensitive, so lower case covers every case. (Envoy's
  # headers_with_underscores_action and nginx's `underscores_in_headers off`
  # are the same defence.) Spelling k, for k in 1 .. 2^n - 1, writes the i-th
  # dash '_' when bit i of k is set; setproduct() would need at least two
  # dashes.
  identity_header_underscore_spellings = flatten([
    for h in local.identity_headers : [
      for k in range(1, pow(2, length(split("-", h.header)) - 1)) : {
        header = join("", [
          for i, part in split("-", h.header) : i == 0 ? part : "${floor(k / pow(2, i - 1)) % 2 == 1 ? "_" : "-"}${part}"
        ])
        context = h.context
      }
    ]
  ])
  # REST API: each spelling is mapped from the same verified context value (a
  # REST integration cannot remove a header). HTTP API: each is removed.
  rest_identity_headers = {
    for h in concat(local.identity_headers, local.identity_header_underscore_spellings) : "integration.request.header.${h.header}" => "context.authorizer.${h.context}"
  }
  http_identity_headers = merge(
    { for h in local.identity_headers : "overwrite:header.${h.header}" => "$context.authorizer.${h.context}" },
    { for h in local.identity_header_underscore_spellings : "remove:header.${h.header}" => "''" },
  )

  # Settings the CDK construct renders alike and the local gateway defaults
  # to, in one file so the three cannot drift: the default cache key and the
  # access log's fields.
  api_gateway = jsondecode(file("${path.module}/../api-gateway.json"))

  # The authorizer cache key when a TTL is set: by default the client
  # certificate's serial and issuer (a serial is unique only per issuer,
  # RFC 5280 §4.1.2.2). A header would let one client replay another's
  # cached Allow.
  cache_key_fields = local.api_gateway.cache_key_fields
  identity_sources = coalesce(var.authorizer_identity_sources, concat([
    for f in local.cache_key_fields : "${local.http ? "$" : ""}context.identity.clientCert.${f}"
  ], local.http && local.per_route_rules ? ["$context.routeKey"] : []))

  # Per-route rules (an issuer's `routes`). A REST API's cached policy lists
  # the entry's routes (policy_resource "stage"), so it is right for every
  # route. An HTTP API caches the simple response, true or false for the
  # route that was asked, so its cache key must name the route: the route
  # key, which names one exact path per api-handler route. The HTTP
  # backend's one `$default` route has one route key for every path, so
  # there an HTTP API cannot cache per-route decisions at all (http.tf).
  per_route_rules = anytrue([for i in var.issuers : i.routes != null])

  truststore_uri = "s3://${aws_s3_bucket.truststore.id}/${var.truststore_key}"
  schema_file    = coalesce(var.reading_schema_file, "${path.module}/../../api-handler/schema/temperature.json")

  # Every CRL URI the authorizer is given (`crl` or `crls`, and the delta
  # CRLs of `delta_crl` or `delta_crls`), and every S3 prefix that
  # `crl_from_cdp` maps certificates' distribution points to (their delta
  # CRLs, named by each base's Freshest CRL extension, map through the same
  # prefixes): the issuers' CRLs and the CA CRLs (ARLs) of ca_revocation.
  crl_sources = concat(
    [for i in var.issuers : { crl = i.crl, crls = i.crls, delta_crl = i.delta_crl, delta_crls = i.delta_crls, crl_from_cdp = i.crl_from_cdp }],
    [for c in var.ca_revocation : { crl = c.crl, crls = c.crls, delta_crl = c.delta_crl, delta_crls = c.delta_crls, crl_from_cdp = c.crl_from_cdp }],
  )
  crl_uris = flatten([for i in local.crl_sources : concat(
    i.crl == null ? [] : [i.crl], i.crls == null ? [] : i.crls,
    i.delta_crl == null ? [] : [i.delta_crl], i.delta_crls == null ? [] : i.delta_crls,
  )])
  cdp_fetch_bases = flatten([
    for i in local.crl_sources : [for p in(i.crl_from_cdp == null ? [] : i.crl_from_cdp) : p.fetch if p.fetch != null]
  ])

  # CRLs in S3 that the authorizer reads: exactly these objects, and the
  # objects under crl_from_cdp's S3 fetch prefixes, nothing else.
  crl_object_arns = concat(
    [for u in local.crl_uris : "arn:${data.aws_partition.current.partition}:s3:::${trimprefix(u, "s3://")}" if startswith(u, "s3://")],
    [for b in local.cdp_fetch_bases : "arn:${data.aws_partition.current.partition}:s3:::${trimprefix(b, "s3://")}*" if startswith(b, "s3://")],
  )

  # The operator deny list (docs/revoking.md): one object in the module's
  # bucket, read by the authorizer and written by operators' tools only.
  deny_list            = var.deny_list != null
  deny_list_key        = try(var.deny_list.key, null)
  deny_list_uri        = local.deny_list ? "s3://${aws_s3_bucket.truststore.id}/${local.deny_list_key}" : null
  deny_list_object_arn = local.deny_list ? "${aws_s3_bucket.truststore.arn}/${local.deny_list_key}" : null

  # Keys left null (no deny list, no CA revocation) are left out: the
  # authorizer's configuration is strict, and null is not a value it takes.
  authorizer_config = { for k, v in {
    truststore = local.truststore_uri
    issuers = [
      for i in var.issuers : merge(
        { name = i.name, match = i.match },
        i.crl == null ? {} : { crl = i.crl },
        i.crls == null ? {} : { crl = i.crls },
        i.crl_from_cdp == null ? {} : { crl_from_cdp = [
          for p in i.crl_from_cdp : p.fetch == null ? { prefix = p.prefix } : { prefix = p.prefix, fetch = p.fetch }
        ] },
        # Delta CRLs (RFC 5280 §5.2.4): `delta_crls` is rendered as the
        # authorizer's `delta_crl` list; "apply", the default, is left out.
        i.delta_crl == null ? {} : { delta_crl = i.delta_crl },
        i.delta_crls == null ? {} : { delta_crl = i.delta_crls },
        i.delta == "ignore" ? { delta = "ignore" } : {},
        # OCSP (docs/ocsp.md), beside the CRLs or alone: the keys set, nulls left out.
        i.ocsp == null ? {} : { ocsp = { for k, v in {
          responder = i.ocsp.responder
          responders_from_aia = i.ocsp.responders_from_aia == null ? null : [
            for p in i.ocsp.responders_from_aia : p.fetch == null ? { prefix = p.prefix } : { prefix = p.prefix, fetch = p.fetch }
          ]
          cache_seconds = i.ocsp.cache_seconds
          timeout_ms    = i.ocsp.timeout_ms
          max_entries   = i.ocsp.max_entries
          retry_seconds = i.ocsp.retry_seconds
          hash          = i.ocsp.hash
        } : k => v if v != null } },
        i.revocation == "none" ? { revocation = "none" } : {},
        i.subject == null ? {} : { subject = i.subject },
        # Per-route rules (docs/configuration.md#per-route-rules), as given.
        i.routes == null ? {} : { routes = [for r in i.routes : { method = r.method, path = r.path }] },
      )
    ]
    crl_refresh_seconds     = var.crl_refresh_seconds
    crl_grace_seconds       = var.crl_grace_seconds
    max_cdp_crls_per_issuer = var.max_cdp_crls_per_issuer
    # A cached policy is reused for every route of the caller, so with a
    # cache it must cover the stage, not the one method that was called:
    # every route, or with `routes`, one statement per rule of the entry.
    # (REST only: HTTP APIs get a simple {"isAuthorized"} response.)
    policy_resource = var.authorizer_result_ttl_seconds > 0 ? "stage" : "method"
    # The deny list and CA revocation (docs/revoking.md).
    deny_list                 = local.deny_list_uri
    deny_list_refresh_seconds = try(var.deny_list.refresh_seconds, null)
    deny_list_max_age_seconds = try(var.deny_list.max_age_seconds, null)
    ca_revocation = length(var.ca_revocation) == 0 ? null : [
      for c in var.ca_revocation : merge(
        { name = c.name, match = c.match },
        c.crl == null ? {} : { crl = c.crl },
        c.crls == null ? {} : { crl = c.crls },
        c.crl_from_cdp == null ? {} : { crl_from_cdp = [
          for p in c.crl_from_cdp : p.fetch == null ? { prefix = p.prefix } : { prefix = p.prefix, fetch = p.fetch }
        ] },
        c.delta_crl == null ? {} : { delta_crl = c.delta_crl },
        c.delta_crls == null ? {} : { delta_crl = c.delta_crls },
        c.delta == "ignore" ? { delta = "ignore" } : {},
      )
    ]
    ca_revocation_required = var.ca_revocation_required
  } : k => v if v != null }

  # The api-handler's routes: the operations of api-handler/openapi.yaml, the API's contract
  # (infra/tests/test_openapi.py fails when they differ).
  routes = {
    "GET /temps"  = { path = "temps", method = "GET" }
    "POST /temps" = { path = "temps", method = "POST" }
    "GET /whoami" = { path = "whoami", method = "GET" }
  }
}

################################################################################
# Truststore bucket and object
################################################################################

resource "aws_s3_bucket" "truststore" {
  #checkov:skip=CKV_AWS_18:Server access logging needs a separate log bucket; CloudTrail data events are the recommended audit trail for this one object.
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice for the caller; the truststore is rebuilt from source control.
  #checkov:skip=CKV2_AWS_62:Event notifications have no consumer here.
  bucket_prefix = "${var.name}-truststore-"
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "truststore" {
  bucket = aws_s3_bucket.truststore.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "truststore" {
  bucket = aws_s3_bucket.truststore.id
  # API Gateway pins the truststore by object version: without versions the
  # domain keeps a stale snapshot and there is nothing to roll back to.
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "truststore" {
  bucket = aws_s3_bucket.truststore.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_public_access_block" "truststore" {
  bucket                  = aws_s3_bucket.truststore.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

data "aws_iam_policy_document" "truststore_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.truststore.arn,
      "${aws_s3_bucket.truststore.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "truststore" {
  bucket = aws_s3_bucket.truststore.id
  policy = data.aws_iam_policy_document.truststore_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.truststore]
}

resource "aws_s3_bucket_lifecycle_configuration" "truststore" {
  bucket = aws_s3_bucket.truststore.id

  rule {
    id     = "noncurrent-truststores"
    status = "Enabled"
    filter {}

    # Keep enough old versions to roll back to, not forever.
    noncurrent_version_expiration {
      noncurrent_days           = 90
      newer_noncurrent_versions = 10
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.truststore]
}

resource "aws_s3_object" "truststore" {
  bucket       = aws_s3_bucket.truststore.id
  key          = var.truststore_key
  source       = var.truststore_file
  source_hash  = filemd5(var.truststore_file)
  content_type = "application/x-pem-file"
  tags         = var.tags

  depends_on = [aws_s3_bucket_versioning.truststore]
}

# The deny list starts empty. After that it belongs to the operators: `truststore
# deny` and `truststore revoke` rewrite it (each write raises `sequence`), so
# Terraform must never put its own copy back. ignore_changes on the content
# does that: a later apply neither reverts an edit nor reports drift, and the
# object is only replaced if its key changes. (A data source or no resource
# at all would leave a new deployment without a list, and the authorizer
# denies every request, deny_list_unavailable, until one exists.)
resource "aws_s3_object" "deny_list" {
  count = local.deny_list && try(var.deny_list.create, false) ? 1 : 0

  bucket       = aws_s3_bucket.truststore.id
  key          = local.deny_list_key
  content      = jsonencode({ version = 1, sequence = 0, entries = [] })
  content_type = "application/json"
  tags         = var.tags

  lifecycle {
    ignore_changes = [content, content_type, source_hash, etag, tags, tags_all, metadata]
  }

  depends_on = [aws_s3_bucket_versioning.truststore]
}

################################################################################
# Readings table
################################################################################

resource "aws_dynamodb_table" "temps" {
  count = local.api_handler ? 1 : 0

  name         = "${var.name}-temps"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "identityKey"
  range_key    = "readingTime"

  attribute {
    name = "identityKey"
    type = "S"
  }

  attribute {
    name = "readingTime"
    type = "S"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  deletion_protection_enabled = true
  tags                        = var.tags
}

################################################################################
# Lambda functions
################################################################################

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_cloudwatch_log_group" "authorizer" {
  name              = "/aws/lambda/${var.name}-authorizer"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "api_handler" {
  count = local.api_handler ? 1 : 0

  name              = "/aws/lambda/${var.name}-api-handler"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_iam_role" "authorizer" {
  name_prefix        = "${var.name}-authorizer-"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "authorizer" {
  statement {
    sid     = "ReadTruststoreAndCrls"
    actions = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = concat(
      ["${aws_s3_bucket.truststore.arn}/${var.truststore_key}"],
      local.crl_object_arns,
    )
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.authorizer.arn}:*"]
  }

  # The deny list: GetObject on its key and nothing else. A refresh is a
  # conditional GetObject (If-None-Match), which needs no other action. Without
  # s3:ListBucket a missing object reads as 403, not 404: a fetch failure
  # either way, and no listing of the bucket.
  dynamic "statement" {
    for_each = local.deny_list ? [local.deny_list_object_arn] : []
    content {
      sid       = "ReadDenyList"
      actions   = ["s3:GetObject"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "DecryptTruststore"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "authorizer" {
  name   = "least-privilege"
  role   = aws_iam_role.authorizer.id
  policy = data.aws_iam_policy_document.authorizer.json
}

resource "aws_iam_role" "api_handler" {
  count = local.api_handler ? 1 : 0

  name_prefix        = "${var.name}-api-handler-"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "api_handler" {
  count = local.api_handler ? 1 : 0

  statement {
    sid       = "Readings"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"]
    resources = [aws_dynamodb_table.temps[0].arn]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.api_handler[0].arn}:*"]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "TableKey"
      actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "api_handler" {
  count = local.api_handler ? 1 : 0

  name   = "least-privilege"
  role   = aws_iam_role.api_handler[0].id
  policy = data.aws_iam_policy_document.api_handler[0].json
}

resource "aws_lambda_function" "authorizer" {
  #checkov:skip=CKV_AWS_50:X-Ray needs xray:PutTraceSegments on "*", which would break the no-wildcard-resource rule of this role; the JSON decision log is the trace.
  #checkov:skip=CKV_AWS_115:Reserved concurrency would throttle API Gateway's authorizer calls; size the account's concurrency instead.
  #checkov:skip=CKV_AWS_116:API Gateway invokes it synchronously; a dead-letter queue never receives anything.
  #checkov:skip=CKV_AWS_117:It reads S3 (and optionally HTTPS CRLs and OCSP responders) only; a VPC would add NAT cost and cold-start latency for no isolation gain.
  #checkov:skip=CKV_AWS_173:The environment holds no secret: only the public policy configuration.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile, which is the caller's choice; the zip's hash is pinned by source_code_hash.
  function_name    = "${var.name}-authorizer"
  role             = aws_iam_role.authorizer.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = ["arm64"]
  filename         = var.authorizer_zip
  source_code_hash = filebase64sha256(var.authorizer_zip)
  memory_size      = var.authorizer_memory_mb
  timeout          = var.authorizer_timeout_seconds

  environment {
    variables = {
      AUTHORIZER_CONFIG = jsonencode(local.authorizer_config)
      METRICS_NAMESPACE = local.metrics_namespace
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.authorizer.name
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy.authorizer, aws_s3_object.deny_list]

  lifecycle {
    precondition {
      condition     = try(var.deny_list.key, null) != var.truststore_key
      error_message = "deny_list.key must differ from truststore_key."
    }
  }
}

resource "aws_lambda_function" "api_handler" {
  #checkov:skip=CKV_AWS_50:No X-Ray: the access log and the function's JSON request log cover it, and the role stays free of wildcard resources.
  #checkov:skip=CKV_AWS_115:Reserved concurrency would cap the API below the account limit; left to the caller.
  #checkov:skip=CKV_AWS_116:API Gateway invokes it synchronously; a dead-letter queue never receives anything.
  #checkov:skip=CKV_AWS_117:It talks to DynamoDB only; a VPC would add endpoints and cold-start latency for no isolation gain.
  #checkov:skip=CKV_AWS_173:The environment holds no secret: a table name and a number of days.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile, which is the caller's choice; the zip's hash is pinned by source_code_hash.
  count = local.api_handler ? 1 : 0

  function_name    = "${var.name}-api-handler"
  role             = aws_iam_role.api_handler[0].arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = ["arm64"]
  filename         = var.api_handler_zip
  source_code_hash = var.api_handler_zip == null ? null : filebase64sha256(var.api_handler_zip)
  memory_size      = var.api_handler_memory_mb
  timeout          = 10

  environment {
    variables = {
      TEMPS_TABLE          = aws_dynamodb_table.temps[0].name
      TEMPS_RETENTION_DAYS = tostring(var.temps_retention_days)
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.api_handler[0].name
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy.api_handler]

  lifecycle {
    precondition {
      condition     = var.api_handler_zip != null
      error_message = "api_handler_zip is required when backend is \"api-handler\"."
    }
  }
}

################################################################################
# Shared by both API types: access log, DNS alias
################################################################################

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

locals {
  # The access log of either API type: one JSON object per request, with the
  # client certificate and the authorizer's reason code (infra/api-gateway.json;
  # rest.tf and http.tf add each type's own fields).
  access_log_fields = local.api_gateway.access_log_fields

  # Exactly one of each list is non-empty, by api_type.
  api_id        = one(concat(aws_api_gateway_rest_api.this[*].id, aws_apigatewayv2_api.this[*].id))
  execution_arn = one(concat(aws_api_gateway_rest_api.this[*].execution_arn, aws_apigatewayv2_api.this[*].execution_arn))
  authorizer_id = one(concat(aws_api_gateway_authorizer.this[*].id, aws_apigatewayv2_authorizer.this[*].id))
  domain_target = one(concat(
    [for d in aws_api_gateway_domain_name.this : { name = d.regional_domain_name, zone_id = d.regional_zone_id }],
    [for d in aws_apigatewayv2_domain_name.this : { name = d.domain_name_configuration[0].target_domain_name, zone_id = d.domain_name_configuration[0].hosted_zone_id }],
  ))
}

# API Gateway may invoke the authorizer only as this API's authorizer, and
# the api-handler (when it is the backend) only from this stage.
resource "aws_lambda_permission" "authorizer" {
  statement_id  = "AllowApiGatewayAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.authorizer.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${local.execution_arn}/authorizers/${local.authorizer_id}"
}

resource "aws_lambda_permission" "api_handler" {
  count = local.api_handler ? 1 : 0

  statement_id  = "AllowApiGatewayIntegration"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.api_handler[0].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${local.execution_arn}/${var.stage_name}/*/*"
}

resource "aws_route53_record" "this" {
  count = var.route53_zone_id == null ? 0 : 1

  zone_id = var.route53_zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = local.domain_target.name
    zone_id                = local.domain_target.zone_id
    evaluate_target_health = false
  }
}

# The api-handler's resources became conditional on `backend`; these keep the
# addresses of an existing deployment, so upgrading the module moves state
# instead of replacing the table (which has deletion protection) and the
# function.
moved {
  from = aws_dynamodb_table.temps
  to   = aws_dynamodb_table.temps[0]
}

moved {
  from = aws_cloudwatch_log_group.api_handler
  to   = aws_cloudwatch_log_group.api_handler[0]
}

moved {
  from = aws_iam_role.api_handler
  to   = aws_iam_role.api_handler[0]
}

moved {
  from = aws_iam_role_policy.api_handler
  to   = aws_iam_role_policy.api_handler[0]
}

moved {
  from = aws_lambda_function.api_handler
  to   = aws_lambda_function.api_handler[0]
}

moved {
  from = aws_lambda_permission.api_handler
  to   = aws_lambda_permission.api_handler[0]
}
