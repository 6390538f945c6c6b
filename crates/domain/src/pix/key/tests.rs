use super::*;

fn ok(kind: PixKeyKind, text: &str) -> String {
    PixKey::parse(kind, text)
        .unwrap_or_else(|e| panic!("{text:?} as {kind}: {e}"))
        .as_str()
        .to_string()
}

fn err(kind: PixKeyKind, text: &str) -> PixKeyError {
    PixKey::parse(kind, text).expect_err(text)
}

#[test]
fn cpf_checks_both_digits_and_drops_punctuation() {
    assert_eq!(ok(PixKeyKind::Cpf, "529.982.247-25"), "52998224725");
    assert_eq!(ok(PixKeyKind::Cpf, "11144477735"), "11144477735");
    // Each check digit wrong on its own.
    assert_eq!(err(PixKeyKind::Cpf, "529.982.247-35"), PixKeyError::Cpf);
    assert_eq!(err(PixKeyKind::Cpf, "529.982.247-26"), PixKeyError::Cpf);
    // Repeated digits satisfy the arithmetic but are not CPFs.
    assert_eq!(err(PixKeyKind::Cpf, "111.111.111-11"), PixKeyError::Cpf);
    assert_eq!(err(PixKeyKind::Cpf, "5299822472"), PixKeyError::Cpf);
    assert_eq!(err(PixKeyKind::Cpf, "52998224725a"), PixKeyError::Cpf);
    assert_eq!(err(PixKeyKind::Cpf, "  "), PixKeyError::Empty);
}

#[test]
fn cnpj_numeric_and_alphanumeric() {
    assert_eq!(ok(PixKeyKind::Cnpj, "11.222.333/0001-81"), "11222333000181");
    // Receita Federal's example of the alphanumeric CNPJ (valid from July 2026).
    assert_eq!(ok(PixKeyKind::Cnpj, "12.ABC.345/01DE-35"), "12ABC34501DE35");
    assert_eq!(ok(PixKeyKind::Cnpj, "12.abc.345/01de-35"), "12ABC34501DE35");
    assert_eq!(
        err(PixKeyKind::Cnpj, "12.ABC.345/01DE-36"),
        PixKeyError::Cnpj
    );
    assert_eq!(
        err(PixKeyKind::Cnpj, "11.222.333/0001-18"),
        PixKeyError::Cnpj
    );
    // Letters are never check digits.
    assert_eq!(err(PixKeyKind::Cnpj, "12ABC34501DE3A"), PixKeyError::Cnpj);
    assert_eq!(err(PixKeyKind::Cnpj, "00000000000000"), PixKeyError::Cnpj);
    assert_eq!(err(PixKeyKind::Cnpj, "12ABC34501DE3"), PixKeyError::Cnpj);
    assert_eq!(err(PixKeyKind::Cnpj, "12AB*34501DE35"), PixKeyError::Cnpj);
}

#[test]
fn email_is_lower_cased_and_shaped() {
    assert_eq!(
        ok(PixKeyKind::Email, "Vendas@Deposito.com.br"),
        "vendas@deposito.com.br"
    );
    assert_eq!(ok(PixKeyKind::Email, "a.b+pix@x-y.io"), "a.b+pix@x-y.io");
    for bad in [
        "vendas", "vendas@", "@x.com", "a@b", "a@-b.com", "a@b..com", "á@b.com",
    ] {
        assert_eq!(err(PixKeyKind::Email, bad), PixKeyError::Email, "{bad}");
    }
    let long = format!("{}@x.com", "a".repeat(72));
    assert_eq!(err(PixKeyKind::Email, &long), PixKeyError::Email);
}

#[test]
fn phone_becomes_plus_55_ddd_number() {
    assert_eq!(ok(PixKeyKind::Phone, "(11) 98765-4321"), "+5511987654321");
    assert_eq!(ok(PixKeyKind::Phone, "+55 21 98765-4321"), "+5521987654321");
    assert_eq!(ok(PixKeyKind::Phone, "5521987654321"), "+5521987654321");
    assert_eq!(ok(PixKeyKind::Phone, "(11) 3456-7890"), "+551134567890");
    for bad in [
        "98765-4321",      // no DDD
        "(01) 98765-4321", // DDD never starts with 0
        "(11) 88765-4321", // nine digits must start with 9
        "+1 415 555 2671", // not Brazilian
        "(11) 98765-43a1",
    ] {
        assert_eq!(err(PixKeyKind::Phone, bad), PixKeyError::Phone, "{bad}");
    }
}

#[test]
fn random_key_is_a_lower_case_uuid() {
    assert_eq!(
        ok(PixKeyKind::Random, "123E4567-E12B-12D1-A456-426655440000"),
        "123e4567-e12b-12d1-a456-426655440000"
    );
    for bad in [
        "123e4567e12b12d1a456426655440000",
        "123e4567-e12b-12d1-a456-42665544000",
        "123e4567-e12b-12d1-a456-42665544000g",
    ] {
        assert_eq!(err(PixKeyKind::Random, bad), PixKeyError::Random, "{bad}");
    }
}

#[test]
fn kind_words_read_back() {
    for k in PixKeyKind::ALL {
        assert_eq!(k.as_str().parse::<PixKeyKind>(), Ok(k));
    }
    assert_eq!("pix".parse::<PixKeyKind>(), Err(PixKeyError::UnknownKind));
}
