//! The event formats: REST and HTTP API authorizer events in, IAM policies
//! and simple responses out, with the authorizer context.

use super::StartError;
use super::state::lock;
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerIamPolicyResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use mtls_policy::config::{PolicyResource, RequestRoute, Routes};
use mtls_policy::context::AuthorizerContext;
use mtls_policy::decision::{Decision, DenyReason, Identity};
use mtls_policy::metrics::request_id;
use serde_json::{Map, Value};
use std::sync::Mutex;

/// The response shape for HTTP API (payload 2.0) events, from `HTTP_API_RESPONSE`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HttpApiResponse {
    /// `{"isAuthorized": …, "context": …}` (enable simple responses on the authorizer).
    #[default]
    Simple,
    /// An IAM policy, as for REST APIs.
    Iam,
}

impl HttpApiResponse {
    /// Parses `simple` or `iam`; unset means `simple`.
    pub fn from_env_value(value: Option<&str>) -> Result<Self, StartError> {
        match value.map(str::trim) {
            None | Some("" | "simple") => Ok(Self::Simple),
            Some("iam") => Ok(Self::Iam),
            Some(other) => Err(StartError::Setting {
                variable: "HTTP_API_RESPONSE",
                value: mtls_x509::error::bounded(other),
                expected: "use `simple` or `iam`",
            }),
        }
    }
}

/// Which kind of authorizer event arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// REST API REQUEST authorizer (and HTTP API payload 1.0), answered with an IAM policy.
    Rest {
        /// The invoked method's ARN.
        method_arn: Option<String>,
    },
    /// HTTP API payload 2.0.
    HttpV2 {
        /// The invoked route's ARN.
        route_arn: Option<String>,
    },
    /// Something else: answered with a Deny on every resource.
    Unknown,
}

impl EventKind {
    /// Tells the event formats apart by their distinguishing fields.
    #[must_use]
    pub fn detect(event: &Value) -> Self {
        let text = |key: &str| event.get(key).and_then(Value::as_str).map(str::to_owned);
        if text("version").as_deref() == Some("2.0") || event.get("routeArn").is_some() {
            Self::HttpV2 {
                route_arn: text("routeArn"),
            }
        } else if event.get("methodArn").is_some() {
            Self::Rest {
                method_arn: text("methodArn"),
            }
        } else {
            Self::Unknown
        }
    }

    /// API Gateway's request ids: `requestContext.requestId` (both
    /// formats) and `requestContext.extendedRequestId` (REST).
    #[must_use]
    pub(crate) fn api_request_ids(event: &Value) -> (Option<String>, Option<String>) {
        let id = |p: &str| request_id(event.pointer(p).and_then(Value::as_str));
        (
            id("/requestContext/requestId"),
            id("/requestContext/extendedRequestId"),
        )
    }

