//! The customer's 24 h WhatsApp window, shown where staff write to the customer (the
//! conversation's reply box, the approval page): outside it Meta refuses free messages
//! (131047), so the page says so instead of offering a send that can only fail (issue 18
//! item 5). Approved message templates, the one thing WhatsApp allows then, come with
//! issue 15; this is where they will be offered.

use domain::clock::StoreClock;
use minijinja::{context, Value};

/// `open` and the words for it: "Janela do WhatsApp aberta até 14:30" (" de amanhã" when it
/// closes after midnight, where the store is) or closed.
pub(super) fn window_view(expires_at: Option<i64>, now_ms: i64, clock: &StoreClock) -> Value {
    match expires_at.filter(|until| *until > now_ms) {
        Some(until) => {
            let tomorrow = clock.date_of(until) > clock.date_of(now_ms);
            context! {
                open => true,
                text => format!(
                    "Janela do WhatsApp aberta até {}{}",
                    clock.time_br(until),
                    if tomorrow { " de amanhã" } else { "" }
                ),
            }
        }
        None => context! {
            open => false,
            text => "Janela do WhatsApp fechada: o WhatsApp só permite mensagens modelo",
        },
    }
}
