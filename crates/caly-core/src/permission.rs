//! What a caller may do: each route asks for one permission; a user has it by role, an API
//! key by scope. Permissions without a scope are for signed-in people only.

use crate::{Role, choice};

choice! {
    /// What an API key may do, chosen when it is created.
    pub enum Scope, invalid = "invalid_scope" {
        CallsRead = "calls:read",
        CallsWrite = "calls:write",
        ActionsRead = "actions:read",
        ActionsWrite = "actions:write",
        AnalyticsRead = "analytics:read",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadCalls,
    /// Listen to (download) call recordings.
    ListenRecordings,
    AnnotateCalls,
    ExportCalls,
    ReadActions,
    DecideActions,
    ReadAnalytics,
    ManageTeam,
    /// Invite, promote, demote or deactivate owners.
    ManageOwners,
    ReadAudit,
    ManageApiKeys,
    ManageSettings,
    /// Talk to the agent in the sandbox; its actions are real.
    UseSandbox,
}

impl Permission {
    /// The lowest role that has it.
    pub fn role(self) -> Role {
        match self {
            Self::ReadCalls | Self::ReadActions | Self::ReadAnalytics => Role::Viewer,
            Self::AnnotateCalls
            | Self::ExportCalls
            | Self::DecideActions
            | Self::UseSandbox
            | Self::ListenRecordings => Role::Supervisor,
            Self::ManageTeam | Self::ReadAudit | Self::ManageApiKeys | Self::ManageSettings => Role::Admin,
            Self::ManageOwners => Role::Owner,
        }
    }

    /// The API-key scope that grants it, if keys may have it at all.
    pub fn scope(self) -> Option<Scope> {
        match self {
            Self::ReadCalls | Self::ExportCalls | Self::ListenRecordings => Some(Scope::CallsRead),
            Self::AnnotateCalls => Some(Scope::CallsWrite),
            Self::ReadActions => Some(Scope::ActionsRead),
            Self::DecideActions => Some(Scope::ActionsWrite),
            Self::ReadAnalytics => Some(Scope::AnalyticsRead),
            Self::ManageTeam
            | Self::ManageOwners
            | Self::ReadAudit
            | Self::ManageApiKeys
            | Self::ManageSettings
            | Self::UseSandbox => None,
        }
    }
}
