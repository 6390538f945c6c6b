//! Messages built to hurt the understanding pipeline: huge, repetitive, control characters.
//! Shared by the property test (bounded output) and the `hostile_inputs` bench (its speed),
//! so both look at the same inputs.

pub fn hostile_messages() -> Vec<String> {
    vec![
        "9".repeat(100_000),
        "cimento ".repeat(15_000),
        "1/2 ".repeat(25_000),
        "e ".repeat(50_000),
        "📍💳📅📦".repeat(10_000),
        "\u{202e}\u{0}\u{1b}[31m".repeat(10_000),
        "10 sacos de cimento, ".repeat(5_000),
        "a".repeat(100_000),
        "no Jardim ".repeat(10_000),
        "rua x 1, ".repeat(10_000),
    ]
}
