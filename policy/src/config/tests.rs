//! Unit tests of the `config` module (kept beside it so the module itself stays short).

use super::*;

const EXAMPLE: &str = r#"{
  "truststore": "s3://bucket/truststore.pem",
  "issuers": [
    { "name": "devices",
      "match": { "O": "Temperature Testers, Inc.", "CN": "Temperature Testers Devices CA" },
      "crl": "s3://pki-bucket/crl/devices.crl",
      "subject": { "OU": ["Tech Operations"] } }
  ],
  "crl_refresh_seconds": 300,
  "crl_grace_seconds": 3600
}"#;

#[test]
fn readme_example_parses_with_defaults() {
    let c = Config::from_json(EXAMPLE);
    assert!(c.is_ok(), "{c:?}");
    let Ok(c) = c else { return };
    assert_eq!(c.issuers.len(), 1);
    assert_eq!(c.clock_skew_seconds, 60);
    assert_eq!(c.max_fetch_bytes, 64 * 1024 * 1024);
    assert_eq!(c.policy_resource, PolicyResource::Method);
    assert_eq!(c.issuers[0].subject.eku, EkuPolicy::ClientAuthIfPresent);
}

/// The error of a document that must be refused.
fn err_of(json: &str) -> ConfigError {
    match Config::from_json(json) {
        Ok(c) => panic!("accepted: {c:?}"),
        Err(e) => e,
    }
}

/// Where an error is, and the rule: the parts tests compare.
fn place(e: ConfigError) -> (Option<Entry>, &'static str, Option<usize>, ConfigProblem) {
    (e.entry, e.setting, e.item, e.problem)
}

/// A JSON failure of serde's `Data` category (an unknown field or variant).
fn is_data_error(e: &ConfigError) -> bool {
    matches!(
        e.problem,
        ConfigProblem::Json {
            category: JsonCategory::Data,
            ..
        }
    )
}

const ISSUER_0: Option<Entry> = Some(Entry::Issuer(0));

#[test]
fn issuer_without_crl_is_a_configuration_error() {
    let e = err_of(r#"{"truststore":"file:///t.pem","issuers":[{"name":"a","match":{"CN":"x"}}]}"#);
    assert_eq!(
        place(e),
        (ISSUER_0, "crl", None, ConfigProblem::NoRevocation)
    );
    assert_eq!(
        e.to_string(),
        format!(
            "invalid configuration: issuers[0].crl: {}",
            ConfigProblem::NoRevocation
        )
    );
}

#[test]
fn json_errors_say_where_and_the_edge_can_say_more() {
    let json = r#"{"truststore": "file:///t.pem", "issuers": [], "crl_refresh": 5}"#;
    let e = err_of(json);
    assert!(is_data_error(&e), "{e:?}");
    assert!(
        matches!(e.problem, ConfigProblem::Json { line: 1, .. }),
        "{e:?}"
    );
    assert_eq!((e.entry, e.setting, e.item), (None, "", None));
    let detail = json_detail(json).unwrap_or_default();
    assert!(
        detail.starts_with("unknown field `crl_refresh`"),
        "{detail}"
    );
    assert_eq!(json_detail(EXAMPLE), None);
}

#[test]
fn explicit_revocation_none_is_accepted() {
    let c = Config::from_json(
        r#"{"truststore":"file:///t.pem","issuers":[{"name":"a","match":{"CN":"x"},"revocation":"none"}]}"#,
    );
    assert!(matches!(
        c.map(|c| c.issuers[0].revocation.clone()),
        Ok(Revocation::NotChecked)
    ));
}

#[test]
fn typos_and_unbounded_values_fail_closed() {
    for json in [
        r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c","revokation":"none"}]}"#,
        r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c","subject":{"eku":"sometimes"}}]}"#,
    ] {
        let e = err_of(json);
        assert!(is_data_error(&e), "{json}: {e:?}");
    }
    let uri = ConfigProblem::UnsupportedUri(crate::error::UnsupportedUri);
    for (json, want) in [
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{},"crl":"file:///c"}]}"#,
            (ISSUER_0, "match", None, ConfigProblem::MatchesEveryCa),
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"Org":"x"},"crl":"file:///c"}]}"#,
            (ISSUER_0, "match", None, ConfigProblem::UnknownAttribute),
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"ftp://c"}]}"#,
            (ISSUER_0, "crl", Some(0), uri),
        ),
        (
            r#"{"truststore":"ftp://t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c"}]}"#,
            (None, "truststore", None, uri),
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c"}],"crl_grace_seconds":99999999}"#,
            (
                None,
                "crl_grace_seconds",
                None,
                ConfigProblem::OutOfRange {
                    value: 99_999_999,
                    min: 0,
                    max: MAX_GRACE_SECONDS,
                },
            ),
        ),
        (
            r#"{"truststore":"file:///t","issuers":[]}"#,
            (None, "issuers", None, ConfigProblem::NoIssuer),
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c"},{"name":"a","match":{"CN":"y"},"crl":"file:///c"}]}"#,
            (
                Some(Entry::Issuer(1)),
                "name",
                None,
                ConfigProblem::DuplicateName,
            ),
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c","subject":{"san_dns":["ok.com","a.*.com"]}}]}"#,
            (
                ISSUER_0,
                "subject.san_dns",
                Some(1),
                ConfigProblem::BadDnsPattern,
            ),
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c","subject":{"san_dsn":["a.com"]}}]}"#,
            (ISSUER_0, "subject", None, ConfigProblem::UnknownAttribute),
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c"}],"max_fetch_bytes":10}"#,
            (
                None,
                "max_fetch_bytes",
                None,
                ConfigProblem::OutOfRange {
                    value: 10,
                    min: 1024,
                    max: 1 << 30,
                },
            ),
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c"}],"ca_revocation":[{"name":"r","match":{"CN":"R"}}]}"#,
            (
                Some(Entry::CaRevocation(0)),
                "crl",
                None,
                ConfigProblem::NoRevocation,
            ),
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c"}],"ca_revocation_required":true}"#,
            (
                None,
                "ca_revocation_required",
                None,
                ConfigProblem::CaRevocationRequired,
            ),
        ),
    ] {
        assert_eq!(place(err_of(json)), want, "{json}");
    }
}

