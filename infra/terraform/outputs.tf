output "api_type" {
  description = "\"rest\" or \"http\" (for `truststore rotate --api`)."
  value       = var.api_type
}

output "api_id" {
  description = "The REST API or HTTP API id."
  value       = local.api_id
}

output "domain_name" {
  description = "The custom domain clients call."
  value       = var.domain_name
}

output "regional_domain_name" {
  description = "Target of the domain's DNS alias (when route53_zone_id is null, point your record here)."
  value       = local.domain_target.name
}

output "regional_zone_id" {
  description = "Hosted zone id of regional_domain_name, for an alias record."
  value       = local.domain_target.zone_id
}

output "stage_name" {
  description = "The deployed stage, mapped at the root of the domain."
  value       = var.stage_name
}

output "truststore_bucket" {
  description = "The versioned truststore bucket (for `truststore rotate --bucket`)."
  value       = aws_s3_bucket.truststore.id
}

output "truststore_key" {
  description = "The truststore object key (for `truststore rotate --key`)."
  value       = aws_s3_object.truststore.key
}

output "truststore_version" {
  description = "The object version the domain pins."
  value       = aws_s3_object.truststore.version_id
}

output "authorizer_function_name" {
  description = "The authorizer Lambda function."
  value       = aws_lambda_function.authorizer.function_name
}

output "api_handler_function_name" {
  description = "The api-handler Lambda function (null with an HTTP backend)."
  value       = try(aws_lambda_function.api_handler[0].function_name, null)
}

output "temps_table_name" {
  description = "The readings table (null with an HTTP backend)."
  value       = try(aws_dynamodb_table.temps[0].name, null)
}

output "access_log_group" {
  description = "The API's JSON access log group."
  value       = aws_cloudwatch_log_group.access.name
}

output "authorizer_log_group" {
  description = "The authorizer's JSON decision log group (one line per decision, with the reason code)."
  value       = aws_cloudwatch_log_group.authorizer.name
}

output "route53_record_fqdn" {
  description = "The alias record, when route53_zone_id was given."
  value       = try(aws_route53_record.this[0].fqdn, null)
}

output "backend" {
  description = "What the API serves: \"api-handler\" or the HTTP backend's origin."
  value       = var.backend
}

output "backend_vpc_link_id" {
  description = "The VPC link to the HTTP backend, when there is one."
  value       = local.vpc_link ? one(distinct(concat([for i in aws_api_gateway_integration.backend : i.connection_id], [for i in aws_apigatewayv2_integration.backend : i.connection_id]))) : null
}

output "deny_list_uri" {
  description = "The deny list, for `truststore deny … --list` and `truststore revoke --list` (null without deny_list)."
  value       = local.deny_list_uri
}

output "deny_list_object_arn" {
  description = "The deny list object: grant the operators who revoke devices s3:GetObject and s3:PutObject on exactly this ARN (and kms:Decrypt and kms:GenerateDataKey on kms_key_arn, if set). Whoever can write it can deny any device, and empty the list (null without deny_list)."
  value       = local.deny_list_object_arn
}
