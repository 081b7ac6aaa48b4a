//! A tenant's policies applied to one action on one order: run it now, wait for a supervisor,
//! or refuse — and why, so the caller hears the reason in their language.

use crate::{
    action::ActionKind,
    choice,
    order::{Order, OrderStatus},
    settings::{CancellationWindow, Settings},
};

choice! {
    /// Why a policy says no.
    pub enum Refusal, invalid = "invalid_refusal" {
        AlreadyCancelled = "already_cancelled",
        /// Cancelling is past the tenant's window (shipped, or delivered).
        TooLateToCancel = "too_late_to_cancel",
        /// The tenant does not take cancellations by phone.
        NoCancellations = "no_cancellations",
        NotDelivered = "not_delivered",
        ReturnWindowClosed = "return_window_closed",
        NothingToRefund = "nothing_to_refund",
        MoreThanPaid = "more_than_paid",
        AlreadyShipped = "already_shipped",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Run,
    /// Allowed once a supervisor approves; the reason is for the supervisor.
    NeedsApproval(&'static str),
    Refused(Refusal),
}

const DAY: i64 = 86_400_000_000;
const HOUR: i64 = 3_600_000_000;

/// Judges `kind` on `order` at `now` (microseconds). `amount_paise` is the refund asked for.
pub fn judge(kind: ActionKind, order: &Order, settings: &Settings, amount_paise: i64, now: i64) -> Verdict {
    use OrderStatus::*;
    let policies = &settings.policies;
    let not_shipped = matches!(order.status, Confirmed | Packed);
    match kind {
        ActionKind::Cancel => match (order.status, policies.cancellation) {
            (Cancelled, _) => Verdict::Refused(Refusal::AlreadyCancelled),
            (_, CancellationWindow::Never) => Verdict::Refused(Refusal::NoCancellations),
            (Confirmed | Packed, _) | (Shipped | OutForDelivery, CancellationWindow::UntilDelivery) => Verdict::Run,
            _ => Verdict::Refused(Refusal::TooLateToCancel),
        },
        ActionKind::Refund => {
            let refundable = order.refundable_paise();
            if refundable == 0 {
                Verdict::Refused(Refusal::NothingToRefund)
            } else if amount_paise > refundable || amount_paise <= 0 {
                Verdict::Refused(Refusal::MoreThanPaid)
            } else if amount_paise > settings.refund_auto_approve_limit_paise() {
                Verdict::NeedsApproval("refund above the auto-approve limit")
            } else {
                Verdict::Run
            }
        }
        ActionKind::Return | ActionKind::Exchange => match (order.status, order.delivered_at) {
            (Delivered, Some(at)) if now - at <= i64::from(policies.return_window_days) * DAY => Verdict::Run,
            (Delivered, _) => Verdict::Refused(Refusal::ReturnWindowClosed),
            _ => Verdict::Refused(Refusal::NotDelivered),
        },
        ActionKind::AddressChange if !not_shipped => Verdict::Refused(Refusal::AlreadyShipped),
        ActionKind::AddressChange if now - order.placed_at > i64::from(policies.address_change_window_hours) * HOUR => {
            Verdict::NeedsApproval("address change after the window")
        }
        ActionKind::AddressChange => Verdict::Run,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::PaymentStatus;

    const NOW: i64 = 1_800_000_000_000_000;

    fn order(status: OrderStatus) -> Order {
        crate::order::sample("1001", status, NOW)
    }

    #[test]
    fn cancellation_follows_the_window() {
        let mut settings = Settings::default();
        let judge_cancel = |status, settings: &Settings| judge(ActionKind::Cancel, &order(status), settings, 0, NOW);
        assert_eq!(judge_cancel(OrderStatus::Packed, &settings), Verdict::Run);
        assert_eq!(judge_cancel(OrderStatus::Shipped, &settings), Verdict::Refused(Refusal::TooLateToCancel));
        assert_eq!(judge_cancel(OrderStatus::Cancelled, &settings), Verdict::Refused(Refusal::AlreadyCancelled));
        settings.policies.cancellation = CancellationWindow::UntilDelivery;
        assert_eq!(judge_cancel(OrderStatus::OutForDelivery, &settings), Verdict::Run);
        assert_eq!(judge_cancel(OrderStatus::Delivered, &settings), Verdict::Refused(Refusal::TooLateToCancel));
        settings.policies.cancellation = CancellationWindow::Never;
        assert_eq!(judge_cancel(OrderStatus::Confirmed, &settings), Verdict::Refused(Refusal::NoCancellations));
    }

    #[test]
    fn refunds_above_the_limit_wait_for_a_supervisor() {
        let settings = Settings::default();
        let paid = order(OrderStatus::Delivered);
        assert_eq!(judge(ActionKind::Refund, &paid, &settings, 50_000, NOW), Verdict::Run);
        assert!(matches!(judge(ActionKind::Refund, &paid, &settings, 50_001, NOW), Verdict::NeedsApproval(_)));
        assert_eq!(judge(ActionKind::Refund, &paid, &settings, 130_000, NOW), Verdict::Refused(Refusal::MoreThanPaid));
        let mut cod = paid.clone();
        cod.payment_status = PaymentStatus::Pending;
        assert_eq!(judge(ActionKind::Refund, &cod, &settings, 100, NOW), Verdict::Refused(Refusal::NothingToRefund));
    }

    #[test]
    fn returns_need_delivery_within_the_window() {
        let settings = Settings::default();
        let mut delivered = order(OrderStatus::Delivered);
        assert_eq!(judge(ActionKind::Return, &delivered, &settings, 0, NOW), Verdict::Run);
        delivered.delivered_at = Some(NOW - 8 * DAY);
        assert_eq!(
            judge(ActionKind::Exchange, &delivered, &settings, 0, NOW),
            Verdict::Refused(Refusal::ReturnWindowClosed)
        );
        let shipped = order(OrderStatus::Shipped);
        assert_eq!(judge(ActionKind::Return, &shipped, &settings, 0, NOW), Verdict::Refused(Refusal::NotDelivered));
    }

    #[test]
    fn address_changes_before_shipping_and_late_ones_need_approval() {
        let settings = Settings::default();
        let shipped = order(OrderStatus::Shipped);
        assert_eq!(
            judge(ActionKind::AddressChange, &shipped, &settings, 0, NOW),
            Verdict::Refused(Refusal::AlreadyShipped)
        );
        let mut fresh = order(OrderStatus::Confirmed);
        assert_eq!(judge(ActionKind::AddressChange, &fresh, &settings, 0, NOW), Verdict::Run);
        fresh.placed_at = NOW - 2 * DAY;
        assert!(matches!(judge(ActionKind::AddressChange, &fresh, &settings, 0, NOW), Verdict::NeedsApproval(_)));
    }
}
