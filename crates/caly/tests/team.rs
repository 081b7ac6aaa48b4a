//! `/api/v1/team` and the mailed flows: invitations, roles, deactivation, the last owner,
//! email verification and password reset, on both engines.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{Engine, TestApp, problem};

on_both_engines! {
    async fn owners_invite_change_roles_and_deactivate(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let ravi = app.add_member(&owner, "ravi@example.in", "supervisor").await;
        let me: Value = app.request(Method::GET, "/api/v1/me", &ravi).send().await.unwrap().json().await.unwrap();
        assert_eq!((me["user"]["role"].as_str(), me["user"]["email_verified"].as_bool()), (Some("supervisor"), Some(true)));
        assert_eq!(me["tenant"]["id"], owner.tenant_id.as_str());

        let team: Value = app.request(Method::GET, "/api/v1/team", &owner.token).send().await.unwrap().json().await.unwrap();
        let rows: Vec<(&str, &str, &str)> = team
            .as_array().unwrap().iter()
            .map(|m| (m["email"].as_str().unwrap(), m["role"].as_str().unwrap(), m["status"].as_str().unwrap()))
            .collect();
        assert_eq!(rows, [("asha@example.in", "owner", "active"), ("ravi@example.in", "supervisor", "active")]);
        let ravi_id = team[1]["id"].as_str().unwrap().to_owned();

        // An invitation works once.
        let invite = json!({"email": "meena@example.in", "name": "Meena", "role": "viewer"});
        assert_eq!(app.request(Method::POST, "/api/v1/team/invites", &owner.token).json(&invite).send().await.unwrap().status(), 201);
        let token = app.mailed_token("meena@example.in", "/accept-invite").await;
        let weak = json!({"token": token, "password": "short"});
        problem(app.post_json("/api/v1/auth/accept-invite", &weak).await, 422, "validation").await;
        let accept = json!({"token": token, "password": "a long enough passphrase"});
        assert_eq!(app.post_json("/api/v1/auth/accept-invite", &accept).await.status(), 204, "a refused password does not spend the token");
        problem(app.post_json("/api/v1/auth/accept-invite", &accept).await, 422, "validation").await;
        let taken = app.request(Method::POST, "/api/v1/team/invites", &owner.token).json(&invite).send().await.unwrap();
        problem(taken, 409, "conflict").await;

        let path = format!("/api/v1/team/{ravi_id}");
        let promoted: Value = app.request(Method::PATCH, &path, &owner.token).json(&json!({"role": "admin"})).send().await.unwrap().json().await.unwrap();
        assert_eq!(promoted["role"], "admin");
        // Deactivating ends the member's sessions: their refresh token stops working.
        let login = json!({"email": "ravi@example.in", "password": "another long passphrase"});
        let tokens: Value = app.post_json("/api/v1/auth/login", &login).await.json().await.unwrap();
        let off: Value = app.request(Method::PATCH, &path, &owner.token).json(&json!({"active": false})).send().await.unwrap().json().await.unwrap();
        assert_eq!(off["status"], "deactivated");
        let refresh = json!({"refresh_token": tokens["refresh_token"]});
        problem(app.post_json("/api/v1/auth/refresh", &refresh).await, 401, "unauthenticated").await;
        problem(app.post_json("/api/v1/auth/login", &login).await, 401, "unauthenticated").await;

        let events: Vec<String> = app.store().audit_events(&owner.tenant_id).await.unwrap().into_iter().map(|e| e.event.into_owned()).collect();
        for event in ["team.invited", "team.joined", "team.role_changed", "team.deactivated"] {
            assert!(events.iter().any(|e| e == event), "{event} in {events:?}");
        }
    }

    async fn the_last_owner_stays_and_admins_cannot_touch_owners(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let admin = app.add_member(&owner, "dev@example.in", "admin").await;
        let team: Value = app.request(Method::GET, "/api/v1/team", &owner.token).send().await.unwrap().json().await.unwrap();
        let owner_id = team[0]["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/team/{owner_id}");
        let demote = app.request(Method::PATCH, &path, &owner.token).json(&json!({"role": "admin"})).send().await.unwrap();
        problem(demote, 409, "conflict").await;
        let leave = app.request(Method::PATCH, &path, &owner.token).json(&json!({"active": false})).send().await.unwrap();
        problem(leave, 409, "conflict").await;
        let by_admin = app.request(Method::PATCH, &path, &admin).json(&json!({"active": false})).send().await.unwrap();
        problem(by_admin, 403, "forbidden").await;
        let owner_invite = json!({"email": "co@example.in", "name": "Co Owner", "role": "owner"});
        problem(app.request(Method::POST, "/api/v1/team/invites", &admin).json(&owner_invite).send().await.unwrap(), 403, "forbidden").await;

        // With a second owner, either may step down, but not both at once.
        let second = app.add_member(&owner, "co@example.in", "owner").await;
        let team: Value = app.request(Method::GET, "/api/v1/team", &owner.token).send().await.unwrap().json().await.unwrap();
        let second_id = team[2]["id"].as_str().unwrap().to_owned();
        let first = app.request(Method::PATCH, &path, &owner.token).json(&json!({"role": "admin"})).send();
        let other = app.request(Method::PATCH, &format!("/api/v1/team/{second_id}"), &second).json(&json!({"role": "admin"})).send();
        let (first, other) = tokio::join!(first, other);
        let mut statuses = [first.unwrap().status().as_u16(), other.unwrap().status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409]);
        let owners = app.store().team(&owner.tenant_id).await.unwrap().into_iter().filter(|u| u.role == caly_core::Role::Owner && u.active).count();
        assert_eq!(owners, 1);
    }

    async fn emails_are_verified_by_their_link(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let me = |token: String| { let app = &app; async move {
            let me: Value = app.request(Method::GET, "/api/v1/me", &token).send().await.unwrap().json().await.unwrap();
            me["user"]["email_verified"].as_bool().unwrap()
        }};
        assert!(!me(owner.token.clone()).await);
        let first = app.mailed_token("asha@example.in", "/verify-email").await;
        assert_eq!(app.request(Method::POST, "/api/v1/auth/verify-email/resend", &owner.token).send().await.unwrap().status(), 202);
        let second = app.mailed_token("asha@example.in", "/verify-email").await;
        assert_ne!(first, second);
        // Only the newest link counts.
        problem(app.post_json("/api/v1/auth/verify-email", &json!({"token": first})).await, 422, "validation").await;
        assert_eq!(app.post_json("/api/v1/auth/verify-email", &json!({"token": second})).await.status(), 204);
        assert!(me(owner.token.clone()).await);
        problem(app.post_json("/api/v1/auth/verify-email", &json!({"token": second})).await, 422, "validation").await;
        let again = app.request(Method::POST, "/api/v1/auth/verify-email/resend", &owner.token).send().await.unwrap();
        problem(again, 409, "conflict").await;
    }

    async fn passwords_are_reset_by_mail_without_revealing_accounts(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let login = |password: &'static str| {
            let app = &app;
            async move { app.post_json("/api/v1/auth/login", &json!({"email": "asha@example.in", "password": password})).await }
        };
        let tokens: Value = login("correct horse battery").await.json().await.unwrap();

        let known = app.post_json("/api/v1/auth/password-reset/request", &json!({"email": "Asha@Example.in"})).await;
        let unknown = app.post_json("/api/v1/auth/password-reset/request", &json!({"email": "nobody@example.in"})).await;
        assert_eq!((known.status(), unknown.status()), (reqwest::StatusCode::ACCEPTED, reqwest::StatusCode::ACCEPTED));
        assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());
        assert!(app.store().mail_to("nobody@example.in").await.unwrap().is_empty());

        let token = app.mailed_token("asha@example.in", "/reset-password").await;
        let containing_name = json!({"token": token, "password": "asha-is-my-password"});
        let body = problem(app.post_json("/api/v1/auth/password-reset", &containing_name).await, 422, "validation").await;
        assert_eq!(body["errors"][0]["field"], "password");
        let reset = json!({"token": token, "password": "a brand new passphrase"});
        assert_eq!(app.post_json("/api/v1/auth/password-reset", &reset).await.status(), 204);
        problem(app.post_json("/api/v1/auth/password-reset", &reset).await, 422, "validation").await;
        problem(login("correct horse battery").await, 401, "unauthenticated").await;
        assert_eq!(login("a brand new passphrase").await.status(), 200);
        // The reset ended the sessions that existed before it.
        problem(app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": tokens["refresh_token"]})).await, 401, "unauthenticated").await;
        let events: Vec<String> = app.store().audit_events(&owner.tenant_id).await.unwrap().into_iter().map(|e| e.event.into_owned()).collect();
        assert!(events.contains(&"auth.password_reset.completed".to_owned()), "{events:?}");
    }
}

/// Mail leaves through the sender: with no mail server it is logged and marked sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_is_delivered() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    app.sign_up("asha@example.in").await;
    for _ in 0..100 {
        let mail = app.store().mail_to("asha@example.in").await.unwrap();
        if mail.iter().all(|m| m.sent_at.is_some()) {
            assert_eq!(mail[0].attempts, 1);
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the verification mail was not delivered");
}
