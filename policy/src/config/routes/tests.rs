use super::*;
use crate::config::Entry;

/// Why a `routes` list is refused: not of the list's JSON shape, or the rule
/// it breaks (the setting and the item it names, in an entry).
#[derive(Clone, Debug, PartialEq)]
enum Refused {
    Json,
    Rule(Option<usize>, ConfigProblem),
}

const AT: Setting = Setting::of(Entry::Issuer(0), "routes");

fn parse(json: &str) -> std::result::Result<Routes, Refused> {
    let raw: Vec<RawRoute> = serde_json::from_str(json).map_err(|_| Refused::Json)?;
    routes(AT, raw).map_err(|e| {
        assert_eq!((e.entry, e.setting), (Some(Entry::Issuer(0)), "routes"));
        Refused::Rule(e.item, e.problem)
    })
}

fn req<'a>(method: &'a str, path: &'a str) -> RequestRoute<'a> {
    RequestRoute { method, path }
}

#[test]
fn exact_paths_match_only_themselves_and_methods_must_match() {
    let r =
        parse(r#"[{"method":"POST","path":"/temps"},{"method":"GET","path":"/whoami"}]"#).unwrap();
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
    let path = |item| {
        Refused::Rule(
            Some(item),
            ConfigProblem::BadRoutePath {
                max: MAX_ROUTE_PATH,
            },
        )
    };
    let overlap = Refused::Rule(Some(1), ConfigProblem::RouteOverlap { other: 0 });
    for (json, want) in [
        (
            r#"[]"#,
            Refused::Rule(None, ConfigProblem::RouteCount { max: MAX_ROUTES }),
        ),
        (
            r#"[{"method":"FETCH","path":"/temps"}]"#,
            Refused::Rule(Some(0), ConfigProblem::BadMethod),
        ),
        (
            r#"[{"method":"GET","path":"/temps"},{"method":"get","path":"/x"}]"#,
            Refused::Rule(Some(1), ConfigProblem::BadMethod),
        ),
        (r#"[{"method":"GET","path":"temps"}]"#, path(0)),
        (r#"[{"method":"GET","path":"/temps/*/x"}]"#, path(0)),
        (r#"[{"method":"GET","path":"/a/../b"}]"#, path(0)),
        (r#"[{"method":"GET","path":"/a*"}]"#, path(0)),
        (r#"[{"method":"GET","path":"//*"}]"#, path(0)),
        (r#"[{"method":"GET","path":"//"}]"#, path(0)),
        (r#"[{"method":"GET","path":"/temps","x":1}]"#, Refused::Json),
        (
            r#"[{"method":"GET","path":"/temps"},{"method":"GET","path":"/temps"}]"#,
            overlap.clone(),
        ),
        (
            r#"[{"method":"GET","path":"/temps"},{"method":"*","path":"/temps"}]"#,
            overlap.clone(),
        ),
        (
            r#"[{"method":"*","path":"/admin/*"},{"method":"GET","path":"/admin/users"}]"#,
            overlap.clone(),
        ),
        (
            r#"[{"method":"GET","path":"/admin/users/*"},{"method":"GET","path":"/admin/*"}]"#,
            overlap.clone(),
        ),
    ] {
        assert_eq!(parse(json).err(), Some(want), "{json}");
    }
    let many: Vec<String> = (0..=MAX_ROUTES)
        .map(|i| format!(r#"{{"method":"GET","path":"/r{i}"}}"#))
        .collect();
    assert_eq!(
        parse(&format!("[{}]", many.join(","))).err(),
        Some(Refused::Rule(
            None,
            ConfigProblem::RouteCount { max: MAX_ROUTES }
        ))
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
    let r =
        parse(r#"[{"method":"POST","path":"/temps"},{"method":"*","path":"/admin/*"}]"#).unwrap();
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
    let r =
        RequestRoute::from_arn("arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/GET/")
            .unwrap();
    assert_eq!((r.method, r.path), ("GET", "/"));
    let r = RequestRoute::from_arn("arn:aws:execute-api:eu-west-1:1:abc123/prod/GET").unwrap();
    assert_eq!((r.method, r.path), ("GET", "/"));
    assert!(RequestRoute::from_arn("not-an-arn").is_none());
    assert!(RequestRoute::from_arn("arn:aws:execute-api:r:1:abc123/prod").is_none());
}
