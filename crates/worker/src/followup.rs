//! Proactive messages about a quote: the parameters their WhatsApp message templates get
//! (`domain::proactive::Purpose::parameters`, in that order).

/// `[nome do cliente, número do orçamento, (validade)]`. Meta refuses an empty parameter or
/// one with a line break or a run of spaces (132018), so the name is "cliente" when unknown
/// and every value is on one line.
pub fn quote_params(customer_name: &str, number: &str, valid_until: Option<String>) -> Vec<String> {
    let one_line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let name = one_line(customer_name);
    let mut params = vec![
        if name.is_empty() {
            "cliente".to_string()
        } else {
            name
        },
        one_line(number),
    ];
    if let Some(v) = valid_until {
        params.push(one_line(&v));
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_never_empty_nor_multi_line() {
        assert_eq!(
            quote_params("", "ORC-1", None),
            vec!["cliente".to_string(), "ORC-1".to_string()]
        );
        assert_eq!(
            quote_params(" Ana \n  Souza", "ORC-1", Some("05/12 às 18h".into())),
            vec![
                "Ana Souza".to_string(),
                "ORC-1".into(),
                "05/12 às 18h".into()
            ]
        );
    }
}
