//! Why a quote must be looked at by a person before it is sent.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalReason {
    UnknownItem,
    MarginBelowMinimum,
    TotalAboveThreshold,
    NoFreightRule,
    LlmAssisted,
    NeedsHuman,
    /// Billing: the store's subscription is unpaid, canceled or past due beyond its grace
    /// period, so no quote goes out automatically (docs/billing.md).
    SubscriptionInactive,
}

impl ApprovalReason {
    pub const ALL: [ApprovalReason; 7] = [
        ApprovalReason::UnknownItem,
        ApprovalReason::MarginBelowMinimum,
        ApprovalReason::TotalAboveThreshold,
        ApprovalReason::NoFreightRule,
        ApprovalReason::LlmAssisted,
        ApprovalReason::NeedsHuman,
        ApprovalReason::SubscriptionInactive,
    ];

    /// Stable code stored with the approval record (same as the JSON form).
    pub fn code(&self) -> &'static str {
        match self {
            ApprovalReason::UnknownItem => "unknown_item",
            ApprovalReason::MarginBelowMinimum => "margin_below_minimum",
            ApprovalReason::TotalAboveThreshold => "total_above_threshold",
            ApprovalReason::NoFreightRule => "no_freight_rule",
            ApprovalReason::LlmAssisted => "llm_assisted",
            ApprovalReason::NeedsHuman => "needs_human",
            ApprovalReason::SubscriptionInactive => "subscription_inactive",
        }
    }

    /// What the attendant reads in the approval queue.
    pub fn label_pt(&self) -> &'static str {
        match self {
            ApprovalReason::UnknownItem => "produto não encontrado no catálogo",
            ApprovalReason::MarginBelowMinimum => "margem abaixo do mínimo da loja",
            ApprovalReason::TotalAboveThreshold => "total acima do limite para envio automático",
            ApprovalReason::NoFreightRule => "sem regra de frete para o local de entrega",
            ApprovalReason::LlmAssisted => "assistido por IA: pedido interpretado com ajuda de IA",
            ApprovalReason::NeedsHuman => "cliente pediu algo que o robô não decide",
            ApprovalReason::SubscriptionInactive => {
                "assinatura inativa: o envio automático está suspenso até o pagamento ser regularizado"
            }
        }
    }

    pub fn from_code(code: &str) -> Option<ApprovalReason> {
        let code = code.trim();
        ApprovalReason::ALL
            .into_iter()
            .find(|r| r.code().eq_ignore_ascii_case(code))
    }
}

impl fmt::Display for ApprovalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
