# The whole stack in one region, with the development PKI's truststore and a
# CRL published to S3 (`truststore pki publish s3://…`).

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

variable "crl_uri" {
  description = "Where the devices CA publishes its CRL, e.g. s3://my-pki/devices.crl."
  type        = string
}

module "mtls_api" {
  source = "../.."

  name            = "temps"
  domain_name     = var.domain_name
  certificate_arn = var.certificate_arn
  route53_zone_id = var.route53_zone_id

  truststore_file = "${path.root}/../../../../.local/pki/truststore.pem"
  authorizer_zip  = "${path.root}/../../../../target/lambda/authorizer/bootstrap.zip"
  api_handler_zip = "${path.root}/../../../../target/lambda/api-handler/bootstrap.zip"

  issuers = [{
    name  = "devices"
    match = { O = "Temperature Testers", CN = "Temperature Testers Devices CA" }
    crl   = var.crl_uri
  }]

  authorizer_result_ttl_seconds = 0
  tags                          = { project = "mtls-authorizer" }
}

output "domain_name" {
  description = "Call this with a client certificate."
  value       = module.mtls_api.domain_name
}

output "truststore" {
  description = "Bucket and key for `truststore rotate`."
  value       = "s3://${module.mtls_api.truststore_bucket}/${module.mtls_api.truststore_key}"
}
