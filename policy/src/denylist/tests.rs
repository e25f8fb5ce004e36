use super::*;

const KEY: &str = "aa00000000000000000000000000000000000000000000000000000000000001";
const FP: &str = "bb00000000000000000000000000000000000000000000000000000000000002";

fn doc(entries: &str) -> String {
    format!(r#"{{"version": 1, "sequence": 7, "entries": [{entries}]}}"#)
}

fn key() -> KeyId {
    let mut b = [0u8; 32];
    hex::decode_to_slice(KEY, &mut b).unwrap_or_default();
    KeyId::from_bytes(b)
}

#[test]
fn an_issuer_serial_entry_lists_that_serial_under_that_key_only() {
    let text = doc(&format!(
        r#"{{"issuer_spki_sha256": "{KEY}", "serial": "00Ab12"}}"#
    ));
    let list = DenyList::from_json(text.as_bytes()).unwrap_or_default();
    assert_eq!(list.len(), 1);
    assert_eq!(list.sequence(), 7);
    let serial = Serial::from_hex("ab12").unwrap_or_else(|| Serial::from_integer_bytes(&[0]));
    assert!(list.lists_serial(key(), &serial));
    let other_key = KeyId::from_bytes([0xaa; 32]);
    assert!(!list.lists_serial(other_key, &serial));
    let other_serial = Serial::from_integer_bytes(&[0xab, 0x13]);
    assert!(!list.lists_serial(key(), &other_serial));
}

#[test]
fn a_fingerprint_entry_lists_that_certificate() {
    let text = doc(&format!(r#"{{"fingerprint": "{}"}}"#, FP.to_uppercase()));
    let list = DenyList::from_json(text.as_bytes()).unwrap_or_default();
    let mut fp = [0u8; 32];
    hex::decode_to_slice(FP, &mut fp).unwrap_or_default();
    assert!(list.lists_fingerprint(&fp));
    assert!(!list.lists_fingerprint(&[0; 32]));
}

/// What a refused document's error must be: a rule of the document, or
/// serde's refusal (of the `Data` category) of the document's shape.
#[derive(Debug)]
enum Want {
    Rule(Option<usize>, DenyListProblem),
    Shape(Option<usize>),
}

#[test]
fn every_malformed_document_is_refused_whole() {
    let good = format!(r#"{{"fingerprint": "{FP}"}}"#);
    let rule = |problem| Want::Rule(Some(0), problem);
    let serial = || {
        rule(DenyListProblem::BadSerial {
            max_digits: 2 * MAX_SERIAL_OCTETS,
        })
    };
    let fingerprint = || {
        rule(DenyListProblem::NotSha256 {
            field: "fingerprint",
        })
    };
    let cases = [
        // not the format
        ("[]".to_owned(), Want::Shape(None)),
        (
            r#"{"version": 1, "sequence": 1}"#.to_owned(),
            Want::Rule(None, DenyListProblem::MissingField),
        ),
        (
            r#"{"version": 2, "sequence": 1, "entries": []}"#.to_owned(),
            Want::Rule(
                None,
                DenyListProblem::UnsupportedVersion {
                    version: 2,
                    supported: FORMAT_VERSION,
                },
            ),
        ),
        (
            r#"{"version": 1, "sequence": -1, "entries": []}"#.to_owned(),
            Want::Shape(None),
        ),
        (
            r#"{"version": 1, "sequence": 1, "entries": [], "extra": 1}"#.to_owned(),
            Want::Shape(None),
        ),
        (
            r#"{"version": 1, "version": 1, "sequence": 1, "entries": []}"#.to_owned(),
            Want::Rule(None, DenyListProblem::FieldTwice),
        ),
        // entries
        (
            doc(&format!(
                r#"{good}, {{"fingerprint": "{FP}", "colour": "red"}}"#
            )),
            Want::Shape(Some(1)),
        ),
        (doc(r#"{}"#), rule(DenyListProblem::Target)),
        (
            doc(&format!(r#"{{"fingerprint": "{FP}", "serial": "01"}}"#)),
            rule(DenyListProblem::Target),
        ),
        (
            doc(&format!(r#"{{"issuer_spki_sha256": "{KEY}"}}"#)),
            rule(DenyListProblem::Target),
        ),
        (doc(r#"{"serial": "01"}"#), rule(DenyListProblem::Target)),
        (
            doc(&format!(r#"{{"fingerprint": "{}"}}"#, &FP[..62])),
            fingerprint(),
        ),
        (
            doc(&format!(r#"{{"fingerprint": "{}zz"}}"#, &FP[..62])),
            fingerprint(),
        ),
        (
            doc(&format!(r#"{{"fingerprint": "{FP}00"}}"#)),
            fingerprint(),
        ),
        (
            doc(&format!(
                r#"{{"issuer_spki_sha256": "{}", "serial": "01"}}"#,
                &KEY[..10]
            )),
            rule(DenyListProblem::NotSha256 {
                field: "issuer_spki_sha256",
            }),
        ),
        (
            doc(&format!(
                r#"{{"issuer_spki_sha256": "{KEY}", "serial": ""}}"#
            )),
            serial(),
        ),
        (
            doc(&format!(
                r#"{{"issuer_spki_sha256": "{KEY}", "serial": "0x01"}}"#
            )),
            serial(),
        ),
        (
            doc(&format!(
                r#"{{"issuer_spki_sha256": "{KEY}", "serial": "01:02"}}"#
            )),
            serial(),
        ),
        (
            doc(&format!(
                r#"{{"issuer_spki_sha256": "{KEY}", "serial": "{}"}}"#,
                "1".repeat(65)
            )),
            serial(),
        ),
        (
            doc(&format!(
                r#"{{"fingerprint": "{FP}", "reason": "removeFromCRL"}}"#
            )),
            rule(DenyListProblem::BadReason),
        ),
        (
            doc(&format!(
                r#"{{"fingerprint": "{FP}", "reason": "KeyCompromise"}}"#
            )),
            rule(DenyListProblem::BadReason),
        ),
        (
            doc(&format!(
                r#"{{"fingerprint": "{FP}", "not_after": "2027-06-01"}}"#
            )),
            rule(DenyListProblem::BadTime { field: "not_after" }),
        ),
        (
            doc(&format!(
                r#"{{"fingerprint": "{FP}", "added": "2027-02-30T00:00:00Z"}}"#
            )),
            rule(DenyListProblem::BadTime { field: "added" }),
        ),
        (
            doc(&format!(
                r#"{{"fingerprint": "{FP}", "note": "{}"}}"#,
                "n".repeat(257)
            )),
            rule(DenyListProblem::BadNote {
                max: MAX_NOTE_CHARS,
            }),
        ),
        (
            doc(&format!(r#"{{"fingerprint": "{FP}", "note": "a\u0007b"}}"#)),
            rule(DenyListProblem::BadNote {
                max: MAX_NOTE_CHARS,
            }),
        ),
        (
            doc(&format!(r#"{{"fingerprint": "{FP}", "note": 5}}"#)),
            Want::Shape(Some(0)),
        ),
    ];
    for (text, want) in cases {
        let got = DenyList::from_json(text.as_bytes());
        let ok = match (&got, &want) {
            (Err(Error::DenyListMalformed { entry, problem }), Want::Rule(at, rule)) => {
                entry == at && problem == rule
            }
            (
                Err(Error::DenyListMalformed {
                    entry,
                    problem:
                        DenyListProblem::Json {
                            category: JsonCategory::Data,
                            ..
                        },
                }),
                Want::Shape(at),
            ) => entry == at,
            _ => false,
        };
        assert!(ok, "{text}: {got:?}, not {want:?}");
        // The document refuses the same way.
        assert_eq!(Document::from_json(text.as_bytes()).err(), got.err());
    }
}

#[test]
fn more_than_the_entry_limit_is_refused_before_it_is_indexed() {
    let one = format!(r#"{{"fingerprint": "{FP}"}}"#);
    let mut entries = vec![one.as_str(); MAX_ENTRIES];
    let text = doc(&entries.join(","));
    assert!(DenyList::from_json(text.as_bytes()).is_ok());
    entries.push(&one);
    let text = doc(&entries.join(","));
    let err = DenyList::from_json(text.as_bytes()).err();
    assert!(
        err == Some(Error::DenyListMalformed {
            entry: None,
            problem: DenyListProblem::TooManyEntries { max: 100_000 }
        }),
        "{err:?}"
    );
}

#[test]
fn a_lower_sequence_is_a_rollback_and_an_equal_or_higher_one_is_not() {
    let at = |seq: u64| {
        DenyList::from_json(format!(r#"{{"version":1,"sequence":{seq},"entries":[]}}"#).as_bytes())
            .unwrap_or_default()
    };
    assert_eq!(
        at(5).check_successor(&at(4)),
        Err(Error::DenyListRollback {
            cached: 5,
            offered: 4
        })
    );
    assert_eq!(at(5).check_successor(&at(5)), Ok(()));
    assert_eq!(at(5).check_successor(&at(6)), Ok(()));
}

#[test]
fn a_document_written_reads_back_the_same() {
    let text = doc(&format!(
        r#"{{"issuer_spki_sha256": "{KEY}", "serial": "0a", "not_after": "2027-06-01T00:00:00Z",
             "added": "2026-12-06T10:00:00Z", "reason": "cACompromise", "note": "lost \"tablet\" ☃"}},
           {{"fingerprint": "{FP}"}}"#
    ));
    let parsed = Document::from_json(text.as_bytes()).unwrap_or_else(|_| Document::empty());
    assert_eq!(parsed.entries.len(), 2);
    assert_eq!(
        parsed.entries.first().and_then(|e| e.reason),
        Some(Reason::CaCompromise)
    );
    let written = parsed.to_json();
    assert_eq!(Document::from_json(written.as_bytes()), Ok(parsed.clone()));
    // One entry per line, so two versions diff by entry.
    assert_eq!(written.lines().count(), 4, "{written}");
    let empty = Document::empty().to_json();
    assert_eq!(Document::from_json(empty.as_bytes()), Ok(Document::empty()));
}

#[test]
fn duplicate_entries_count_once() {
    let one = format!(r#"{{"fingerprint": "{FP}"}}"#);
    let text = doc(&[
        one.as_str(),
        &one,
        &one.to_uppercase().replace("FINGERPRINT", "fingerprint"),
    ]
    .join(","));
    assert_eq!(DenyList::from_json(text.as_bytes()).map(|l| l.len()), Ok(1));
}

#[test]
fn serials_match_however_their_hex_is_padded_or_cased() {
    let entry = |serial: &str| {
        doc(&format!(
            r#"{{"issuer_spki_sha256": "{KEY}", "serial": "{serial}"}}"#
        ))
    };
    for (written, presented) in [
        ("1", &[0x01][..]),
        ("001", &[0x01]),
        ("abc", &[0x0a, 0xbc]),
        ("0ABC", &[0x0a, 0xbc]),
        ("00", &[0x00]),
        ("80ff", &[0x00, 0x80, 0xff]),
    ] {
        let list = DenyList::from_json(entry(written).as_bytes()).unwrap_or_default();
        assert!(
            list.lists_serial(key(), &Serial::from_integer_bytes(presented)),
            "{written}"
        );
        let doc =
            Document::from_json(entry(written).as_bytes()).unwrap_or_else(|_| Document::empty());
        assert_eq!(DenyList::from_document(&doc), list, "{written}");
    }
    // 32 octets is the most a serial entry may name; a longer serial is
    // never listed (and never panics).
    let long = Serial::from_integer_bytes(&[0x7f; 40]);
    let list = DenyList::from_json(entry(&"7f".repeat(32)).as_bytes()).unwrap_or_default();
    assert!(!list.lists_serial(key(), &long));
}
