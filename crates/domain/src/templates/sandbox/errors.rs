//! Errors for the store owner, in pt-BR, with the line they point at.

use minijinja::{Error, ErrorKind};

use super::{TemplateError, MAX_OUTPUT_CHARS};

pub(super) fn too_long(chars: usize, max_chars: usize) -> TemplateError {
    TemplateError {
        line: None,
        message: format!(
            "a mensagem passou do limite do WhatsApp: {} caracteres (máximo {}); cada mensagem \
             de texto tem no máximo {} caracteres, e só o orçamento pode ir em várias, seguidas \
             dos botões",
            if chars > 0 {
                chars.to_string()
            } else {
                format!(
                    "mais de {}",
                    crate::money::group_thousands(max_chars as u64)
                )
            },
            crate::money::group_thousands(max_chars as u64),
            crate::money::group_thousands(MAX_OUTPUT_CHARS as u64),
        ),
    }
}

pub(super) fn at(line: Option<usize>, message: String) -> TemplateError {
    match line {
        Some(l) => TemplateError {
            line: Some(l),
            message: format!("linha {l}: {message}"),
        },
        None => TemplateError {
            line: None,
            message,
        },
    }
}

/// Translates an engine error into a pt-BR message for the store owner.
pub(super) fn engine_error(e: &Error, overflow: bool) -> TemplateError {
    let detail = e.detail().unwrap_or("").to_string();
    let message = match e.kind() {
        ErrorKind::WriteFailure if overflow => return too_long(0, MAX_OUTPUT_CHARS),
        ErrorKind::OutOfFuel => "o modelo executa passos demais (limite de segurança); \
                                 simplifique as repetições"
            .to_string(),
        ErrorKind::SyntaxError => format!("erro de sintaxe no modelo ({detail})"),
        ErrorKind::UndefinedError => {
            "variável ou campo inexistente nos dados desta mensagem".to_string()
        }
        ErrorKind::UnknownFilter => format!("filtro desconhecido ({detail})"),
        ErrorKind::UnknownTest => format!("teste desconhecido ({detail})"),
        ErrorKind::UnknownFunction | ErrorKind::UnknownMethod => {
            "chamadas de função não são permitidas em modelos".to_string()
        }
        ErrorKind::TemplateNotFound | ErrorKind::BadInclude => {
            "não é permitido incluir ou importar outros modelos".to_string()
        }
        ErrorKind::InvalidOperation if detail.contains("recursion") => {
            "o modelo se repete em profundidade demais (limite de segurança)".to_string()
        }
        ErrorKind::InvalidOperation if detail.contains("too large") => {
            "o texto gerado ficou grande demais".to_string()
        }
        ErrorKind::InvalidOperation => format!("operação inválida no modelo ({detail})"),
        _ => format!("erro ao montar a mensagem ({e})"),
    };
    at(e.line(), message)
}
