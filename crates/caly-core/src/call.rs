//! Calls and their turns: who called, how it went, what was said.

use crate::choice;

choice! {
    /// How a call reached Caly.
    pub enum Direction, invalid = "invalid_direction" {
        Inbound = "inbound",
        Outbound = "outbound",
        /// A test call from the dashboard's browser client.
        Web = "web",
        /// A text conversation in the sandbox.
        Sandbox = "sandbox",
    }
}

choice! {
    /// Where a call is in its life.
    pub enum CallStatus, invalid = "invalid_status" {
        InProgress = "in_progress",
        Completed = "completed",
        Failed = "failed",
        /// Left open when the process stopped; closed at the next start.
        Interrupted = "interrupted",
    }
}

choice! {
    /// How a finished call ended for the caller.
    pub enum Outcome, invalid = "invalid_outcome" {
        /// Handled by the agent without a human.
        Resolved = "resolved",
        /// Handed to a human.
        Transferred = "transferred",
        /// The caller hung up before it was handled.
        Abandoned = "abandoned",
    }
}

choice! {
    /// Who spoke a turn.
    pub enum Speaker, invalid = "invalid_speaker" {
        Caller = "caller",
        Agent = "agent",
        System = "system",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_unknown_ones_are_refused() {
        for status in CallStatus::ALL {
            assert_eq!(status.as_str().parse::<CallStatus>().unwrap(), *status);
        }
        assert_eq!(serde_json::to_string(&CallStatus::InProgress).unwrap(), "\"in_progress\"");
        let refused = "ringing".parse::<CallStatus>().unwrap_err();
        assert_eq!(refused.code, "invalid_status");
        assert_eq!(refused.message, "must be one of: in_progress completed failed interrupted");
    }
}
