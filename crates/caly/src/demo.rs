//! The demo tenant: created on the first start with an empty database, with its demo store, so
//! that `cargo run --release` gives something to sign in to and a shop to talk about. Its owner's password is random and
//! printed once; `demo = false` (`CALY_DEMO=false`) skips it.

use caly_core::{DisplayName, Email, Language, Role, Timezone};
use caly_store::{NewTenant, NewUser};

use crate::{
    auth::{now_micros, random_token},
    state::AppState,
};

pub const DEMO_EMAIL: &str = "owner@demo.caly.test";

/// Creates the demo tenant when the database has no tenant yet.
pub async fn create_on_first_run(state: &AppState) -> anyhow::Result<()> {
    if state.store.tenant_count().await? > 0 {
        return Ok(());
    }
    let password = random_token()[..24].to_owned();
    let hash = state.passwords.hash(&password).await?;
    let name = DisplayName::parse("Demo Store")?;
    let owner = DisplayName::parse("Demo Owner")?;
    let email = Email::parse(DEMO_EMAIL)?;
    let timezone = Timezone::parse("Asia/Kolkata")?;
    let (tenant, _) = state
        .store
        .create_tenant_with_owner(
            NewTenant { name: &name, timezone: &timezone, language: Language::Hinglish },
            NewUser { email: &email, name: &owner, role: Role::Owner, password_hash: &hash },
            now_micros(),
        )
        .await?;
    tracing::info!(tenant_id = %tenant.id, email = DEMO_EMAIL, "created the demo tenant");
    crate::commerce::connector(state, &tenant.id).await?;
    // Printed, not logged: the password must reach the person at the console and no log store.
    println!(
        "\n  Demo tenant created. Sign in with\n    email:    {DEMO_EMAIL}\n    password: {password}\n  \
         This password is shown only now. Set CALY_DEMO=false to start without a demo tenant.\n"
    );
    Ok(())
}
