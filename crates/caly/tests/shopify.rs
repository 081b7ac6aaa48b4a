//! The Shopify connector against a stand-in for Shopify's Admin GraphQL API on loopback
//! (`support/shopify.rs`): what we send is checked there; throttling, server errors and refused
//! mutations are handled here; and the scripted conversations about orders pass against it.

mod support;

use caly_commerce::CommerceError;
use caly_core::action::ActionKind;
use reqwest::Method;
use serde_json::json;
use support::{
    Engine, Owner, TestApp, scripts,
    shopify::{FakeShopify, TOKEN},
};

/// A server whose Shopify requests go to the stand-in, one shop per path.
async fn app_with_shopify(engine: Engine) -> (TestApp, FakeShopify) {
    let shopify = FakeShopify::start(caly::auth::now_micros()).await;
    let endpoint = format!("{}/{{shop}}", shopify.url);
    let app = TestApp::builder(engine).config(|c| c.commerce.shopify_endpoint = Some(endpoint)).spawn().await;
    (app, shopify)
}

/// Connects the tenant to the shop `shop`.myshopify.com.
async fn connect(app: &TestApp, owner: &Owner, shop: &str) {
    let settings = json!({
        "version": 0,
        "settings": { "store": { "provider": "shopify", "shopify_shop": format!("{shop}.myshopify.com") } },
        "credentials": { "shopify_access_token": TOKEN },
    });
    let saved = app.request(Method::PUT, "/api/v1/settings", &owner.token).json(&settings).send().await.unwrap();
    assert_eq!(saved.status(), 200, "{}", saved.text().await.unwrap());
}

