//! The language model's commands (docs/assistants.md): `orcazap parse --assistant`, the eval
//! run with the model reading what the rules are unsure of, and `orcazap assistant budget |
//! usage`.

use std::io::{BufRead, Write};

use anyhow::Context;
use domain::understanding::{understand_in, CatalogIndex, Draft, OutputItem, ParseOutput};
use worker::assistant::{self, proposal, LlmAssistant};

/// What one `parse --assistant` run did, printed on stderr at the end.
#[derive(Debug, Default)]
struct Tally {
    asked: usize,
    helped: usize,
    fallbacks: std::collections::BTreeMap<&'static str, usize>,
    prompt_tokens: i64,
    completion_tokens: i64,
}

/// `orcazap parse --catalog FILE --assistant`: the contract of `orcazap parse` (SPEC §10), the
/// same draft logic, and for every message the rules read with an unknown product or low
/// confidence the configured model is asked and its validated answer merged, exactly as the
/// worker does (`worker::assistant`). No store budget applies (the run is the operator's); the
/// cost is reported. Freight bairros proposed by the model are checked against the demo
/// store's rules (the eval catalog is the demo store's).
pub async fn parse_with_assistant(catalog_path: &str, config: Option<&str>) -> anyhow::Result<()> {
    let llm_cfg = crate::config::llm_only(config)?.context(
        "--assistant precisa de ORCAZAP_LLM_BASE_URL e ORCAZAP_LLM_MODEL (docs/assistants.md)",
    )?;
    let llm = LlmAssistant::from_config(&llm_cfg)
        .map_err(|e| anyhow::anyhow!("modelo de linguagem: {e}"))?;
    let csv =
        std::fs::read_to_string(catalog_path).with_context(|| format!("lendo {catalog_path}"))?;
    let catalog = domain::catalog::parse_catalog_csv(&csv).map_err(|errs| {
        anyhow::anyhow!(
            "catálogo inválido:\n{}",
            errs.iter()
                .map(|e| format!("  {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    let index = CatalogIndex::build(&catalog, &[]);
    let rules = domain::pricing::demo_rules();
    let lines: Vec<String> = std::io::stdin()
        .lock()
        .lines()
        .collect::<Result<_, _>>()
        .context("lendo a entrada")?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut tally = Tally::default();
    let mut bad = 0;
    for (n, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (id, turns) = match read_case(line) {
            Ok(c) => c,
            Err(e) => {
                bad += 1;
                eprintln!("linha {}: {e}", n + 1);
                continue;
            }
        };
        let mut draft = Draft::default();
        for t in &turns {
            let mut u = understand_in(t, &index, &draft);
            if assistant::needs_help(&u) {
                let cands = proposal::candidates(t, &draft, &catalog);
                if cands.is_empty() {
                    *tally.fallbacks.entry("no_candidates").or_default() += 1;
                } else {
                    tally.asked += 1;
                    let req = llm.request(t, &draft, &u.unknown, &cands);
                    let (res, p, c) = llm.call(&req, &catalog, &rules).await;
                    tally.prompt_tokens += p;
                    tally.completion_tokens += c;
                    match res.map(|prop| proposal::merge(&u, &draft, &prop)) {
                        Ok(Some(merged)) => {
                            tally.helped += 1;
                            u = merged;
                        }
                        Ok(None) => *tally.fallbacks.entry("no_help").or_default() += 1,
                        Err(reason) => *tally.fallbacks.entry(reason).or_default() += 1,
                    }
                }
            }
            draft.apply(&u);
        }
        let output = ParseOutput {
            id,
            items: draft
                .items
                .iter()
                .map(|i| OutputItem {
                    sku: i.sku.clone(),
                    quantity: i.quantity.to_json_number(),
                })
                .collect(),
            location: draft.location.clone(),
            payment: draft.payment,
            delivery: draft.delivery.and_then(|d| d.contract_code()),
            unknown: draft.unknown.clone(),
        };
        writeln!(out, "{}", serde_json::to_string(&output)?)?;
    }
    out.flush()?;
    let cost = llm
        .limits
        .cost_millicents(tally.prompt_tokens, tally.completion_tokens);
    eprintln!(
        "assistente: {} consulta(s), {} ajudaram; tokens {} de entrada + {} de saída; custo R$ {},{:05} (preços de ORCAZAP_LLM_PRICE_*); sem ajuda: {:?}",
        tally.asked,
        tally.helped,
        tally.prompt_tokens,
        tally.completion_tokens,
        cost / 100_000,
        cost % 100_000,
        tally.fallbacks
    );
    if bad > 0 {
        anyhow::bail!("{bad} linha(s) de entrada inválidas");
    }
    Ok(())
}

/// `{"id", "turns": [...]}` with the messages `orcazap parse` gives for a bad line.
fn read_case(line: &str) -> Result<(String, Vec<String>), String> {
    let v: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("JSON inválido: {e}"))?;
    let obj = v
        .as_object()
        .ok_or_else(|| "esperado um objeto JSON {\"id\", \"turns\"}".to_string())?;
    let id = match obj.get("id") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => return Err("campo \"id\" ausente ou inválido (texto)".into()),
    };
    let turns = obj
        .get("turns")
        .and_then(|t| t.as_array())
        .ok_or_else(|| format!("caso {id}: campo \"turns\" ausente (lista de mensagens)"))?;
    let texts = turns
        .iter()
        .map(|t| {
            t.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("caso {id}: cada item de \"turns\" deve ser texto"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((id, texts))
}

async fn tenant_id(db: &store::Db, slug: &str) -> anyhow::Result<store::tenants::Tenant> {
    store::tenants::by_slug(db, slug)
        .await?
        .with_context(|| format!("loja {slug:?} não encontrada"))
}

/// `orcazap assistant budget --store S --cents N | --default`.
pub async fn set_budget(db: &store::Db, slug: &str, cents: Option<i64>) -> anyhow::Result<()> {
    if cents.is_some_and(|c| c < 0) {
        anyhow::bail!("--cents é um valor em centavos, zero ou mais");
    }
    let t = tenant_id(db, slug).await?;
    store::assistant_budget::set_store_budget_cents(db, &t.id, cents).await?;
    match cents {
        Some(c) => println!(
            "orçamento mensal de IA da loja {slug}: {} ({c} centavos)",
            brl(c)
        ),
        None => println!(
            "orçamento mensal de IA da loja {slug}: o padrão (ORCAZAP_LLM_MONTHLY_BUDGET_CENTS)"
        ),
    }
    Ok(())
}

/// `orcazap assistant usage --store S`.
pub async fn usage(db: &store::Db, cfg: &crate::config::Config, slug: &str) -> anyhow::Result<()> {
    let t = tenant_id(db, slug).await?;
    let month = domain::clock::StoreClock::of(&t.timezone)
        .date_of(store::now_ms())
        .format("%Y-%m")
        .to_string();
    let u = store::assistant_budget::usage(db, &t.id, &month).await?;
    let own = store::assistant_budget::store_budget_cents(db, &t.id).await?;
    let budget = own.or(cfg.llm.as_ref().map(|l| l.limits.monthly_budget_cents));
    println!("loja {slug}, mês {month}");
    println!(
        "  modelo: {}",
        match &cfg.llm {
            Some(l) => l.provider.model.as_str(),
            None => "desligado (ORCAZAP_LLM_* não configurado)",
        }
    );
    println!(
        "  gasto: {} de {}{}",
        brl(u.spent_cents()),
        budget.map(brl).unwrap_or_else(|| "—".into()),
        if own.is_some() {
            " (orçamento da loja)"
        } else {
            ""
        }
    );
    println!(
        "  consultas: {}; tokens: {} de entrada, {} de saída",
        u.calls, u.prompt_tokens, u.completion_tokens
    );
    println!(
        "  recusadas: {} por orçamento, {} por limite por minuto{}",
        u.refused_budget,
        u.refused_rate,
        if u.exhausted() {
            " — orçamento esgotado: só regras até o mês que vem"
        } else {
            ""
        }
    );
    Ok(())
}

fn brl(cents: i64) -> String {
    domain::money::Centavos(cents).to_brl()
}
