//! Per-route certificate rules (`routes`): which methods and paths an issuer
//! entry's certificates may call. Without `routes`, every route is allowed.
//!
//! A rule names a method (`GET`, …, or `*`) and a path: exact (`/temps`), or
//! every path below a prefix (`/admin/*`, which is `/admin/` and anything
//! after it, not `/admin` itself). The request's method and path come from
//! the ARN API Gateway invokes (`methodArn`, `routeArn`). A request path
//! that is not plain (an empty, `.` or `..` segment, a `%` escape) matches no
//! rule: a router that normalised it could reach another route than the one
//! it names.

use serde::Deserialize;

use super::{ConfigError, ConfigProblem, Setting};

type Result<T, E = ConfigError> = std::result::Result<T, E>;

/// The most rules one entry may list.
pub const MAX_ROUTES: usize = 64;
/// The longest path a rule may name.
pub(crate) const MAX_ROUTE_PATH: usize = 256;
/// The methods API Gateway routes, in the order errors list them.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// ARN patterns (after `api-id/stage/`) that match every request path that
/// is not plain: an empty segment, a `.` or `..` segment, a `%`, `;` or `\`. IAM's
/// `*` matches any characters, so a prefix rule's `GET/admin/*` also
/// matches `GET/admin/../x`; a Deny on these keeps a stage-wide policy from
/// allowing what the authorizer refuses.
const NOT_PLAIN_ARN_PATTERNS: [&str; 8] = [
    "*//*", "*/./*", "*/../*", "*/.", "*/..", "*%*", "*;*", "*\\*",
];

/// A rule's method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteMethod {
    /// `*`: every method.
    Any,
    /// One method.
    Only(&'static str),
}

/// A rule's path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoutePath {
    /// Exactly this path.
    Exact(String),
    /// Every path that starts with this prefix, which ends in `/`.
    Below(String),
}

/// One rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    method: RouteMethod,
    path: RoutePath,
}

/// The method and path of the request being decided, from its ARN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestRoute<'a> {
    /// `GET`, `POST`…
    pub method: &'a str,
    /// The path, from its leading `/`.
    pub path: &'a str,
}

impl<'a> RequestRoute<'a> {
    /// The method and path of an `execute-api` ARN,
    /// `arn:aws:execute-api:region:account:api-id/stage/METHOD/path…`
    /// (`methodArn` for REST, `routeArn` for HTTP APIs).
    #[must_use]
    pub fn from_arn(arn: &'a str) -> Option<Self> {
        let resource = arn.splitn(6, ':').nth(5)?;
        let (_api, rest) = resource.split_once('/')?;
        let (_stage, rest) = rest.split_once('/')?;
        // The path keeps the `/` that ends the method.
        let (method, path) = match rest.find('/') {
            Some(at) => rest.split_at(at),
            None => (rest, "/"),
        };
        (!method.is_empty()).then_some(Self { method, path })
    }
}

impl Route {
    fn covers(&self, request: &RequestRoute<'_>) -> bool {
        let method = match self.method {
            RouteMethod::Any => true,
            RouteMethod::Only(m) => m == request.method,
        };
        method
            && match &self.path {
                RoutePath::Exact(p) => p == request.path,
                RoutePath::Below(prefix) => request.path.starts_with(prefix.as_str()),
            }
    }

    /// The ARN patterns after `api-id/stage/`, for an IAM policy statement:
    /// `POST/temps`, `GET/admin/*`. A rule for every method (`*`) names each
    /// method: in IAM a leading `*` matches `/` too, so `*/temps` would also
    /// match `GET/admin/temps`.
    #[must_use]
    pub fn arn_patterns(&self) -> Vec<String> {
        let methods: &[&str] = match &self.method {
            RouteMethod::Any => &METHODS,
            RouteMethod::Only(m) => std::slice::from_ref(m),
        };
        methods
            .iter()
            .map(|method| match &self.path {
                RoutePath::Exact(p) => format!("{method}{p}"),
                RoutePath::Below(prefix) => format!("{method}{prefix}*"),
            })
            .collect()
    }

    /// Whether some request could match both rules.
    fn overlaps(&self, other: &Self) -> bool {
        let methods = match (self.method, other.method) {
            (RouteMethod::Only(a), RouteMethod::Only(b)) => a == b,
            _ => true,
        };
        let paths = match (&self.path, &other.path) {
            (RoutePath::Exact(a), RoutePath::Exact(b)) => a == b,
            (RoutePath::Exact(p), RoutePath::Below(prefix))
            | (RoutePath::Below(prefix), RoutePath::Exact(p)) => p.starts_with(prefix.as_str()),
            (RoutePath::Below(a), RoutePath::Below(b)) => {
                a.starts_with(b.as_str()) || b.starts_with(a.as_str())
            }
        };
        methods && paths
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let method = match self.method {
            RouteMethod::Any => "*",
            RouteMethod::Only(m) => m,
        };
        match &self.path {
            RoutePath::Exact(p) => write!(f, "{method} {p}"),
            RoutePath::Below(prefix) => write!(f, "{method} {prefix}*"),
        }
    }
}

