//! A stand-in for Shopify's Admin GraphQL API on loopback, holding the demo store's orders as
//! Shopify would: it checks the token, the API version, each operation's name and variables,
//! meters cost, and applies cancellations, refunds, returns and address changes. It serves many
//! shops, one per path (`/<shop>/admin/api/…`), each with its own copy of the orders.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::post,
};
use caly_core::order::{Order, OrderStatus, PaymentMethod, PaymentStatus};
use serde_json::{Value, json};

pub const TOKEN: &str = "shpat_test_token";
pub const VERSION: &str = "2025-10";

#[derive(Default)]
pub struct Books {
    pub orders: Vec<Value>,
    pub products: Vec<Value>,
    /// Every operation received: its name and variables.
    pub received: Vec<(String, Value)>,
    /// Answer the next this many requests with THROTTLED.
    pub throttle: u32,
    /// Answer the next this many requests with 503.
    pub unavailable: u32,
    /// Answer the next this many mutations with 503 after receiving them (they did not run).
    pub fail_mutations: u32,
}

/// Every shop's books, each made from the demo store on first use.
struct Shops {
    now: i64,
    books: HashMap<String, Books>,
}

impl Shops {
    fn of(&mut self, shop: &str) -> &mut Books {
        let now = self.now;
        self.books.entry(shop.to_owned()).or_insert_with(|| Books {
            orders: caly_commerce::demo::orders(now).iter().map(order_node).collect(),
            products: caly_commerce::demo::products().iter().map(product_node).collect(),
            ..Books::default()
        })
    }
}

pub struct FakeShopify {
    pub url: String,
    shops: Arc<Mutex<Shops>>,
}

impl FakeShopify {
    /// Serves the demo store's products and orders as of `now`, to every shop.
    pub async fn start(now: i64) -> Self {
        let shops = Arc::new(Mutex::new(Shops { now, books: HashMap::new() }));
        let route = "/{shop}/admin/api/{version}/graphql.json";
        let app = Router::new().route(route, post(graphql)).with_state(shops.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url: format!("http://{addr}"), shops }
    }

    pub fn books_for(&self, shop: &str, change: impl FnOnce(&mut Books)) {
        change(self.shops.lock().unwrap().of(shop));
    }

    /// The names of the operations `shop` received, in order.
    pub fn received(&self, shop: &str) -> Vec<String> {
        self.shops.lock().unwrap().of(shop).received.iter().map(|(name, _)| name.clone()).collect()
    }

    pub fn order_for(&self, shop: &str, number: &str) -> Value {
        let mut shops = self.shops.lock().unwrap();
        shops.of(shop).orders.iter().find(|o| o["name"] == format!("#{number}")).cloned().unwrap()
    }
}

fn rupees(paise: i64) -> String {
    format!("{}.{:02}", paise / 100, paise % 100)
}

fn at(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros).unwrap().to_string()
}

/// Shopify's shape of a Caly order.
pub fn order_node(order: &Order) -> Value {
    use OrderStatus::*;
    let fulfilled = matches!(order.status, Shipped | OutForDelivery | Delivered | Returned);
    let fulfillment = order.tracking.as_ref().filter(|_| fulfilled).map(|t| {
        json!({
            "displayStatus": match order.status { Delivered | Returned => "DELIVERED", OutForDelivery => "OUT_FOR_DELIVERY", _ => "IN_TRANSIT" },
            "deliveredAt": order.delivered_at.map(at),
            "estimatedDeliveryAt": t.eta.map(at),
            "trackingInfo": [{ "company": t.carrier, "number": t.awb, "url": t.url }],
            "events": { "nodes": t.events.iter().map(|e| json!({
                "happenedAt": at(e.at), "status": "IN_TRANSIT", "message": e.description, "city": e.location,
            })).collect::<Vec<_>>() },
            "fulfillmentLineItems": { "nodes": order.items.iter().enumerate().map(|(i, item)| json!({
                "id": format!("gid://shopify/FulfillmentLineItem/{}{i}", order.number), "quantity": item.quantity,
            })).collect::<Vec<_>>() },
        })
    });
    json!({
        "id": format!("gid://shopify/Order/{}", order.number),
        "name": format!("#{}", order.number),
        "phone": order.phone,
        "email": order.email,
        "createdAt": at(order.placed_at),
        "cancelledAt": (order.status == Cancelled).then(|| at(order.placed_at)),
        "statusPageUrl": order.invoice_url,
        "displayFinancialStatus": match order.payment_status {
            PaymentStatus::Paid => "PAID", PaymentStatus::Pending => "PENDING", PaymentStatus::Failed => "VOIDED",
            PaymentStatus::Refunded => "REFUNDED", PaymentStatus::PartiallyRefunded => "PARTIALLY_REFUNDED",
        },
        "displayFulfillmentStatus": match order.status { Confirmed => "UNFULFILLED", Packed => "IN_PROGRESS", _ => "FULFILLED" },
        "returnStatus": if order.status == Returned { "RETURNED" } else { "NO_RETURN" },
        "paymentGatewayNames": [if order.payment_method == PaymentMethod::Cod { "Cash on Delivery (COD)" } else { "razorpay" }],
        "totalPriceSet": { "shopMoney": { "amount": rupees(order.total_paise) } },
        "totalRefundedSet": { "shopMoney": { "amount": rupees(order.refunded_paise) } },
        "customer": { "displayName": order.customer_name, "phone": order.phone },
        "shippingAddress": { "address1": order.address, "address2": null, "city": null, "province": null, "zip": order.pincode, "phone": order.phone },
        "lineItems": { "nodes": order.items.iter().map(|i| json!({
            "sku": i.sku, "title": i.title, "quantity": i.quantity,
            "originalUnitPriceSet": { "shopMoney": { "amount": rupees(i.price_paise) } },
        })).collect::<Vec<_>>() },
        "fulfillments": fulfillment.into_iter().collect::<Vec<_>>(),
    })
}

