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

fn err_of(json: &str) -> String {
    match Config::from_json(json) {
        Ok(_) => String::from("<accepted>"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn issuer_without_crl_is_a_configuration_error() {
    let e = err_of(r#"{"truststore":"file:///t.pem","issuers":[{"name":"a","match":{"CN":"x"}}]}"#);
    assert!(e.contains("a CRL or OCSP is required"), "{e}");
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
    for (json, want) in [
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c","revokation":"none"}]}"#,
            "unknown field",
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{},"crl":"file:///c"}]}"#,
            "every CA would match",
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"Org":"x"},"crl":"file:///c"}]}"#,
            "unknown attribute",
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"ftp://c"}]}"#,
            "unsupported source URI",
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c"}],"crl_grace_seconds":99999999}"#,
            "crl_grace_seconds",
        ),
        (
            r#"{"truststore":"file:///t","issuers":[]}"#,
            "at least one issuer",
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c"},{"name":"a","match":{"CN":"y"},"crl":"file:///c"}]}"#,
            "duplicate name",
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c","subject":{"san_dns":["a.*.com"]}}]}"#,
            "san_dns pattern",
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c","subject":{"san_dsn":["a.com"]}}]}"#,
            "unknown attribute",
        ),
        (
            r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c","subject":{"eku":"sometimes"}}]}"#,
            "unknown variant",
        ),
    ] {
        let e = err_of(json);
        assert!(e.contains(want), "expected `{want}` in `{e}`");
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
    for (fields, want) in [
        (r#","crl":[]"#, "an empty list"),
        (r#","crl":["s3://b/k","s3://b/k"]"#, "listed twice"),
        (
            r#","crl":["s3://b/k","ftp://x/y"]"#,
            "unsupported source URI",
        ),
    ] {
        let e = err_of(&issuer_with(fields));
        assert!(e.contains(want), "expected `{want}` in `{e}`");
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
    for (fields, want) in [
        (r#","crl_from_cdp":[]"#, "list 1 to 16 prefixes"),
        (
            r#","crl_from_cdp":[{"prefix":"http://crl.example.com"}]"#,
            "ending in `/`",
        ),
        (
            r#","crl_from_cdp":[{"prefix":"s3://bucket/crl/"}]"#,
            "http:// or https://",
        ),
        (
            r#","crl_from_cdp":[{"prefix":"http:///crl/"}]"#,
            "with a host",
        ),
        (
            r#","crl_from_cdp":[{"prefix":"http://a/","fetch":"s3://bucket/crl"}]"#,
            "ending in `/`",
        ),
        (
            r#","crl_from_cdp":[{"prefix":"http://a/","fetch":"ftp://x/"}]"#,
            "fetch",
        ),
        (
            r#","crl_from_cdp":[{"prefix":"http://a/","fetsh":"s3://b/"}]"#,
            "unknown field",
        ),
        (
            r#","crl":"s3://b/k","crl_from_cdp":[{"prefix":"http://a/"}]"#,
            "not both",
        ),
        (
            r#","revocation":"none","crl_from_cdp":[{"prefix":"http://a/"}]"#,
            "contradicts",
        ),
    ] {
        let e = err_of(&issuer_with(fields));
        assert!(e.contains(want), "expected `{want}` in `{e}`");
    }
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
    for bad in ["0", "10001", "-1"] {
        assert!(
            err_of(&with(bad)).contains("max_cdp_crls_per_issuer"),
            "{bad}"
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
    assert!(err_of(&named(&"d".repeat(MAX_ISSUER_NAME + 1))).contains("metric dimension"));
    assert!(err_of(&named("devices\nprod")).contains("metric dimension"));
}

fn rule_with(members: &str) -> std::result::Result<IssuerRule, String> {
    Config::from_json(&format!(
        r#"{{"truststore":"file:///t.pem","issuers":[{{"name":"a","match":{{"CN":"x"}}{members}}}]}}"#
    ))
    .map(|c| c.issuers[0].clone())
    .map_err(|e| e.to_string())
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
            "contradicts",
        ),
        (
            r#","crl_from_cdp":[{"prefix":"http://crl.example.com/"}],"delta_crl":"s3://p/d.crl""#,
            "Freshest CRL",
        ),
        (
            r#","crl":"s3://p/b.crl","delta_crl":"s3://p/b.crl""#,
            "also a `crl` source",
        ),
        (
            r#","revocation":"none","delta_crl":"s3://p/d.crl""#,
            "contradicts",
        ),
        (
            r#","crl":"s3://p/b.crl","delta":"sometimes""#,
            "unknown variant",
        ),
    ] {
        let e = rule_with(members).unwrap_err();
        assert!(e.contains(want), "{members}: {e}");
    }
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
    for (ocsp, want) in [
        (r#"{}"#, "exactly one"),
        (
            r#"{"responder":"http://a.example/","responders_from_aia":[{"prefix":"http://a.example/"}]}"#,
            "exactly one",
        ),
        (r#"{"responder":"s3://bucket/ocsp"}"#, "http://"),
        (
            r#"{"responder":"http://a.example/","timeout_ms":10}"#,
            "timeout_ms",
        ),
        (
            r#"{"responder":"http://a.example/","max_entries":0}"#,
            "max_entries",
        ),
        (
            r#"{"responder":"http://a.example/","cache_seconds":0}"#,
            "cache_seconds",
        ),
        (
            r#"{"responder":"http://a.example/","nonce":true}"#,
            "unknown field",
        ),
        (
            r#"{"responders_from_aia":[{"prefix":"http://a.example"}]}"#,
            "ending in `/`",
        ),
        (
            r#"{"responders_from_aia":[{"prefix":"http://a.example/","fetch":"s3://b/"}]}"#,
            "http://",
        ),
    ] {
        let e = rule_with(&format!(r#","ocsp":{ocsp}"#)).unwrap_err();
        assert!(e.contains(want), "{ocsp}: {e}");
    }
    let e =
        rule_with(r#","revocation":"none","ocsp":{"responder":"http://a.example/"}"#).unwrap_err();
    assert!(e.contains("contradicts"), "{e}");
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
