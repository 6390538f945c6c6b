//! Server-rendered pages: one minijinja environment, templates embedded in the binary,
//! autoescaping on for every `.html` template (user data is never marked safe).

use std::sync::OnceLock;

use axum::response::Html;
use minijinja::{AutoEscape, Environment};

use crate::error::AppError;

/// (name, source) of every page template; add new ones here.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("landing.html", include_str!("../templates/landing.html")),
    (
        "simulator.html",
        include_str!("../templates/simulator.html"),
    ),
    (
        "public/layout.html",
        include_str!("../templates/public/layout.html"),
    ),
    (
        "public/login.html",
        include_str!("../templates/public/login.html"),
    ),
    (
        "public/choose.html",
        include_str!("../templates/public/choose.html"),
    ),
    (
        "public/continue.html",
        include_str!("../templates/public/continue.html"),
    ),
    (
        "public/admin.html",
        include_str!("../templates/public/admin.html"),
    ),
    (
        "public/signup.html",
        include_str!("../templates/public/signup.html"),
    ),
    (
        "public/quote.html",
        include_str!("../templates/public/quote.html"),
    ),
    (
        "public/quote_gone.html",
        include_str!("../templates/public/quote_gone.html"),
    ),
    (
        "dashboard/layout.html",
        include_str!("../templates/dashboard/layout.html"),
    ),
    (
        "dashboard/bare.html",
        include_str!("../templates/dashboard/bare.html"),
    ),
    (
        "dashboard/login.html",
        include_str!("../templates/dashboard/login.html"),
    ),
    (
        "dashboard/logout.html",
        include_str!("../templates/dashboard/logout.html"),
    ),
    (
        "dashboard/password.html",
        include_str!("../templates/dashboard/password.html"),
    ),
    (
        "dashboard/overview.html",
        include_str!("../templates/dashboard/overview.html"),
    ),
    (
        "dashboard/_checklist.html",
        include_str!("../templates/dashboard/_checklist.html"),
    ),
    (
        "dashboard/store_data.html",
        include_str!("../templates/dashboard/store_data.html"),
    ),
    (
        "dashboard/simulator.html",
        include_str!("../templates/dashboard/simulator.html"),
    ),
    (
        "dashboard/approvals.html",
        include_str!("../templates/dashboard/approvals.html"),
    ),
    (
        "dashboard/_quote_lines.html",
        include_str!("../templates/dashboard/_quote_lines.html"),
    ),
    (
        "dashboard/approval.html",
        include_str!("../templates/dashboard/approval.html"),
    ),
    (
        "dashboard/hand_quote.html",
        include_str!("../templates/dashboard/hand_quote.html"),
    ),
    (
        "dashboard/inbox.html",
        include_str!("../templates/dashboard/inbox.html"),
    ),
    (
        "dashboard/_inbox_rows.html",
        include_str!("../templates/dashboard/_inbox_rows.html"),
    ),
    (
        "dashboard/_tiles.html",
        include_str!("../templates/dashboard/_tiles.html"),
    ),
    (
        "dashboard/quick_replies.html",
        include_str!("../templates/dashboard/quick_replies.html"),
    ),
    (
        "dashboard/meta_templates.html",
        include_str!("../templates/dashboard/meta_templates.html"),
    ),
    (
        "dashboard/transcript.html",
        include_str!("../templates/dashboard/transcript.html"),
    ),
    (
        "dashboard/conversation.html",
        include_str!("../templates/dashboard/conversation.html"),
    ),
    (
        "dashboard/quotes.html",
        include_str!("../templates/dashboard/quotes.html"),
    ),
    (
        "dashboard/orders.html",
        include_str!("../templates/dashboard/orders.html"),
    ),
    (
        "dashboard/quote.html",
        include_str!("../templates/dashboard/quote.html"),
    ),
    (
        "dashboard/catalog.html",
        include_str!("../templates/dashboard/catalog.html"),
    ),
    (
        "dashboard/rules.html",
        include_str!("../templates/dashboard/rules.html"),
    ),
    (
        "dashboard/freight.html",
        include_str!("../templates/dashboard/freight.html"),
    ),
    (
        "dashboard/freight_edit.html",
        include_str!("../templates/dashboard/freight_edit.html"),
    ),
    (
        "dashboard/templates.html",
        include_str!("../templates/dashboard/templates.html"),
    ),
    (
        "dashboard/template_preview.html",
        include_str!("../templates/dashboard/template_preview.html"),
    ),
    (
        "dashboard/template_edit.html",
        include_str!("../templates/dashboard/template_edit.html"),
    ),
    (
        "dashboard/team.html",
        include_str!("../templates/dashboard/team.html"),
    ),
    (
        "dashboard/whatsapp.html",
        include_str!("../templates/dashboard/whatsapp.html"),
    ),
    (
        "dashboard/billing.html",
        include_str!("../templates/dashboard/billing.html"),
    ),
    (
        "dashboard/_billing_banner.html",
        include_str!("../templates/dashboard/_billing_banner.html"),
    ),
    // Accounts (issue 17 items 4-5): e-mails and the pages of their links, two-factor.
    (
        "dashboard/security.html",
        include_str!("../templates/dashboard/security.html"),
    ),
    (
        "account/forgot.html",
        include_str!("../templates/account/forgot.html"),
    ),
    (
        "account/reset.html",
        include_str!("../templates/account/reset.html"),
    ),
    (
        "account/invite.html",
        include_str!("../templates/account/invite.html"),
    ),
    (
        "account/verify.html",
        include_str!("../templates/account/verify.html"),
    ),
    (
        "account/message.html",
        include_str!("../templates/account/message.html"),
    ),
    (
        "account/second_factor.html",
        include_str!("../templates/account/second_factor.html"),
    ),
    (
        "public/admin_2fa.html",
        include_str!("../templates/public/admin_2fa.html"),
    ),
    (
        "public/forgot.html",
        include_str!("../templates/public/forgot.html"),
    ),
    (
        "email/layout.html",
        include_str!("../templates/email/layout.html"),
    ),
    (
        "email/password_reset.txt",
        include_str!("../templates/email/password_reset.txt"),
    ),
    (
        "email/password_reset.html",
        include_str!("../templates/email/password_reset.html"),
    ),
    (
        "email/invite.txt",
        include_str!("../templates/email/invite.txt"),
    ),
    (
        "email/invite.html",
        include_str!("../templates/email/invite.html"),
    ),
    (
        "email/verify_email.txt",
        include_str!("../templates/email/verify_email.txt"),
    ),
    (
        "email/verify_email.html",
        include_str!("../templates/email/verify_email.html"),
    ),
    (
        "email/payment_failed.txt",
        include_str!("../templates/email/payment_failed.txt"),
    ),
    (
        "email/payment_failed.html",
        include_str!("../templates/email/payment_failed.html"),
    ),
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, src) in TEMPLATES {
            if let Err(e) = env.add_template(name, src) {
                // A broken built-in template is a programming error caught by the tests.
                tracing::error!(template = name, error = %e, "template does not parse");
            }
        }
        env.add_filter("brl", |cents: i64| domain::money::Centavos(cents).to_brl());
        env
    })
}

/// A template rendered to a string (e-mail bodies: `.txt` without escaping, `.html` escaped).
pub fn text(name: &str, ctx: minijinja::Value) -> Result<String, AppError> {
    page(name, ctx).map(|h| h.0)
}

pub fn page(name: &str, ctx: minijinja::Value) -> Result<Html<String>, AppError> {
    let t = env()
        .get_template(name)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template {name}: {e}")))?;
    t.render(ctx)
        .map(Html)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering {name}: {e:#}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for (name, _) in TEMPLATES {
            assert!(env().get_template(name).is_ok(), "{name} does not parse");
        }
    }

    #[test]
    fn user_data_is_escaped() {
        let out = page("error.html", minijinja::context! { status => 404, message => "<script>alert(1)</script>", request_id => "\"><img onerror=x>" }).unwrap();
        assert!(!out.0.contains("<script>alert"));
        assert!(!out.0.contains("<img onerror"));
        assert!(out.0.contains("&lt;script&gt;"));
    }
}