fn product_node(product: &caly_core::order::Product) -> Value {
    let variants: Vec<Value> = if product.variants.is_empty() {
        vec![json!({ "title": "Default Title", "sku": product.sku, "price": rupees(product.price_paise) })]
    } else {
        product
            .variants
            .iter()
            .map(|v| json!({ "title": v, "sku": product.sku, "price": rupees(product.price_paise) }))
            .collect()
    };
    json!({ "title": product.title, "totalInventory": product.in_stock, "variants": { "nodes": variants } })
}

fn cost(available: f64) -> Value {
    json!({ "cost": { "requestedQueryCost": 12, "actualQueryCost": 12,
        "throttleStatus": { "maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": 100.0 } } })
}

fn money(value: &Value) -> i64 {
    caly_core::settings::parse_inr(value.as_str().unwrap()).unwrap()
}

/// The operation and what it needs: (name, required words in the document, required variables).
const OPERATIONS: [(&str, &[&str], &[&str]); 7] = [
    ("FindOrder", &["orders(first: 1, query: $query)", "fulfillmentLineItems", "trackingInfo"], &["query"]),
    ("OrdersForPhone", &["orders(first: 20"], &["query"]),
    ("CancelOrder", &["orderCancel(", "orderCancelUserErrors"], &["orderId", "reason", "refund", "restock"]),
    ("Refund", &["refundCreate(input: $input)", "userErrors"], &["input"]),
    ("RequestReturn", &["returnRequest(input: $input)", "userErrors"], &["input"]),
    ("UpdateAddress", &["orderUpdate(input: $input)", "userErrors"], &["input"]),
    ("Products", &["products(first: 5, query: $query)", "totalInventory"], &["query"]),
];

async fn graphql(
    State(shops): State<Arc<Mutex<Shops>>>,
    Path((shop, version)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, (StatusCode, String)> {
    if headers.get("x-shopify-access-token").and_then(|v| v.to_str().ok()) != Some(TOKEN) {
        return Err((StatusCode::UNAUTHORIZED, "[API] Invalid API key or access token".into()));
    }
    if version != VERSION {
        return Err((StatusCode::NOT_FOUND, format!("unknown API version {version}")));
    }
    let query = body["query"].as_str().unwrap_or_default();
    let variables = body["variables"].clone();
    let name = query.split(['(', ' ', '{']).nth(1).unwrap_or_default().to_owned();
    let Some((_, words, needed)) = OPERATIONS.iter().find(|(op, ..)| *op == name) else {
        return Err((StatusCode::BAD_REQUEST, format!("unexpected operation {name}")));
    };
    for word in *words {
        if !query.contains(word) {
            return Err((StatusCode::BAD_REQUEST, format!("{name} lacks `{word}`")));
        }
    }
    for variable in *needed {
        if variables[variable].is_null() {
            return Err((StatusCode::BAD_REQUEST, format!("{name} lacks ${variable}")));
        }
    }
    let mut shops = shops.lock().unwrap();
    let books = shops.of(&shop);
    if books.unavailable > 0 {
        books.unavailable -= 1;
        return Err((StatusCode::SERVICE_UNAVAILABLE, "try later".into()));
    }
    if books.throttle > 0 {
        books.throttle -= 1;
        let mut answer = json!({ "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED" } }] });
        answer["extensions"] = cost(5.0);
        return Ok(Json(answer));
    }
    books.received.push((name.clone(), variables.clone()));
    if query.starts_with("mutation") && books.fail_mutations > 0 {
        books.fail_mutations -= 1;
        return Err((StatusCode::SERVICE_UNAVAILABLE, "internal error".into()));
    }
    let data = answer(books, &name, &variables).map_err(|e| (StatusCode::BAD_REQUEST, e))?;
    Ok(Json(json!({ "data": data, "extensions": cost(1900.0) })))
}

