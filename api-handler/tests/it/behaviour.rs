//! One behaviour suite, run against both stores: the local SQLite store and
//! DynamoDB (moto_server on 127.0.0.1, table created by the test). Requests
//! go through `App::handle` as real proxy events, mixing both formats.

use crate::common;

use api_handler::identity::Identity;
use api_handler::reading::{Reading, ReadingTime};
use api_handler::store::{NewReading, PutOutcome, Store};
use common::{Harness, device, get, post, reading, readings};

async fn posted_reading_is_returned_in_either_format<S: Store>(h: &Harness<S>) {
    let me = device("sensor-1", "01");
    let r = h
        .send(post(&me, &reading("21.5", "2026-11-24T11:00:00Z")).rest())
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["temperature"], 21.5);
    assert_eq!(r.body["time"], "2026-11-24T11:00:00Z");
    for event in [get(&me).rest(), get(&me).http_v2()] {
        let got = readings(&h.send(event).await);
        assert_eq!(got, vec![(21.5, "2026-11-24T11:00:00Z".to_owned())]);
    }
}

async fn get_returns_the_latest_five_newest_first<S: Store>(h: &Harness<S>) {
    let me = device("sensor-1", "01");
    // Posted out of order, over two days.
    let posted = [
        "2026-11-24T10:30:00Z",
        "2026-11-23T10:05:00Z",
        "2026-11-24T10:59:00Z",
        "2026-11-23T23:59:59.999Z",
        "2026-11-24T10:45:00Z",
        "2026-11-24T10:20:00.5Z",
        "2026-11-24T10:20:00Z",
    ];
    for (i, time) in posted.iter().enumerate() {
        let r = h
            .send(post(&me, &reading(&i.to_string(), time)).http_v2())
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let got = readings(&h.send(get(&me).rest()).await);
    let times: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        times,
        [
            "2026-11-24T10:59:00Z",
            "2026-11-24T10:45:00Z",
            "2026-11-24T10:30:00Z",
            "2026-11-24T10:20:00.5Z",
            "2026-11-24T10:20:00Z",
        ]
    );
    assert_eq!(got.first().map(|(t, _)| *t), Some(2.0));
}

