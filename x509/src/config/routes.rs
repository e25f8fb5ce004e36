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

use crate::error::{Error, Result};

/// The most rules one entry may list.
pub const MAX_ROUTES: usize = 64;
/// The longest path a rule may name.
pub const MAX_ROUTE_PATH: usize = 256;
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
pub(super) fn routes(what: &str, raw: Vec<RawRoute>) -> Result<Routes> {
    if raw.is_empty() || raw.len() > MAX_ROUTES {
        return Err(Error::Config(format!(
            "{what}: list 1 to {MAX_ROUTES} routes, or leave `routes` out to allow every route"
        )));
    }
    let mut out: Vec<Route> = Vec::with_capacity(raw.len());
    for RawRoute { method, path } in raw {
        let method = if method == "*" {
            RouteMethod::Any
        } else {
            match METHODS.iter().find(|m| **m == method) {
                Some(m) => RouteMethod::Only(m),
                None => {
                    return Err(Error::Config(format!(
                        "{what}: method `{}` is not one of {} or `*`",
                        crate::error::bounded(&method),
                        METHODS.join(", ")
                    )));
                }
            }
        };
        let path = route_path(what, &path)?;
        let route = Route { method, path };
        if let Some(other) = out.iter().find(|o| o.overlaps(&route)) {
            return Err(Error::Config(format!(
                "{what}: `{route}` overlaps `{other}`; list each route once"
            )));
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

fn route_path(what: &str, path: &str) -> Result<RoutePath> {
    let bad = || {
        Error::Config(format!(
            "{what}: path `{}` must start with `/`, be at most {MAX_ROUTE_PATH} characters of plain segments (letters, digits, `-._~`), and end in `/*` only to name every path below it",
            crate::error::bounded(path)
        ))
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
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn parse(json: &str) -> std::result::Result<Routes, String> {
        let raw: Vec<RawRoute> = serde_json::from_str(json).map_err(|e| e.to_string())?;
        routes("issuer `a` routes", raw).map_err(|e| e.to_string())
    }

    fn req<'a>(method: &'a str, path: &'a str) -> RequestRoute<'a> {
        RequestRoute { method, path }
    }

    #[test]
    fn exact_paths_match_only_themselves_and_methods_must_match() {
        let r = parse(r#"[{"method":"POST","path":"/temps"},{"method":"GET","path":"/whoami"}]"#)
            .unwrap();
        assert!(r.allows(&req("POST", "/temps")));
        assert!(r.allows(&req("GET", "/whoami")));
        assert!(!r.allows(&req("GET", "/temps")));
        assert!(!r.allows(&req("POST", "/temps/1")));
        assert!(!r.allows(&req("POST", "/tempsx")));
        assert!(!r.allows(&req("post", "/temps")), "methods are exact");
    }

    #[test]
    fn a_prefix_covers_every_path_below_it_and_any_method_with_a_star() {
        let r = parse(r#"[{"method":"*","path":"/admin/*"}]"#).unwrap();
        assert!(r.allows(&req("GET", "/admin/users")));
        assert!(r.allows(&req("DELETE", "/admin/users/7")));
        assert!(!r.allows(&req("GET", "/admin")), "not the prefix itself");
        assert!(!r.allows(&req("GET", "/administrator")));
        let root = parse(r#"[{"method":"GET","path":"/*"}]"#).unwrap();
        assert!(root.allows(&req("GET", "/anything/at/all")));
    }

    #[test]
    fn paths_that_are_not_plain_match_nothing() {
        let r = parse(r#"[{"method":"*","path":"/temps/*"}]"#).unwrap();
        for path in [
            "/temps/../admin/x",
            "/temps/./x",
            "/temps//x",
            "/temps/%2e%2e/admin",
            "/temps/..;/admin",
            "/temps/x;y",
            "/temps\\..\\admin",
            "temps/x",
        ] {
            assert!(!r.allows(&req("GET", path)), "{path}");
        }
        let root = parse(r#"[{"method":"*","path":"/*"}]"#).unwrap();
        for path in ["//", "/./", "/x//"] {
            assert!(!root.allows(&req("GET", path)), "{path}");
        }
        assert!(root.allows(&req("GET", "/")));
        assert!(
            r.allows(&req("GET", "/temps/x/")),
            "a trailing slash is plain"
        );
    }

    #[test]
    fn unknown_or_overlapping_routes_are_refused_with_a_clear_error() {
        for (json, want) in [
            (r#"[]"#, "list 1 to"),
            (r#"[{"method":"FETCH","path":"/temps"}]"#, "is not one of"),
            (r#"[{"method":"get","path":"/temps"}]"#, "is not one of"),
            (
                r#"[{"method":"GET","path":"temps"}]"#,
                "must start with `/`",
            ),
            (
                r#"[{"method":"GET","path":"/temps/*/x"}]"#,
                "must start with `/`",
            ),
            (
                r#"[{"method":"GET","path":"/a/../b"}]"#,
                "must start with `/`",
            ),
            (r#"[{"method":"GET","path":"/a*"}]"#, "must start with `/`"),
            (r#"[{"method":"GET","path":"//*"}]"#, "must start with `/`"),
            (r#"[{"method":"GET","path":"//"}]"#, "must start with `/`"),
            (
                r#"[{"method":"GET","path":"/temps","x":1}]"#,
                "unknown field",
            ),
            (
                r#"[{"method":"GET","path":"/temps"},{"method":"GET","path":"/temps"}]"#,
                "overlaps",
            ),
            (
                r#"[{"method":"GET","path":"/temps"},{"method":"*","path":"/temps"}]"#,
                "overlaps",
            ),
            (
                r#"[{"method":"*","path":"/admin/*"},{"method":"GET","path":"/admin/users"}]"#,
                "overlaps",
            ),
            (
                r#"[{"method":"GET","path":"/admin/users/*"},{"method":"GET","path":"/admin/*"}]"#,
                "overlaps",
            ),
        ] {
            let e = parse(json).unwrap_err();
            assert!(e.contains(want), "{json}: {e}");
        }
        let many: Vec<String> = (0..=MAX_ROUTES)
            .map(|i| format!(r#"{{"method":"GET","path":"/r{i}"}}"#))
            .collect();
        assert!(
            parse(&format!("[{}]", many.join(",")))
                .unwrap_err()
                .contains("list 1 to")
        );
        // Different methods on one path, and disjoint prefixes, are fine.
        assert!(
            parse(
                r#"[{"method":"GET","path":"/temps"},{"method":"POST","path":"/temps"},{"method":"*","path":"/a/*"},{"method":"*","path":"/ab/*"}]"#
            )
            .is_ok()
        );
    }

    #[test]
    fn arn_patterns_name_each_rule_for_an_iam_policy() {
        let r = parse(r#"[{"method":"POST","path":"/temps"},{"method":"*","path":"/admin/*"}]"#)
            .unwrap();
        assert_eq!(
            r.arn_patterns(),
            [
                "POST/temps",
                "GET/admin/*",
                "POST/admin/*",
                "PUT/admin/*",
                "PATCH/admin/*",
                "DELETE/admin/*",
                "HEAD/admin/*",
                "OPTIONS/admin/*"
            ]
        );
        assert_eq!(r.deny_arn_patterns(), NOT_PLAIN_ARN_PATTERNS);
        let exact = parse(r#"[{"method":"*","path":"/temps"}]"#).unwrap();
        assert_eq!(exact.arn_patterns().len(), METHODS.len());
        assert!(
            exact.deny_arn_patterns().is_empty(),
            "exact patterns match only themselves"
        );
    }

    /// IAM resource matching, as API Gateway applies a policy to the
    /// invoked ARN: `*` any run of characters (`/` included), `?` one.
    fn iam_glob(pattern: &[u8], text: &[u8]) -> bool {
        match (pattern.first(), text.first()) {
            (None, None) => true,
            (Some(b'*'), _) => {
                iam_glob(&pattern[1..], text) || (!text.is_empty() && iam_glob(pattern, &text[1..]))
            }
            (Some(p), Some(t)) if *p == b'?' || p == t => iam_glob(&pattern[1..], &text[1..]),
            _ => false,
        }
    }

    /// What a stage-wide policy made of `r`'s patterns says about an ARN
    /// whose part after `api-id/stage/` is `rest`: an explicit Deny wins.
    fn policy_allows(r: &Routes, rest: &str) -> bool {
        let hit = |ps: &[String]| ps.iter().any(|p| iam_glob(p.as_bytes(), rest.as_bytes()));
        hit(r.arn_patterns()) && !hit(r.deny_arn_patterns())
    }

    #[test]
    fn the_policy_patterns_allow_exactly_what_the_rules_allow() {
        let r = parse(
            r#"[{"method":"*","path":"/whoami"},{"method":"GET","path":"/admin/*"},{"method":"*","path":"/pub/*"}]"#,
        )
        .unwrap();
        for (method, path) in [
            ("GET", "/whoami"),
            ("DELETE", "/whoami"),
            ("GET", "/admin/whoami"),
            ("DELETE", "/admin/users/7/whoami"),
            ("POST", "/temps/whoami"),
            ("GET", "/admin/x"),
            ("GET", "/admin/"),
            ("POST", "/admin/x"),
            ("DELETE", "/admin/pub/x"),
            ("GET", "/x/pub/y"),
            ("PUT", "/pub/y/"),
            ("GET", "/admin//x"),
            ("GET", "/admin/../temps"),
            ("GET", "/admin/x/.."),
            ("GET", "/admin/./x"),
            ("GET", "/admin/x/."),
            ("GET", "/admin/%2e%2e/temps"),
            ("PUT", "/pub/../admin/x"),
            ("GET", "//"),
            ("GET", "/"),
        ] {
            let rest = format!("{method}{path}");
            assert_eq!(
                policy_allows(&r, &rest),
                r.allows(&req(method, path)),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn the_request_route_comes_from_the_invoked_arn() {
        let r = RequestRoute::from_arn(
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/temps/7",
        )
        .unwrap();
        assert_eq!((r.method, r.path), ("POST", "/temps/7"));
        let r = RequestRoute::from_arn(
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/GET/",
        )
        .unwrap();
        assert_eq!((r.method, r.path), ("GET", "/"));
        let r = RequestRoute::from_arn("arn:aws:execute-api:eu-west-1:1:abc123/prod/GET").unwrap();
        assert_eq!((r.method, r.path), ("GET", "/"));
        assert!(RequestRoute::from_arn("not-an-arn").is_none());
        assert!(RequestRoute::from_arn("arn:aws:execute-api:r:1:abc123/prod").is_none());
    }
}