    /// The method and path being invoked, from `methodArn` or `routeArn`.
    #[must_use]
    pub fn request_route(&self) -> Option<RequestRoute<'_>> {
        match self {
            Self::Rest { method_arn: arn } | Self::HttpV2 { route_arn: arn } => {
                arn.as_deref().and_then(RequestRoute::from_arn)
            }
            Self::Unknown => None,
        }
    }

    /// The `clientCertPem` at the place this event format keeps it.
    #[must_use]
    pub fn client_cert_pem<'e>(&self, event: &'e Value) -> Option<&'e str> {
        let pointer = match self {
            Self::Rest { .. } => "/requestContext/identity/clientCert/clientCertPem",
            Self::HttpV2 { .. } => "/requestContext/authentication/clientCert/clientCertPem",
            Self::Unknown => return None,
        };
        event.pointer(pointer).and_then(Value::as_str)
    }

    /// The response API Gateway expects for this event format. `routes`
    /// are the matched entry's, if it lists any: with a stage-wide policy,
    /// the policy then allows exactly those routes, for an Allow and for a
    /// `route_not_allowed` Deny alike, so the policy API Gateway caches for
    /// this identity is right for every route it calls.
    #[must_use]
    pub fn response(
        &self,
        decision: &Decision,
        scope: PolicyResource,
        http: HttpApiResponse,
        routes: Option<(usize, &Routes)>,
        policies: &RoutePolicies,
    ) -> Value {
        let context = context_of(decision);
        let principal = principal_of(decision.identity());
        // Optional fields the crate leaves as `null` (usageIdentifierKey) are
        // dropped: API Gateway documents them as absent-or-string.
        let to_value = |r: Result<Value, serde_json::Error>| match r {
            Ok(Value::Object(mut fields)) => {
                fields.retain(|_, v| !v.is_null());
                Value::Object(fields)
            }
            _ => deny_everything_response(),
        };
        match self {
            Self::Rest { method_arn } => {
                let mut r = ApiGatewayCustomAuthorizerResponse::<Map<String, Value>>::default();
                r.principal_id = Some(principal);
                let arn = method_arn.as_deref();
                let cached = route_policy(decision, arn, scope, routes, policies);
                if cached.is_none() {
                    r.policy_document = policy(decision.is_allow(), resource(arn, scope));
                }
                r.context = context;
                with_policy(to_value(serde_json::to_value(r)), cached)
            }
            Self::HttpV2 { route_arn } => match http {
                HttpApiResponse::Simple => {
                    let mut r =
                        ApiGatewayV2CustomAuthorizerSimpleResponse::<Map<String, Value>>::default();
                    r.is_authorized = decision.is_allow();
                    r.context = context;
                    to_value(serde_json::to_value(r))
                }
                HttpApiResponse::Iam => {
                    let mut r = ApiGatewayV2CustomAuthorizerIamPolicyResponse::<Map<String, Value>>::default();
                    r.principal_id = Some(principal);
                    let arn = route_arn.as_deref();
                    let cached = route_policy(decision, arn, scope, routes, policies);
                    if cached.is_none() {
                        r.policy_document = policy(decision.is_allow(), resource(arn, scope));
                    }
                    r.context = context;
                    with_policy(to_value(serde_json::to_value(r)), cached)
                }
            },
            Self::Unknown => deny_everything_response(),
        }
    }
}

/// A Deny on `*`, valid for any event format that takes IAM policies.
pub(super) fn deny_everything_response() -> Value {
    serde_json::json!({
        "principalId": "unknown",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": "*"}]
        },
        "context": {"reason": DenyReason::InternalError.as_str()}
    })
}

/// Stage-wide route policies already rendered, by (issuer entry, stage ARN
/// prefix), for [`EventKind::response`]. A deployment has one stage or a few, so each entry's policy is
/// built once and cloned per request. Bounded: the oldest goes first.
#[derive(Debug, Default)]
pub struct RoutePolicies(Mutex<Vec<(usize, String, Value)>>);

/// The most rendered policies kept.
const MAX_ROUTE_POLICIES: usize = 32;

impl RoutePolicies {
    fn get_or_make(&self, rule: usize, stage: &str, make: impl FnOnce() -> Value) -> Value {
        let mut held = lock(&self.0);
        if let Some((_, _, v)) = held.iter().find(|(r, s, _)| *r == rule && s == stage) {
            return v.clone();
        }
        let v = make();
        if held.len() >= MAX_ROUTE_POLICIES {
            held.remove(0);
        }
        held.push((rule, stage.to_owned(), v.clone()));
        v
    }
}