fn answer(books: &mut Books, name: &str, variables: &Value) -> Result<Value, String> {
    let by_id = |books: &mut Books, id: &Value| {
        let id = id.as_str().map(str::to_owned);
        books.orders.iter_mut().position(|o| o["id"].as_str().map(str::to_owned) == id)
    };
    Ok(match name {
        "FindOrder" => {
            let wanted = variables["query"].as_str().unwrap().strip_prefix("name:").ok_or("query must be name:#…")?;
            let nodes: Vec<&Value> = books.orders.iter().filter(|o| o["name"] == wanted).collect();
            json!({ "orders": { "nodes": nodes } })
        }
        "OrdersForPhone" => {
            let phone = variables["query"].as_str().unwrap().strip_prefix("phone:").ok_or("query must be phone:…")?;
            let nodes: Vec<&Value> = books.orders.iter().filter(|o| o["phone"] == phone).collect();
            json!({ "orders": { "nodes": nodes } })
        }
        "CancelOrder" => {
            if !["CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "STAFF", "OTHER"]
                .contains(&variables["reason"].as_str().unwrap_or(""))
            {
                return Err("reason must be an OrderCancelReason".into());
            }
            let index = by_id(books, &variables["orderId"]).ok_or("no such order")?;
            let order = &mut books.orders[index];
            if !order["cancelledAt"].is_null() {
                return Ok(
                    json!({ "orderCancel": { "job": null, "orderCancelUserErrors": [{ "field": ["orderId"], "message": "Order has already been cancelled", "code": "ORDER_ALREADY_CANCELLED" }] } }),
                );
            }
            order["cancelledAt"] = json!("2026-11-28T00:00:00Z");
            if order["displayFinancialStatus"] == "PAID" && variables["refund"] == true {
                order["totalRefundedSet"] = order["totalPriceSet"].clone();
                order["displayFinancialStatus"] = json!("REFUNDED");
            }
            json!({ "orderCancel": { "job": { "id": "gid://shopify/Job/1" }, "orderCancelUserErrors": [] } })
        }
        "Refund" => {
            let input = &variables["input"];
            let transaction = &input["transactions"][0];
            if transaction["kind"] != "REFUND"
                || transaction["gateway"].is_null()
                || input["orderId"] != transaction["orderId"]
            {
                return Err("a refund transaction needs kind REFUND, the gateway and the order".into());
            }
            let index = by_id(books, &input["orderId"]).ok_or("no such order")?;
            let order = &mut books.orders[index];
            let refunded = money(&order["totalRefundedSet"]["shopMoney"]["amount"]) + money(&transaction["amount"]);
            let total = money(&order["totalPriceSet"]["shopMoney"]["amount"]);
            if refunded > total {
                return Ok(
                    json!({ "refundCreate": { "refund": null, "userErrors": [{ "field": ["transactions"], "message": "Refund amount exceeds the refundable amount" }] } }),
                );
            }
            order["totalRefundedSet"]["shopMoney"]["amount"] = json!(rupees(refunded));
            order["displayFinancialStatus"] = json!(if refunded == total { "REFUNDED" } else { "PARTIALLY_REFUNDED" });
            json!({ "refundCreate": { "refund": { "id": format!("gid://shopify/Refund/{refunded}") }, "userErrors": [] } })
        }
        "RequestReturn" => {
            let input = &variables["input"];
            let lines = input["returnLineItems"].as_array().ok_or("returnLineItems must be a list")?;
            if lines.is_empty()
                || lines.iter().any(|l| l["fulfillmentLineItemId"].is_null() || l["returnReason"].is_null())
            {
                return Err("each return line needs a fulfillment line item and a reason".into());
            }
            by_id(books, &input["orderId"]).ok_or("no such order")?;
            json!({ "returnRequest": { "return": { "id": "gid://shopify/Return/1", "status": "REQUESTED" }, "userErrors": [] } })
        }
        "UpdateAddress" => {
            let input = &variables["input"];
            let index = by_id(books, &input["id"]).ok_or("no such order")?;
            let order = &mut books.orders[index];
            order["shippingAddress"]["address1"] = input["shippingAddress"]["address1"].clone();
            order["shippingAddress"]["zip"] = input["shippingAddress"]["zip"].clone();
            json!({ "orderUpdate": { "order": { "id": order["id"] }, "userErrors": [] } })
        }
        "Products" => {
            let query = variables["query"].as_str().unwrap().to_lowercase();
            let words: Vec<String> = query
                .split(" or ")
                .filter_map(|t| t.strip_prefix("title:*")?.strip_suffix('*').map(str::to_owned))
                .collect();
            let nodes: Vec<&Value> = books
                .products
                .iter()
                .filter(|p| words.iter().any(|w| p["title"].as_str().unwrap().to_lowercase().contains(w.as_str())))
                .collect();
            json!({ "products": { "nodes": nodes } })
        }
        _ => unreachable!("checked against OPERATIONS"),
    })
}