async fn a_repeated_post_is_stored_once<S: Store>(h: &Harness<S>) {
    let me = device("sensor-1", "01");
    for body in [
        reading("20", "2026-11-24T11:00:00Z"),
        reading("20", "2026-11-24T11:00:00Z"),
        // The same instant, spelled differently, is the same reading.
        reading("20.0", "2026-11-24T11:00:00.000Z"),
    ] {
        let r = h.send(post(&me, &body).rest()).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    assert_eq!(readings(&h.send(get(&me).rest()).await).len(), 1);
}

async fn a_different_temperature_for_a_stored_time_is_a_conflict_and_the_first_stays<S: Store>(
    h: &Harness<S>,
) {
    let me = device("sensor-1", "01");
    let first = h
        .send(post(&me, &reading("20", "2026-11-24T11:00:00Z")).rest())
        .await;
    assert_eq!(first.status, 201);
    let second = h
        .send(post(&me, &reading("25", "2026-11-24T11:00:00Z")).http_v2())
        .await;
    assert_eq!(second.status, 409, "{:?}", second.body);
    assert_eq!(second.body["error"], "conflict");
    assert_eq!(second.body["field"], "time");
    let got = readings(&h.send(get(&me).rest()).await);
    assert_eq!(got, vec![(20.0, "2026-11-24T11:00:00Z".to_owned())]);
}

async fn two_identities_never_see_each_others_readings<S: Store>(h: &Harness<S>) {
    let a = device("sensor-a", "0a");
    let b = device("sensor-b", "0b");
    h.send(post(&a, &reading("1", "2026-11-24T11:00:00Z")).rest())
        .await;
    h.send(post(&b, &reading("2", "2026-11-24T11:00:00Z")).rest())
        .await;
    h.send(post(&b, &reading("3", "2026-11-24T11:01:00Z")).http_v2())
        .await;
    let of_a = readings(&h.send(get(&a).http_v2()).await);
    let of_b = readings(&h.send(get(&b).rest()).await);
    assert_eq!(of_a, vec![(1.0, "2026-11-24T11:00:00Z".to_owned())]);
    assert_eq!(
        of_b.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        vec![3.0, 2.0]
    );
    // The same time from two devices is two readings, not a conflict.
    let r = h
        .send(post(&a, &reading("9", "2026-11-24T11:01:00Z")).rest())
        .await;
    assert_eq!(r.status, 201);
}

async fn a_renewed_certificate_keeps_the_device_history<S: Store>(h: &Harness<S>) {
    let old = device("sensor-1", "01");
    let renewed = device("sensor-1", "02");
    h.send(post(&old, &reading("20", "2026-11-24T11:00:00Z")).rest())
        .await;
    h.send(post(&renewed, &reading("21", "2026-11-24T11:05:00Z")).rest())
        .await;
    let got = readings(&h.send(get(&renewed).rest()).await);
    assert_eq!(got.len(), 2, "{got:?}");
}

async fn the_same_subject_under_another_ca_is_another_identity<S: Store>(h: &Harness<S>) {
    let ours = device("sensor-1", "01");
    // As the authorizer writes it: another issuer name, so another nameSha256.
    let theirs = mtls_tests::events::allow_context(
        ours["subjectDn"].as_str().unwrap(),
        "CN=Partner CA,O=Partner",
        "01",
    );
    h.send(post(&ours, &reading("20", "2026-11-24T11:00:00Z")).rest())
        .await;
    assert!(readings(&h.send(get(&theirs).rest()).await).is_empty());
}

async fn temperatures_round_trip_exactly<S: Store>(h: &Harness<S>) {
    let me = device("sensor-1", "01");
    let values = ["0.1", "-40.25", "1e-7", "149.99999999999997", "-0.0000123"];
    for (i, v) in values.iter().enumerate() {
        let time = format!("2026-11-24T11:00:0{i}Z");
        let r = h.send(post(&me, &reading(v, &time)).rest()).await;
        assert_eq!(r.status, 201, "{v}: {:?}", r.body);
        // A retry compares equal to what the store holds: no false conflict.
        let again = h.send(post(&me, &reading(v, &time)).rest()).await;
        assert_eq!(again.status, 201, "{v} retried: {:?}", again.body);
    }
    let got = readings(&h.send(get(&me).rest()).await);
    let mut expected: Vec<f64> = values.iter().map(|v| v.parse().unwrap()).collect();
    expected.reverse();
    assert_eq!(got.iter().map(|(t, _)| *t).collect::<Vec<_>>(), expected);
}

async fn an_identity_with_no_readings_gets_an_empty_list<S: Store>(h: &Harness<S>) {
    let r = h.send(get(&device("new-sensor", "01")).http_v2()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, serde_json::json!({"readings": []}));
}

async fn an_invalid_body_stores_nothing<S: Store>(h: &Harness<S>) {
    let me = device("sensor-1", "01");
    let r = h
        .send(
            post(
                &me,
                r#"{"temperature": 20, "time": "2026-11-24T11:00:00Z", "extra": 1}"#,
            )
            .rest(),
        )
        .await;
    assert_eq!((r.status, r.body["field"].as_str()), (400, Some("extra")));
    assert!(readings(&h.send(get(&me).rest()).await).is_empty());
}

/// The identity the api-handler reads from an authorizer context.
fn identity_of(context: &serde_json::Value) -> Identity {
    let map: std::collections::HashMap<String, serde_json::Value> =
        serde_json::from_value(context.clone()).unwrap();
    Identity::from_context(&map).unwrap()
}

/// Stores a reading as releases before DER-exact keys did: under the
/// DN-text key.
async fn store_as_before<S: Store>(
    h: &Harness<S>,
    identity: &Identity,
    at: time::OffsetDateTime,
    temperature: f64,
) {
    let stored = h
        .app
        .store()
        .put(NewReading {
            identity,
            key: &identity.legacy_key(),
            reading: &Reading {
                temperature,
                time: ReadingTime::from_instant(at),
            },
            received_at: common::NOW,
            expires_at: common::NOW + common::RETENTION,
        })
        .await
        .unwrap();
    assert_eq!(stored, PutOutcome::Created);
}

/// Readings an earlier release stored under the DN-text key (`dn-sha256:`)
/// stay readable by the certificate that wrote them, and by no look-alike:
/// a certificate with the same DN text (other string types), which shared
/// that key, has another serial from the same CA.
async fn readings_under_the_text_key_stay_with_the_certificate_that_wrote_them<S: Store>(
    h: &Harness<S>,
) {
    let me = device("sensor-1", "01");
    let owner = identity_of(&me);
    let legacy = owner.legacy_key();
    assert!(legacy.as_str().starts_with("dn-sha256:"));
    // A look-alike: the same DN text, so the same old key, but other DER
    // names (another nameSha256) on a certificate with its own serial.
    let mut twin = me.clone();
    twin["nameSha256"] = "ff".repeat(32).into();
    twin["serialNumber"] = "02".into();
    let twin_identity = identity_of(&twin);
    assert_eq!(twin_identity.legacy_key(), legacy, "the old key was shared");
    // What the earlier release wrote: one reading from each.
    let day = time::macros::datetime!(2026-11-24 00:00 UTC);
    store_as_before(h, &owner, day + time::Duration::hours(9), 19.0).await;
    store_as_before(h, &twin_identity, day + time::Duration::hours(8), 42.0).await;
    let r = h
        .send(post(&me, &reading("20", "2026-11-24T10:00:00Z")).rest())
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let mine = vec![
        (20.0, "2026-11-24T10:00:00Z".to_owned()),
        (19.0, "2026-11-24T09:00:00Z".to_owned()),
    ];
    assert_eq!(readings(&h.send(get(&me).http_v2()).await), mine);
    // Each sees only what it wrote itself.
    assert_eq!(
        readings(&h.send(get(&twin).rest()).await),
        [(42.0, "2026-11-24T08:00:00Z".to_owned())]
    );
    let r = h.send(whoami(&twin).rest()).await;
    assert_ne!(
        r.body["identityKey"],
        h.send(whoami(&me).rest()).await.body["identityKey"]
    );
    // The owner re-sending the old reading stores it under the new key; it
    // is still listed once.
    let r = h
        .send(post(&me, &reading("19", "2026-11-24T09:00:00Z")).rest())
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(readings(&h.send(get(&me).rest()).await), mine);
}

/// More of other writers' readings under a legacy key than one page holds
/// do not hide the holder's own (a DynamoDB filter runs after the page limit).
async fn a_holders_legacy_readings_are_found_behind_many_of_other_writers<S: Store>(
    h: &Harness<S>,
) {
    let me = device("sensor-1", "01");
    let owner = identity_of(&me);
    let mut other = owner.clone();
    other.serial_number = "02".into();
    let base = time::macros::datetime!(2026-11-24 00:00 UTC);
    store_as_before(h, &owner, base, 1.0).await;
    // Newer ones by another certificate: more than one filtered DynamoDB
    // page reads (100).
    for m in 1..=105 {
        store_as_before(h, &other, base + time::Duration::minutes(m), 2.0).await;
    }
    assert_eq!(
        readings(&h.send(get(&me).rest()).await),
        [(1.0, "2026-11-24T00:00:00Z".to_owned())]
    );
}

fn whoami(context: &serde_json::Value) -> mtls_tests::events::ProxyEvent {
    mtls_tests::events::ProxyEvent::new("GET", "/whoami").context(context.clone())
}

/// Each scenario becomes one test per store.
macro_rules! on_both_stores {
    ($($scenario:ident),* $(,)?) => {
        mod local_store {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(&super::common::local()).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(&super::common::dynamodb().await).await;
                }
            )*
        }
    };
}

on_both_stores!(
    posted_reading_is_returned_in_either_format,
    get_returns_the_latest_five_newest_first,
    a_repeated_post_is_stored_once,
    a_different_temperature_for_a_stored_time_is_a_conflict_and_the_first_stays,
    two_identities_never_see_each_others_readings,
    a_renewed_certificate_keeps_the_device_history,
    the_same_subject_under_another_ca_is_another_identity,
    temperatures_round_trip_exactly,
    an_identity_with_no_readings_gets_an_empty_list,
    an_invalid_body_stores_nothing,
    readings_under_the_text_key_stay_with_the_certificate_that_wrote_them,
    a_holders_legacy_readings_are_found_behind_many_of_other_writers,
);
