//! Debugging aid: prints what the understanding reads in each argument (one conversation).
//! `cargo run -p domain --example understand -- "quero 10 sacos de cimento" "pix"`

use domain::catalog::{parse_catalog_csv, DEMO_CATALOG_CSV};
use domain::understanding::{understand_in, CatalogIndex, Draft};

fn main() {
    let items = match parse_catalog_csv(DEMO_CATALOG_CSV) {
        Ok(items) => items,
        Err(e) => {
            eprintln!("catálogo de demonstração inválido: {e:?}");
            std::process::exit(2);
        }
    };
    let index = CatalogIndex::build(&items, &[]);
    let mut draft = Draft::default();
    for msg in std::env::args().skip(1) {
        let u = understand_in(&msg, &index, &draft);
        println!("> {msg}\n{u:#?}");
        draft.apply(&u);
    }
    println!("{draft:#?}");
}
