//! The EMF lines against the specification's structure, and the catalogue.

use super::records::MAX_ID;
use super::*;
use crate::error::DenyListProblem;
use mtls_x509::Error as X509;
use mtls_x509::error::{CrlMalformed, CrlRollback, CrlUnsupported};
use mtls_x509::name::DerName;
use mtls_x509::signed::UnsupportedAlgorithm;
use mtls_x509::time::UnixTime;
use serde_json::Value;

const SCHEMA: &str = include_str!("../../tests/data/emf.schema.json");
const NOW: UnixTime = UnixTime(1_790_000_000);

/// Checks `line` is one EMF document: the specification's structure
/// (the JSON schema), and what a schema cannot say: every dimension key
/// names a string member, every metric a number member, and each
/// dimension's value is within its closed set. Returns the document.
fn emf(line: &str) -> Value {
    assert!(!line.contains('\n'), "one line: {line}");
    let doc: Value = serde_json::from_str(line).unwrap();
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?} in {line}");
    let catalogue = Metric::catalogue_json();
    for directive in doc["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
        for set in directive["Dimensions"].as_array().unwrap() {
            for key in set.as_array().unwrap() {
                let key = key.as_str().unwrap();
                let value = doc[key]
                    .as_str()
                    .unwrap_or_else(|| panic!("{key} in {line}"));
                match key {
                    "issuer" => assert!(["devices", NO_ISSUER].contains(&value), "{value}"),
                    _ => {
                        let allowed = catalogue["dimension_values"][key].as_array().unwrap();
                        assert!(allowed.contains(&Value::from(value)), "{key}={value}");
                    }
                }
            }
        }
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(doc[name].is_number(), "{name} in {line}");
            let known = Metric::ALL.iter().find(|m| m.as_str() == name).unwrap();
            assert_eq!(metric["Unit"], serde_json::to_value(known.unit()).unwrap());
            assert_eq!(
                directive["Dimensions"],
                serde_json::to_value(known.dimension_sets()).unwrap()
            );
        }
    }
    doc
}

fn ids() -> RequestIds {
    RequestIds {
        lambda_request_id: Some("8f5e0e6c-0b9e-4a43-9d4e-2f0a3b1c9d77".into()),
        api_request_id: Some("c6af9ac6-7b61-11e6-9a41-93e8deadbeef".into()),
        api_extended_request_id: Some("RZ3hNEQ0IAMF1iw=".into()),
        trace_id: Some("Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700".into()),
    }
}

fn decision<'a>(ids: &'a RequestIds, allowed: bool, subject: &'a str) -> DecisionRecord<'a> {
    DecisionRecord {
        time: NOW,
        issuer: Some("devices"),
        allowed,
        reason: (!allowed).then_some(DenyReason::Revoked),
        latency_ms: 0.012_345_6,
        serial: "0a1b",
        subject,
        fingerprint: "ab12",
        crl_age_seconds: Some(60),
        refresh_wait_ms: Some(4.25),
        detail: (!allowed).then_some("serial 0a1b is on the CRL"),
        ids,
        ocsp: None,
    }
}

#[test]
fn ocsp_exchange_and_cache_hit_lines_publish_their_metrics() {
    let line = OcspRecord {
        time: NOW,
        issuer: "devices",
        responder: "http://ocsp.example.test/",
        serial: "0a1b",
        result: OcspResult::Error,
        error: Some("timeout"),
        latency_ms: 2000.4,
    }
    .to_line(&Namespace::default());
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["event"], "ocsp_metrics");
    assert_eq!(v["result"], "error");
    assert_eq!(v["OcspRequests"], 1);
    let names: Vec<&str> = v["_aws"]["CloudWatchMetrics"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["Metrics"].as_array().unwrap())
        .filter_map(|m| m["Name"].as_str())
        .collect();
    assert!(
        names.contains(&"OcspRequests") && names.contains(&"OcspLatency"),
        "{line}"
    );

    let ids = ids();
    let mut record = decision(&ids, true, "CN=a");
    let plain: Value = serde_json::from_str(&record.to_line(&Namespace::default())).unwrap();
    assert!(plain.get("OcspCacheHits").is_none());
    record.ocsp = Some(OcspUse::Cached);
    let hit: Value = serde_json::from_str(&record.to_line(&Namespace::default())).unwrap();
    assert_eq!(hit["OcspCacheHits"], 1);
    record.ocsp = Some(OcspUse::Fetched);
    let fetched: Value = serde_json::from_str(&record.to_line(&Namespace::default())).unwrap();
    assert!(fetched.get("OcspCacheHits").is_none());
}

