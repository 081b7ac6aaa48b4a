//! The carriers' REST APIs for a live call: hand it to a person, hang it up. Twilio replaces the
//! call's TwiML; Plivo transfers the caller's leg to a URL that answers `<Dial>`. Exotel has no
//! such call for a Voicebot stream: its flow moves to the next applet when the stream closes,
//! so there closing the stream is the transfer (the flow's next applet dials the store).

use caly_telephony::{Carrier, twilio};

use super::credentials::{Credential, credential};
use crate::state::AppState;

pub enum Request<'a> {
    Transfer { number: &'a str, dial_url: &'a str },
    HangUp,
}

/// Performs `request` on the carrier's call `carrier_call_id`; `Ok(false)` when the carrier has
/// no REST call for it (closing the stream does it).
pub async fn perform(
    state: &AppState,
    tenant_id: &str,
    carrier: Carrier,
    carrier_call_id: &str,
    request: Request<'_>,
) -> anyhow::Result<bool> {
    let config = &state.config.telephony;
    let http = &state.http;
    let missing = |what: &str| anyhow::anyhow!("no {what} for tenant {tenant_id}");
    let response = match carrier {
        Carrier::Twilio => {
            let sid = credential(state, tenant_id, Credential::TwilioAccountSid)
                .await?
                .ok_or_else(|| missing("Twilio account SID"))?;
            let token = credential(state, tenant_id, Credential::TwilioAuthToken)
                .await?
                .ok_or_else(|| missing("Twilio auth token"))?;
            let url = format!("{}/2010-04-01/Accounts/{sid}/Calls/{carrier_call_id}.json", config.twilio_api_url);
            let form = match request {
                Request::Transfer { number, .. } => [("Twiml", twilio::dial(number))],
                Request::HangUp => [("Status", "completed".to_owned())],
            };
            http.post(url).basic_auth(sid, Some(token)).form(&form).send().await?
        }
        Carrier::Plivo => {
            let id =
                credential(state, tenant_id, Credential::PlivoAuthId).await?.ok_or_else(|| missing("Plivo auth id"))?;
            let token = credential(state, tenant_id, Credential::PlivoAuthToken)
                .await?
                .ok_or_else(|| missing("Plivo auth token"))?;
            let url = format!("{}/v1/Account/{id}/Call/{carrier_call_id}/", config.plivo_api_url);
            match request {
                Request::Transfer { dial_url, .. } => {
                    let body = serde_json::json!({"legs": "aleg", "aleg_url": dial_url, "aleg_method": "POST"});
                    http.post(url).basic_auth(id, Some(token)).json(&body).send().await?
                }
                Request::HangUp => http.delete(url).basic_auth(id, Some(token)).send().await?,
            }
        }
        Carrier::Exotel | Carrier::Browser => return Ok(false),
    };
    let status = response.status();
    anyhow::ensure!(status.is_success(), "{} answered {status}", carrier.as_str());
    Ok(true)
}
