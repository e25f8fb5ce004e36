variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "mtls-authorizer"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}[a-z0-9]$", var.name))
    error_message = "name must be 3 to 40 characters: lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "api_type" {
  description = "\"rest\" (the default: request validation at the edge, a 403 body with the deny reason) or \"http\" (an HTTP API: cheaper and faster, without a request validator or gateway responses)."
  type        = string
  default     = "rest"

  validation {
    condition     = contains(["rest", "http"], var.api_type)
    error_message = "api_type must be \"rest\" or \"http\"."
  }
}

variable "domain_name" {
  description = "The custom domain clients call, e.g. api.example.com. Mutual TLS is enforced here; the execute-api endpoint is disabled."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name))
    error_message = "domain_name must be a lower-case DNS name such as api.example.com."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for domain_name, in the same region (regional endpoint)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "ownership_verification_certificate_arn" {
  description = "ACM-issued certificate proving domain ownership. Required by API Gateway when certificate_arn is imported or issued by AWS Private CA."
  type        = string
  default     = null

  validation {
    condition     = var.ownership_verification_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$", var.ownership_verification_certificate_arn))
    error_message = "ownership_verification_certificate_arn must be an ACM certificate ARN or null."
  }
}

variable "route53_zone_id" {
  description = "Public hosted zone in which to create an alias record for domain_name; null to manage DNS yourself."
  type        = string
  default     = null

  validation {
    condition     = var.route53_zone_id == null || can(regex("^Z[A-Z0-9]{1,31}$", var.route53_zone_id))
    error_message = "route53_zone_id must be a hosted zone id such as Z0123456789ABCDEFGHIJ, or null."
  }
}

variable "truststore_file" {
  description = "Local path of the CA bundle (build it with `truststore build`). Changing the file and running apply uploads a new object version and pins it on the domain."
  type        = string
}

variable "truststore_key" {
  description = "Object key of the truststore in the module's bucket."
  type        = string
  default     = "truststore.pem"
}

variable "reading_schema_file" {
  description = "JSON Schema (draft 4) of POST /temps bodies, installed as the request validator model. Defaults to the api-handler's own schema."
  type        = string
  default     = null
}

variable "authorizer_zip" {
  description = "Zip of the authorizer, from `cargo lambda build --release --arm64 --output-format zip -p authorizer` (target/lambda/authorizer/bootstrap.zip)."
  type        = string
}

variable "api_handler_zip" {
  description = "Zip of the api-handler, from `cargo lambda build --release --arm64 --output-format zip -p api-handler`. Required when backend is \"api-handler\"; unused otherwise."
  type        = string
  default     = null
}

variable "backend" {
  description = "What the API serves: \"api-handler\" (the default: the bundled readings API, a Lambda function and a DynamoDB table) or the origin of your HTTP service, such as https://orders.example.com or http://internal-nlb-123.elb.eu-west-1.amazonaws.com:8080 (scheme, host and port; no path). An HTTP backend receives every method and path, with the verified client certificate in the x-client-cert-* request headers of infra/identity-headers.json; API Gateway sets them from the authorizer's context and overwrites any the client sent."
  type        = string
  default     = "api-handler"

  validation {
    condition     = var.backend == "api-handler" || can(regex("^https?://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$", var.backend))
    error_message = "backend must be \"api-handler\" or an origin such as https://orders.example.com (no path, no trailing slash)."
  }
}

