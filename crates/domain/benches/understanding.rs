//! Throughput of message understanding.
//!
//! * `demo_catalog`: the dev messages against the 73-item demo catalog (target ≥ 20,000
//!   msg/s per core).
//! * `catalog_5000`: the same messages against a synthetic 5,000-item catalog (≤ 1 ms/msg).
//! * `understanding_chat/*`: the same two catalogs with the turns of the chat-style dev set
//!   (run-on lists and dictation, which are cut into pieces and read piece by piece).
//!
//! * `hostile_inputs/demo_catalog`: the ten huge and hostile messages of
//!   `tests/understanding_props.rs` (100,000 digits, 50,000 words, emoji, control characters…),
//!   each read once per iteration; the test checks what they give, this measures how long.
//!
//! `cargo bench -p domain --bench understanding`

#[path = "../tests/support/hostile.rs"]
mod hostile;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use domain::catalog::{parse_catalog_csv, CatalogItem, Unit, DEMO_CATALOG_CSV};
use domain::money::Centavos;
use domain::understanding::{understand, CatalogIndex};

const DEV: &str = include_str!("../../../eval/messages.dev.jsonl");
const CHAT: &str = include_str!("../../../eval/messages.chat.dev.jsonl");

fn messages() -> Vec<String> {
    turns_of(DEV)
}

/// Every turn of a JSONL evaluation set, in order.
fn turns_of(set: &str) -> Vec<String> {
    set.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .flat_map(|v| {
            v["turns"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|t| t.as_str().map(str::to_string))
        })
        .collect()
}

/// The demo catalog plus generated look-alike products up to `n` items: many families,
/// sizes and colours, so postings and typo buckets are realistic.
fn synthetic_catalog(n: usize) -> Vec<CatalogItem> {
    let mut items = parse_catalog_csv(DEMO_CATALOG_CSV).expect("demo catalog");
    let families = [
        "parafuso",
        "bucha",
        "porca",
        "arruela",
        "luva",
        "tee",
        "bucha de reducao",
        "adaptador",
        "curva",
        "plug",
        "tampao",
        "niple",
        "abracadeira",
        "dobradica",
        "puxador",
        "cadeado",
        "disco de corte",
        "broca",
        "serra",
        "trena",
        "nivel",
        "martelo",
        "alicate",
        "chave",
        "pincel",
        "trincha",
        "espatula",
        "desempenadeira",
        "colher de pedreiro",
        "balde",
    ];
    let materials = [
        "aco",
        "inox",
        "zincado",
        "latao",
        "pvc",
        "galvanizado",
        "nylon",
        "ferro",
    ];
    let mut k = 0usize;
    while items.len() < n {
        let fam = families[k % families.len()];
        let mat = materials[(k / families.len()) % materials.len()];
        let size = 3 + (k * 7) % 97;
        let sku = format!("SYN-{k:05}");
        items.push(CatalogItem {
            sku,
            name: format!("{fam} {mat} {size}mm"),
            unit: Unit::Un,
            price: Centavos(100 + k as i64),
            cost: Centavos(50 + k as i64 / 2),
            weight_grams: 100,
            aliases: vec![format!("{fam} {size}"), format!("{fam} {mat} {size}")],
            active: true,
        });
        k += 1;
    }
    items
}

fn bench(c: &mut Criterion) {
    let msgs = messages();
    let demo = parse_catalog_csv(DEMO_CATALOG_CSV).expect("demo catalog");
    let small = CatalogIndex::build(&demo, &[]);
    let big = CatalogIndex::build(&synthetic_catalog(5000), &[]);

    let mut g = c.benchmark_group("understanding");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("demo_catalog", |b| {
        b.iter(|| {
            for m in &msgs {
                std::hint::black_box(understand(m, &small));
            }
        })
    });
    g.bench_function("catalog_5000", |b| {
        b.iter(|| {
            for m in &msgs {
                std::hint::black_box(understand(m, &big));
            }
        })
    });
    g.finish();

    // Chat-style messages (run-on lists, dictation) are longer and are the ones cut into
    // pieces, each read on its own: measured apart so that cost is seen.
    let chat = turns_of(CHAT);
    let mut g = c.benchmark_group("understanding_chat");
    g.throughput(Throughput::Elements(chat.len() as u64));
    g.bench_function("demo_catalog", |b| {
        b.iter(|| {
            for m in &chat {
                std::hint::black_box(understand(m, &small));
            }
        })
    });
    g.bench_function("catalog_5000", |b| {
        b.iter(|| {
            for m in &chat {
                std::hint::black_box(understand(m, &big));
            }
        })
    });
    g.finish();

    let hostile = hostile::hostile_messages();
    let mut g = c.benchmark_group("hostile_inputs");
    g.sample_size(10);
    g.throughput(Throughput::Elements(hostile.len() as u64));
    g.bench_function("demo_catalog", |b| {
        b.iter(|| {
            for m in &hostile {
                std::hint::black_box(understand(m, &small));
            }
        })
    });
    g.finish();

    c.bench_function("index_build_5000", |b| {
        let items = synthetic_catalog(5000);
        b.iter(|| std::hint::black_box(CatalogIndex::build(&items, &[])))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
