//! What the model sees and what is kept of its answer: the minimised prompt (only the
//! store's catalog items near the customer's words, only this conversation's draft and this
//! message, phone numbers masked), the strict JSON schema of the answer, the validation of an
//! answer against the store's catalog, and the merge of a valid answer into what the rules read
//! as a *proposal*: the rules' items and slots stay, the model only adds what they missed.

use domain::catalog::CatalogItem;
use domain::engine::ASSIST_BELOW_CONFIDENCE;
use domain::ids::Cep;
use domain::money::{Quantity, MAX_QUANTITY, QUANTITY_SCALE};
use domain::pricing::{fold, known_bairros, StoreRules};
use domain::slots::{Delivery, Location, PaymentMethod, Weekday};
use domain::understanding::{Draft, FoundItem, Intent, Understanding};
use serde_json::{json, Value};

/// Catalog items sent with one message at most.
pub const MAX_CANDIDATES: usize = 30;

/// The confidence given to an item the model proposed (below the rules' exact matches).
pub const MODEL_ITEM_CONFIDENCE: u8 = ASSIST_BELOW_CONFIDENCE;

/// Why an answer was not used (label on `orcazap_llm_fallbacks_total`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("resposta não é o JSON pedido: {0}")]
    Malformed(String),
    #[error("SKU fora do catálogo da loja: {0}")]
    InventedSku(String),
    #[error("quantidade inválida para {sku}: {value}")]
    BadQuantity { sku: String, value: String },
}

impl Rejected {
    pub fn label(&self) -> &'static str {
        match self {
            Rejected::Malformed(_) => "malformed",
            Rejected::InventedSku(_) => "invented_sku",
            Rejected::BadQuantity { .. } => "bad_quantity",
        }
    }
}

/// One item the model read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedItem {
    pub sku: String,
    pub quantity: Quantity,
    /// The customer's words for it.
    pub text: String,
}

/// A validated answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proposal {
    pub items: Vec<ProposedItem>,
    pub location: Option<Location>,
    pub payment: Option<PaymentMethod>,
    pub delivery: Option<Delivery>,
}

/// The `response_format.json_schema` of every request (strict: every property required, no
/// others; nullable slots).
pub fn answer_schema() -> Value {
    json!({
        "name": "pedido_material",
        "strict": true,
        "schema": {
            "type": "object",
            "additionalProperties": false,
            "required": ["items", "location", "payment", "delivery"],
            "properties": {
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["sku", "quantity", "text"],
                        "properties": {
                            "sku": {"type": "string"},
                            "quantity": {"type": "number"},
                            "text": {"type": "string"}
                        }
                    }
                },
                "location": {
                    "type": ["object", "null"],
                    "additionalProperties": false,
                    "required": ["cep", "bairro"],
                    "properties": {
                        "cep": {"type": ["string", "null"]},
                        "bairro": {"type": ["string", "null"]}
                    }
                },
                "payment": {"type": ["string", "null"], "enum": ["PIX", "CARTAO", "BOLETO", "DINHEIRO", null]},
                "delivery": {"type": ["string", "null"]}
            }
        }
    })
}

/// The instructions (pt-BR: the messages are pt-BR, and small local models follow them better).
pub const SYSTEM_PROMPT: &str = "Você lê mensagens de clientes de uma loja de material de construção no WhatsApp e extrai o pedido. \
Responda somente com JSON no esquema pedido. \
items: os produtos pedidos NESTA mensagem, cada um com o sku exato da lista \"produtos\" (nunca invente um sku; se o produto não está na lista, deixe-o de fora), \
a quantidade na unidade do produto (número positivo) e o trecho da mensagem que o pede (text). \
location: {\"cep\": 8 dígitos, \"bairro\": null} ou {\"cep\": null, \"bairro\": nome} se a mensagem disser onde entregar, senão null. \
payment: PIX, CARTAO, BOLETO ou DINHEIRO se a mensagem disser, senão null. \
delivery: hoje, amanha, o_quanto_antes, weekday:segunda…domingo ou date:DD/MM se a mensagem disser, senão null. \
Não calcule preços.";