variable "backend_vpc_link" {
  description = <<-EOT
    For an HTTP backend inside a VPC (null: the backend is reached over the internet).
    REST API: a VPC link (v1) to a Network Load Balancer. Give `nlb_arn` to create one, or `id` to reuse one; `backend` is then the URL API Gateway calls through it (the NLB's DNS name, or a name its TLS certificate covers).
    HTTP API: a VPC link (v2) into your subnets, and `listener_arn`, the Application or Network Load Balancer listener (or Cloud Map service) it targets. Give `subnet_ids` and `security_group_ids` to create the link, or `id` to reuse one; `backend` is then the name API Gateway verifies the backend's TLS certificate against (https).
    The module's README ("Your own HTTP backend") explains the choice between ALB and NLB.
  EOT
  type = object({
    id                 = optional(string)
    nlb_arn            = optional(string)
    listener_arn       = optional(string)
    subnet_ids         = optional(list(string), [])
    security_group_ids = optional(list(string), [])
  })
  default = null

  validation {
    condition = var.backend_vpc_link == null || alltrue([
      for arn in compact([try(var.backend_vpc_link.nlb_arn, null), try(var.backend_vpc_link.listener_arn, null)]) :
      can(regex("^arn:aws[a-z-]*:(elasticloadbalancing|servicediscovery):[a-z0-9-]+:[0-9]{12}:", arn))
    ])
    error_message = "backend_vpc_link.nlb_arn and .listener_arn must be Elastic Load Balancing (or Cloud Map) ARNs."
  }
}

variable "backend_timeout_ms" {
  description = "How long API Gateway waits for an HTTP backend, in milliseconds (50 to 29000 for REST APIs, to 30000 for HTTP APIs)."
  type        = number
  default     = 29000

  validation {
    condition     = var.backend_timeout_ms >= 50 && var.backend_timeout_ms <= 29000
    error_message = "backend_timeout_ms must be from 50 to 29000."
  }
}

variable "issuers" {
  description = <<-EOT
    Issuer entries of the authorizer's policy, tried in order (docs/configuration.md). `match` holds issuer DN attributes that must all match. `subject` holds optional client certificate constraints, as in the authorizer's configuration.
    CRLs take one of: `crl`, one s3:// or https:// URI; `crls`, several (the partitions of one CA, or one CRL per key across a key rollover); `crl_from_cdp`, prefixes of the certificates' CRL distribution point URIs with an optional s3:// or https:// `fetch` base they map to (AWS Private CA's partitioned CRLs).
    Delta CRLs (RFC 5280 §5.2.4), beside `crl` or `crls` only: `delta_crl` (one URI) or `delta_crls` (several), which every base CRL of the entry is then read with. With `crl_from_cdp`, deltas are found through each base CRL's Freshest CRL extension, within the same prefixes. `delta` = "ignore" reads base CRLs alone: a device revoked since the last base stays allowed until the next one.
    `ocsp` asks the CA's OCSP responder (docs/ocsp.md), beside the CRLs (both must say good) or alone: `responder`, one http:// or https:// URI, or `responders_from_aia`, prefixes of the certificates' OCSP URIs with an optional http(s) `fetch` base; `cache_seconds` (1 to 86400), `timeout_ms` (50 to 30000), `max_entries` (1 to 1000000), `retry_seconds` (1 to 3600), `hash` ("sha256" or "sha1"). The function needs a network path to the responder.
    One of `crl`, `crls`, `crl_from_cdp` and `ocsp` is required, unless revocation = "none" (knowingly, and then none of them).
    `routes` (docs/configuration.md#per-route-rules): the only routes this issuer's certificates may call, 1 to 64 `{ method, path }`. `method` is GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or "*" (every method); `path` is exact ("/temps"), or ends in "/*" for every path below it ("/admin/*", not "/admin" itself; "/*" is every path), made of plain segments (letters, digits, -._~). No two rules may overlap. A request to another route is denied `route_not_allowed`. Without `routes`, every route is allowed. With an HTTP API and authorizer_result_ttl_seconds > 0, the cache key must include the route: see authorizer_identity_sources.
  EOT
  type = list(object({
    name  = string
    match = map(string)
    crl   = optional(string)
    crls  = optional(list(string))
    crl_from_cdp = optional(list(object({
      prefix = string
      fetch  = optional(string)
    })))
    delta_crl  = optional(string)
    delta_crls = optional(list(string))
    delta      = optional(string, "apply")
    ocsp = optional(object({
      responder = optional(string)
      responders_from_aia = optional(list(object({
        prefix = string
        fetch  = optional(string)
      })))
      cache_seconds = optional(number, 300)
      timeout_ms    = optional(number, 2000)
      max_entries   = optional(number, 10000)
      retry_seconds = optional(number, 30)
      hash          = optional(string, "sha256")
    }))
    revocation = optional(string, "crl")
    subject    = optional(any)
    routes = optional(list(object({
      method = string
      path   = string
    })))
  }))

  validation {
    condition     = length(var.issuers) > 0
    error_message = "issuers must hold at least one entry: with none, every request is denied."
  }

  validation {
    condition = alltrue([for i in var.issuers : length(compact([
      i.crl == null ? "" : "crl",
      i.crls == null ? "" : "crls",
      i.crl_from_cdp == null ? "" : "crl_from_cdp",
    ])) <= 1])
    error_message = "An issuer sets at most one of crl, crls and crl_from_cdp."
  }

  validation {
    condition = alltrue([for i in var.issuers : i.revocation == "none" ? (
      i.crl == null && i.crls == null && i.crl_from_cdp == null && i.ocsp == null && i.delta_crl == null && i.delta_crls == null
      ) : (
      i.crl != null || i.crls != null || i.crl_from_cdp != null || i.ocsp != null
    )])
    error_message = "Every issuer sets one of crl, crls, crl_from_cdp and ocsp (ocsp may also go beside a CRL), unless it sets revocation = \"none\" knowingly (and then none of them, nor delta_crl)."
  }

  validation {
    condition = alltrue([for u in flatten([for i in var.issuers : concat(i.crl == null ? [] : [i.crl], i.crls == null ? [] : i.crls, i.delta_crl == null ? [] : [i.delta_crl], i.delta_crls == null ? [] : i.delta_crls)]) :
    can(regex("^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+|https://.+)$", u))])
    error_message = "crl, crls, delta_crl and delta_crls take \"s3://bucket/key\" or \"https://…\" URIs."
  }

  validation {
    condition     = alltrue([for i in var.issuers : i.crls == null ? true : length(i.crls) > 0 && length(i.crls) <= 64 && length(distinct(i.crls)) == length(i.crls)])
    error_message = "crls lists 1 to 64 distinct URIs."
  }

  validation {
    condition = alltrue([for p in flatten([for i in var.issuers : i.crl_from_cdp == null ? [] : i.crl_from_cdp]) :
      can(regex("^https?://[^/]+/(.*/)?$", p.prefix)) &&
    (p.fetch == null ? true : can(regex("^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/(.+/)?|https://.+/)$", p.fetch)))])
    error_message = "crl_from_cdp prefixes are http:// or https:// URIs with a host, ending in \"/\"; a fetch base is an s3://bucket/… or https://… URI ending in \"/\"."
  }

  validation {
    condition = alltrue([for i in var.issuers : (i.delta_crl == null && i.delta_crls == null) ? true : (
      (i.crl != null || i.crls != null) && !(i.delta_crl != null && i.delta_crls != null) && i.delta != "ignore"
      && (i.delta_crls == null ? true : length(i.delta_crls) > 0)
    )])
    error_message = "delta_crl or delta_crls (one of them, not empty) goes beside crl or crls, and not with delta = \"ignore\"; with crl_from_cdp, delta CRLs are found through each base CRL's Freshest CRL extension."
  }

  validation {
    condition = alltrue([for i in var.issuers : (i.delta_crl == null && i.delta_crls == null) ? true : (
      length(concat(i.crl == null ? [] : [i.crl], i.crls == null ? [] : i.crls, i.delta_crl == null ? [] : [i.delta_crl], i.delta_crls == null ? [] : i.delta_crls))
      == length(distinct(concat(i.crl == null ? [] : [i.crl], i.crls == null ? [] : i.crls, i.delta_crl == null ? [] : [i.delta_crl], i.delta_crls == null ? [] : i.delta_crls)))
      && length(concat(i.crl == null ? [] : [i.crl], i.crls == null ? [] : i.crls, i.delta_crl == null ? [] : [i.delta_crl], i.delta_crls == null ? [] : i.delta_crls)) <= 64
    )])
    error_message = "The base and delta CRL URIs of an issuer are distinct (a delta is not also a base), and at most 64 in all."
  }

  validation {
    condition     = alltrue([for i in var.issuers : contains(["apply", "ignore"], i.delta)])
    error_message = "delta must be \"apply\" (the default) or \"ignore\"."
  }

  validation {
    condition     = alltrue([for i in var.issuers : i.ocsp == null ? true : (i.ocsp.responder == null) != (i.ocsp.responders_from_aia == null)])
    error_message = "ocsp sets exactly one of responder and responders_from_aia."
  }

  validation {
    condition = alltrue([for i in var.issuers : i.ocsp == null ? true : (
      (i.ocsp.responder == null ? true : can(regex("^https?://[^/?#]+(/.*)?$", i.ocsp.responder)))
      && (i.ocsp.responders_from_aia == null ? true : length(i.ocsp.responders_from_aia) > 0 && length(i.ocsp.responders_from_aia) <= 16 && alltrue([
        for p in i.ocsp.responders_from_aia : can(regex("^https?://[^/]+/(.*/)?$", p.prefix)) && (p.fetch == null ? true : can(regex("^https?://[^/]+/(.*/)?$", p.fetch)))
      ]))
    )])
    error_message = "ocsp.responder is an http:// or https:// URI; ocsp.responders_from_aia lists 1 to 16 prefixes, each an http:// or https:// URI with a host, ending in \"/\", with an optional http(s) fetch base ending in \"/\"."
  }

  validation {
    condition = alltrue([for i in var.issuers : i.ocsp == null ? true : (
      i.ocsp.cache_seconds >= 1 && i.ocsp.cache_seconds <= 86400 && floor(i.ocsp.cache_seconds) == i.ocsp.cache_seconds
      && i.ocsp.timeout_ms >= 50 && i.ocsp.timeout_ms <= 30000 && floor(i.ocsp.timeout_ms) == i.ocsp.timeout_ms
      && i.ocsp.max_entries >= 1 && i.ocsp.max_entries <= 1000000 && floor(i.ocsp.max_entries) == i.ocsp.max_entries
      && i.ocsp.retry_seconds >= 1 && i.ocsp.retry_seconds <= 3600 && floor(i.ocsp.retry_seconds) == i.ocsp.retry_seconds
      && contains(["sha256", "sha1"], i.ocsp.hash)
    )])
    error_message = "ocsp takes whole numbers: cache_seconds 1 to 86400, timeout_ms 50 to 30000, max_entries 1 to 1000000, retry_seconds 1 to 3600; and hash \"sha256\" (the default) or \"sha1\"."
  }

  validation {
    condition     = alltrue([for i in var.issuers : contains(["crl", "none"], i.revocation)])
    error_message = "revocation must be \"crl\" (check revocation, the default) or \"none\"."
  }

  validation {
    condition     = length(distinct([for i in var.issuers : i.name])) == length(var.issuers)
    error_message = "Issuer names must be unique."
  }

  # Per-route rules, as the authorizer reads them (x509/src/config/routes.rs):
  # it refuses the same at cold start, and `authorizer --check-config` too.
  validation {
    condition     = alltrue([for i in var.issuers : i.routes == null ? true : length(i.routes) >= 1 && length(i.routes) <= 64])
    error_message = "routes lists 1 to 64 rules, or is left out to allow every route."
  }

  validation {
    condition = alltrue([for r in flatten([for i in var.issuers : i.routes == null ? [] : i.routes]) :
    contains(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"], r.method)])
    error_message = "A route's method is one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS (upper case) or \"*\" for every method."
  }

  validation {
    condition = alltrue([for r in flatten([for i in var.issuers : i.routes == null ? [] : i.routes]) :
      can(regex("^(/|/\\*|(/[A-Za-z0-9._~-]+)+(/\\*)?)$", r.path)) && !can(regex("(^|/)[.]{1,2}(/|$)", r.path)) && length(r.path) <= 256
    ])
    error_message = "A route's path starts with \"/\", is at most 256 characters of plain segments (letters, digits, -._~; no \".\" or \"..\" segment, no empty one), and ends in \"/*\" only to name every path below it: \"/temps\", \"/admin/*\", \"/*\"."
  }

  # Two rules overlap when some request matches both: their methods are the
  # same or one is "*", and their paths are the same, or one is a prefix
  # ("/admin/*") that covers the other path or prefix. Each route is listed once.
  validation {
    condition = alltrue([for i in var.issuers : i.routes == null ? true : alltrue(flatten([
      for a, ra in i.routes : [
        for b, rb in i.routes : a >= b || !(
          (ra.method == rb.method || ra.method == "*" || rb.method == "*") && (
            endswith(ra.path, "/*") && endswith(rb.path, "/*")
            ? startswith(trimsuffix(ra.path, "*"), trimsuffix(rb.path, "*")) || startswith(trimsuffix(rb.path, "*"), trimsuffix(ra.path, "*"))
            : endswith(ra.path, "/*") ? startswith(rb.path, trimsuffix(ra.path, "*"))
            : endswith(rb.path, "/*") ? startswith(ra.path, trimsuffix(rb.path, "*"))
            : ra.path == rb.path
          )
        )
      ]
    ]))])
    error_message = "Two routes of an issuer overlap: the same path with the same method (or \"*\"), or a path below a \"/*\" prefix of another rule with a compatible method. List each route once."
  }
}

variable "max_cdp_crls_per_issuer" {
  description = "For issuers with crl_from_cdp: the most CRLs (partitions) the authorizer holds at once per issuer; the least recently used is dropped beyond it. A Private CA partition is at most 1 MB of DER, about 0.4 MB in memory."
  type        = number
  default     = 64

  validation {
    condition     = var.max_cdp_crls_per_issuer >= 1 && var.max_cdp_crls_per_issuer <= 10000
    error_message = "max_cdp_crls_per_issuer must be from 1 to 10000."
  }
}

variable "crl_refresh_seconds" {
  description = "How often the authorizer re-checks each CRL (a conditional request when unchanged)."
  type        = number
  default     = 300

  validation {
    condition     = var.crl_refresh_seconds >= 1 && var.crl_refresh_seconds <= 86400
    error_message = "crl_refresh_seconds must be from 1 to 86400."
  }
}

variable "crl_grace_seconds" {
  description = "How long a CRL stays usable past its nextUpdate while refreshes fail; after that, requests are denied with crl_unavailable."
  type        = number
  default     = 3600

  validation {
    condition     = var.crl_grace_seconds >= 0 && var.crl_grace_seconds <= 604800
    error_message = "crl_grace_seconds must be from 0 to 604800 (a week)."
  }
}

variable "deny_list" {
  description = <<-EOT
    The operator deny list (docs/revoking.md): a JSON object in the module's bucket that denies listed certificates, and everything below a listed CA, within seconds, without waiting for a CA's CRL. null (the default): no deny list.
    `key`: its object key. `create`: create it as an empty list ({"version":1,"sequence":0,"entries":[]}) on the first apply; Terraform then never writes it again, since `truststore deny` and `truststore revoke` edit it. Set false if the object already exists (the first apply would otherwise replace it with an empty list), and run `terraform state rm` on it before turning `create` off for a list Terraform created (or the apply deletes it, and every request is denied deny_list_unavailable).
    `refresh_seconds` (1 to 3600): no request is decided with a list fetched longer ago than this while S3 answers. `max_age_seconds` (1 to 604800, at least refresh_seconds): while refreshes fail, the last good list stays in use this long after its last successful fetch; then every request is denied deny_list_unavailable.
  EOT
  type = object({
    key             = optional(string, "deny-list.json")
    create          = optional(bool, true)
    refresh_seconds = optional(number, 10)
    max_age_seconds = optional(number, 900)
  })
  default = null

  validation {
    condition     = var.deny_list == null || can(regex("^[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]*$", try(var.deny_list.key, ""))) && length(try(var.deny_list.key, "")) <= 1024
    error_message = "deny_list.key must be an S3 object key of at most 1024 letters, digits and !_.*'()/- that does not start with \"/\"."
  }

  validation {
    condition     = var.deny_list == null || try(var.deny_list.refresh_seconds >= 1 && var.deny_list.refresh_seconds <= 3600 && floor(var.deny_list.refresh_seconds) == var.deny_list.refresh_seconds, false)
    error_message = "deny_list.refresh_seconds must be a whole number from 1 to 3600."
  }

  validation {
    condition     = var.deny_list == null || try(var.deny_list.max_age_seconds >= 1 && var.deny_list.max_age_seconds <= 604800 && floor(var.deny_list.max_age_seconds) == var.deny_list.max_age_seconds, false)
    error_message = "deny_list.max_age_seconds must be a whole number from 1 to 604800 (a week)."
  }

  validation {
    condition     = var.deny_list == null || try(var.deny_list.max_age_seconds >= var.deny_list.refresh_seconds, false)
    error_message = "deny_list.max_age_seconds must be at least deny_list.refresh_seconds."
  }
}

variable "ca_revocation" {
  description = "CA revocation (docs/revoking.md): CAs that issue CA certificates (a root, say), and their CRLs (ARLs). Each CA certificate on a client's path that a matched CA issued is checked against them, verified with that CA's key from the truststore; a revoked one denies the client `ca_revoked`. `match` holds the CA's DN attributes, as in issuers. The CRLs take one of: `crl`, one s3:// or https:// URI; `crls`, several; `crl_from_cdp`, as in issuers. Delta CRLs as in issuers: `delta_crl` or `delta_crls` beside `crl` or `crls`, and `delta` = \"apply\" (the default) or \"ignore\". The authorizer's role may read the s3:// objects named, and the objects under each s3:// fetch base."
  type = list(object({
    name  = string
    match = map(string)
    crl   = optional(string)
    crls  = optional(list(string))
    crl_from_cdp = optional(list(object({
      prefix = string
      fetch  = optional(string)
    })))
    delta_crl  = optional(string)
    delta_crls = optional(list(string))
    delta      = optional(string, "apply")
  }))
  default = []

  validation {
    condition = alltrue([for c in var.ca_revocation : length(compact([
      c.crl == null ? "" : "crl",
      c.crls == null ? "" : "crls",
      c.crl_from_cdp == null ? "" : "crl_from_cdp",
    ])) == 1])
    error_message = "Every ca_revocation entry sets exactly one of crl, crls and crl_from_cdp."
  }

  validation {
    condition     = alltrue([for c in var.ca_revocation : length(c.match) > 0])
    error_message = "Every ca_revocation entry needs at least one match attribute, such as { CN = \"Root CA\" }."
  }

  validation {
    condition = alltrue([for u in flatten([for c in var.ca_revocation : concat(c.crl == null ? [] : [c.crl], c.crls == null ? [] : c.crls, c.delta_crl == null ? [] : [c.delta_crl], c.delta_crls == null ? [] : c.delta_crls)]) :
    can(regex("^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+|https://.+)$", u))])
    error_message = "ca_revocation crl, crls, delta_crl and delta_crls take \"s3://bucket/key\" or \"https://…\" URIs."
  }

  validation {
    condition     = alltrue([for c in var.ca_revocation : c.crls == null ? true : length(c.crls) > 0 && length(c.crls) <= 64 && length(distinct(c.crls)) == length(c.crls)])
    error_message = "ca_revocation crls lists 1 to 64 distinct URIs."
  }

  validation {
    condition = alltrue([for p in flatten([for c in var.ca_revocation : c.crl_from_cdp == null ? [] : c.crl_from_cdp]) :
      can(regex("^https?://[^/]+/(.*/)?$", p.prefix)) &&
    (p.fetch == null ? true : can(regex("^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/(.+/)?|https://.+/)$", p.fetch)))])
    error_message = "ca_revocation crl_from_cdp prefixes are http:// or https:// URIs with a host, ending in \"/\"; a fetch base is an s3://bucket/… or https://… URI ending in \"/\"."
  }

  validation {
    condition = alltrue([for c in var.ca_revocation : (c.delta_crl == null && c.delta_crls == null) ? true : (
      (c.crl != null || c.crls != null) && !(c.delta_crl != null && c.delta_crls != null) && c.delta != "ignore"
      && (c.delta_crls == null ? true : length(c.delta_crls) > 0)
      && length(concat(c.crl == null ? [] : [c.crl], c.crls == null ? [] : c.crls, c.delta_crl == null ? [] : [c.delta_crl], c.delta_crls == null ? [] : c.delta_crls))
      == length(distinct(concat(c.crl == null ? [] : [c.crl], c.crls == null ? [] : c.crls, c.delta_crl == null ? [] : [c.delta_crl], c.delta_crls == null ? [] : c.delta_crls)))
      && length(concat(c.crl == null ? [] : [c.crl], c.crls == null ? [] : c.crls, c.delta_crl == null ? [] : [c.delta_crl], c.delta_crls == null ? [] : c.delta_crls)) <= 64
    )])
    error_message = "ca_revocation delta_crl or delta_crls (one of them) goes beside crl or crls, not with delta = \"ignore\", with URIs distinct from the base CRLs', 64 in all at most."
  }

  validation {
    condition     = alltrue([for c in var.ca_revocation : contains(["apply", "ignore"], c.delta)])
    error_message = "ca_revocation delta must be \"apply\" (the default) or \"ignore\"."
  }

  validation {
    condition     = length(distinct([for c in var.ca_revocation : c.name])) == length(var.ca_revocation)
    error_message = "ca_revocation names must be unique."
  }
}

variable "ca_revocation_required" {
  description = "When true, every CA on a client's path below the trust anchor must be covered by a ca_revocation CRL, else the request is denied `crl_unavailable`. false (the default): CAs that no ca_revocation entry covers are not checked."
  type        = bool
  default     = false
}

variable "authorizer_result_ttl_seconds" {
  description = "API Gateway's authorizer result cache TTL. 0 (the default) asks the authorizer on every request, so a revocation takes effect at the next CRL refresh. A TTL lets a cached Allow outlive a revocation by up to this many seconds."
  type        = number
  default     = 0

  validation {
    condition     = var.authorizer_result_ttl_seconds >= 0 && var.authorizer_result_ttl_seconds <= 3600
    error_message = "authorizer_result_ttl_seconds must be from 0 to 3600."
  }
}

variable "authorizer_identity_sources" {
  description = "Cache key of the authorizer when authorizer_result_ttl_seconds > 0, in the syntax of api_type (REST: context.…, method.request.header.…; HTTP: $context.…, $request.header.…). null (the default) keys by the client certificate's serial number and issuer DN, and, on an HTTP API where an issuer lists `routes`, by $context.routeKey too: an HTTP API caches the answer for one route, so a key without the route would serve one route's Allow to another (the plan refuses it, and refuses caching with `routes` behind an HTTP backend's single $default route). A header or query string is chosen by the client: one client could then replay another's cached Allow and identity."
  type        = list(string)
  default     = null

  validation {
    condition     = var.authorizer_identity_sources == null || length(coalesce(var.authorizer_identity_sources, [])) > 0
    error_message = "authorizer_identity_sources must be null (the certificate) or name at least one source."
  }
}

variable "authorizer_memory_mb" {
  description = "Authorizer memory. CPU scales with it: large CRLs load faster with 512 MB or more (see docs/performance.md)."
  type        = number
  default     = 256

  validation {
    condition     = var.authorizer_memory_mb >= 128 && var.authorizer_memory_mb <= 10240
    error_message = "authorizer_memory_mb must be from 128 to 10240."
  }
}

variable "authorizer_timeout_seconds" {
  description = "Authorizer timeout: at least fetch timeout × (1 + issuers) + 1 s, since a cold start loads the truststore and every CRL."
  type        = number
  default     = 15

  validation {
    condition     = var.authorizer_timeout_seconds >= 3 && var.authorizer_timeout_seconds <= 30
    error_message = "authorizer_timeout_seconds must be from 3 to 30 (API Gateway waits at most 29 s)."
  }
}

variable "api_handler_memory_mb" {
  description = "api-handler memory."
  type        = number
  default     = 128

  validation {
    condition     = var.api_handler_memory_mb >= 128 && var.api_handler_memory_mb <= 10240
    error_message = "api_handler_memory_mb must be from 128 to 10240."
  }
}

variable "temps_retention_days" {
  description = "How long readings are kept (DynamoDB TTL)."
  type        = number
  default     = 90

  validation {
    condition     = var.temps_retention_days >= 1 && var.temps_retention_days <= 36500
    error_message = "temps_retention_days must be from 1 to 36500."
  }
}

variable "stage_name" {
  description = "The API stage, mapped at the root of the custom domain."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,128}$", var.stage_name))
    error_message = "stage_name may hold letters, digits and underscores."
  }
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second the stage accepts across all routes (API Gateway stage throttling)."
  type        = number
  default     = 100

  validation {
    condition     = var.throttling_rate_limit > 0 && var.throttling_rate_limit <= 10000
    error_message = "throttling_rate_limit must be from 1 to 10000."
  }
}

variable "throttling_burst_limit" {
  description = "Burst of requests the stage accepts above throttling_rate_limit."
  type        = number
  default     = 200

  validation {
    condition     = var.throttling_burst_limit >= 0 && var.throttling_burst_limit <= 5000
    error_message = "throttling_burst_limit must be from 0 to 5000."
  }
}

variable "log_retention_days" {
  description = "Retention of every log group the module creates."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, … 3653)."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the bucket, the table and the log groups; null uses AWS managed encryption."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN or null."
  }
}

variable "alarm_actions" {
  description = "SNS topic ARNs (or other alarm actions) notified by the module's alarms."
  type        = list(string)
  default     = []
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the authorizer's metrics (its METRICS_NAMESPACE); null means `MtlsAuthorizer/<name>`, so two deployments in one account keep their metrics and alarms apart."
  type        = string
  default     = null

  validation {
    condition     = var.metrics_namespace == null || can(regex("^[A-Za-z0-9._/#: -]{1,255}$", var.metrics_namespace)) && !startswith(coalesce(var.metrics_namespace, "-"), "AWS/")
    error_message = "metrics_namespace must be 1-255 letters, digits or .-_/#: and space, not starting with AWS/."
  }
}

variable "alarm_crl_stale_seconds" {
  description = "The CRL-going-stale alarm fires when a CRL in use has fewer seconds than this left to its nextUpdate (default 6 h: time to act before the grace period ends)."
  type        = number
  default     = 21600

  validation {
    condition     = var.alarm_crl_stale_seconds >= 0
    error_message = "alarm_crl_stale_seconds must not be negative."
  }
}

variable "alarm_crl_refresh_failure_periods" {
  description = "The CRL-refresh-failing alarm fires after this many consecutive 5-minute periods with a failed or rejected CRL refresh, or a failed OCSP exchange."
  type        = number
  default     = 3

  validation {
    condition     = var.alarm_crl_refresh_failure_periods >= 1 && var.alarm_crl_refresh_failure_periods <= 288
    error_message = "alarm_crl_refresh_failure_periods must be between 1 and 288 (one day)."
  }
}

variable "alarm_truststore_expiry_days" {
  description = "The truststore-CA-expiring alarm fires when a CA in the truststore expires within this many days."
  type        = number
  default     = 30

  validation {
    condition     = var.alarm_truststore_expiry_days >= 1
    error_message = "alarm_truststore_expiry_days must be at least 1."
  }
}

variable "alarm_revoked_per_5_minutes" {
  description = "The revocation-spike alarm fires when more than this many requests in 5 minutes are denied as `revoked` (a mass revocation, or stolen certificates in use)."
  type        = number
  default     = 20

  validation {
    condition     = var.alarm_revoked_per_5_minutes >= 0
    error_message = "alarm_revoked_per_5_minutes must not be negative."
  }
}

variable "alarm_authorizer_p99_ms" {
  description = "The authorizer-slow alarm fires when the authorizer's p99 Lambda Duration stays above this many milliseconds for 15 minutes."
  type        = number
  default     = 1000

  validation {
    condition     = var.alarm_authorizer_p99_ms > 0
    error_message = "alarm_authorizer_p99_ms must be positive."
  }
}

variable "alarm_deny_list_stale_seconds" {
  description = "With a deny list: the deny-list-stale alarm fires when the list in use was last confirmed current (a successful fetch or a 304) more than this many seconds ago, that is, when refreshes have been failing. Keep it below deny_list.max_age_seconds, when every request starts being denied, and above deny_list.refresh_seconds, or one failed refresh fires it."
  type        = number
  default     = 120

  validation {
    condition     = var.alarm_deny_list_stale_seconds >= 1
    error_message = "alarm_deny_list_stale_seconds must be at least 1."
  }
}

variable "create_dashboard" {
  description = "Create the CloudWatch dashboard `<name>-mtls` (decisions, CRLs, authorizer and API health)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
}