/// For an entry with `routes` under a stage-wide policy, and an Allow or a
/// `route_not_allowed`, the policy document: an `Allow` on every rule's ARN
/// patterns, and, when a rule is a prefix, a `Deny` on the paths that are
/// not plain. It is the same whether this request's route was allowed or
/// not (see [`EventKind::response`]). `None`: the usual one statement on
/// [`resource`].
fn route_policy(
    decision: &Decision,
    arn: Option<&str>,
    scope: PolicyResource,
    routes: Option<(usize, &Routes)>,
    policies: &RoutePolicies,
) -> Option<Value> {
    let applies = matches!(decision, Decision::Allow(_))
        || decision.reason() == Some(DenyReason::RouteNotAllowed);
    let (PolicyResource::Stage, Some((rule, routes)), Some(stage)) =
        (scope, routes, arn.and_then(stage_prefix))
    else {
        return None;
    };
    if !applies {
        return None;
    }
    Some(policies.get_or_make(rule, stage, || {
        let on_stage = |patterns: &[String]| -> Vec<String> {
            patterns.iter().map(|p| format!("{stage}/{p}")).collect()
        };
        let mut allow = statement(true, String::new());
        allow.resource = on_stage(routes.arn_patterns());
        let mut statements = vec![allow];
        let deny = routes.deny_arn_patterns();
        if !deny.is_empty() {
            let mut st = statement(false, String::new());
            st.resource = on_stage(deny);
            statements.push(st);
        }
        let mut doc = ApiGatewayCustomAuthorizerPolicy::default();
        doc.version = Some("2012-10-17".to_owned());
        doc.statement = statements;
        serde_json::to_value(doc).unwrap_or(Value::Null)
    }))
}

/// `response` with its `policyDocument` replaced by `policy`, when given.
fn with_policy(mut response: Value, policy: Option<Value>) -> Value {
    if let (Some(policy), Some(fields)) = (policy, response.as_object_mut()) {
        if policy.is_null() {
            return deny_everything_response();
        }
        fields.insert("policyDocument".to_owned(), policy);
    }
    response
}

/// `arn:aws:execute-api:region:account:api-id/stage` of an invoked ARN.
fn stage_prefix(arn: &str) -> Option<&str> {
    let first = arn.find('/')?;
    let second = first + 1 + arn.get(first + 1..)?.find('/')?;
    let prefix = arn.get(..second)?;
    (second > first + 1).then_some(prefix)
}

fn statement(allow: bool, resource: String) -> IamPolicyStatement {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".to_owned()];
    statement.effect = if allow {
        IamPolicyEffect::Allow
    } else {
        IamPolicyEffect::Deny
    };
    statement.resource = vec![resource];
    statement
}

pub(super) fn policy(allow: bool, resource: String) -> ApiGatewayCustomAuthorizerPolicy {
    let statement = statement(allow, resource);
    let mut doc = ApiGatewayCustomAuthorizerPolicy::default();
    doc.version = Some("2012-10-17".to_owned());
    doc.statement = vec![statement];
    doc
}

/// The policy resource: the invoked ARN, or its stage wildcard
/// (`arn:aws:execute-api:region:account:api-id/stage/*`).
pub(super) fn resource(arn: Option<&str>, scope: PolicyResource) -> String {
    let Some(arn) = arn.filter(|a| !a.is_empty()) else {
        return "*".to_owned();
    };
    match scope {
        PolicyResource::Method => arn.to_owned(),
        PolicyResource::Stage => {
            let mut parts = arn.splitn(3, '/');
            match (parts.next(), parts.next()) {
                (Some(api), Some(stage)) if !stage.is_empty() => format!("{api}/{stage}/*"),
                _ => arn.to_owned(),
            }
        }
    }
}

/// A principal stable per certificate: its SHA-256 fingerprint.
pub(super) fn principal_of(id: &Identity) -> String {
    if id.fingerprint_sha256.is_empty() {
        "anonymous".to_owned()
    } else {
        id.fingerprint_sha256.clone()
    }
}

/// The authorizer context: string values only, on Allow and Deny alike.
pub(super) fn context_of(decision: &Decision) -> Map<String, Value> {
    let id = decision.identity();
    AuthorizerContext {
        subject_dn: id.subject_dn.clone(),
        issuer_dn: id.issuer_dn.clone(),
        serial_number: id.serial_number.clone(),
        fingerprint_sha256: id.fingerprint_sha256.clone(),
        issuer: id.issuer.clone().unwrap_or_default(),
        name_sha256: id.name_sha256.clone(),
        reason: decision.reason().map(|r| r.as_str().to_owned()),
    }
    .to_map()
}
