//! What each store does on its own: the local store's file, the DynamoDB
//! item layout the infrastructure relies on, and failures.

use crate::common;

use api_handler::App;
use api_handler::store::{DynamoStore, LocalStore, dynamo};
use aws_sdk_dynamodb::types::AttributeValue;
use common::{
    Harness, NOW, RETENTION, TABLE, create_table, device, dynamodb, dynamodb_client, get, post,
    reading, readings,
};
use mtls_tests::moto::Moto;
use serde_json::json;
use time::Duration;

fn app_on(dir: &std::path::Path, now: time::OffsetDateTime) -> Harness<LocalStore> {
    Harness::from_app(App::new(LocalStore::open(dir, now).unwrap(), RETENTION).unwrap())
}

#[tokio::test]
async fn local_readings_persist_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let me = device("sensor-1", "01");
    {
        let h = app_on(dir.path(), NOW);
        let r = h
            .send(post(&me, &reading("20", "2026-11-24T11:00:00Z")).rest())
            .await;
        assert_eq!(r.status, 201);
    }
    let h = app_on(dir.path(), NOW);
    assert_eq!(readings(&h.send(get(&me).rest()).await).len(), 1);
    assert!(
        dir.path()
            .join(api_handler::store::local::FILE_NAME)
            .is_file()
    );
}

#[tokio::test]
async fn local_readings_past_their_retention_are_deleted_when_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    let me = device("sensor-1", "01");
    {
        let h = app_on(dir.path(), NOW);
        h.send(post(&me, &reading("20", "2026-11-24T11:00:00Z")).rest())
            .await;
        let later = NOW + Duration::days(10);
        let r = h
            .send_at(
                post(&me, &reading("21", "2026-12-04T11:00:00Z")).rest(),
                later,
            )
            .await;
        assert_eq!(r.status, 201);
    }
    // The first reading was received at NOW; after the retention period only
    // the second one is left.
    let h = app_on(dir.path(), NOW + RETENTION + Duration::days(1));
    let got = readings(&h.send(get(&me).rest()).await);
    assert_eq!(got, vec![(21.0, "2026-12-04T11:00:00Z".to_owned())]);
}

#[tokio::test]
async fn local_store_in_an_unusable_directory_fails_at_open_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = LocalStore::open(&file, NOW).unwrap_err().to_string();
    assert!(err.contains("not-a-dir"), "{err}");
}

#[tokio::test]
async fn dynamodb_item_has_the_documented_keys_identity_and_ttl() {
    let h = dynamodb().await;
    let me = device("sensor-1", "0a1b");
    let r = h
        .send(post(&me, &reading("21.5", "2026-11-24T11:00:00.25Z")).rest())
        .await;
    assert_eq!(r.status, 201);
    let client = dynamodb_client(h.moto.as_ref().unwrap()).await;
    let items = client.scan().table_name(TABLE).send().await.unwrap();
    let [item] = items.items() else {
        panic!("one item expected: {items:?}")
    };
    let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    let n = |k: &str| item.get(k).and_then(|v| v.as_n().ok()).cloned();
    assert!(
        s(dynamo::PARTITION_KEY)
            .unwrap()
            .starts_with("name-sha256:")
    );
    assert_eq!(
        s(dynamo::SORT_KEY).unwrap(),
        "2026-11-24T11:00:00.250000000Z"
    );
    assert_eq!(n("temperature").unwrap(), "21.5");
    assert_eq!(s("subjectDn").unwrap(), "CN=sensor-1,OU=Sensors,O=Example");
    assert_eq!(s("issuerDn").unwrap(), "CN=Devices CA,O=Example");
    assert_eq!(s("serialNumber").unwrap(), "0a1b");
    assert_eq!(s("receivedAt").unwrap(), "2026-11-24T12:00:00.000000000Z");
    let ttl: i64 = n(dynamo::TTL_ATTRIBUTE).unwrap().parse().unwrap();
    assert_eq!(ttl, (NOW + RETENTION).unix_timestamp());
    // Nothing else: no body, no certificate.
    assert_eq!(item.len(), 8, "{item:?}");
}

#[tokio::test]
async fn a_dynamodb_failure_is_a_json_500_that_reveals_nothing() {
    let moto = Moto::start().await;
    let client = dynamodb_client(&moto).await;
    create_table(&client, "other-table").await;
    let h =
        Harness::from_app(App::new(DynamoStore::new(client, "missing-table"), RETENTION).unwrap());
    let me = device("sensor-1", "01");
    for event in [
        post(&me, &reading("20", "2026-11-24T11:00:00Z")).rest(),
        get(&me).http_v2(),
    ] {
        let r = h.send(event).await;
        assert_eq!(r.status, 500);
        assert_eq!(
            r.body,
            json!({"error": "internal_error", "message": "the request could not be completed"})
        );
    }
}

#[tokio::test]
async fn an_item_written_by_something_else_is_reported_not_misread() {
    let h = dynamodb().await;
    let me = device("sensor-1", "01");
    let key = h
        .send(
            mtls_tests::events::ProxyEvent::new("GET", "/whoami")
                .context(me.clone())
                .rest(),
        )
        .await
        .body["identityKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = dynamodb_client(h.moto.as_ref().unwrap()).await;
    client
        .put_item()
        .table_name(TABLE)
        .item(dynamo::PARTITION_KEY, AttributeValue::S(key))
        .item(dynamo::SORT_KEY, AttributeValue::S("yesterday".into()))
        .item("temperature", AttributeValue::S("warm".into()))
        .send()
        .await
        .unwrap();
    let r = h.send(get(&me).rest()).await;
    assert_eq!(r.status, 500);
}
