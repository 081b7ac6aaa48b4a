//! Carrier credentials: the tenant's own (sealed in its settings) first, else the single-account
//! ones from configuration.

use secrecy::ExposeSecret;

use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    TwilioAccountSid,
    TwilioAuthToken,
    ExotelApiKey,
    ExotelApiToken,
    PlivoAuthId,
    PlivoAuthToken,
}

impl Credential {
    /// The name it is stored under in a tenant's settings.
    pub const fn name(self) -> &'static str {
        match self {
            Self::TwilioAccountSid => "twilio_account_sid",
            Self::TwilioAuthToken => "twilio_auth_token",
            Self::ExotelApiKey => "exotel_api_key",
            Self::ExotelApiToken => "exotel_api_token",
            Self::PlivoAuthId => "plivo_auth_id",
            Self::PlivoAuthToken => "plivo_auth_token",
        }
    }
}

/// The credential for `tenant_id`, if it or the deployment has one.
pub async fn credential(
    state: &AppState,
    tenant_id: &str,
    which: Credential,
) -> Result<Option<String>, caly_store::StoreError> {
    if let Some(value) = crate::secrets::stored(&state.store, &state.secrets, tenant_id, which.name()).await? {
        return Ok(Some(value));
    }
    let config = &state.config.telephony;
    Ok(match which {
        Credential::TwilioAccountSid => config.twilio_account_sid.clone(),
        Credential::TwilioAuthToken => config.twilio_auth_token.as_ref().map(|s| s.expose_secret().to_owned()),
        Credential::ExotelApiKey => config.exotel_api_key.clone(),
        Credential::ExotelApiToken => config.exotel_api_token.as_ref().map(|s| s.expose_secret().to_owned()),
        Credential::PlivoAuthId => config.plivo_auth_id.clone(),
        Credential::PlivoAuthToken => config.plivo_auth_token.as_ref().map(|s| s.expose_secret().to_owned()),
    })
}
