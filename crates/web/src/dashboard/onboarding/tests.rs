use super::*;
use store::onboarding::Facts;

fn complete_profile() -> StoreProfile {
    StoreProfile {
        cnpj: "12.345.678/0001-95".into(),
        address: "Rua A, 1".into(),
        phone: "(11) 3333-4444".into(),
        pix: Some(StorePix {
            key: PixKey::parse(PixKeyKind::Cnpj, "12.345.678/0001-95").unwrap(),
            merchant: Merchant::new("Casa da Telha", "São Paulo").unwrap(),
        }),
    }
}

fn form() -> StoreForm {
    StoreForm {
        legal_name: "Casa da Telha Materiais Ltda".into(),
        cnpj: "12.345.678/0001-95".into(),
        address: "Rua das Telhas, 10 — Grajaú, São Paulo/SP".into(),
        phone: "(11) 3333-4444".into(),
        pix_kind: "cnpj".into(),
        pix_key: "12.345.678/0001-95".into(),
        pix_name: "Casa da Telha".into(),
        pix_city: "São Paulo".into(),
    }
}

#[test]
fn a_new_store_has_every_step_to_do_and_each_step_follows_its_data() {
    let mut f = Facts::default();
    let s = steps(&f);
    assert_eq!(s.len(), 6);
    assert!(s.iter().all(|s| !s.done));
    assert!(s[0].missing.contains("razão social") && s[0].missing.contains("chave Pix"));
    f.catalog_items = 1;
    f.freight_rules = 2;
    let s = steps(&f);
    let done: Vec<&str> = s.iter().filter(|s| s.done).map(|s| s.id).collect();
    assert_eq!(done, ["catalogo", "frete"]);
    f.legal_name = "Casa da Telha Ltda".into();
    f.profile = complete_profile();
    f.rules_reviewed = true;
    f.whatsapp_connected = true;
    f.test_quote = true;
    assert!(steps(&f).iter().all(|s| s.done));
    // One field short of complete: the store step is not done and says what is missing.
    f.profile.phone.clear();
    let s = steps(&f);
    assert!(!s[0].done);
    assert_eq!(s[0].missing, "Falta: telefone.");
    // A stored CNPJ that does not validate does not count.
    f.profile = complete_profile();
    f.profile.cnpj = "12.345.678/0001-96".into();
    assert!(!steps(&f)[0].done);
}

#[test]
fn the_store_form_validates_the_cnpj_numeric_and_alphanumeric() {
    let (legal, p) = check_store_form(&form()).unwrap();
    assert_eq!(legal, "Casa da Telha Materiais Ltda");
    assert_eq!(p.pix.unwrap().merchant.name(), "CASA DA TELHA");
    // The alphanumeric CNPJ (July 2026): check digits with ASCII value − 48 per character.
    let mut f = form();
    f.cnpj = "12.abc.345/01de-35".into();
    let (_, p) = check_store_form(&f).unwrap();
    assert_eq!(p.cnpj, "12.ABC.345/01DE-35");
    // A wrong check digit in either form is refused with a pt-BR reason.
    for bad in ["12.ABC.345/01DE-36", "12.345.678/0001-96", "1234"] {
        f.cnpj = bad.into();
        let errs = check_store_form(&f).unwrap_err();
        assert!(errs[0].starts_with("CNPJ inválido"), "{bad}: {errs:?}");
    }
}

#[test]
fn a_partial_form_saves_and_bad_fields_are_each_explained() {
    // Blank fields are allowed (the owner comes back later).
    let (legal, p) = check_store_form(&StoreForm::default()).unwrap();
    assert!(legal.is_empty() && p.pix.is_none() && p.cnpj.is_empty());
    let mut f = form();
    f.phone = "3333".into();
    f.pix_kind = "email".into();
    f.pix_key = "nao-e-email".into();
    f.pix_city = String::new();
    let errs = check_store_form(&f).unwrap_err();
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs[0].starts_with("Telefone"));
    assert!(errs[1].starts_with("Chave Pix"));
    assert!(errs[2].contains("cidade"));
}

#[test]
fn the_typical_list_parses_and_has_what_a_deposito_sells() {
    let items = typical::typical_items().unwrap();
    assert!((25..=40).contains(&items.len()), "{}", items.len());
    for name in [
        "Cimento CP-II 50kg",
        "Areia média lavada (m³)",
        "Pedra brita 1 (m³)",
        "Tijolo baiano 9x14x19 (milheiro)",
        "Vergalhão CA-50 3/8 (10mm) barra 12m",
        "Arame recozido nº 18",
    ] {
        assert!(items.iter().any(|i| i.name == name), "{name} missing");
    }
    assert!(items.iter().all(|i| i.price.0 > 0 && i.cost.0 < i.price.0));
}
