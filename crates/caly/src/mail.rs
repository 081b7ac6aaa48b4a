//! Mail to users: the messages, and the sender that drains the outbox. With no mail server
//! configured, each message is written to the log at info level so that a local user can
//! follow its link; delivery is recorded in the outbox either way.

use std::time::Duration;

use caly_store::Store;

use crate::{auth::now_micros, lifecycle::Lifecycle};

/// How often the outbox is checked for due mail.
const POLL_EVERY: Duration = Duration::from_secs(1);

pub struct Message {
    pub subject: String,
    pub body: String,
}

pub fn verification(public_url: &str, token: &str) -> Message {
    Message {
        subject: "Confirm your email for Caly".into(),
        body: format!(
            "Confirm this address by opening\n\n  {public_url}/verify-email?token={token}\n\n\
             The link works once, for 30 minutes. If you did not sign up for Caly, ignore this mail."
        ),
    }
}

pub fn password_reset(public_url: &str, token: &str) -> Message {
    Message {
        subject: "Reset your Caly password".into(),
        body: format!(
            "Choose a new password by opening\n\n  {public_url}/reset-password?token={token}\n\n\
             The link works once, for 30 minutes. If you did not ask for this, ignore this mail: \
             your password stays as it is."
        ),
    }
}

pub fn invitation(public_url: &str, store_name: &str, token: &str) -> Message {
    Message {
        subject: format!("You are invited to {store_name} on Caly"),
        body: format!(
            "You have been invited to help run {store_name}'s phone support on Caly.\n\
             Choose your password by opening\n\n  {public_url}/accept-invite?token={token}\n\n\
             The link works once, for 72 hours."
        ),
    }
}

/// Delivers due mail until shutdown begins.
pub async fn run_sender(store: Store, lifecycle: Lifecycle) {
    loop {
        if let Err(error) = deliver_due(&store).await {
            tracing::warn!(%error, "mail delivery failed; will retry");
        }
        tokio::select! {
            () = tokio::time::sleep(POLL_EVERY) => {}
            () = lifecycle.shutdown_requested() => return,
        }
    }
}

async fn deliver_due(store: &Store) -> Result<(), caly_store::StoreError> {
    let now = now_micros();
    for mail in store.due_mail(now, 50).await? {
        tracing::info!(to = %mail.recipient, subject = %mail.subject, body = %mail.body, "mail (no mail server configured)");
        store.mail_sent(&mail.id, now).await?;
    }
    Ok(())
}
