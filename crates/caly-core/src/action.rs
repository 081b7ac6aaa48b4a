//! Actions: the state-changing things an agent asks the store to do, and their approval.

use crate::choice;

choice! {
    /// What an action does to an order.
    pub enum ActionKind, invalid = "invalid_kind" {
        Cancel = "cancel",
        Refund = "refund",
        Return = "return",
        Exchange = "exchange",
        AddressChange = "address_change",
    }
}

choice! {
    /// Where an action is: proposed by the agent, possibly waiting for a supervisor, then
    /// decided and carried out.
    pub enum ActionStatus, invalid = "invalid_status" {
        Proposed = "proposed",
        AwaitingApproval = "awaiting_approval",
        Approved = "approved",
        Rejected = "rejected",
        Executed = "executed",
        Failed = "failed",
    }
}

/// A supervisor's verdict on an action awaiting approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    /// The status an action awaiting approval moves to.
    pub fn status(self) -> ActionStatus {
        match self {
            Self::Approve => ActionStatus::Approved,
            Self::Reject => ActionStatus::Rejected,
        }
    }
}