on_both_engines! {
    async fn orders_are_read_and_changed_through_the_admin_api(engine: Engine) {
        let (app, shopify) = app_with_shopify(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        connect(&app, &owner, "kurta-ghar").await;
        let store = caly::commerce::connector(&app.server().state, &owner.tenant_id).await.unwrap();

        let order = store.find_order("1003").await.unwrap().unwrap();
        assert_eq!((order.number.as_str(), order.status.as_str(), order.total_paise), ("1003", "shipped", 329_900));
        let tracking = order.tracking.unwrap();
        assert_eq!((tracking.carrier.as_str(), tracking.awb.as_str()), ("Delhivery", "7710030042"));
        assert_eq!(order.phone, "+919900112233");
        assert!(store.find_order("9999").await.unwrap().is_none());
        assert_eq!(store.orders_for_phone("+919876543210").await.unwrap()[0].number, "1001");

        store.cancel("1001", Some("ordered by mistake")).await.unwrap();
        assert!(!shopify.order_for("kurta-ghar.myshopify.com", "1001")["cancelledAt"].is_null());
        let again = store.cancel("1001", None).await.unwrap_err();
        assert!(matches!(again, CommerceError::Refused(ref why) if why.contains("already been cancelled")), "{again}");

        store.refund("1010", 44_900, None).await.unwrap();
        let refunded = shopify.order_for("kurta-ghar.myshopify.com", "1010");
        assert_eq!(refunded["totalRefundedSet"]["shopMoney"]["amount"], "449.00");
        assert!(matches!(store.refund("1010", 10_000_000, None).await, Err(CommerceError::Refused(_))));
        store.request_return("1005", ActionKind::Return, "colour differs").await.unwrap();
        store.update_address("1001", "Flat 402, Sunrise Apartments, Mumbai 400053").await.unwrap();
        assert_eq!(shopify.order_for("kurta-ghar.myshopify.com", "1001")["shippingAddress"]["zip"], "400053");
        let found = store.search_products("do you have the cotton kurta").await.unwrap();
        assert_eq!((found[0].title.as_str(), found[0].variants.len()), ("Cotton Kurta", 4));
        let sent = shopify.received("kurta-ghar.myshopify.com");
        for operation in ["FindOrder", "OrdersForPhone", "CancelOrder", "Refund", "RequestReturn", "UpdateAddress", "Products"] {
            assert!(sent.iter().any(|s| s == operation), "{operation} never sent: {sent:?}");
        }
    }

    async fn throttling_and_server_errors_are_waited_out_but_mutations_are_not_repeated(engine: Engine) {
        let (app, shopify) = app_with_shopify(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        connect(&app, &owner, "busy").await;
        let store = caly::commerce::connector(&app.server().state, &owner.tenant_id).await.unwrap();
        store.find_order("1001").await.unwrap();

        shopify.books_for("busy.myshopify.com", |b| b.throttle = 2);
        assert!(store.find_order("1002").await.unwrap().is_some(), "a throttled query is tried again");
        shopify.books_for("busy.myshopify.com", |b| b.unavailable = 2);
        assert!(store.find_order("1002").await.unwrap().is_some(), "a query after a 503 is tried again");
        shopify.books_for("busy.myshopify.com", |b| b.unavailable = 10);
        assert!(matches!(store.find_order("1002").await, Err(CommerceError::Unavailable(_))), "but not for ever");

        // The order is looked up, then the cancellation meets a 503: it may have run, so it is
        // not sent again.
        shopify.books_for("busy.myshopify.com", |b| b.unavailable = 0);
        let before = shopify.received("busy.myshopify.com").iter().filter(|s| *s == "CancelOrder").count();
        shopify.books_for("busy.myshopify.com", |b| b.fail_mutations = 1);
        assert!(matches!(store.cancel("1001", None).await, Err(CommerceError::Unavailable(_))));
        let after = shopify.received("busy.myshopify.com").iter().filter(|s| *s == "CancelOrder").count();
        assert_eq!(after, before + 1, "the failed cancellation was sent once and not repeated");
        assert!(shopify.order_for("busy.myshopify.com", "1001")["cancelledAt"].is_null());
    }

    async fn a_wrong_token_or_a_missing_one_is_an_unavailable_store(engine: Engine) {
        let (app, _shopify) = app_with_shopify(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let settings = json!({"version": 0, "settings": {"store": {"provider": "shopify", "shopify_shop": "kurta-ghar.myshopify.com"}}});
        assert_eq!(app.request(Method::PUT, "/api/v1/settings", &owner.token).json(&settings).send().await.unwrap().status(), 200);
        let missing = caly::commerce::connector(&app.server().state, &owner.tenant_id).await.err().unwrap();
        assert!(missing.to_string().contains("access token is not set"), "{missing}");
        let token = json!({"version": 1, "settings": settings["settings"], "credentials": {"shopify_access_token": "shpat_wrong"}});
        assert_eq!(app.request(Method::PUT, "/api/v1/settings", &owner.token).json(&token).send().await.unwrap().status(), 200);
        let store = caly::commerce::connector(&app.server().state, &owner.tenant_id).await.unwrap();
        assert!(matches!(store.find_order("1001").await, Err(CommerceError::Unavailable(ref why)) if why.contains("401")));
        let conversation = app.request(Method::POST, "/api/v1/sandbox/conversations", &owner.token).json(&json!({})).send().await.unwrap();
        let call: serde_json::Value = conversation.json().await.unwrap();
        let path = format!("/api/v1/sandbox/conversations/{}/messages", call["call_id"].as_str().unwrap());
        let asked = app.request(Method::POST, &path, &owner.token).json(&json!({"text": "status of order 1001"})).send().await.unwrap();
        support::problem(asked, 502, "upstream_failed").await;
    }

    async fn the_scripted_order_conversations_pass_against_shopify(engine: Engine) {
        let (app, _shopify) = app_with_shopify(engine).await;
        let scripts = scripts::scripts(&["01-", "02-", "03-", "04-", "05-"]);
        assert!(scripts.len() >= 150, "{} conversations", scripts.len());
        let app = &app;
        scripts::play_all(app, &scripts, |owner, number| async move { connect(app, &owner, &format!("shop{number}")).await }).await;
    }
}
