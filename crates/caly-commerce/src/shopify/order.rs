//! The GraphQL we send Shopify, and Shopify's orders and products read as Caly's.

use caly_core::{
    PhoneNumber,
    order::{Item, Order, OrderStatus, PaymentMethod, PaymentStatus, Product, Tracking, TrackingEvent},
};
use serde_json::Value;

use super::money;

/// The fields of an order we read; a macro so that `concat!` can put it in both queries.
macro_rules! order_fields {
    () => {
        "id name phone email createdAt cancelledAt statusPageUrl displayFinancialStatus \
         displayFulfillmentStatus returnStatus paymentGatewayNames \
         totalPriceSet { shopMoney { amount } } totalRefundedSet { shopMoney { amount } } \
         customer { displayName phone } shippingAddress { address1 address2 city province zip phone } \
         lineItems(first: 50) { nodes { sku title quantity originalUnitPriceSet { shopMoney { amount } } } } \
         fulfillments(first: 5) { displayStatus deliveredAt estimatedDeliveryAt \
         trackingInfo(first: 1) { company number url } \
         events(first: 20) { nodes { happenedAt status message city } } \
         fulfillmentLineItems(first: 50) { nodes { id quantity } } }"
    };
}

pub const FIND: &str =
    concat!("query FindOrder($query: String!) { orders(first: 1, query: $query) { nodes { ", order_fields!(), " } } }");
pub const FIND_MANY: &str = concat!(
    "query OrdersForPhone($query: String!) { orders(first: 20, sortKey: CREATED_AT, reverse: true, query: $query) ",
    "{ nodes { ",
    order_fields!(),
    " } } }"
);
pub const CANCEL: &str = "mutation CancelOrder($orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!, \
    $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: String) { orderCancel(orderId: $orderId, reason: $reason, \
    refund: $refund, restock: $restock, notifyCustomer: $notifyCustomer, staffNote: $staffNote) \
    { job { id } orderCancelUserErrors { field message code } } }";
pub const REFUND: &str = "mutation Refund($input: RefundInput!) { refundCreate(input: $input) \
    { refund { id } userErrors { field message } } }";
pub const RETURN: &str = "mutation RequestReturn($input: ReturnRequestInput!) { returnRequest(input: $input) \
    { return { id status } userErrors { field message } } }";
pub const UPDATE_ADDRESS: &str = "mutation UpdateAddress($input: OrderInput!) { orderUpdate(input: $input) \
    { order { id } userErrors { field message } } }";
pub const PRODUCTS: &str = "query Products($query: String!) { products(first: 5, query: $query) \
    { nodes { title totalInventory variants(first: 20) { nodes { title sku price } } } } }";

