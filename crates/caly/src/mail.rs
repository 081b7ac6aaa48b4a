//! Mail to users: the messages, and the sender that drains the outbox — over SMTP when a mail
//! server is configured, otherwise into the log at info level so that a local user can follow
//! the link. Failed deliveries stay in the outbox and are retried with growing pauses.

use std::time::Duration;

use anyhow::Context;
use caly_store::{Mail, Store};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor, message::Mailbox};
use secrecy::ExposeSecret;

use crate::{auth::now_micros, config::MailConfig, lifecycle::Lifecycle};

/// How often the outbox is checked for due mail.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// The longest pause between two attempts at one mail.
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(3600);

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

/// Where mail goes.
pub enum Delivery {
    Log,
    Smtp { transport: Box<AsyncSmtpTransport<Tokio1Executor>>, from: Mailbox },
}

impl Delivery {
    pub fn from_config(config: &MailConfig) -> anyhow::Result<Self> {
        let Some(url) = &config.smtp_url else { return Ok(Self::Log) };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
            .context("mail.smtp_url")?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        Ok(Self::Smtp { transport: Box::new(transport), from: config.from.parse().context("mail.from")? })
    }

    async fn send(&self, mail: &Mail) -> anyhow::Result<()> {
        match self {
            Self::Log => {
                tracing::info!(to = %mail.recipient, subject = %mail.subject, body = %mail.body, "mail (no mail server configured)");
            }
            Self::Smtp { transport, from } => {
                let message = lettre::Message::builder()
                    .from(from.clone())
                    .to(mail.recipient.parse().context("recipient")?)
                    .subject(&mail.subject)
                    .body(mail.body.clone())?;
                transport.send(message).await?;
            }
        }
        Ok(())
    }
}

/// Delivers due mail until shutdown begins.
pub async fn run_sender(store: Store, delivery: Delivery, lifecycle: Lifecycle) {
    loop {
        // Until the migrations are applied there may be no outbox to read.
        if lifecycle.phase() != crate::lifecycle::Phase::Starting
            && let Err(error) = deliver_due(&store, &delivery).await
        {
            tracing::warn!(%error, "reading the outbox failed; will retry");
        }
        tokio::select! {
            () = tokio::time::sleep(POLL_EVERY) => {}
            () = lifecycle.shutdown_requested() => return,
        }
    }
}

async fn deliver_due(store: &Store, delivery: &Delivery) -> Result<(), caly_store::StoreError> {
    for mail in store.due_mail(now_micros(), 50).await? {
        match delivery.send(&mail).await {
            Ok(()) => store.mail_sent(&mail.id, now_micros()).await?,
            Err(error) => {
                let pause = retry_pause(mail.attempts + 1);
                tracing::warn!(mail_id = %mail.id, attempts = mail.attempts + 1, error = %format!("{error:#}"), ?pause, "mail not delivered");
                store.mail_failed(&mail.id, &format!("{error:#}"), now_micros() + pause.as_micros() as i64).await?;
            }
        }
    }
    Ok(())
}

/// 30 s after the first failure, doubling, at most an hour.
fn retry_pause(attempts: i64) -> Duration {
    let doublings = attempts.clamp(1, 12) as u32 - 1;
    (Duration::from_secs(30) * 2_u32.pow(doublings)).min(MAX_RETRY_PAUSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(retry_pause(1), Duration::from_secs(30));
        assert_eq!(retry_pause(2), Duration::from_secs(60));
        assert_eq!(retry_pause(50), MAX_RETRY_PAUSE);
    }
}
