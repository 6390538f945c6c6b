//! The demo store as the engine tests see it: its catalog, rules and default templates,
//! on 28/11/2026, the bot answering (not taken over), no assistant.

use chrono::NaiveDate;
use domain::catalog::{parse_catalog_csv, CatalogItem, DEMO_CATALOG_CSV};
use domain::engine::{Context, TemplateSet};
use domain::pricing::{demo_rules, known_bairros, StoreRules};
use domain::understanding::CatalogIndex;

pub struct World {
    pub catalog: Vec<CatalogItem>,
    pub index: CatalogIndex,
    pub rules: StoreRules,
    pub templates: TemplateSet,
}

pub fn world() -> World {
    let catalog = parse_catalog_csv(DEMO_CATALOG_CSV).unwrap();
    let rules = demo_rules();
    let index = CatalogIndex::build(&catalog, &known_bairros(&rules));
    World {
        catalog,
        index,
        rules,
        templates: TemplateSet::new(),
    }
}

pub fn ctx(w: &World) -> Context<'_> {
    Context {
        index: &w.index,
        catalog: &w.catalog,
        rules: &w.rules,
        templates: &w.templates,
        store_name: "Depósito Exemplo",
        customer_name: Some("Maria"),
        today: NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
        taken_over: false,
        auto_quotes_enabled: true,
        assistant: None,
    }
}
