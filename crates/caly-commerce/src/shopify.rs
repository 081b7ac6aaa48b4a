//! Shopify, through its Admin GraphQL API: one POST per question, the access token in
//! `X-Shopify-Access-Token`. Shopify meters queries by cost; when it says THROTTLED, we wait as
//! long as its restore rate says the points take to come back, then try again. Server errors
//! and timeouts are retried with jittered backoff; a mutation is retried only when Shopify
//! never answered it.

mod order;

use std::time::Duration;

use caly_core::{
    PhoneNumber,
    action::ActionKind,
    order::{Order, OrderNumber, Product},
    settings::parse_inr,
};
use serde_json::{Value, json};

use crate::{CommerceError, Receipt, Store};

/// Where and how to reach one shop.
#[derive(Debug, Clone)]
pub struct Shop {
    /// `https://kurta-ghar.myshopify.com`, or an operator's proxy.
    pub base_url: String,
    pub api_version: String,
    pub access_token: String,
}

pub struct Shopify {
    shop: Shop,
    http: reqwest::Client,
}

const ATTEMPTS: u32 = 4;

impl Shopify {
    pub fn new(shop: Shop, http: reqwest::Client) -> Self {
        Self { shop, http }
    }

    fn endpoint(&self) -> String {
        format!("{}/admin/api/{}/graphql.json", self.shop.base_url.trim_end_matches('/'), self.shop.api_version)
    }

    /// Runs one query or mutation and returns its `data`.
    async fn graphql(&self, query: &str, variables: Value, mutation: bool) -> Result<Value, CommerceError> {
        let body = json!({ "query": query, "variables": variables });
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .http
                .post(self.endpoint())
                .header("X-Shopify-Access-Token", &self.shop.access_token)
                .json(&body)
                .send()
                .await;
            let (why, wait) = match sent {
                Err(error) if mutation && !error.is_connect() => {
                    // Shopify may have run it: retrying could cancel or refund twice.
                    return Err(CommerceError::Unavailable(format!("no answer from Shopify: {error}")));
                }
                Err(error) => (format!("cannot reach Shopify: {error}"), backoff(attempt)),
                // 429 was not run; a 5xx may have been, so only a query is tried again after one.
                Ok(response)
                    if response.status().as_u16() == 429 || (!mutation && response.status().is_server_error()) =>
                {
                    let after = retry_after(&response).unwrap_or_else(|| backoff(attempt));
                    (format!("Shopify answered {}", response.status()), after)
                }
                Ok(response) if !response.status().is_success() => {
                    return Err(CommerceError::Unavailable(format!("Shopify answered {}", response.status())));
                }
                Ok(response) => {
                    let answer: Value = response
                        .json()
                        .await
                        .map_err(|e| CommerceError::Unavailable(format!("Shopify's answer is not JSON: {e}")))?;
                    match throttled(&answer) {
                        Some(wait) => ("Shopify throttled the query".to_owned(), wait),
                        None => return data(answer),
                    }
                }
            };
            if attempt >= ATTEMPTS {
                return Err(CommerceError::Unavailable(why));
            }
            tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, "{why}; retrying");
            tokio::time::sleep(wait).await;
        }
    }

    async fn order_node(&self, number: &str) -> Result<Option<Value>, CommerceError> {
        // Only a well-formed number goes into Shopify's search syntax; anything else is no order.
        let Ok(number) = OrderNumber::parse(number) else { return Ok(None) };
        let query = format!("name:#{}", number.as_str());
        let data = self.graphql(order::FIND, json!({ "query": query }), false).await?;
        Ok(data["orders"]["nodes"].as_array().and_then(|nodes| nodes.first()).cloned())
    }

    /// The order's Shopify id, or `OrderNotFound`.
    async fn order_id(&self, number: &str) -> Result<(String, Value), CommerceError> {
        let node = self.order_node(number).await?.ok_or_else(|| CommerceError::OrderNotFound(number.to_owned()))?;
        let id = node["id"].as_str().unwrap_or_default().to_owned();
        Ok((id, node))
    }

    /// A mutation's payload, refused when Shopify lists user errors.
    async fn mutate(&self, mutation: &str, field: &str, variables: Value) -> Result<Value, CommerceError> {
        let data = self.graphql(mutation, variables, true).await?;
        let payload = data[field].clone();
        let errors = payload
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(key, _)| key.ends_with("serErrors"))
            .flat_map(|(_, errors)| errors.as_array().cloned().unwrap_or_default())
            .filter_map(|error| error["message"].as_str().map(str::to_owned))
            .collect::<Vec<_>>();
        if errors.is_empty() { Ok(payload) } else { Err(CommerceError::Refused(errors.join("; "))) }
    }
}

fn backoff(attempt: u32) -> Duration {
    let base = 200u64 << attempt.min(5);
    Duration::from_millis(base + rand::random_range(0..base / 2))
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let seconds: f64 = response.headers().get("retry-after")?.to_str().ok()?.parse().ok()?;
    Some(Duration::from_secs_f64(seconds.clamp(0.0, 30.0)))
}

/// How long until the points a throttled query needs are restored, if it was throttled.
fn throttled(answer: &Value) -> Option<Duration> {
    let errors = answer["errors"].as_array()?;
    if !errors.iter().any(|e| e["extensions"]["code"] == "THROTTLED") {
        return None;
    }
    let cost = &answer["extensions"]["cost"];
    let needed = cost["requestedQueryCost"].as_f64().unwrap_or(1.0);
    let available = cost["throttleStatus"]["currentlyAvailable"].as_f64().unwrap_or(0.0);
    let restore = cost["throttleStatus"]["restoreRate"].as_f64().filter(|r| *r > 0.0).unwrap_or(50.0);
    Some(Duration::from_secs_f64(((needed - available) / restore).clamp(0.05, 10.0)))
}

