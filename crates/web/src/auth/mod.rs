//! Passwords (Argon2id) and their strength rules, shared by sign-up, the dashboard and the
//! CLI.

pub mod password;
pub mod throttle;
pub mod totp;