/// An entry's `routes`: at least one rule, none overlapping another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routes {
    rules: Vec<Route>,
    /// Every rule's [`Route::arn_patterns`], made once.
    patterns: Vec<String>,
    /// [`NOT_PLAIN_ARN_PATTERNS`] when a rule is a prefix, else none.
    deny_patterns: Vec<String>,
}

impl Routes {
    /// Whether a rule covers the request. A path that is not plain matches
    /// nothing.
    #[must_use]
    pub fn allows(&self, request: &RequestRoute<'_>) -> bool {
        is_plain_request_path(request.path) && self.rules.iter().any(|r| r.covers(request))
    }

    /// The rules, in the configuration's order.
    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.rules.iter()
    }

    /// Every rule's ARN patterns (after `api-id/stage/`), in order: what a
    /// stage-wide policy allows.
    #[must_use]
    pub fn arn_patterns(&self) -> &[String] {
        &self.patterns
    }

    /// The ARN patterns (after `api-id/stage/`) a stage-wide policy must
    /// deny beside [`Routes::arn_patterns`], so that it allows exactly what
    /// [`Routes::allows`] allows: the paths that are not plain, when a rule
    /// is a prefix (an exact rule's pattern matches only itself). Empty
    /// otherwise.
    #[must_use]
    pub fn deny_arn_patterns(&self) -> &[String] {
        &self.deny_patterns
    }
}

/// A request path made of plain segments: `/`, or segments with no empty,
/// `.` or `..` one (a trailing `/` aside), and no `%` escape.
fn is_plain_request_path(path: &str) -> bool {
    if path == "/" {
        return true;
    }
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    // `;` and `\` are refused too: some backends read `..;` or `\` as a
    // path step (Tomcat, Spring, Windows servers) and would route elsewhere.
    !path.contains(['%', ';', '\\'])
        && rest
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    method: String,
    path: String,
}

/// `routes`: 1 to [`MAX_ROUTES`] rules, each a known method (or `*`) and a
/// plain path (or a prefix ending in `/*`), no two overlapping.
pub(super) fn routes(setting: Setting, raw: Vec<RawRoute>) -> Result<Routes> {
    if raw.is_empty() || raw.len() > MAX_ROUTES {
        return Err(setting.error(ConfigProblem::RouteCount { max: MAX_ROUTES }));
    }
    let mut out: Vec<Route> = Vec::with_capacity(raw.len());
    for (i, RawRoute { method, path }) in raw.into_iter().enumerate() {
        let method = if method == "*" {
            RouteMethod::Any
        } else {
            match METHODS.iter().find(|m| **m == method) {
                Some(m) => RouteMethod::Only(m),
                None => return Err(setting.item_error(i, ConfigProblem::BadMethod)),
            }
        };
        let path = route_path(&path).map_err(|problem| setting.item_error(i, problem))?;
        let route = Route { method, path };
        if let Some(other) = out.iter().position(|o| o.overlaps(&route)) {
            return Err(setting.item_error(i, ConfigProblem::RouteOverlap { other }));
        }
        out.push(route);
    }
    let patterns = out.iter().flat_map(Route::arn_patterns).collect();
    let deny_patterns = if out.iter().any(|r| matches!(r.path, RoutePath::Below(_))) {
        NOT_PLAIN_ARN_PATTERNS.map(str::to_owned).to_vec()
    } else {
        Vec::new()
    };
    Ok(Routes {
        rules: out,
        patterns,
        deny_patterns,
    })
}

fn route_path(path: &str) -> Result<RoutePath, ConfigProblem> {
    let bad = || ConfigProblem::BadRoutePath {
        max: MAX_ROUTE_PATH,
    };
    if !path.starts_with('/') || path.len() > MAX_ROUTE_PATH {
        return Err(bad());
    }
    let (exact, below) = match path.strip_suffix("/*") {
        Some(prefix) => (prefix, true),
        None => (path, false),
    };
    // `/*` is every path: its prefix is the root.
    let rest = if exact.is_empty() && below {
        Some("")
    } else {
        exact.strip_prefix('/')
    };
    let segments_ok = rest
        .map(|rest| {
            rest.is_empty() && (path == "/*" || path == "/")
                || rest.split('/').all(|s| {
                    !s.is_empty()
                        && s != "."
                        && s != ".."
                        && s.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
                        })
                })
        })
        .unwrap_or(false);
    if !segments_ok {
        return Err(bad());
    }
    Ok(if below {
        RoutePath::Below(format!("{exact}/"))
    } else {
        RoutePath::Exact(exact.to_owned())
    })
}

#[cfg(test)]
mod tests;