fn data(answer: Value) -> Result<Value, CommerceError> {
    if let Some(errors) = answer["errors"].as_array().filter(|e| !e.is_empty()) {
        let messages: Vec<&str> = errors.iter().filter_map(|e| e["message"].as_str()).collect();
        return Err(CommerceError::Unavailable(format!("Shopify refused the query: {}", messages.join("; "))));
    }
    Ok(answer["data"].clone())
}

/// Paise as Shopify's decimal amount: 44900 → "449.00".
fn amount(paise: i64) -> String {
    format!("{}.{:02}", paise / 100, paise % 100)
}

fn money(value: &Value) -> i64 {
    value.as_str().and_then(|text| parse_inr(text).ok()).unwrap_or(0)
}

#[async_trait::async_trait]
impl Store for Shopify {
    async fn find_order(&self, number: &str) -> Result<Option<Order>, CommerceError> {
        Ok(self.order_node(number).await?.map(|node| order::from_node(&node)))
    }

    async fn orders_for_phone(&self, phone: &str) -> Result<Vec<Order>, CommerceError> {
        let Ok(phone) = PhoneNumber::parse(phone) else { return Ok(Vec::new()) };
        let query = format!("phone:{}", phone.as_str());
        let data = self.graphql(order::FIND_MANY, json!({ "query": query }), false).await?;
        Ok(data["orders"]["nodes"].as_array().into_iter().flatten().map(order::from_node).collect())
    }

    async fn cancel(&self, number: &str, reason: Option<&str>) -> Result<Receipt, CommerceError> {
        let (id, _) = self.order_id(number).await?;
        let variables = json!({ "orderId": id, "reason": "CUSTOMER", "refund": true, "restock": true,
            "notifyCustomer": true, "staffNote": reason.unwrap_or("Cancelled by the caller through Caly") });
        let payload = self.mutate(order::CANCEL, "orderCancel", variables).await?;
        let job = payload["job"]["id"].as_str().unwrap_or_default();
        Ok(Receipt {
            reference: job.to_owned(),
            detail: "cancellation requested; refund to the original payment".into(),
        })
    }

    async fn refund(&self, number: &str, amount_paise: i64, reason: Option<&str>) -> Result<Receipt, CommerceError> {
        let (id, node) = self.order_id(number).await?;
        let gateway = node["paymentGatewayNames"][0].as_str().unwrap_or("manual");
        let variables = json!({ "input": {
            "orderId": id,
            "note": reason.unwrap_or("Refunded by the caller's request through Caly"),
            "notify": true,
            "transactions": [{ "orderId": id, "gateway": gateway, "kind": "REFUND", "amount": amount(amount_paise) }],
        }});
        let payload = self.mutate(order::REFUND, "refundCreate", variables).await?;
        let refund = payload["refund"]["id"].as_str().unwrap_or_default();
        Ok(Receipt { reference: refund.to_owned(), detail: format!("{} refunded", amount(amount_paise)) })
    }

    async fn request_return(&self, number: &str, kind: ActionKind, reason: &str) -> Result<Receipt, CommerceError> {
        let (id, node) = self.order_id(number).await?;
        let note = if kind == ActionKind::Exchange { format!("Exchange: {reason}") } else { reason.to_owned() };
        let lines: Vec<Value> = order::fulfilled_lines(&node)
            .map(|(line, quantity)| {
                json!({ "fulfillmentLineItemId": line, "quantity": quantity, "returnReason": "OTHER", "customerNote": note })
            })
            .collect();
        if lines.is_empty() {
            return Err(CommerceError::Refused(format!("order {number} has nothing fulfilled to return")));
        }
        let variables = json!({ "input": { "orderId": id, "returnLineItems": lines } });
        let payload = self.mutate(order::RETURN, "returnRequest", variables).await?;
        let reference = payload["return"]["id"].as_str().unwrap_or_default();
        Ok(Receipt { reference: reference.to_owned(), detail: format!("{kind} requested") })
    }

    async fn update_address(&self, number: &str, address: &str) -> Result<Receipt, CommerceError> {
        let (id, _) = self.order_id(number).await?;
        let zip = address.split(|c: char| !c.is_ascii_digit()).rfind(|run| run.len() == 6);
        let variables = json!({ "input": { "id": id, "shippingAddress": { "address1": address, "zip": zip, "countryCode": "IN" } } });
        let payload = self.mutate(order::UPDATE_ADDRESS, "orderUpdate", variables).await?;
        let reference = payload["order"]["id"].as_str().unwrap_or_default();
        Ok(Receipt { reference: reference.to_owned(), detail: "shipping address updated".into() })
    }

    async fn search_products(&self, query: &str) -> Result<Vec<Product>, CommerceError> {
        let words: Vec<&str> = query.split_whitespace().filter(|w| w.chars().count() > 2).collect();
        let search =
            words.iter().map(|w| format!("title:*{}*", w.replace(['"', '\\', ':', '*'], ""))).collect::<Vec<_>>();
        let data = self.graphql(order::PRODUCTS, json!({ "query": search.join(" OR ") }), false).await?;
        Ok(data["products"]["nodes"].as_array().into_iter().flatten().map(order::product).collect())
    }
}
