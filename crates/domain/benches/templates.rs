//! Cost of rendering the bot's messages (speed is measured here, never asserted in tests).
//!
//! * `render/default_quote`: the default quote with the demo example, through the whole
//!   sandbox (syntax check, nesting limits, the guarded thread, MiniJinja). Target: well under
//!   1 ms per message; the worker renders one to three templates per reply.
//! * `render/default_data_capture`: the shortest default, mostly fixed costs.
//! * `guarded_thread`: only the thread every render runs on (`templates::STACK_BYTES` of
//!   stack), to see its share of the above.
//! * `validate/largest_allowed`: a 16 KB template at the nesting limits, the worst the editor
//!   accepts.
//!
//! `cargo bench -p domain --bench templates`

use criterion::{criterion_group, criterion_main, Criterion};
use domain::catalog::{parse_catalog_csv, DEMO_CATALOG_CSV};
use domain::money::Quantity;
use domain::pricing::{demo_rules, price_quote, QuoteRequest};
use domain::slots::{Location, PaymentMethod};
use domain::templates::*;

fn quote_ctx() -> serde_json::Value {
    let cat = parse_catalog_csv(DEMO_CATALOG_CSV).expect("demo catalog");
    let find = |s: &str| cat.iter().find(|i| i.sku == s).expect("sku");
    let q = price_quote(
        &QuoteRequest {
            lines: vec![
                (find("CIM-CP2-50"), Quantity::whole(10)),
                (find("ARE-MED-M3"), Quantity::whole(2)),
            ],
            unknown: vec![],
            payment: PaymentMethod::Pix,
            location: Location::Bairro("Grajaú".into()),
            llm_assisted: false,
            needs_human: false,
        },
        &demo_rules(),
    )
    .expect("the demo order fits the money limits");
    let common = Common {
        store_name: "Depósito Exemplo",
        customer_name: Some("Maria"),
    };
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
    quote_context(&common, &q, "ORC-2026-000123", date, Some("amanhã"))
}

/// Blocks of `{% if %}…{% endif %}` with an expression at every limit, up to the source cap.
fn largest_allowed() -> String {
    let expr = format!(
        "-{}cliente{}|length|abs{}",
        "-(".repeat(MAX_BRACKET_DEPTH - 1),
        "[0]".repeat(MAX_CHAIN - 2),
        ")".repeat(MAX_BRACKET_DEPTH - 1),
    );
    let block = format!("{{% if cliente %}}{{{{ {expr} }}}}{{% endif %}}\n");
    block.repeat(MAX_SOURCE_BYTES / block.len())
}

fn bench(c: &mut Criterion) {
    let quote = quote_ctx();
    let capture = sample_context(TemplateKind::DataCapture);
    let mut g = c.benchmark_group("render");
    g.bench_function("default_quote", |b| {
        b.iter(|| {
            render(
                TemplateKind::Quote,
                default_source(TemplateKind::Quote),
                &quote,
            )
        })
    });
    g.bench_function("default_data_capture", |b| {
        b.iter(|| {
            render(
                TemplateKind::DataCapture,
                default_source(TemplateKind::DataCapture),
                &capture,
            )
        })
    });
    g.finish();

    c.bench_function("guarded_thread", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                std::thread::Builder::new()
                    .stack_size(STACK_BYTES)
                    .spawn_scoped(s, || std::hint::black_box(1))
                    .expect("spawn")
                    .join()
                    .expect("join")
            })
        })
    });

    let big = largest_allowed();
    assert!(big.len() <= MAX_SOURCE_BYTES);
    validate(TemplateKind::DataCapture, &big).expect("at the limits, accepted");
    c.bench_function("validate/largest_allowed", |b| {
        b.iter(|| validate(TemplateKind::DataCapture, &big))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