/// Masks phone numbers: digit runs (spaces, dots, dashes, parentheses and a leading `+`
/// between them) of 9 or more digits, or 8 digits written `NNNN-NNNN`. A CEP (`01310-100`,
/// `01310100`) is kept: the model needs the place.
pub fn mask_phones(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts_run = chars[i].is_ascii_digit()
            || (matches!(chars[i], '+' | '(')
                && chars
                    .get(i + 1)
                    .is_some_and(|c| c.is_ascii_digit() || *c == '('));
        if !starts_run {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // The run: digits and separators, ending on a digit (or a closing parenthesis).
        let mut j = i;
        let mut last_digit = i;
        while j < chars.len()
            && (chars[j].is_ascii_digit() || matches!(chars[j], ' ' | '.' | '-' | '(' | ')' | '+'))
        {
            if chars[j].is_ascii_digit() {
                last_digit = j;
            }
            j += 1;
        }
        let run: String = chars[i..=last_digit].iter().collect();
        let digits = run.chars().filter(|c| c.is_ascii_digit()).count();
        let groups: Vec<&str> = run
            .split(|c: char| !c.is_ascii_digit())
            .filter(|g| !g.is_empty())
            .collect();
        let four_four = digits == 8 && groups.len() == 2 && groups[0].len() == 4;
        if digits >= 9 || four_four {
            out.push_str("[telefone]");
        } else {
            out.push_str(&run);
        }
        i = last_digit + 1;
    }
    out
}

fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3 && !w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

/// Two words are near when one starts with the first four letters of the other (plurals,
/// some typos, abbreviations written out).
fn near(a: &str, b: &str) -> bool {
    let pa: String = a.chars().take(4).collect();
    let pb: String = b.chars().take(4).collect();
    a.starts_with(&pb) || b.starts_with(&pa)
}

/// The store's active items nearest to the message's words (and the items already in the
/// draft, so a correction can name them), at most [`MAX_CANDIDATES`], best first. Empty when
/// no catalog word is near the message: the model would have nothing to choose from.
pub fn candidates<'a>(
    text: &str,
    draft: &Draft,
    catalog: &'a [CatalogItem],
) -> Vec<&'a CatalogItem> {
    let msg = words(text);
    let mut scored: Vec<(usize, &CatalogItem)> = catalog
        .iter()
        .filter(|it| it.active)
        .filter_map(|it| {
            let mut names = words(&it.name);
            for a in &it.aliases {
                names.extend(words(a));
            }
            let score = msg
                .iter()
                .filter(|w| names.iter().any(|n| near(w, n)))
                .count();
            (score > 0).then_some((score, it))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.sku.cmp(&b.1.sku)));
    let mut out: Vec<&CatalogItem> = Vec::new();
    for d in &draft.items {
        if let Some(it) = catalog.iter().find(|it| it.sku == d.sku) {
            out.push(it);
        }
    }
    let drafted = out.len();
    for (_, it) in scored {
        if out.len() >= MAX_CANDIDATES.max(drafted) {
            break;
        }
        if !out.iter().any(|o| o.sku == it.sku) {
            out.push(it);
        }
    }
    if out.len() == drafted {
        // Only the draft's own items: nothing in the catalog is near the new words.
        return Vec::new();
    }
    out
}

