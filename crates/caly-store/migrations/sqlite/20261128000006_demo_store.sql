-- The embedded demo store: a tenant's products and orders when it has no shop connected.
-- An order is one JSON document (caly_core::order::Order) — the demo store's rules live in
-- caly-commerce and change whole orders; nothing queries inside them but the phone.
CREATE TABLE demo_products (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sku          TEXT NOT NULL,
    document     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sku)
);

CREATE TABLE demo_orders (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    number       TEXT NOT NULL,
    phone        TEXT NOT NULL,
    placed_at    BIGINT NOT NULL,
    document     TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, number)
);

CREATE INDEX demo_orders_phone_idx ON demo_orders (tenant_id, phone, placed_at);

-- Returns and exchanges the demo store booked.
CREATE TABLE demo_requests (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    order_number  TEXT NOT NULL,
    kind          TEXT NOT NULL,
    reason        TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE INDEX demo_requests_order_idx ON demo_requests (tenant_id, order_number);
