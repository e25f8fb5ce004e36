# Mutual TLS in front of a service you already run: an ECS service behind an
# internal load balancer, reached through a VPC link. The service receives
# every request the authorizer allows, with the verified certificate identity
# in x-client-cert-* headers (infra/identity-headers.json), and never sees a
# request the authorizer denied. There is no api-handler and no table.
#
# REST API (the default): a VPC link v1 to a Network Load Balancer in front
# of the service (an NLB can target an ALB). HTTP API (api_type = "http"): a
# VPC link v2 straight to the ALB's (or an NLB's) listener.
# The module's README ("Your own HTTP backend") explains the choice.

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
  description = "\"rest\" (VPC link to nlb_arn) or \"http\" (VPC link into subnet_ids, to listener_arn)."
  type        = string
  default     = "rest"
}

variable "domain_name" {
  description = "The custom domain, e.g. orders.example.com."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for domain_name in var.region."
  type        = string
}

variable "truststore_file" {
  description = "The CA bundle, relative to the repository root."
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

variable "backend" {
  description = "The URL API Gateway calls: for REST, the NLB's DNS name (https://internal-orders-123.elb.eu-west-1.amazonaws.com); for HTTP, the name the service's certificate covers."
  type        = string
}

variable "nlb_arn" {
  description = "REST API: the Network Load Balancer in front of the service."
  type        = string
  default     = null
}

variable "listener_arn" {
  description = "HTTP API: the ALB or NLB listener of the service."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "HTTP API: private subnets for the VPC link's network interfaces."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "HTTP API: security groups of the VPC link; the load balancer must allow them."
  type        = list(string)
  default     = []
}

locals {
  repo = "${path.root}/../../../.."
}

module "mtls_api" {
  source = "../.."

  name            = "orders"
  api_type        = var.api_type
  domain_name     = var.domain_name
  certificate_arn = var.certificate_arn

  truststore_file = "${local.repo}/${var.truststore_file}"
  authorizer_zip  = "${local.repo}/target/lambda/authorizer/bootstrap.zip"

  backend = var.backend
  backend_vpc_link = var.api_type == "rest" ? {
    nlb_arn = var.nlb_arn
    } : {
    listener_arn       = var.listener_arn
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }

  issuers = [{
    name  = "devices"
    match = var.issuer_match
    crl   = var.crl_uri
  }]

  tags = { project = "mtls-authorizer" }
}

output "domain_name" {
  description = "Call this with a client certificate."
  value       = module.mtls_api.domain_name
}

output "regional_domain_name" {
  description = "Point a CNAME or alias here."
  value       = module.mtls_api.regional_domain_name
}

output "backend_vpc_link_id" {
  description = "The VPC link the module created."
  value       = module.mtls_api.backend_vpc_link_id
}