/// The user message: the candidates, what the conversation holds so far, what the rules could
/// not read, and the customer's message with phone numbers masked. Nothing else (no customer
/// name, no phone, no other conversation, no prices or costs).
pub fn user_prompt(
    text: &str,
    draft: &Draft,
    unknown: &[String],
    cands: &[&CatalogItem],
) -> String {
    let produtos: Vec<Value> = cands
        .iter()
        .map(|it| json!({"sku": it.sku, "nome": it.name, "unidade": it.unit.code()}))
        .collect();
    let pedido: Vec<Value> = draft
        .items
        .iter()
        .map(|i| json!({"sku": i.sku, "quantidade": i.quantity.to_json_number()}))
        .collect();
    json!({
        "produtos": produtos,
        "pedido_ate_agora": pedido,
        "trechos_nao_entendidos": unknown.iter().map(|u| mask_phones(u)).collect::<Vec<_>>(),
        "mensagem": mask_phones(text),
    })
    .to_string()
}

/// A positive quantity in thousandths from a JSON number; None for anything else (zero,
/// negative, more than three decimals, exponents that are not whole numbers, above
/// [`MAX_QUANTITY`]).
fn quantity_of(v: &Value) -> Option<Quantity> {
    let n = v.as_number()?;
    let q = if let Some(i) = n.as_i64() {
        Quantity::from_thousandths(i.checked_mul(QUANTITY_SCALE)?)
    } else {
        let s = n.to_string();
        if s.contains(['e', 'E']) {
            return None;
        }
        let (int, frac) = s.split_once('.')?;
        if int.starts_with('-') || frac.len() > 3 {
            return None;
        }
        let int: i64 = int.parse().ok()?;
        let frac_t: i64 = format!("{frac:0<3}").parse().ok()?;
        Quantity::from_thousandths(int.checked_mul(QUANTITY_SCALE)?.checked_add(frac_t)?)
    };
    (q.thousandths() > 0 && q <= MAX_QUANTITY).then_some(q)
}

fn delivery_of(code: &str) -> Option<Delivery> {
    let c = code.trim().to_ascii_lowercase();
    match c.as_str() {
        "hoje" => return Some(Delivery::Hoje),
        "amanha" => return Some(Delivery::Amanha),
        "o_quanto_antes" => return Some(Delivery::OQuantoAntes),
        _ => {}
    }
    if let Some(w) = c.strip_prefix("weekday:") {
        return Weekday::ALL
            .into_iter()
            .find(|d| d.code() == w)
            .map(Delivery::Weekday);
    }
    let (d, m) = c.strip_prefix("date:")?.split_once('/')?;
    let (day, month): (u8, u8) = (d.parse().ok()?, m.parse().ok()?);
    ((1..=31).contains(&day) && (1..=12).contains(&month)).then_some(Delivery::Date { day, month })
}

/// Validates the model's JSON text against the store: every SKU must be an active item of its
/// catalog and every quantity positive, at most three decimals and at most [`MAX_QUANTITY`] —
/// one bad item rejects the whole answer (a model that invents one thing is not trusted with
/// the rest). Slots that do not parse are dropped (null); a bairro is kept only when it is one
/// of the store's freight bairros (written the store's way), a CEP only when it is valid.
pub fn validate(
    content: &str,
    catalog: &[CatalogItem],
    rules: &StoreRules,
) -> Result<Proposal, Rejected> {
    let v: Value =
        serde_json::from_str(content.trim()).map_err(|e| Rejected::Malformed(e.to_string()))?;
    let obj = v
        .as_object()
        .ok_or_else(|| Rejected::Malformed("não é um objeto".into()))?;
    let items = obj
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| Rejected::Malformed("sem a lista items".into()))?;
    let mut out = Proposal::default();
    for it in items {
        let sku = it["sku"]
            .as_str()
            .ok_or_else(|| Rejected::Malformed("item sem sku".into()))?
            .trim();
        let Some(item) = catalog
            .iter()
            .find(|c| c.active && c.sku.eq_ignore_ascii_case(sku))
        else {
            return Err(Rejected::InventedSku(sku.chars().take(60).collect()));
        };
        let quantity = quantity_of(&it["quantity"]).ok_or_else(|| Rejected::BadQuantity {
            sku: item.sku.clone(),
            value: it["quantity"].to_string().chars().take(40).collect(),
        })?;
        let text = it["text"]
            .as_str()
            .unwrap_or("")
            .trim()
            .chars()
            .take(200)
            .collect();
        match out.items.iter_mut().find(|p| p.sku == item.sku) {
            Some(p) => p.quantity = quantity,
            None => out.items.push(ProposedItem {
                sku: item.sku.clone(),
                quantity,
                text,
            }),
        }
    }
    let loc = &v["location"];
    let cep = loc["cep"].as_str().and_then(|c| Cep::parse(c).ok());
    out.location = match cep {
        Some(c) => Some(Location::Cep(c)),
        None => loc["bairro"].as_str().and_then(|b| {
            let key = fold(b.trim());
            known_bairros(rules)
                .into_iter()
                .find(|k| fold(k) == key)
                .map(Location::Bairro)
        }),
    };
    out.payment = v["payment"].as_str().and_then(PaymentMethod::from_code);
    out.delivery = v["delivery"].as_str().and_then(delivery_of);
    Ok(out)
}

