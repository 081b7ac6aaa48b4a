//! The embedded demo store's tables: products and orders as JSON documents, and the returns it
//! booked. An order changes inside one transaction that first writes its row, so that row is
//! locked (PostgreSQL) or the database is (SQLite) while the change is decided.

use caly_core::{
    action::ActionKind,
    order::{Order, Product},
};
use sqlx::Row;

use crate::{Store, StoreError, new_id};

fn decode<T: serde::de::DeserializeOwned>(document: &str) -> Result<T, StoreError> {
    serde_json::from_str(document).map_err(|e| StoreError::Corrupt(format!("demo store document: {e}")))
}

fn encode<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("orders and products serialise")
}

impl Store {
    /// Fills a tenant's demo store; a tenant that has one already keeps it as it is.
    pub async fn seed_demo_store(
        &self,
        tenant_id: &str,
        products: &[Product],
        orders: &[Order],
        now: i64,
    ) -> Result<bool, StoreError> {
        // Every conversation asks; only the first one finds nothing and takes the lock.
        let mut conn = self.acquire().await?;
        let seeded: Option<i64> = sqlx::query_scalar("SELECT 1 FROM demo_products WHERE tenant_id = $1 LIMIT 1")
            .bind(tenant_id)
            .fetch_optional(&mut *conn)
            .await?;
        drop(conn);
        if seeded.is_some() {
            return Ok(false);
        }
        let mut tx = self.begin().await?;
        // Two first uses racing to seed: the second waits here, then finds the store seeded.
        crate::lock_tenant(&mut tx, tenant_id, now).await?;
        let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM demo_products WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_one(&mut *tx)
            .await?;
        if existing > 0 {
            return Ok(false);
        }
        for product in products {
            sqlx::query("INSERT INTO demo_products (tenant_id, sku, document) VALUES ($1, $2, $3)")
                .bind(tenant_id)
                .bind(&product.sku)
                .bind(encode(product))
                .execute(&mut *tx)
                .await?;
        }
        for order in orders {
            sqlx::query(
                "INSERT INTO demo_orders (tenant_id, number, phone, placed_at, document, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(tenant_id)
            .bind(&order.number)
            .bind(&order.phone)
            .bind(order.placed_at)
            .bind(encode(order))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn demo_order(&self, tenant_id: &str, number: &str) -> Result<Option<Order>, StoreError> {
        let mut conn = self.acquire().await?;
        let document: Option<String> =
            sqlx::query_scalar("SELECT document FROM demo_orders WHERE tenant_id = $1 AND number = $2")
                .bind(tenant_id)
                .bind(number)
                .fetch_optional(&mut *conn)
                .await?;
        document.as_deref().map(decode).transpose()
    }

    /// A phone's orders, newest first.
    pub async fn demo_orders_for_phone(&self, tenant_id: &str, phone: &str) -> Result<Vec<Order>, StoreError> {
        let mut conn = self.acquire().await?;
        let rows = sqlx::query(
            "SELECT document FROM demo_orders WHERE tenant_id = $1 AND phone = $2 ORDER BY placed_at DESC LIMIT 20",
        )
        .bind(tenant_id)
        .bind(phone)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(|row| decode(&row.try_get::<String, _>("document")?)).collect()
    }

    /// Changes one order with `change`, which sees the order as it is now and says what to keep:
    /// its `Ok` is saved, its `Err` leaves the order alone. `None` when there is no such order.
    pub async fn change_demo_order<T, E>(
        &self,
        tenant_id: &str,
        number: &str,
        now: i64,
        change: impl FnOnce(&mut Order) -> Result<T, E>,
    ) -> Result<Option<Result<T, E>>, StoreError> {
        let mut tx = self.begin().await?;
        let locked = sqlx::query("UPDATE demo_orders SET updated_at = $1 WHERE tenant_id = $2 AND number = $3")
            .bind(now)
            .bind(tenant_id)
            .bind(number)
            .execute(&mut *tx)
            .await?;
        if locked.rows_affected() == 0 {
            return Ok(None);
        }
        let document: String =
            sqlx::query_scalar("SELECT document FROM demo_orders WHERE tenant_id = $1 AND number = $2")
                .bind(tenant_id)
                .bind(number)
                .fetch_one(&mut *tx)
                .await?;
        let mut order: Order = decode(&document)?;
        let outcome = change(&mut order);
        if outcome.is_ok() {
            sqlx::query("UPDATE demo_orders SET document = $1, phone = $2 WHERE tenant_id = $3 AND number = $4")
                .bind(encode(&order))
                .bind(&order.phone)
                .bind(tenant_id)
                .bind(number)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(Some(outcome))
    }

    pub async fn add_demo_request(
        &self,
        tenant_id: &str,
        number: &str,
        kind: ActionKind,
        reason: &str,
        now: i64,
    ) -> Result<String, StoreError> {
        let mut conn = self.acquire().await?;
        let id = new_id();
        sqlx::query(
            "INSERT INTO demo_requests (id, tenant_id, order_number, kind, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(tenant_id)
        .bind(number)
        .bind(kind.as_str())
        .bind(reason)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(id)
    }

    /// Every product of the tenant's demo store (a few dozen at most).
    pub async fn demo_products(&self, tenant_id: &str) -> Result<Vec<Product>, StoreError> {
        let mut conn = self.acquire().await?;
        let rows = sqlx::query("SELECT document FROM demo_products WHERE tenant_id = $1 ORDER BY sku")
            .bind(tenant_id)
            .fetch_all(&mut *conn)
            .await?;
        rows.iter().map(|row| decode(&row.try_get::<String, _>("document")?)).collect()
    }
}
