//! The API the gateway behaves as, and the request it received.

use std::collections::BTreeMap;

use time::OffsetDateTime;

/// The API this gateway pretends to be.
#[derive(Clone, Debug)]
pub struct Api {
    /// AWS region in ARNs.
    pub region: String,
    /// Account id in ARNs.
    pub account_id: String,
    /// The API id.
    pub api_id: String,
    /// The stage name.
    pub stage: String,
    /// The custom domain name.
    pub domain_name: String,
    /// Resources and their methods, as deployed (`/temps` → `GET`, `POST`).
    pub routes: BTreeMap<String, Vec<String>>,
    /// A REST API or an HTTP API.
    pub flavor: Flavor,
}

/// Which API Gateway product the gateway behaves as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Flavor {
    /// A REST API (API Gateway v1): payload 1.0 events, IAM policies,
    /// gateway responses (a Deny carries its reason).
    #[default]
    Rest,
    /// An HTTP API (API Gateway v2): payload 2.0 events, simple or IAM
    /// responses, a bare 403 on Deny.
    Http,
}

/// The greedy resource that catches every path, as the Terraform module and
/// the CDK construct deploy in front of an HTTP backend (`ANY /{proxy+}` on a
/// REST API, `$default` on an HTTP API).
pub const GREEDY: &str = "/{proxy+}";

/// A request path without its trailing slash, as API Gateway matches it.
pub(super) fn arn_path(path: &str) -> &str {
    if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    }
}

impl Api {
    /// The deployed resource a request path maps to, if any: an exact
    /// resource first, else the greedy one when it is deployed. (Here the
    /// greedy resource also catches `/`, which the deployed APIs route to
    /// `ANY /` with the same integration.)
    #[must_use]
    pub fn resource(&self, method: &str, path: &str) -> Option<String> {
        let trimmed = arn_path(path);
        let allows = |r: &str| {
            self.routes
                .get(r)
                .is_some_and(|ms| ms.iter().any(|m| m == method || m == "ANY"))
        };
        if allows(trimmed) {
            Some(trimmed.to_owned())
        } else {
            allows(GREEDY).then(|| GREEDY.to_owned())
        }
    }

    /// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}`,
    /// with the request's own path (under a greedy resource too).
    #[must_use]
    pub fn method_arn(&self, method: &str, resource_path: &str) -> String {
        let resource_path = arn_path(resource_path);
        format!(
            "arn:aws:execute-api:{}:{}:{}/{}/{}/{}",
            self.region,
            self.account_id,
            self.api_id,
            self.stage,
            method,
            resource_path.trim_start_matches('/')
        )
    }
}

/// One HTTP request as the gateway received it.
#[derive(Clone, Debug)]
pub struct Request {
    /// Method, upper case.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// The raw query string (no `?`).
    pub query: String,
    /// Headers in arrival order, names as received.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The client's address.
    pub source_ip: String,
    /// The request id.
    pub request_id: String,
    /// When it arrived.
    pub time: OffsetDateTime,
}

impl Request {
    /// A header's value, the name matched case-insensitively.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query string's pairs, decoded as `application/x-www-form-urlencoded`
    /// (percent escapes, `+` for a space), in order.
    #[must_use]
    pub(crate) fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect()
    }
}