fn overlaps(a: &str, b: &str) -> bool {
    let (wa, wb) = (words(a), words(b));
    wa.iter().any(|x| wb.iter().any(|y| near(x, y)))
}

/// Merges a valid proposal into what the rules read from the same message and draft. The
/// rules win: their confident items and their slots stay as read; the model adds items the
/// rules missed (not already in the draft), sets the amount of an item the rules read with low
/// confidence, fills slots the rules left empty, and clears the unknown texts its items came
/// from. None when that changes nothing (the model did not help: no approval for it).
pub fn merge(rules: &Understanding, draft: &Draft, p: &Proposal) -> Option<Understanding> {
    let mut out = rules.clone();
    let mut changed = false;
    let corrected = |sku: &str| {
        rules.corrections.iter().any(|c| {
            use domain::understanding::Correction::*;
            match c {
                SetQuantity { sku: s, .. } | AddQuantity { sku: s, .. } | Remove { sku: s } => {
                    s == sku
                }
                ReplaceSku { from, to, .. } => from == sku || to == sku,
                ForgetUnknown { .. } => false,
            }
        })
    };
    for pi in &p.items {
        if corrected(&pi.sku) {
            continue;
        }
        if let Some(found) = out.items.iter_mut().find(|f| f.sku == pi.sku) {
            if found.confidence < ASSIST_BELOW_CONFIDENCE && found.quantity != pi.quantity {
                found.quantity = pi.quantity;
                found.confidence = MODEL_ITEM_CONFIDENCE;
                changed = true;
            }
            continue;
        }
        if draft.items.iter().any(|d| d.sku == pi.sku) {
            continue;
        }
        out.items.push(FoundItem {
            sku: pi.sku.clone(),
            quantity: pi.quantity,
            confidence: MODEL_ITEM_CONFIDENCE,
            text: pi.text.clone(),
        });
        let resolved: Vec<String> = out
            .unknown
            .iter()
            .filter(|u| overlaps(u, &pi.text))
            .cloned()
            .collect();
        out.unknown.retain(|u| !resolved.contains(u));
        out.held.retain(|h| !resolved.contains(&h.text));
        out.last_sku = Some(pi.sku.clone());
        changed = true;
    }
    if out.location.is_none() && p.location.is_some() {
        out.location = p.location.clone();
        changed = true;
    }
    if out.payment.is_none() && p.payment.is_some() {
        out.payment = p.payment;
        changed = true;
    }
    if out.delivery.is_none() && p.delivery.is_some() {
        out.delivery = p.delivery;
        changed = true;
    }
    if !changed {
        return None;
    }
    if !out.items.is_empty()
        && matches!(
            out.intent,
            Intent::Other | Intent::GreetingOnly | Intent::Question
        )
    {
        out.intent = Intent::Order;
    }
    out.confidence = out.confidence.max(MODEL_ITEM_CONFIDENCE);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_masked_and_ceps_kept() {
        assert_eq!(mask_phones("me liga 11 98765-4321"), "me liga [telefone]");
        assert_eq!(mask_phones("(11) 3456-7890 ok"), "[telefone] ok");
        assert_eq!(mask_phones("+55 11 987654321"), "[telefone]");
        assert_eq!(mask_phones("fixo 3456-7890"), "fixo [telefone]");
        assert_eq!(
            mask_phones("cep 01310-100, 10 sacos"),
            "cep 01310-100, 10 sacos"
        );
        assert_eq!(mask_phones("cep 01310100"), "cep 01310100");
        assert_eq!(mask_phones("2,5 m3 de areia"), "2,5 m3 de areia");
    }

    #[test]
    fn quantities_must_be_positive_exact_and_bounded() {
        let q = |s: &str| quantity_of(&serde_json::from_str(s).unwrap());
        assert_eq!(q("10"), Some(Quantity::whole(10)));
        assert_eq!(q("2.5"), Some(Quantity::from_thousandths(2500)));
        assert_eq!(q("10.125"), Some(Quantity::from_thousandths(10125)));
        assert_eq!(q("0"), None);
        assert_eq!(q("-3"), None);
        assert_eq!(q("0.0001"), None);
        assert_eq!(q("1e12"), None);
        assert_eq!(q("100001"), None);
        assert_eq!(q("\"10\""), None);
    }

    fn eval_catalog() -> Vec<CatalogItem> {
        let csv = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../eval/catalog.csv"),
        )
        .unwrap();
        domain::catalog::parse_catalog_csv(&csv).unwrap()
    }

    fn item(sku: &str, q: i64, text: &str) -> ProposedItem {
        ProposedItem {
            sku: sku.into(),
            quantity: Quantity::whole(q),
            text: text.into(),
        }
    }

    /// The rules win: the model adds the item they missed and clears the words it came from,
    /// fills an empty slot, never overrides a slot the rules read or an item already in the
    /// draft; an answer that adds nothing is no help (None: no approval for it).
    #[test]
    fn merge_only_adds_what_the_rules_missed() {
        let catalog = eval_catalog();
        let index = domain::understanding::CatalogIndex::build(&catalog, &[]);
        let text = "manda uns 10 daqueles saco cinza e 2 metros de areia media, pix";
        let rules = domain::understanding::understand(text, &index);
        assert_eq!(rules.unknown, vec!["daqueles saco cinza".to_string()]);
        assert!(rules.items.iter().any(|i| i.sku == "ARE-MED-M3"));
        let draft = Draft::default();
        let p = Proposal {
            items: vec![
                item("CIM-CP2-50", 10, "10 daqueles saco cinza"),
                item("ARE-MED-M3", 5, "2 metros de areia media"),
            ],
            location: Some(Location::Bairro("Grajaú".into())),
            payment: Some(PaymentMethod::Boleto),
            delivery: None,
        };
        let m = merge(&rules, &draft, &p).expect("the model helped");
        let got: Vec<(&str, i64)> = m
            .items
            .iter()
            .map(|i| (i.sku.as_str(), i.quantity.thousandths()))
            .collect();
        assert!(got.contains(&("CIM-CP2-50", 10_000)), "{got:?}");
        assert!(
            got.contains(&("ARE-MED-M3", 2_000)),
            "the rules' amount stays: {got:?}"
        );
        assert!(m.unknown.is_empty());
        assert_eq!(m.payment, Some(PaymentMethod::Pix), "the rules' slot stays");
        assert_eq!(m.location, Some(Location::Bairro("Grajaú".into())));

        // Nothing new: no help.
        let same = Proposal {
            items: vec![item("ARE-MED-M3", 2, "areia")],
            payment: Some(PaymentMethod::Pix),
            ..Proposal::default()
        };
        assert_eq!(merge(&rules, &draft, &same), None);
        // An item already in the draft is not changed by the model.
        let mut drafted = Draft::default();
        drafted.items.push(domain::understanding::DraftItem {
            sku: "CIM-CP2-50".into(),
            quantity: Quantity::whole(3),
        });
        let again = Proposal {
            items: vec![item("CIM-CP2-50", 10, "10 daqueles saco cinza")],
            ..Proposal::default()
        };
        let u = domain::understanding::understand_in(text, &index, &drafted);
        assert_eq!(merge(&u, &drafted, &again), None);
    }

    /// Answers are checked against the store's catalog: an unknown or inactive SKU rejects
    /// the whole answer; bad JSON is malformed; slots that do not parse are dropped.
    #[test]
    fn validation_rejects_invented_skus_and_keeps_only_valid_slots() {
        let mut catalog = eval_catalog();
        let rules = domain::pricing::demo_rules();
        let answer = |sku: &str| {
            json!({"items": [{"sku": sku, "quantity": 2, "text": "x"}],
                   "location": {"cep": "04812-010", "bairro": null},
                   "payment": "FIADO", "delivery": "depois"})
            .to_string()
        };
        let ok = validate(&answer("cim-cp2-50"), &catalog, &rules).unwrap();
        assert_eq!(ok.items[0].sku, "CIM-CP2-50");
        assert_eq!(
            ok.location,
            Some(Location::Cep(Cep::parse("04812010").unwrap()))
        );
        assert_eq!((ok.payment, ok.delivery), (None, None));
        assert!(matches!(
            validate(&answer("CIM-CP9-50"), &catalog, &rules),
            Err(Rejected::InventedSku(_))
        ));
        catalog
            .iter_mut()
            .find(|c| c.sku == "CIM-CP2-50")
            .unwrap()
            .active = false;
        assert!(matches!(
            validate(&answer("CIM-CP2-50"), &catalog, &rules),
            Err(Rejected::InventedSku(_))
        ));
        assert!(matches!(
            validate("```json\n{}", &catalog, &rules),
            Err(Rejected::Malformed(_))
        ));
        assert!(matches!(
            validate("{\"items\": 3}", &catalog, &rules),
            Err(Rejected::Malformed(_))
        ));
        let bairro = validate(
            &json!({"items": [], "location": {"cep": null, "bairro": "GRAJAU"}, "payment": null, "delivery": null}).to_string(),
            &catalog,
            &rules,
        )
        .unwrap();
        assert_eq!(bairro.location, Some(Location::Bairro("Grajaú".into())));
        let nowhere = validate(
            &json!({"items": [], "location": {"cep": null, "bairro": "Atlântida"}, "payment": null, "delivery": null}).to_string(),
            &catalog,
            &rules,
        )
        .unwrap();
        assert_eq!(nowhere.location, None, "only the store's freight bairros");
    }

    #[test]
    fn candidates_are_near_the_words_and_few() {
        let catalog = eval_catalog();
        let c = candidates("10 daqueles saco cinza", &Draft::default(), &catalog);
        let skus: Vec<&str> = c.iter().map(|i| i.sku.as_str()).collect();
        assert!(skus.contains(&"CIM-CP2-50"), "{skus:?}");
        assert!(!skus.contains(&"POR-60"));
        assert!(candidates("bom dia tudo bem", &Draft::default(), &catalog).is_empty());
    }

    #[test]
    fn delivery_codes_follow_the_parse_contract() {
        assert_eq!(delivery_of("amanha"), Some(Delivery::Amanha));
        assert_eq!(
            delivery_of("weekday:sexta"),
            Some(Delivery::Weekday(Weekday::Sexta))
        );
        assert_eq!(
            delivery_of("date:05/03"),
            Some(Delivery::Date { day: 5, month: 3 })
        );
        assert_eq!(delivery_of("date:35/03"), None);
        assert_eq!(delivery_of("semana que vem"), None);
    }
}
