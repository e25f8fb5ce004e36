//! Shared set-up for the api-handler tests: the app over either store, and a
//! way to send it events.

use api_handler::App;
use api_handler::store::{DynamoStore, LocalStore, Store, dynamo};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use mtls_tests::events::{ProxyEvent, allow_context};
use mtls_tests::moto::Moto;
use serde_json::Value;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The test clock.
pub const NOW: OffsetDateTime = datetime!(2026-11-24 12:00:00 UTC);

/// Retention used by the tests.
pub const RETENTION: Duration = Duration::days(30);

/// The table the DynamoDB tests create.
pub const TABLE: &str = "temps";

/// The app over a store, and whatever keeps that store alive.
pub struct Harness<S> {
    pub app: App<S>,
    _dir: Option<tempfile::TempDir>,
    pub moto: Option<Moto>,
}

/// A decoded proxy response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Value,
    pub body: Value,
}

impl<S: Store> Harness<S> {
    /// An app whose store needs nothing kept alive.
    pub fn from_app(app: App<S>) -> Self {
        Self {
            app,
            _dir: None,
            moto: None,
        }
    }

    /// Sends one proxy event at the test clock's time.
    pub async fn send(&self, event: Value) -> Reply {
        self.send_at(event, NOW).await
    }

    /// Sends one proxy event at `now`.
    pub async fn send_at(&self, event: Value, now: OffsetDateTime) -> Reply {
        let out = self.app.handle(event, now).await;
        let status = u16::try_from(out["statusCode"].as_u64().unwrap()).unwrap();
        assert_eq!(out["headers"]["content-type"], "application/json", "{out}");
        assert_eq!(out["isBase64Encoded"], false);
        let body = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
        Reply {
            status,
            headers: out["headers"].clone(),
            body,
        }
    }
}

/// A local (SQLite) store in a fresh temporary directory.
pub fn local() -> Harness<LocalStore> {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path(), NOW).unwrap();
    Harness {
        app: App::new(store, RETENTION).unwrap(),
        _dir: Some(dir),
        moto: None,
    }
}

/// A DynamoDB client for a moto server.
pub async fn dynamodb_client(moto: &Moto) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&moto.sdk_config().await)
}

/// Creates the table as the infrastructure does: the documented keys,
/// on-demand, with TTL on `expiresAt`.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, table: &str) {
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(table)
        .attribute_definitions(attr(dynamo::PARTITION_KEY))
        .attribute_definitions(attr(dynamo::SORT_KEY))
        .key_schema(key(dynamo::PARTITION_KEY, KeyType::Hash))
        .key_schema(key(dynamo::SORT_KEY, KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(dynamo::TTL_ATTRIBUTE)
                .enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

/// A DynamoDB store on a fresh moto server with the table created.
pub async fn dynamodb() -> Harness<DynamoStore> {
    let moto = Moto::start().await;
    let client = dynamodb_client(&moto).await;
    create_table(&client, TABLE).await;
    Harness {
        app: App::new(DynamoStore::new(client, TABLE), RETENTION).unwrap(),
        _dir: None,
        moto: Some(moto),
    }
}

/// A device's authorizer context: `CN=<name>` under the Devices CA.
pub fn device(name: &str, serial: &str) -> Value {
    allow_context(
        &format!("CN={name},OU=Sensors,O=Example"),
        "CN=Devices CA,O=Example",
        serial,
    )
}

/// `POST /temps` with a JSON body, as `device`.
pub fn post(context: &Value, body: &str) -> ProxyEvent {
    ProxyEvent::new("POST", "/temps")
        .json(body)
        .context(context.clone())
}

/// A reading body.
pub fn reading(temperature: &str, time: &str) -> String {
    format!(r#"{{"temperature": {temperature}, "time": "{time}"}}"#)
}

/// `GET /temps` as `device`.
pub fn get(context: &Value) -> ProxyEvent {
    ProxyEvent::new("GET", "/temps").context(context.clone())
}

/// The readings of a `GET /temps` reply, as (temperature, time) pairs.
pub fn readings(reply: &Reply) -> Vec<(f64, String)> {
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["readings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["temperature"].as_f64().unwrap(),
                r["time"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