#[test]
fn decision_line_is_one_emf_document_carrying_both_request_ids() {
    let ids = ids();
    let doc = emf(&decision(&ids, false, "CN=dev-1").to_line(&Namespace::default()));
    assert_eq!(doc["_aws"]["Timestamp"], 1_790_000_000_000_i64);
    assert_eq!(
        doc["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "MtlsAuthorizer"
    );
    assert_eq!(doc["event"], "decision");
    assert_eq!(doc["Decisions"], 1);
    assert_eq!(doc["DecisionLatency"], 0.012);
    assert_eq!(doc["reason"], "revoked");
    assert_eq!(doc["decision"], "deny");
    assert_eq!(
        doc["api_request_id"],
        "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    );
    assert_eq!(doc["api_extended_request_id"], "RZ3hNEQ0IAMF1iw=");
    assert_eq!(
        doc["lambda_request_id"],
        "8f5e0e6c-0b9e-4a43-9d4e-2f0a3b1c9d77"
    );
    assert_eq!(doc["trace_id"], "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700");
    assert_eq!(doc["timestamp"], NOW.to_string());
}

#[test]
fn allow_has_the_allowed_reason_and_unmatched_certificates_the_none_issuer() {
    let ids = RequestIds::default();
    let mut record = decision(&ids, true, "CN=dev-1");
    let doc = emf(&record.to_line(&Namespace::default()));
    assert_eq!(
        (doc["decision"].as_str(), doc["reason"].as_str()),
        (Some("allow"), Some(ALLOWED))
    );
    assert!(doc.get("detail").is_none() && doc.get("api_request_id").is_none());
    record.issuer = None;
    record.allowed = false;
    record.reason = Some(DenyReason::IssuerNotAllowed);
    let doc = emf(&record.to_line(&Namespace::default()));
    assert_eq!(doc["issuer"], NO_ISSUER);
}

#[test]
fn hostile_certificate_text_never_reaches_a_dimension_or_breaks_the_line() {
    let ids = ids();
    let subject = "CN=evil\n{\"_aws\":1}\",issuer=\"x\u{2028}";
    let line = decision(&ids, false, subject).to_line(&Namespace::default());
    let doc = emf(&line);
    assert_eq!(doc["subject"], subject);
    assert_eq!(doc["issuer"], "devices");
    // Every dimension set names only the closed keys.
    for directive in doc["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
        for set in directive["Dimensions"].as_array().unwrap() {
            for key in set.as_array().unwrap() {
                assert!(["issuer", "decision", "reason"].contains(&key.as_str().unwrap()));
            }
        }
    }
}

#[test]
fn request_ids_are_bounded_and_escaped() {
    let long = "a".repeat(10_000);
    assert_eq!(request_id(Some(&long)).unwrap().chars().count(), MAX_ID);
    assert_eq!(request_id(Some("  ")), None);
    assert_eq!(request_id(Some("id\nforged")).unwrap(), "id\\nforged");
}

fn crl(outcome: RefreshOutcome, in_use: Option<CrlInUse>) -> Value {
    let record = CrlRecord {
        time: NOW,
        issuer: "devices",
        source: "s3://pki/devices.crl",
        outcome,
        in_use,
        load_ms: Some(12.5),
    };
    emf(&record.to_line(&Namespace::default()))
}

const IN_USE: CrlInUse = CrlInUse {
    this_update: UnixTime(1_790_000_000 - 3600),
    next_update: UnixTime(1_790_000_000 + 7200),
    entries: 42,
};

#[test]
fn installed_crl_line_reports_age_time_to_next_update_entries_and_load_time() {
    let doc = crl(RefreshOutcome::Installed, Some(IN_USE));
    assert_eq!(doc["event"], "crl_metrics");
    assert_eq!(doc["outcome"], "installed");
    assert_eq!(doc["CrlAgeSeconds"], 3600);
    assert_eq!(doc["CrlSecondsToNextUpdate"], 7200);
    assert_eq!(doc["CrlEntries"], 42);
    assert_eq!(doc["CrlLoadMs"], 12.5);
    assert!(doc.get("CrlRefreshFailures").is_none() && doc.get("cause").is_none());
}

#[test]
fn unchanged_crl_line_keeps_the_gauges_without_a_load_time() {
    let doc = crl(RefreshOutcome::Unchanged, Some(IN_USE));
    assert_eq!(doc["CrlSecondsToNextUpdate"], 7200);
    assert!(doc.get("CrlLoadMs").is_none());
}

#[test]
fn failed_refresh_counts_a_failure_with_its_cause_and_keeps_reporting_the_crl_in_use() {
    let overdue = CrlInUse {
        next_update: UnixTime(1_790_000_000 - 600),
        ..IN_USE
    };
    let doc = crl(RefreshOutcome::Failed(Cause::Fetch), Some(overdue));
    assert_eq!(
        (doc["outcome"].as_str(), doc["cause"].as_str()),
        (Some("failed"), Some("fetch"))
    );
    assert_eq!(doc["CrlRefreshFailures"], 1);
    // Inside the grace period: negative.
    assert_eq!(doc["CrlSecondsToNextUpdate"], -600);
    assert!(doc.get("CrlRejected").is_none() && doc.get("CrlLoadMs").is_none());
}

#[test]
fn rejected_crl_counts_as_rejected_and_a_source_never_loaded_has_no_gauges() {
    let doc = crl(RefreshOutcome::Failed(Cause::Signature), None);
    assert_eq!(
        (doc["outcome"].as_str(), doc["cause"].as_str()),
        (Some("rejected"), Some("signature"))
    );
    assert_eq!(doc["CrlRejected"], 1);
    assert!(doc.get("CrlAgeSeconds").is_none() && doc.get("CrlRefreshFailures").is_none());
}

#[test]
fn every_core_refusal_maps_to_its_documented_cause() {
    let t = UnixTime(0);
    let cases = [
        (
            X509::CrlBadSignature {
                issuer: DerName::new(b"i"),
            },
            Cause::Signature,
        ),
        (
            X509::CrlSignatureAlgorithm(UnsupportedAlgorithm::Named("sha1WithRSAEncryption")),
            Cause::Signature,
        ),
        (
            X509::CrlIssuerUnknown {
                issuer: DerName::new(b"i"),
            },
            Cause::Signature,
        ),
        (
            X509::CrlIssuerMismatch {
                crl_issuer: DerName::new(b"b"),
            },
            Cause::Scope,
        ),
        (
            X509::CrlRollback(CrlRollback::ThisUpdate {
                cached: t,
                offered: t,
            }),
            Cause::Rollback,
        ),
        (
            X509::CrlExpired {
                next_update: t,
                grace_seconds: 0,
                now: t,
            },
            Cause::Expired,
        ),
        (
            X509::CrlNotYetValid {
                this_update: t,
                now: t,
            },
            Cause::Expired,
        ),
        (X509::CrlMissingNextUpdate, Cause::Expired),
        (
            X509::CrlMalformed(CrlMalformed::EarlierPartRefused),
            Cause::Parse,
        ),
        (
            X509::CrlUnsupported(CrlUnsupported::IndirectCrl),
            Cause::Parse,
        ),
    ];
    for (error, cause) in cases {
        assert_eq!(Cause::of(&error), cause, "{error}");
        // Wrapped by mtls-policy, the same.
        assert_eq!(Cause::of(&Error::X509(error)), cause);
    }
    for (error, cause) in [
        (
            Error::DenyListMalformed {
                entry: Some(3),
                problem: DenyListProblem::BadReason,
            },
            Cause::Parse,
        ),
        (
            Error::DenyListRollback {
                cached: 2,
                offered: 1,
            },
            Cause::Rollback,
        ),
        (
            Error::DenyListSequenceReused { sequence: 2 },
            Cause::Rollback,
        ),
    ] {
        assert_eq!(Cause::of(&error), cause, "{error}");
    }
    assert!(
        Cause::ALL
            .iter()
            .filter(|c| c.is_refresh_failure())
            .eq(&[Cause::Fetch, Cause::TooLarge])
    );
}

#[test]
fn truststore_line_reports_seconds_to_the_first_ca_expiry() {
    let line = TruststoreRecord {
        time: NOW,
        source: "s3://b/truststore.pem",
        cas: 3,
        first_expiry: (NOW.offset(86_400 * 20), "CN=Old Root"),
    }
    .to_line(&Namespace::default());
    let doc = emf(&line);
    assert_eq!(doc["TruststoreSecondsToFirstExpiry"], 86_400 * 20);
    assert_eq!(doc["first_expiry_subject"], "CN=Old Root");
}

#[test]
fn namespace_defaults_and_refuses_what_cloudwatch_would_drop() {
    assert_eq!(
        Namespace::from_env_value(None).unwrap().as_str(),
        DEFAULT_NAMESPACE
    );
    assert_eq!(
        Namespace::from_env_value(Some(" ")).unwrap().as_str(),
        DEFAULT_NAMESPACE
    );
    assert_eq!(
        Namespace::from_env_value(Some("Acme/mTLS prod"))
            .unwrap()
            .as_str(),
        "Acme/mTLS prod"
    );
    for bad in ["AWS/Lambda", "café", "a\u{0}b", &"x".repeat(256)] {
        assert_eq!(
            Namespace::from_env_value(Some(bad)),
            Err(ConfigError {
                entry: None,
                setting: "METRICS_NAMESPACE",
                item: None,
                problem: ConfigProblem::BadNamespace
            }),
            "{bad}"
        );
    }
    let ids = ids();
    let doc = emf(&decision(&ids, true, "CN=a")
        .to_line(&Namespace::from_env_value(Some("Acme/mTLS")).unwrap()));
    assert_eq!(
        doc["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "Acme/mTLS"
    );
}

/// The code spans in the first cells of the first Markdown table in `doc`
/// whose first cell starts with one: the names the document lists, in its
/// order (a cell may name two, as "`expired` / `not_yet_valid`").
fn table_codes(doc: &str) -> Vec<&str> {
    doc.lines()
        .skip_while(|l| !l.starts_with("| `"))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(1))
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .collect()
}

#[test]
fn the_catalogue_is_the_metric_table_of_the_monitoring_guide() {
    let doc = include_str!("../../../docs/monitoring.md");
    let documented = table_codes(doc);
    let catalogue = Metric::catalogue_json();
    let names: Vec<&str> = catalogue["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names, documented,
        "docs/monitoring.md's table and Metric::ALL differ"
    );
}

#[test]
fn every_reason_code_is_a_row_of_the_troubleshooting_guide_in_its_order() {
    let doc = include_str!("../../../docs/troubleshooting.md");
    let documented = table_codes(doc);
    let codes: Vec<&str> = DenyReason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(
        codes, documented,
        "docs/troubleshooting.md's table and DenyReason::ALL differ"
    );
    let catalogue = Metric::catalogue_json();
    let mut expected = vec![ALLOWED];
    expected.extend(codes);
    assert_eq!(
        catalogue["dimension_values"]["reason"],
        serde_json::json!(expected)
    );
}

#[test]
fn decision_line_says_how_long_the_request_waited_for_refreshes_only_when_it_did() {
    let ids = ids();
    let mut record = decision(&ids, true, "CN=a");
    let waited: Value = serde_json::from_str(&record.to_line(&Namespace::default())).unwrap();
    assert_eq!(waited["refresh_wait_ms"], 4.25);
    record.refresh_wait_ms = None;
    let quiet: Value = serde_json::from_str(&record.to_line(&Namespace::default())).unwrap();
    assert!(quiet.get("refresh_wait_ms").is_none(), "{quiet}");
}
