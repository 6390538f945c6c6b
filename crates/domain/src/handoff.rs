//! Hand-off to a person: when a conversation joins the waiting-for-a-person queue
//! (`State::WaitingPerson`), and where it goes back to.
//!
//! Reasons to queue, decided by the engine: the customer asks for a person ("quero falar com
//! atendente", the "Falar com atendente" button), repeats themselves impatiently after the bot
//! already answered ("??", "alô", "oi?? alguém aí?"), the bot failed [`MAX_STALLED`] times in
//! a row, or writes a decline or a question while the quote waits for approval. Reasons found
//! outside the engine (WhatsApp refused a message for good) use [`queue_for_person`].

use crate::conversation::{transition, Event, IllegalTransition, State};
use crate::engine::Memo;

/// Customer messages in a row that the bot could not use (nothing new understood, the same
/// question asked again): at this many, a person takes over instead of a fourth attempt.
pub const MAX_STALLED: u8 = 3;

/// The reason shown to staff for a customer who asked for a person.
pub const ASKED: &str = "o cliente pediu para falar com um atendente";

/// Puts a conversation in the queue, remembering where it was so that the hand-back resumes
/// there. A conversation already waiting stays as it is (its first reason and time count).
pub fn queue_for_person(state: State, memo: &mut Memo) -> Result<State, IllegalTransition> {
    if state == State::WaitingPerson {
        return Ok(state);
    }
    let to = transition(state, Event::PersonRequested)?;
    memo.resume = Some(state);
    memo.stalled = 0;
    memo.asked_times = 0;
    Ok(to)
}

/// A person took the conversation, answered it or handed it back: the state the bot resumes
/// in (the one it was queued from). Any other state is returned unchanged.
pub fn leave_person_queue(state: State, memo: &mut Memo) -> State {
    if state != State::WaitingPerson {
        return state;
    }
    memo.stalled = 0;
    memo.asked_times = 0;
    match memo.resume.take() {
        Some(
            s @ (State::CaptureMin | State::HumanApproval | State::QuoteSent | State::WaitingReply),
        ) => s,
        // Unknown or impossible: collecting data is where a conversation can always go on.
        _ => State::CaptureMin,
    }
}

/// "??", "alô", "oi?? alguém aí?", "tem alguém aí?": someone waiting for an answer, not a
/// request. Only questions with nothing else in them count; "quanto tá o cimento?" is a
/// question, not impatience.
pub fn frustration(text: &str) -> bool {
    let t = text.trim();
    let marks = t.chars().filter(|c| matches!(c, '?' | '!')).count();
    let folded = fold(t);
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        // Only punctuation: "??", "?!".
        return marks >= 1 && t.chars().all(|c| matches!(c, '?' | '!' | ' ' | '.'));
    }
    let calling = |w: &str| matches!(w, "alo" | "alou" | "aloo" | "alooo");
    let filler = |w: &str| {
        matches!(
            w,
            "oi" | "oie"
                | "ola"
                | "ei"
                | "e"
                | "ai"
                | "eai"
                | "alguem"
                | "tem"
                | "ta"
                | "to"
                | "esta"
                | "ninguem"
                | "responde"
                | "ae"
                | "hello"
                | "hey"
                | "psiu"
                | "gente"
        ) || calling(w)
    };
    if !words.iter().all(|w| filler(w)) {
        return false;
    }
    let asks_for_anyone = words.windows(2).any(|p| {
        matches!(
            (p[0], p[1]),
            ("alguem", "ai") | ("tem", "alguem") | ("alguem", "ae")
        )
    });
    words.iter().any(|w| calling(w)) || asks_for_anyone || marks >= 2
}

/// Lower case without accents: "Alô" and "alo" are the same call.
fn fold(t: &str) -> String {
    t.to_lowercase()
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' => 'a',
            'é' | 'ê' => 'e',
            'í' => 'i',
            'ó' | 'ô' | 'õ' => 'o',
            'ú' | 'ü' => 'u',
            'ç' => 'c',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings_alone_are_not_frustration() {
        for t in ["oi", "ola", "oi!", "e ai", "bom dia??"] {
            assert!(!frustration(t), "{t}");
        }
    }
}
