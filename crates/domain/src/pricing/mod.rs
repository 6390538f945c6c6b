//! Quote pricing and approval rules: integer centavos, basis points and exact quantities,
//! rounding half up to the centavo at each step (docs/pricing.md).

mod approval;
mod quote;
mod rules;

pub use approval::ApprovalReason;
pub use quote::{
    price_quote, reprice, reprice_edited, FreightEdit, LineEdit, PricedLine, PricedQuote,
    PricingError, QuoteRequest, Suggestion,
};
pub use rules::{
    demo_rules, fold, known_bairros, FreightRule, FreightZone, StoreRules, VolumeDiscount,
};
