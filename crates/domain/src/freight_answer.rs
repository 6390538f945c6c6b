//! The answer to "qto fica o frete pra parelheiros?": the store's freight rule for that
//! place, in words, before any order exists. The same rule prices the quote later
//! (`pricing::quote`), so the two cannot disagree; a place without a rule is never given a
//! made-up price.

use crate::pricing::StoreRules;
use crate::slots::Location;

/// One message (pt-BR) about the freight to `place`, or about what it depends on.
pub fn answer(place: Option<&Location>, rules: &StoreRules) -> String {
    let Some(place) = place else {
        return "🚚 O frete depende do bairro ou do CEP da entrega: me diga onde vai ser a \
                entrega que eu informo o valor."
            .to_string();
    };
    if *place == Location::Retirada {
        return "🚚 Retirando na loja não tem frete.".to_string();
    }
    let where_ = match place {
        Location::Bairro(b) => b.clone(),
        other => other.label_pt(),
    };
    let Some(rule) = rules.freight_rule_for(place) else {
        return format!(
            "🚚 Para *{where_}* o frete não é tabelado: mande o pedido que o orçamento vai para \
             alguém da loja conferir o frete antes de enviar."
        );
    };
    let mut text = if rule.base.0 == 0 && rule.per_kg.0 == 0 {
        format!("🚚 A entrega para *{where_}* é grátis.")
    } else if rule.per_kg.0 == 0 {
        format!("🚚 O frete para *{where_}* é {}.", rule.base.to_brl())
    } else {
        format!(
            "🚚 O frete para *{where_}* é {} mais {} por kg do pedido.",
            rule.base.to_brl(),
            rule.per_kg.to_brl()
        )
    };
    if let Some(free) = rule.free_above.filter(|f| f.0 > 0) {
        text.push_str(&format!(
            " Grátis em compras a partir de {}.",
            free.to_brl()
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Cep;
    use crate::money::Centavos;
    use crate::pricing::demo_rules;

    #[test]
    fn the_demo_stores_freight_in_words() {
        let rules = demo_rules();
        let bairro = Location::Bairro("Parelheiros".into());
        assert_eq!(
            answer(Some(&bairro), &rules),
            "🚚 O frete para *Parelheiros* é R$\u{a0}35,00."
        );
        let cep = Location::Cep(Cep::parse("04812-010").unwrap());
        assert_eq!(
            answer(Some(&cep), &rules),
            "🚚 O frete para *CEP 04812-010* é R$\u{a0}45,00 mais R$\u{a0}0,02 por kg do pedido."
        );
        let far = Location::Cep(Cep::parse("08010-000").unwrap());
        assert!(answer(Some(&far), &rules).contains("não é tabelado"));
        assert!(answer(None, &rules).contains("bairro ou do CEP"));
        assert!(answer(Some(&Location::Retirada), &rules).contains("não tem frete"));
    }

    #[test]
    fn free_delivery_and_free_above_are_said() {
        let mut rules = demo_rules();
        rules.freight_rules[0].base = Centavos(0);
        rules.freight_rules[0].free_above = None;
        let bairro = Location::Bairro("Grajaú".into());
        assert_eq!(
            answer(Some(&bairro), &rules),
            "🚚 A entrega para *Grajaú* é grátis."
        );
        rules.freight_rules[0].base = Centavos(3500);
        rules.freight_rules[0].free_above = Some(Centavos(50000));
        assert!(answer(Some(&bairro), &rules)
            .ends_with("Grátis em compras a partir de R$\u{a0}500,00."));
    }
}
