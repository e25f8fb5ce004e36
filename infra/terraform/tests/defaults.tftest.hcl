# Plan-time checks with a mocked AWS provider: `terraform init && terraform test`
# in infra/terraform. They need the hashicorp/aws provider installed (a mock
# still needs its schema); CI skips them, and says so, where it cannot be.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_s3_object" {
    defaults = { version_id = "v-mocked-1" }
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
    condition     = aws_api_gateway_rest_api.this.disable_execute_api_endpoint == true
    error_message = "The execute-api endpoint must be disabled: it bypasses mutual TLS."
  }

  assert {
    condition     = aws_api_gateway_authorizer.this.authorizer_result_ttl_in_seconds == 0
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
    condition     = aws_api_gateway_domain_name.this.security_policy == "TLS_1_2"
    error_message = "The domain must require TLS 1.2."
  }

  assert {
    condition     = aws_lambda_function.authorizer.architectures[0] == "arm64" && aws_lambda_function.authorizer.runtime == "provided.al2023"
    error_message = "The functions run on provided.al2023, arm64."
  }
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
