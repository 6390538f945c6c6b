//! The life of a quote, its approval and each WhatsApp message, as the columns store them.
//! (The conversation's state is [`crate::conversation::State`]; a job's, `store::jobs::JobStatus`.)

use crate::stored_text_enum;

stored_text_enum! {
    /// `quotes.status`.
    pub enum QuoteStatus("quote status") {
        /// Waiting for a person in the store to approve it; the customer has seen nothing.
        PendingApproval = "pending_approval",
        /// With the customer, valid until `valid_until`.
        Sent = "sent",
        Accepted = "accepted",
        Declined = "declined",
        Expired = "expired",
        /// Refused by the store.
        Rejected = "rejected",
        /// Replaced by a newer quote after the customer changed the order.
        Superseded = "superseded",
    }
}

impl QuoteStatus {
    /// Still waiting on someone — the customer (sent) or the store (pending approval) — so
    /// the customer's answer, a newer quote or the clock can still settle it.
    pub fn is_open(self) -> bool {
        matches!(self, QuoteStatus::Sent | QuoteStatus::PendingApproval)
    }

    /// What the dashboard shows.
    pub fn label_pt(self) -> &'static str {
        match self {
            QuoteStatus::PendingApproval => "Aguardando aprovação",
            QuoteStatus::Sent => "Enviado",
            QuoteStatus::Accepted => "Aceito",
            QuoteStatus::Declined => "Recusado pelo cliente",
            QuoteStatus::Expired => "Vencido",
            QuoteStatus::Rejected => "Rejeitado pela loja",
            QuoteStatus::Superseded => "Substituído",
        }
    }
}

stored_text_enum! {
    /// `approvals.status`.
    pub enum ApprovalStatus("approval status") {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
        /// The customer changed the order while it waited: nobody needs to decide any more.
        Superseded = "superseded",
    }
}

impl ApprovalStatus {
    /// What the dashboard shows (the stored word is English: issue 12 item 8).
    pub fn label_pt(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "aguardando decisão",
            ApprovalStatus::Approved => "aprovado",
            ApprovalStatus::Rejected => "rejeitado",
            ApprovalStatus::Superseded => "substituído por um pedido novo do cliente",
        }
    }
}

stored_text_enum! {
    /// `messages.direction`.
    pub enum MessageDirection("message direction") {
        /// From the customer.
        In = "in",
        /// To the customer (the bot or a person in the store).
        Out = "out",
    }
}

stored_text_enum! {
    /// `messages.status`. Inbound: `received` until the worker has handled it, then
    /// `processed`. Outbound: `pending` (written with the state change that caused it), `sent`
    /// once Meta accepted it, then `delivered` / `read` from receipts, or `failed`.
    pub enum MessageStatus("message status") {
        Received = "received",
        Processed = "processed",
        Pending = "pending",
        Sent = "sent",
        Delivered = "delivered",
        Read = "read",
        Failed = "failed",
    }
}

impl MessageStatus {
    /// How far an outbound message got. Receipts arrive out of order, so a status only ever
    /// moves up this ladder (read stays read when a late "delivered" arrives); `failed` is
    /// the top, it always wins. Inbound statuses are not on it.
    pub fn receipt_rank(self) -> Option<i64> {
        match self {
            MessageStatus::Pending => Some(0),
            MessageStatus::Sent => Some(1),
            MessageStatus::Delivered => Some(2),
            MessageStatus::Read => Some(3),
            MessageStatus::Failed => Some(4),
            MessageStatus::Received | MessageStatus::Processed => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored text is the contract with existing rows: it must never change.
    #[test]
    fn stored_text_is_todays() {
        let quote: Vec<&str> = QuoteStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            quote,
            [
                "pending_approval",
                "sent",
                "accepted",
                "declined",
                "expired",
                "rejected",
                "superseded"
            ]
        );
        let approval: Vec<&str> = ApprovalStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(approval, ["pending", "approved", "rejected", "superseded"]);
        let direction: Vec<&str> = MessageDirection::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(direction, ["in", "out"]);
        let message: Vec<&str> = MessageStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            message,
            [
                "received",
                "processed",
                "pending",
                "sent",
                "delivered",
                "read",
                "failed"
            ]
        );
    }

    #[test]
    fn receipts_climb_one_ladder() {
        use MessageStatus::*;
        let ladder: Vec<MessageStatus> = [Pending, Sent, Delivered, Read, Failed].into();
        for pair in ladder.windows(2) {
            assert!(pair[0].receipt_rank() < pair[1].receipt_rank(), "{pair:?}");
        }
        assert_eq!(Received.receipt_rank(), None);
        assert_eq!(Processed.receipt_rank(), None);
    }

    #[test]
    fn open_quotes_are_the_ones_waiting_on_someone() {
        let open: Vec<QuoteStatus> = QuoteStatus::ALL
            .into_iter()
            .filter(|s| s.is_open())
            .collect();
        assert_eq!(open, [QuoteStatus::PendingApproval, QuoteStatus::Sent]);
    }
}
