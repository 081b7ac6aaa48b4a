//! Orders as the agent sees them, whatever store they come from (Shopify, the demo store).

use serde::{Deserialize, Serialize};

use crate::choice;

choice! {
    /// Where an order is on its way to the customer.
    pub enum OrderStatus, invalid = "invalid_order_status" {
        Confirmed = "confirmed",
        Packed = "packed",
        Shipped = "shipped",
        OutForDelivery = "out_for_delivery",
        Delivered = "delivered",
        Cancelled = "cancelled",
        Returned = "returned",
    }
}

choice! {
    pub enum PaymentMethod, invalid = "invalid_payment_method" {
        Prepaid = "prepaid",
        Cod = "cod",
    }
}

choice! {
    pub enum PaymentStatus, invalid = "invalid_payment_status" {
        Paid = "paid",
        /// Cash on delivery not collected yet, or a payment still in flight.
        Pending = "pending",
        Failed = "failed",
        Refunded = "refunded",
        PartiallyRefunded = "partially_refunded",
    }
}

/// An order number as shops write them: `1001`, `#1001`, `KG-1001`. The `#` goes; what is
/// left is 1–32 letters, digits or `-`, so it can go inside a shop's search query as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderNumber(String);

impl OrderNumber {
    pub fn parse(text: &str) -> Result<Self, crate::Invalid> {
        let number = text.trim().trim_start_matches('#');
        let valid = (1..=32).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            return Err(crate::Invalid::new("invalid_order_number", "must be 1–32 letters, digits or -, such as 1001"));
        }
        Ok(Self(number.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub sku: String,
    pub title: String,
    pub quantity: u32,
    pub price_paise: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingEvent {
    /// Microseconds since the Unix epoch.
    pub at: i64,
    pub location: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracking {
    pub carrier: String,
    pub awb: String,
    pub url: Option<String>,
    /// Expected delivery, microseconds since the Unix epoch.
    pub eta: Option<i64>,
    pub events: Vec<TrackingEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub number: String,
    pub customer_name: String,
    /// E.164.
    pub phone: String,
    pub email: Option<String>,
    pub status: OrderStatus,
    pub placed_at: i64,
    pub delivered_at: Option<i64>,
    pub total_paise: i64,
    pub refunded_paise: i64,
    pub payment_method: PaymentMethod,
    pub payment_status: PaymentStatus,
    pub items: Vec<Item>,
    pub address: String,
    pub pincode: String,
    pub tracking: Option<Tracking>,
    pub invoice_url: Option<String>,
}

impl Order {
    /// What can still be refunded.
    pub fn refundable_paise(&self) -> i64 {
        match self.payment_status {
            PaymentStatus::Paid | PaymentStatus::PartiallyRefunded => self.total_paise - self.refunded_paise,
            _ => 0,
        }
    }

    /// The caller proved they own the order: the calling number is the order's, or they told
    /// its PIN code or the last four digits of its phone.
    pub fn owned_by(&self, caller: Option<&str>, answer: Option<&str>) -> bool {
        caller.is_some_and(|c| c == self.phone)
            || answer.is_some_and(|a| a == self.pincode || (a.len() == 4 && self.phone.ends_with(a)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub sku: String,
    pub title: String,
    pub price_paise: i64,
    pub in_stock: u32,
    /// Sizes or variants offered, empty when there are none.
    pub variants: Vec<String>,
}

/// An order for tests: ₹1,299 prepaid and paid, placed an hour before `now`, delivered a day
/// before it when `status` says delivered, phone +919876543210, PIN code 560001.
#[cfg(test)]
pub(crate) fn sample(number: &str, status: OrderStatus, now: i64) -> Order {
    const HOUR: i64 = 3_600_000_000;
    Order {
        number: number.into(),
        customer_name: "Asha Verma".into(),
        phone: "+919876543210".into(),
        email: None,
        status,
        placed_at: now - HOUR,
        delivered_at: (status == OrderStatus::Delivered).then_some(now - 24 * HOUR),
        total_paise: 129_900,
        refunded_paise: 0,
        payment_method: PaymentMethod::Prepaid,
        payment_status: PaymentStatus::Paid,
        items: Vec::new(),
        address: "12 MG Road, Bengaluru".into(),
        pincode: "560001".into(),
        tracking: None,
        invoice_url: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_as_shops_write_them() {
        assert_eq!(OrderNumber::parse(" #1001 ").unwrap().as_str(), "1001");
        assert_eq!(OrderNumber::parse("kg-1001").unwrap().as_str(), "KG-1001");
        for bad in ["", "#", "1001 OR name:*", "10\"01", &"9".repeat(33)] {
            assert_eq!(OrderNumber::parse(bad).unwrap_err().code, "invalid_order_number", "{bad}");
        }
    }
}
