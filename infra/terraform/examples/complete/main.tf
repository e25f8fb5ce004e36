# The whole stack in one region: the truststore and CRL of a development PKI
# (`truststore pki init`, CRL published with `truststore pki publish s3://…`),
# or your own CA's. The deployment runbook in the repository's README walks
# through it.

terraform {
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 7.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "AWS region of the stack."
  type        = string
  default     = "eu-west-1"
}

variable "api_type" {
  description = "\"rest\" or \"http\"."
  type        = string
  default     = "rest"
}

variable "domain_name" {
  description = "The custom domain, e.g. api.example.com."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for domain_name in var.region."
  type        = string
}

variable "route53_zone_id" {
  description = "Hosted zone for the alias record, or null."
  type        = string
  default     = null
}

variable "truststore_file" {
  description = "The CA bundle, relative to the repository root (`truststore pki init` writes <dir>/truststore.pem)."
  type        = string
  default     = ".local/aws-pki/truststore.pem"
}

variable "issuer_match" {
  description = "Issuer DN attributes of the CA that signs the devices' certificates."
  type        = map(string)
  default     = { O = "Temperature Testers", CN = "Temperature Testers Issuing CA" }
}

variable "crl_uri" {
  description = "Where that CA publishes its CRL, e.g. s3://my-pki/devices.crl."
  type        = string
}

locals {
  repo = "${path.root}/../../../.."
}

module "mtls_api" {
  source = "../.."

  name            = "temps"
  api_type        = var.api_type
  domain_name     = var.domain_name
  certificate_arn = var.certificate_arn
  route53_zone_id = var.route53_zone_id

  truststore_file = "${local.repo}/${var.truststore_file}"
  authorizer_zip  = "${local.repo}/target/lambda/authorizer/bootstrap.zip"
  api_handler_zip = "${local.repo}/target/lambda/api-handler/bootstrap.zip"

  issuers = [{
    name  = "devices"
    match = var.issuer_match
    crl   = var.crl_uri
  }]

  # The operator deny list (docs/revoking.md), created empty in the
  # truststore bucket: `truststore deny add … --list <deny_list_uri>` denies a
  # device within 10 s, before the CA's next CRL.
  deny_list = {}

  authorizer_result_ttl_seconds = 0
  tags                          = { project = "mtls-authorizer" }
}

output "domain_name" {
  description = "Call this with a client certificate."
  value       = module.mtls_api.domain_name
}

output "regional_domain_name" {
  description = "Point a CNAME or alias here when route53_zone_id is null."
  value       = module.mtls_api.regional_domain_name
}

output "rotate_command" {
  description = "Rotate the truststore without Terraform."
  value       = "truststore rotate --domain ${module.mtls_api.domain_name} --api ${module.mtls_api.api_type} --bucket ${module.mtls_api.truststore_bucket} --key ${module.mtls_api.truststore_key} NEW.pem"
}

output "deny_list_uri" {
  description = "The deny list, for `truststore deny … --list` and `truststore revoke --list`."
  value       = module.mtls_api.deny_list_uri
}

output "deny_list_object_arn" {
  description = "Grant the operators who revoke devices s3:GetObject and s3:PutObject on this."
  value       = module.mtls_api.deny_list_object_arn
}

output "authorizer_log_group" {
  description = "The authorizer's decision log."
  value       = module.mtls_api.authorizer_log_group
}
