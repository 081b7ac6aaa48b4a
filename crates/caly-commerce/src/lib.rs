//! Store connectors: what the agent can ask of an online store (find an order, cancel, refund,
//! return, change the address, look up products), behind one trait, so the agent does not care
//! whether the store is on Shopify or is the embedded demo store.

pub mod demo;
pub mod shopify;

use std::collections::BTreeMap;

use caly_core::{
    action::ActionKind,
    order::{Order, Product},
};

/// What the store answered when an action ran: its reference and a line for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub reference: String,
    pub detail: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CommerceError {
    #[error("order {0} not found")]
    OrderNotFound(String),
    /// The store will not do it (already cancelled, not delivered yet…).
    #[error("the store refused: {0}")]
    Refused(String),
    #[error("the action lacks {0}")]
    Missing(&'static str),
    /// The store could not be reached or failed; worth retrying later.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
}

/// An online store, as one tenant's connector sees it.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    async fn find_order(&self, number: &str) -> Result<Option<Order>, CommerceError>;
    /// Orders placed with this phone number (E.164), newest first.
    async fn orders_for_phone(&self, phone: &str) -> Result<Vec<Order>, CommerceError>;
    async fn cancel(&self, number: &str, reason: Option<&str>) -> Result<Receipt, CommerceError>;
    async fn refund(&self, number: &str, amount_paise: i64, reason: Option<&str>) -> Result<Receipt, CommerceError>;
    /// A return or an exchange request (`kind` is one of the two).
    async fn request_return(&self, number: &str, kind: ActionKind, reason: &str) -> Result<Receipt, CommerceError>;
    async fn update_address(&self, number: &str, address: &str) -> Result<Receipt, CommerceError>;
    async fn search_products(&self, query: &str) -> Result<Vec<Product>, CommerceError>;
    async fn invoice_link(&self, number: &str) -> Result<Option<String>, CommerceError> {
        Ok(self.find_order(number).await?.and_then(|order| order.invoice_url))
    }
}

/// Runs a confirmed (and, where needed, approved) action against the store.
pub async fn perform(
    store: &dyn Store,
    kind: ActionKind,
    number: &str,
    params: &BTreeMap<String, String>,
    amount_paise: Option<i64>,
) -> Result<Receipt, CommerceError> {
    let reason = params.get("reason").map(String::as_str);
    match kind {
        ActionKind::Cancel => store.cancel(number, reason).await,
        ActionKind::Refund => {
            store.refund(number, amount_paise.ok_or(CommerceError::Missing("an amount"))?, reason).await
        }
        ActionKind::Return | ActionKind::Exchange => {
            store.request_return(number, kind, reason.ok_or(CommerceError::Missing("a reason"))?).await
        }
        ActionKind::AddressChange => {
            store.update_address(number, params.get("address").ok_or(CommerceError::Missing("an address"))?).await
        }
    }
}
