//! `/api/v1/actions`: the approval queue, approving exactly once, rejecting with a reason,
//! idempotency keys and tenant isolation, on both engines.

mod support;

use caly_core::action::{ActionKind, ActionStatus};
use caly_store::{NewAction, Store};
use reqwest::Method;
use serde_json::{Value, json};
use support::{Engine, TestApp, problem};

async fn propose(
    store: &Store,
    tenant: &str,
    key: &str,
    kind: ActionKind,
    status: ActionStatus,
    paise: Option<i64>,
) -> String {
    let new = NewAction {
        call_id: None,
        kind,
        // A delivered, prepaid ₹2,048 order of the demo store.
        order_number: "1010",
        params: r#"{"reason":"size too small"}"#,
        amount_paise: paise,
        status,
        idempotency_key: key,
        requested_at: 1_795_000_000_000_000,
    };
    store.insert_action(tenant, new).await.unwrap().0.id
}

on_both_engines! {
    async fn supervisors_work_the_approval_queue(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let (store, tenant) = (app.store(), owner.tenant_id.as_str());
        let refund = propose(store, tenant, "call-1:refund", ActionKind::Refund, ActionStatus::AwaitingApproval, Some(159_900)).await;
        let address = propose(store, tenant, "call-2:address", ActionKind::AddressChange, ActionStatus::AwaitingApproval, None).await;
        propose(store, tenant, "call-3:cancel", ActionKind::Cancel, ActionStatus::Proposed, None).await;

        let queue: Value = app
            .request(Method::GET, "/api/v1/actions?status=awaiting_approval", &owner.token)
            .send().await.unwrap().json().await.unwrap();
        let waiting: Vec<&str> = queue["items"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
        assert_eq!(waiting, [refund.as_str(), address.as_str()]);
        assert_eq!(queue["items"][0]["amount_inr"], "1599.00");
        assert_eq!(queue["items"][0]["params"]["reason"], "size too small");
        let all: Value = app.request(Method::GET, "/api/v1/actions?limit=2", &owner.token).send().await.unwrap().json().await.unwrap();
        let cursor = all["next_cursor"].as_str().unwrap();
        let rest: Value = app
            .request(Method::GET, &format!("/api/v1/actions?limit=2&cursor={cursor}"), &owner.token)
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(rest["items"].as_array().unwrap().len(), 1);
        assert!(rest["next_cursor"].is_null());

        let approved: Value = app
            .request(Method::POST, &format!("/api/v1/actions/{refund}/approve"), &owner.token)
            .send().await.unwrap().json().await.unwrap();
        // Approval runs it against the store at once.
        assert_eq!(approved["status"], "executed", "{approved}");
        assert!(approved["decided_at"].is_string());
        assert_eq!(approved["result"]["reference"], "RF-1010-159900");
        let order = store.demo_order(tenant, "1010").await.unwrap().unwrap();
        assert_eq!(order.refunded_paise, 159_900);
        let again = app.request(Method::POST, &format!("/api/v1/actions/{refund}/approve"), &owner.token).send().await.unwrap();
        let body = problem(again, 409, "conflict").await;
        assert_eq!(body["detail"], "The action is executed, not awaiting approval.");
        let late_reject = app
            .request(Method::POST, &format!("/api/v1/actions/{refund}/reject"), &owner.token)
            .json(&json!({"reason": "changed my mind"}))
            .send().await.unwrap();
        problem(late_reject, 409, "conflict").await;

        let reject = |body: Value| app.request(Method::POST, &format!("/api/v1/actions/{address}/reject"), &owner.token).json(&body).send();
        problem(reject(json!({"reason": "   "})).await.unwrap(), 422, "validation").await;
        problem(reject(json!({})).await.unwrap(), 422, "validation").await;
        let rejected: Value = reject(json!({"reason": "Outside the address-change window"})).await.unwrap().json().await.unwrap();
        assert_eq!((rejected["status"].as_str(), rejected["reason"].as_str()), (Some("rejected"), Some("Outside the address-change window")));

        let events: Vec<String> = store.audit_events(tenant).await.unwrap().into_iter().map(|e| e.event.into_owned()).collect();
        assert_eq!(events.iter().filter(|e| *e == "action.approved").count(), 1);
        assert_eq!(events.iter().filter(|e| *e == "action.rejected").count(), 1);
        let missing = format!("/api/v1/actions/{}/approve", uuid::Uuid::now_v7());
        problem(app.request(Method::POST, &missing, &owner.token).send().await.unwrap(), 404, "not_found").await;
        let bad = app.request(Method::GET, "/api/v1/actions?status=done&call_id=x", &owner.token).send().await.unwrap();
        assert_eq!(problem(bad, 422, "validation").await["errors"].as_array().unwrap().len(), 2);
    }

    async fn two_supervisors_approving_at_once_approve_once(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        for round in 0..10 {
            let key = format!("refund-{round}");
            let id = propose(app.store(), &owner.tenant_id, &key, ActionKind::Refund, ActionStatus::AwaitingApproval, Some(100)).await;
            let path = format!("/api/v1/actions/{id}/approve");
            let clicks = (0..4).map(|_| app.request(Method::POST, &path, &owner.token).send());
            let statuses: Vec<u16> = futures::future::join_all(clicks).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
            assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
            assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 3, "{statuses:?}");
        }
        let approvals = app.store().audit_events(&owner.tenant_id).await.unwrap();
        assert_eq!(approvals.iter().filter(|e| e.event == "action.approved").count(), 10);
        assert_eq!(approvals.iter().filter(|e| e.event == "action.executed" && e.outcome == "success").count(), 10);
        let order = app.store().demo_order(&owner.tenant_id, "1010").await.unwrap().unwrap();
        assert_eq!(order.refunded_paise, 1_000, "ten refunds of one rupee, each once");
    }

    async fn an_idempotency_key_makes_one_action(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let first = propose(app.store(), &owner.tenant_id, "call-9:cancel", ActionKind::Cancel, ActionStatus::Proposed, None).await;
        let again = NewAction {
            call_id: None, kind: ActionKind::Refund, order_number: "#9", params: "{}", amount_paise: Some(1),
            status: ActionStatus::Proposed, idempotency_key: "call-9:cancel", requested_at: 1,
        };
        let (action, created) = app.store().insert_action(&owner.tenant_id, again).await.unwrap();
        assert!(!created);
        assert_eq!((action.id, action.kind), (first.clone(), ActionKind::Cancel));
        // Recording a result happens once; a second report changes nothing.
        assert!(app.store().record_action_result(&owner.tenant_id, &first, ActionStatus::Executed, "{}", 2).await.unwrap());
        assert!(!app.store().record_action_result(&owner.tenant_id, &first, ActionStatus::Failed, "{}", 3).await.unwrap());
        // The same key in another tenant is another action.
        let other = app.sign_up("ravi@example.in").await;
        let theirs = propose(app.store(), &other.tenant_id, "call-9:cancel", ActionKind::Cancel, ActionStatus::Proposed, None).await;
        assert_ne!(theirs, first);
    }

    async fn another_tenant_cannot_decide(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let asha = app.sign_up("asha@example.in").await;
        let ravi = app.sign_up("ravi@example.in").await;
        let id = propose(app.store(), &asha.tenant_id, "k", ActionKind::Refund, ActionStatus::AwaitingApproval, Some(5)).await;
        let approve = app.request(Method::POST, &format!("/api/v1/actions/{id}/approve"), &ravi.token).send().await.unwrap();
        problem(approve, 404, "not_found").await;
        let reject = app
            .request(Method::POST, &format!("/api/v1/actions/{id}/reject"), &ravi.token)
            .json(&json!({"reason": "no"}))
            .send().await.unwrap();
        problem(reject, 404, "not_found").await;
        let theirs: Value = app.request(Method::GET, "/api/v1/actions", &ravi.token).send().await.unwrap().json().await.unwrap();
        assert!(theirs["items"].as_array().unwrap().is_empty());
        let status = app.store().action(&asha.tenant_id, &id).await.unwrap().unwrap().status;
        assert_eq!(status, ActionStatus::AwaitingApproval);
    }
}