fn micros(value: &Value) -> Option<i64> {
    value.as_str()?.parse::<jiff::Timestamp>().ok().map(|t| t.as_microsecond())
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// Where the order is, from Shopify's cancellation, return and fulfilment states.
fn status(node: &Value, fulfillment: Option<&Value>) -> OrderStatus {
    if !node["cancelledAt"].is_null() {
        return OrderStatus::Cancelled;
    }
    if node["returnStatus"] == "RETURNED" {
        return OrderStatus::Returned;
    }
    match (node["displayFulfillmentStatus"].as_str(), fulfillment.and_then(|f| f["displayStatus"].as_str())) {
        (_, Some("DELIVERED")) => OrderStatus::Delivered,
        (_, Some("OUT_FOR_DELIVERY")) => OrderStatus::OutForDelivery,
        (Some("FULFILLED" | "PARTIALLY_FULFILLED"), _) => OrderStatus::Shipped,
        (Some("IN_PROGRESS" | "ON_HOLD" | "SCHEDULED"), _) => OrderStatus::Packed,
        _ => OrderStatus::Confirmed,
    }
}

fn payment(node: &Value) -> (PaymentMethod, PaymentStatus) {
    let cod = node["paymentGatewayNames"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|g| g.as_str().is_some_and(|g| g.to_lowercase().contains("cash on delivery") || g.contains("COD")));
    let status = match node["displayFinancialStatus"].as_str() {
        Some("PAID") => PaymentStatus::Paid,
        Some("REFUNDED") => PaymentStatus::Refunded,
        Some("PARTIALLY_REFUNDED") => PaymentStatus::PartiallyRefunded,
        Some("VOIDED" | "EXPIRED") => PaymentStatus::Failed,
        _ => PaymentStatus::Pending,
    };
    (if cod { PaymentMethod::Cod } else { PaymentMethod::Prepaid }, status)
}

pub fn from_node(node: &Value) -> Order {
    let fulfillment = node["fulfillments"].as_array().and_then(|f| f.first());
    let address = &node["shippingAddress"];
    let phone = [&node["phone"], &node["customer"]["phone"], &address["phone"]]
        .into_iter()
        .filter_map(|p| p.as_str())
        .find_map(|p| PhoneNumber::parse(p).ok())
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let items = node["lineItems"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|line| Item {
            sku: text(&line["sku"]),
            title: text(&line["title"]),
            quantity: line["quantity"].as_u64().unwrap_or(0) as u32,
            price_paise: money(&line["originalUnitPriceSet"]["shopMoney"]["amount"]),
        })
        .collect();
    let (payment_method, payment_status) = payment(node);
    let tracking = fulfillment.filter(|f| !f["trackingInfo"][0].is_null()).map(|f| Tracking {
        carrier: text(&f["trackingInfo"][0]["company"]),
        awb: text(&f["trackingInfo"][0]["number"]),
        url: f["trackingInfo"][0]["url"].as_str().map(str::to_owned),
        eta: micros(&f["estimatedDeliveryAt"]),
        events: f["events"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| TrackingEvent {
                at: micros(&e["happenedAt"]).unwrap_or(0),
                location: text(&e["city"]),
                description: e["message"].as_str().map_or_else(|| text(&e["status"]), str::to_owned),
            })
            .collect(),
    });
    let lines = [&address["address1"], &address["address2"], &address["city"], &address["province"]];
    Order {
        number: text(&node["name"]).trim_start_matches('#').to_owned(),
        customer_name: text(&node["customer"]["displayName"]),
        phone,
        email: node["email"].as_str().map(str::to_owned),
        status: status(node, fulfillment),
        placed_at: micros(&node["createdAt"]).unwrap_or(0),
        delivered_at: fulfillment.and_then(|f| micros(&f["deliveredAt"])),
        total_paise: money(&node["totalPriceSet"]["shopMoney"]["amount"]),
        refunded_paise: money(&node["totalRefundedSet"]["shopMoney"]["amount"]),
        payment_method,
        payment_status,
        items,
        address: lines.iter().filter_map(|l| l.as_str()).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(", "),
        pincode: text(&address["zip"]),
        tracking,
        invoice_url: node["statusPageUrl"].as_str().map(str::to_owned),
    }
}

/// Every fulfilled line of the order with its quantity, for a return.
pub fn fulfilled_lines(node: &Value) -> impl Iterator<Item = (String, u64)> + '_ {
    node["fulfillments"].as_array().into_iter().flatten().flat_map(|f| {
        f["fulfillmentLineItems"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|line| (text(&line["id"]), line["quantity"].as_u64().unwrap_or(1)))
    })
}

pub fn product(node: &Value) -> Product {
    let variants: Vec<&Value> = node["variants"]["nodes"].as_array().into_iter().flatten().collect();
    Product {
        sku: variants.first().map(|v| text(&v["sku"])).unwrap_or_default(),
        title: text(&node["title"]),
        price_paise: variants.first().map_or(0, |v| money(&v["price"])),
        in_stock: node["totalInventory"].as_i64().unwrap_or(0).max(0) as u32,
        variants: variants.iter().map(|v| text(&v["title"])).filter(|t| t != "Default Title").collect(),
    }
}