#[test]
fn dns_wildcard_covers_exactly_one_label() {
    let p = DnsPattern::parse("*.devices.example.com").ok();
    let m = |n: &str| p.as_ref().is_some_and(|p| p.matches(n));
    assert!(m("t1.devices.example.com"));
    assert!(m("T1.Devices.Example.COM"));
    assert!(!m("devices.example.com"));
    assert!(!m("a.b.devices.example.com"));
    assert!(!m("evildevices.example.com"));
}

#[test]
fn uri_patterns_are_exact_or_prefix() {
    let p = UriPattern::parse("spiffe://example.org/device/*").ok();
    assert!(
        p.as_ref()
            .is_some_and(|p| p.matches("spiffe://example.org/device/42"))
    );
    assert!(
        !p.as_ref()
            .is_some_and(|p| p.matches("spiffe://example.org/admin/1"))
    );
    assert!(UriPattern::parse("spiffe://*/x").is_err());
}

fn issuer_with(fields: &str) -> String {
    format!(
        r#"{{"truststore":"file:///t","issuers":[{{"name":"a","match":{{"CN":"x"}}{fields}}}]}}"#
    )
}

fn revocation_of(fields: &str) -> Revocation {
    match Config::from_json(&issuer_with(fields)) {
        Ok(c) => c.issuers[0].revocation.clone(),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn crl_takes_one_uri_or_a_list_of_distinct_uris() {
    assert_eq!(
        revocation_of(r#","crl":"s3://pki/crl/a.crl""#),
        Revocation::Crls(vec![SourceUri::parse("s3://pki/crl/a.crl").unwrap()])
    );
    let Revocation::Crls(list) =
        revocation_of(r#","crl":["s3://pki/crl/p1.crl","https://crl.example.com/p2.crl"]"#)
    else {
        panic!("a list of CRLs");
    };
    assert_eq!(list.len(), 2);
    for (fields, item, want) in [
        (r#","crl":[]"#, None, ConfigProblem::EmptyList),
        (
            r#","crl":["s3://b/k","s3://b/k"]"#,
            Some(1),
            ConfigProblem::ListedTwice,
        ),
        (
            r#","crl":["s3://b/k","ftp://x/y"]"#,
            Some(1),
            ConfigProblem::UnsupportedUri(crate::error::UnsupportedUri),
        ),
    ] {
        let e = err_of(&issuer_with(fields));
        assert_eq!(place(e), (ISSUER_0, "crl", item, want), "{fields}");
    }
}

#[test]
fn crl_from_cdp_needs_http_prefixes_ending_at_a_path_boundary() {
    let Revocation::FromCdp(policy) = revocation_of(
        r#","crl_from_cdp":[{"prefix":"http://crl.example.com/crl/","fetch":"s3://my-crl-bucket/crl/"},{"prefix":"https://pki.example.org/"}]"#,
    ) else {
        panic!("crl_from_cdp");
    };
    assert_eq!(policy.prefixes().len(), 2);
    let cdp = |item: Option<usize>, problem| (ISSUER_0, "crl_from_cdp", item, problem);
    for (fields, want) in [
        (
            r#","crl_from_cdp":[]"#,
            cdp(None, ConfigProblem::PrefixCount { max: 16 }),
        ),
        (
            r#","crl_from_cdp":[{"prefix":"http://crl.example.com"}]"#,
            cdp(Some(0), ConfigProblem::BadPrefix),
        ),
        (
            r#","crl_from_cdp":[{"prefix":"http://a/"},{"prefix":"s3://bucket/crl/"}]"#,
            cdp(Some(1), ConfigProblem::BadPrefix),
        ),
        (
            r#","crl_from_cdp":[{"prefix":"http:///crl/"}]"#,
            cdp(Some(0), ConfigProblem::BadPrefix),
        ),
        (
            r#","crl_from_cdp":[{"prefix":"http://a/","fetch":"s3://bucket/crl"}]"#,
            cdp(Some(0), ConfigProblem::BadFetchBase),
        ),
        (
            r#","crl_from_cdp":[{"prefix":"http://a/","fetch":"ftp://x/"}]"#,
            cdp(Some(0), ConfigProblem::BadFetchBase),
        ),
        (
            r#","crl":"s3://b/k","crl_from_cdp":[{"prefix":"http://a/"}]"#,
            cdp(None, ConfigProblem::CrlAndCrlFromCdp),
        ),
        (
            r#","revocation":"none","crl_from_cdp":[{"prefix":"http://a/"}]"#,
            (
                ISSUER_0,
                "revocation",
                None,
                ConfigProblem::RevocationNoneContradicts,
            ),
        ),
    ] {
        assert_eq!(place(err_of(&issuer_with(fields))), want, "{fields}");
    }
    let unknown = err_of(&issuer_with(
        r#","crl_from_cdp":[{"prefix":"http://a/","fetsh":"s3://b/"}]"#,
    ));
    assert!(is_data_error(&unknown), "{unknown:?}");
}

fn policy() -> CdpPolicy {
    let Revocation::FromCdp(policy) = revocation_of(
        r#","crl_from_cdp":[{"prefix":"http://crl.example.com/crl/","fetch":"s3://my-crl-bucket/crl/"},{"prefix":"https://pki.example.org/"}]"#,
    ) else {
        panic!("crl_from_cdp");
    };
    policy
}

#[test]
fn distribution_point_under_a_prefix_is_fetched_from_its_fetch_base_or_itself() {
    let p = policy();
    assert_eq!(
        p.source_for("http://crl.example.com/crl/0123-ca/5a7b.crl"),
        CdpSource::Fetch(SourceUri::parse("s3://my-crl-bucket/crl/0123-ca/5a7b.crl").unwrap())
    );
    assert_eq!(
        p.source_for("https://pki.example.org/partitions/7.crl"),
        CdpSource::Fetch(SourceUri::parse("https://pki.example.org/partitions/7.crl").unwrap())
    );
}

#[test]
fn distribution_point_outside_every_prefix_is_never_fetched() {
    let p = policy();
    for uri in [
        "http://169.254.169.254/latest/meta-data/",
        "http://crl.example.com.attacker.net/crl/x.crl",
        "http://crl.example.com/other/x.crl",
        "https://crl.example.com/crl/x.crl",
        "ldap://crl.example.com/cn=x",
    ] {
        assert_eq!(p.source_for(uri), CdpSource::NotAllowed, "{uri}");
    }
}

#[test]
fn distribution_point_whose_rest_is_not_a_plain_path_is_refused() {
    let p = policy();
    for uri in [
        "http://crl.example.com/crl/../secrets/x.crl",
        "http://crl.example.com/crl/a//b.crl",
        "http://crl.example.com/crl/./x.crl",
        "http://crl.example.com/crl/x.crl?versionId=1",
        "http://crl.example.com/crl/%2e%2e/x.crl",
        "http://crl.example.com/crl/",
        "http://crl.example.com/crl/a b.crl",
    ] {
        assert_eq!(p.source_for(uri), CdpSource::Unsafe, "{uri}");
    }
    let long = format!("http://crl.example.com/crl/{}.crl", "a".repeat(600));
    assert_eq!(p.source_for(&long), CdpSource::Unsafe);
}

#[test]
fn max_cdp_crls_per_issuer_is_bounded() {
    let base = issuer_with(r#","crl":"s3://b/k""#);
    let with = |n: &str| base.replacen('{', &format!(r#"{{"max_cdp_crls_per_issuer":{n},"#), 1);
    assert_eq!(
        Config::from_json(&base).map(|c| c.max_cdp_crls_per_issuer),
        Ok(64)
    );
    assert_eq!(
        Config::from_json(&with("500")).map(|c| c.max_cdp_crls_per_issuer),
        Ok(500)
    );
    for bad in [0, 10_001, -1] {
        assert_eq!(
            place(err_of(&with(&bad.to_string()))),
            (
                None,
                "max_cdp_crls_per_issuer",
                None,
                ConfigProblem::OutOfRange {
                    value: bad,
                    min: 1,
                    max: 10_000
                }
            ),
        );
    }
}

#[test]
fn issuer_names_fit_a_metric_dimension() {
    let named = |name: &str| {
        format!(
            r#"{{"truststore":"file:///t.pem","issuers":[{{"name":{},"match":{{"CN":"x"}},"revocation":"none"}}]}}"#,
            serde_json::to_string(name).unwrap()
        )
    };
    assert!(Config::from_json(&named(&"d".repeat(MAX_ISSUER_NAME))).is_ok());
    let refused = (
        ISSUER_0,
        "name",
        None,
        ConfigProblem::NameNotADimension {
            max: MAX_ISSUER_NAME,
        },
    );
    assert_eq!(
        place(err_of(&named(&"d".repeat(MAX_ISSUER_NAME + 1)))),
        refused
    );
    assert_eq!(place(err_of(&named("devices\nprod"))), refused);
    assert_eq!(
        place(err_of(&named(" "))),
        (ISSUER_0, "name", None, ConfigProblem::EmptyName)
    );
}

fn rule_with(members: &str) -> std::result::Result<IssuerRule, ConfigError> {
    Config::from_json(&format!(
        r#"{{"truststore":"file:///t.pem","issuers":[{{"name":"a","match":{{"CN":"x"}}{members}}}]}}"#
    ))
    .map(|c| c.issuers[0].clone())
}

#[test]
fn delta_crl_beside_crl_makes_every_base_need_a_delta() {
    let rule = rule_with(r#","crl":"s3://pki/base.crl","delta_crl":"s3://pki/delta.crl""#).unwrap();
    assert_eq!(rule.delta(), DeltaPolicy::Configured);
    let Revocation::Crls(all) = rule.revocation() else {
        panic!("{rule:?}");
    };
    assert_eq!(all.len(), 2, "bases then deltas, each a slot");
    assert_eq!(
        rule_with(r#","crl":"s3://pki/base.crl""#).unwrap().delta(),
        DeltaPolicy::Apply
    );
    assert_eq!(
        rule_with(r#","crl":"s3://pki/base.crl","delta":"ignore""#)
            .unwrap()
            .delta(),
        DeltaPolicy::Ignore
    );
}

#[test]
fn contradictory_delta_settings_are_refused() {
    for (members, want) in [
        (
            r#","crl":"s3://p/b.crl","delta_crl":"s3://p/d.crl","delta":"ignore""#,
            (
                ISSUER_0,
                "delta",
                None,
                ConfigProblem::DeltaIgnoreContradicts,
            ),
        ),
        (
            r#","crl_from_cdp":[{"prefix":"http://crl.example.com/"}],"delta_crl":"s3://p/d.crl""#,
            (
                ISSUER_0,
                "delta_crl",
                None,
                ConfigProblem::DeltaCrlWithoutCrl,
            ),
        ),
        (
            r#","crl":"s3://p/b.crl","delta_crl":["s3://p/d.crl","s3://p/b.crl"]"#,
            (
                ISSUER_0,
                "delta_crl",
                Some(1),
                ConfigProblem::AlsoACrlSource,
            ),
        ),
        (
            r#","revocation":"none","delta_crl":"s3://p/d.crl""#,
            (
                ISSUER_0,
                "revocation",
                None,
                ConfigProblem::RevocationNoneContradicts,
            ),
        ),
    ] {
        assert_eq!(place(rule_with(members).unwrap_err()), want, "{members}");
    }
    let e = rule_with(r#","crl":"s3://p/b.crl","delta":"sometimes""#).unwrap_err();
    assert!(is_data_error(&e), "{e:?}");
}

#[test]
fn ocsp_alone_or_beside_a_crl_parses_with_bounded_defaults() {
    let alone = rule_with(r#","ocsp":{"responder":"http://ocsp.example.com/"}"#).unwrap();
    assert_eq!(alone.revocation(), &Revocation::OcspOnly);
    let ocsp = alone.ocsp().unwrap();
    assert_eq!(
        (
            ocsp.cache_seconds(),
            ocsp.timeout_ms(),
            ocsp.max_entries(),
            ocsp.retry_seconds()
        ),
        (300, 2000, 10_000, 30)
    );
    assert_eq!(ocsp.hash(), OcspHash::Sha256);
    let beside = rule_with(
        r#","crl":"s3://p/b.crl","ocsp":{"responders_from_aia":[{"prefix":"http://ocsp.example.com/"}],"hash":"sha1"}"#,
    )
    .unwrap();
    assert!(matches!(beside.revocation(), Revocation::Crls(_)));
    assert_eq!(beside.ocsp().map(OcspPolicy::hash), Some(OcspHash::Sha1));
}

#[test]
fn ocsp_settings_out_of_bounds_or_ambiguous_are_refused() {
    let range = |value, min, max| ConfigProblem::OutOfRange { value, min, max };
    for (ocsp, setting, item, want) in [
        (r#"{}"#, "ocsp", None, ConfigProblem::ResponderChoice),
        (
            r#"{"responder":"http://a.example/","responders_from_aia":[{"prefix":"http://a.example/"}]}"#,
            "ocsp",
            None,
            ConfigProblem::ResponderChoice,
        ),
        (
            r#"{"responder":"s3://bucket/ocsp"}"#,
            "ocsp.responder",
            None,
            ConfigProblem::NotHttp,
        ),
        (
            r#"{"responder":"http://a.example/","timeout_ms":10}"#,
            "ocsp.timeout_ms",
            None,
            range(10, 50, 30_000),
        ),
        (
            r#"{"responder":"http://a.example/","max_entries":0}"#,
            "ocsp.max_entries",
            None,
            range(0, 1, 1_000_000),
        ),
        (
            r#"{"responder":"http://a.example/","cache_seconds":0}"#,
            "ocsp.cache_seconds",
            None,
            range(0, 1, 86_400),
        ),
        (
            r#"{"responders_from_aia":[{"prefix":"http://a.example"}]}"#,
            "ocsp.responders_from_aia",
            Some(0),
            ConfigProblem::BadPrefix,
        ),
        (
            r#"{"responders_from_aia":[{"prefix":"http://a.example/","fetch":"s3://b/"}]}"#,
            "ocsp.responders_from_aia",
            Some(0),
            ConfigProblem::NotHttp,
        ),
    ] {
        let e = rule_with(&format!(r#","ocsp":{ocsp}"#)).unwrap_err();
        assert_eq!(place(e), (ISSUER_0, setting, item, want), "{ocsp}");
    }
    let e = rule_with(r#","ocsp":{"responder":"http://a.example/","nonce":true}"#).unwrap_err();
    assert!(is_data_error(&e), "{e:?}");
    let e =
        rule_with(r#","revocation":"none","ocsp":{"responder":"http://a.example/"}"#).unwrap_err();
    assert_eq!(e.problem, ConfigProblem::RevocationNoneContradicts);
}

#[test]
fn an_aia_responder_may_be_its_prefix_but_a_cdp_may_not() {
    let rule =
        rule_with(r#","ocsp":{"responders_from_aia":[{"prefix":"http://ocsp.example.com/"}]}"#)
            .unwrap();
    let Some(OcspResponders::FromAia(policy)) = rule.ocsp().map(OcspPolicy::responders) else {
        panic!("{rule:?}");
    };
    assert!(matches!(
        policy.responder_for("http://ocsp.example.com/"),
        CdpSource::Fetch(_)
    ));
    assert_eq!(
        policy.source_for("http://ocsp.example.com/"),
        CdpSource::Unsafe
    );
    assert_eq!(
        policy.responder_for("http://ocsp.example.com.evil.test/"),
        CdpSource::NotAllowed
    );
    assert_eq!(
        policy.responder_for("http://ocsp.example.com/../x"),
        CdpSource::Unsafe
    );
}

#[test]
fn errors_print_as_a_path_into_the_document_as_the_docs_show() {
    let routes = r#","revocation":"none","routes":[{"method":"*","path":"/temps"},{"method":"GET","path":"/temps"}]"#;
    assert_eq!(
        rule_with(routes).unwrap_err().to_string(),
        "invalid configuration: issuers[0].routes[1]: it overlaps route 0; list each route once"
    );
    let twice = r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"revocation":"none"},{"name":"b","match":{"CN":"y"},"crl":["s3://b/1","s3://b/2","s3://b/1"]}]}"#;
    assert_eq!(
        err_of(twice).to_string(),
        "invalid configuration: issuers[1].crl[2]: listed twice"
    );
    assert_eq!(
        err_of(r#"{"truststore":"file:///t","issuers":[]}"#).to_string(),
        "invalid configuration: issuers: at least one issuer entry is required"
    );
}
