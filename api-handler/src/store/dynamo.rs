//! The AWS store: one DynamoDB table (`TEMPS_TABLE`), created by the
//! infrastructure, not by this code.
//!
//! | attribute | type | role |
//! |---|---|---|
//! | `identityKey` | S | partition key ([`crate::identity::Identity::key`]) |
//! | `readingTime` | S | sort key, RFC 3339 UTC with nine fraction digits |
//! | `temperature` | N | degrees Celsius |
//! | `subjectDn`, `issuerDn`, `serialNumber` | S | the certificate that sent it |
//! | `receivedAt` | S | when the API received it |
//! | `expiresAt` | N | TTL attribute, epoch seconds |

use std::collections::HashMap;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{MAX_FILTERED_PAGES, NewReading, PutOutcome, Store, Writer, outcome_against};
use crate::error::{Error, Result};
use crate::identity::IdentityKey;
use crate::reading::{Reading, ReadingTime};

/// Partition key attribute.
pub const PARTITION_KEY: &str = "identityKey";
/// Sort key attribute.
pub const SORT_KEY: &str = "readingTime";
/// TTL attribute.
pub const TTL_ATTRIBUTE: &str = "expiresAt";
/// The serial of the certificate that wrote the reading.
pub(crate) const SERIAL_ATTRIBUTE: &str = "serialNumber";

/// Items a filtered `Query` page reads before its filter: with
/// [`MAX_FILTERED_PAGES`], at most 1,000 items for one legacy read.
const FILTERED_PAGE_ITEMS: i32 = 100;

/// Readings in a DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoStore {
    /// A store on `table` through `client`.
    #[must_use]
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn fail<E: std::error::Error>(&self, operation: &'static str, e: E) -> Error {
        Error::Dynamo {
            operation,
            table: self.table.clone(),
            message: DisplayErrorContext(&e).to_string(),
        }
    }

    /// The temperature stored at (key, time), read strongly consistently.
    async fn stored_temperature(&self, key: &str, time: &str) -> Result<Option<f64>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, AttributeValue::S(key.to_owned()))
            .key(SORT_KEY, AttributeValue::S(time.to_owned()))
            .projection_expression("#t")
            .expression_attribute_names("#t", "temperature")
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.fail("GetItem", e))?;
        out.item().map(temperature_of).transpose()
    }
}

fn temperature_of(item: &HashMap<String, AttributeValue>) -> Result<f64> {
    match item.get("temperature") {
        Some(AttributeValue::N(n)) => n
            .parse()
            .map_err(|_| Error::Corrupt(format!("temperature {n:?} is not a number"))),
        other => Err(Error::Corrupt(format!("temperature is {other:?}"))),
    }
}

fn reading_of(item: &HashMap<String, AttributeValue>) -> Result<Reading> {
    let time = match item.get(SORT_KEY) {
        Some(AttributeValue::S(t)) => ReadingTime::from_sort_key(t)?,
        other => return Err(Error::Corrupt(format!("{SORT_KEY} is {other:?}"))),
    };
    Ok(Reading {
        temperature: temperature_of(item)?,
        time,
    })
}

/// A DynamoDB number: the shortest text that reads back as the same f64.
fn number(n: f64) -> AttributeValue {
    AttributeValue::N(
        serde_json::Number::from_f64(n).map_or_else(|| n.to_string(), |v| v.to_string()),
    )
}

impl Store for DynamoStore {
    async fn put(&self, new: NewReading<'_>) -> Result<PutOutcome> {
        let key = new.key.as_str();
        let time = new.reading.time.sort_key();
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(PARTITION_KEY, s(key))
            .item(SORT_KEY, s(&time))
            .item("temperature", number(new.reading.temperature))
            .item("subjectDn", s(&new.identity.subject_dn))
            .item("issuerDn", s(&new.identity.issuer_dn))
            .item(SERIAL_ATTRIBUTE, s(&new.identity.serial_number))
            .item(
                "receivedAt",
                s(&ReadingTime::from_instant(new.received_at).sort_key()),
            )
            .item(
                TTL_ATTRIBUTE,
                AttributeValue::N(new.expires_at.unix_timestamp().to_string()),
            )
            // First write wins: a retry must not overwrite, and a different
            // value for the same instant is a conflict, not an update.
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .send()
            .await;
        match result {
            Ok(_) => Ok(PutOutcome::Created),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                let stored = self.stored_temperature(key, &time).await?;
                Ok(stored.map_or(PutOutcome::AlreadyStored, |s| {
                    outcome_against(s, new.reading.temperature)
                }))
            }
            Err(e) => Err(self.fail("PutItem", e)),
        }
    }

    async fn latest(
        &self,
        key: &IdentityKey,
        writer: Writer<'_>,
        limit: usize,
    ) -> Result<Vec<Reading>> {
        let mut readings = Vec::new();
        let mut start = None;
        // A filter runs after the page's limit, so a filtered read may need
        // several pages; at most MAX_FILTERED_PAGES of them.
        for _ in 0..MAX_FILTERED_PAGES {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .expression_attribute_values(":pk", AttributeValue::S(key.as_str().to_owned()))
                // Newest first; a device reads its own write at once.
                .scan_index_forward(false)
                .consistent_read(true)
                .limit(match writer {
                    Writer::Any => i32::try_from(limit).unwrap_or(i32::MAX),
                    Writer::Certificate(_) => FILTERED_PAGE_ITEMS,
                })
                .set_exclusive_start_key(start.take());
            if let Writer::Certificate(serial) = writer {
                query = query
                    .filter_expression("#serial = :serial")
                    .expression_attribute_names("#serial", SERIAL_ATTRIBUTE)
                    .expression_attribute_values(":serial", AttributeValue::S(serial.to_owned()));
            }
            let out = query.send().await.map_err(|e| self.fail("Query", e))?;
            for item in out.items() {
                readings.push(reading_of(item)?);
            }
            start = out.last_evaluated_key().cloned();
            if readings.len() >= limit || start.is_none() {
                break;
            }
        }
        readings.truncate(limit);
        Ok(readings)
    }
}
