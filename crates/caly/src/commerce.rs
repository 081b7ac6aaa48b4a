//! A tenant's store connector, and the demo store on top of the database: the default for a
//! tenant that has not connected a shop, seeded the first time it is needed.

use std::sync::Arc;

use caly_commerce::{
    CommerceError, Receipt, Store as Commerce, demo,
    shopify::{Shop, Shopify},
};
use caly_core::{
    action::ActionKind,
    order::{Order, Product},
    settings::{Settings, StoreConnection, StoreProvider},
};

use crate::{auth::now_micros, conversation::ConversationError, state::AppState};

/// The tenant's store: its Shopify shop when connected, else the demo store.
pub async fn connector(state: &AppState, tenant_id: &str) -> Result<Arc<dyn Commerce>, ConversationError> {
    connector_for(state, tenant_id, &settings_of(state, tenant_id).await?.store).await
}

/// The store `connection` names, for a caller that has read the tenant's settings already.
pub async fn connector_for(
    state: &AppState,
    tenant_id: &str,
    connection: &StoreConnection,
) -> Result<Arc<dyn Commerce>, ConversationError> {
    if connection.provider == StoreProvider::Shopify {
        return shopify(state, tenant_id, connection).await;
    }
    let now = now_micros();
    if state.store.seed_demo_store(tenant_id, &demo::products(), &demo::orders(now), now).await? {
        tracing::info!(tenant_id, "seeded the demo store");
    }
    Ok(Arc::new(DemoStore { store: state.store.clone(), tenant_id: tenant_id.to_owned() }))
}

/// The tenant's settings as they stand (the defaults until the first save).
pub async fn settings_of(state: &AppState, tenant_id: &str) -> Result<Settings, ConversationError> {
    match state.store.settings(tenant_id).await? {
        Some(stored) => serde_json::from_str(&stored.document)
            .map_err(|e| caly_store::StoreError::Corrupt(format!("tenant settings: {e}")).into()),
        None => Ok(Settings::default()),
    }
}

async fn shopify(
    state: &AppState,
    tenant_id: &str,
    connection: &StoreConnection,
) -> Result<Arc<dyn Commerce>, ConversationError> {
    const TOKEN: &str = "shopify_access_token";
    let Some(access_token) = crate::secrets::stored(&state.store, &state.secrets, tenant_id, TOKEN).await? else {
        return Err(CommerceError::Unavailable("the Shopify access token is not set".into()).into());
    };
    let base_url = match &state.config.commerce.shopify_endpoint {
        Some(endpoint) => endpoint.replace("{shop}", &connection.shopify_shop),
        None => format!("https://{}", connection.shopify_shop),
    };
    let shop = Shop { base_url, api_version: connection.shopify_api_version.clone(), access_token };
    Ok(Arc::new(Shopify::new(shop, state.http.clone())))
}

struct DemoStore {
    store: caly_store::Store,
    tenant_id: String,
}

fn unavailable(error: caly_store::StoreError) -> CommerceError {
    CommerceError::Unavailable(error.to_string())
}

impl DemoStore {
    async fn change(
        &self,
        number: &str,
        change: impl FnOnce(&mut Order) -> Result<Receipt, CommerceError>,
    ) -> Result<Receipt, CommerceError> {
        let changed = self.store.change_demo_order(&self.tenant_id, number, now_micros(), change).await;
        changed.map_err(unavailable)?.unwrap_or_else(|| Err(CommerceError::OrderNotFound(number.to_owned())))
    }
}

#[async_trait::async_trait]
impl Commerce for DemoStore {
    async fn find_order(&self, number: &str) -> Result<Option<Order>, CommerceError> {
        self.store.demo_order(&self.tenant_id, number).await.map_err(unavailable)
    }

    async fn orders_for_phone(&self, phone: &str) -> Result<Vec<Order>, CommerceError> {
        self.store.demo_orders_for_phone(&self.tenant_id, phone).await.map_err(unavailable)
    }

    async fn cancel(&self, number: &str, _reason: Option<&str>) -> Result<Receipt, CommerceError> {
        self.change(number, |order| demo::apply(ActionKind::Cancel, order, None, None)).await
    }

    async fn refund(&self, number: &str, amount_paise: i64, _reason: Option<&str>) -> Result<Receipt, CommerceError> {
        self.change(number, |order| demo::apply(ActionKind::Refund, order, Some(amount_paise), None)).await
    }

    async fn request_return(&self, number: &str, kind: ActionKind, reason: &str) -> Result<Receipt, CommerceError> {
        let receipt = self.change(number, |order| demo::apply(kind, order, None, None)).await?;
        self.store.add_demo_request(&self.tenant_id, number, kind, reason, now_micros()).await.map_err(unavailable)?;
        Ok(receipt)
    }

    async fn update_address(&self, number: &str, address: &str) -> Result<Receipt, CommerceError> {
        self.change(number, |order| demo::apply(ActionKind::AddressChange, order, None, Some(address))).await
    }

    async fn search_products(&self, query: &str) -> Result<Vec<Product>, CommerceError> {
        let products = self.store.demo_products(&self.tenant_id).await.map_err(unavailable)?;
        Ok(demo::search(&products, query))
    }
}
