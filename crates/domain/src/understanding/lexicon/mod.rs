//! Word lists of how customers write: words that carry no product meaning, markers of
//! corrections, negations, vague amounts and questions. Folded (no accents), singular.

mod stopwords;

pub(crate) use stopwords::is_stopword;

/// Colours the catalog does not tell apart: "12 m vermelho" after "12 m de fio 2,5 azul" is
/// one more piece of the same product.
pub(crate) fn is_colour(w: &str) -> bool {
    matches!(
        w,
        "azul" | "preto" | "preta" | "vermelho" | "vermelha" | "verde" | "amarelo" | "amarela"
    )
}

/// Words that may follow a product name without making it a different product: colours the
/// catalog does not distinguish, sizes in plain words, purpose phrases.
pub(crate) fn is_harmless_modifier(w: &str) -> bool {
    matches!(
        w,
        "azul"
            | "preto"
            | "preta"
            | "vermelho"
            | "vermelha"
            | "verde"
            | "amarelo"
            | "amarela"
            | "barato"
            | "barata"
            | "qualquer"
            | "igual"
            | "tradicional"
            | "forte"
            | "legal"
            | "certo"
            | "certa"
            | "grande"
            | "pequeno"
            | "pequena"
            | "novo"
            | "nova"
            | "bom"
            | "boa"
            | "normal"
            | "comum"
            | "padrao"
            | "simples"
            | "mesmo"
            | "mesma"
            | "inteiro"
            | "inteira"
            | "certinho"
            | "urgente"
            | "tambem"
            | "tb"
            | "ai"
            | "aqui"
            | "la"
            | "ok"
            | "cada"
            | "total"
            | "so"
            | "inteiros"
            | "fundacao"
            | "sapata"
            | "laje"
            | "reboco"
            | "muro"
            | "condominio"
            | "entao"
            | "agora"
            | "hoje"
            | "amanha"
            | "pfv"
            | "favor"
    )
}

pub(crate) fn is_removal(w: &str) -> bool {
    matches!(
        w,
        "tira"
            | "tirar"
            | "tire"
            | "cancela"
            | "cancelar"
            | "cancele"
            | "esquece"
            | "esquecer"
            | "esqueca"
            | "remove"
            | "remover"
            | "retira"
            | "retirar"
            | "exclui"
            | "excluir"
            | "desconsidera"
            | "desconsiderar"
    )
}

pub(crate) fn is_addition(w: &str) -> bool {
    matches!(
        w,
        "acrescenta"
            | "acrescentar"
            | "acrescente"
            | "adiciona"
            | "adicionar"
            | "adicione"
            | "mais"
            | "soma"
            | "somar"
            | "inclui"
            | "incluir"
    )
}

pub(crate) fn is_replace_marker(w: &str) -> bool {
    matches!(
        w,
        "troca"
            | "trocar"
            | "troque"
            | "muda"
            | "mudar"
            | "mude"
            | "substitui"
            | "substituir"
            | "altera"
            | "alterar"
            | "melhor"
            | "verdade"
            | "vdd"
            | "desculpa"
            | "desculpe"
            | "errei"
            | "corrigindo"
            | "correcao"
            | "alias"
    )
}

/// Amount words that name no number: "algumas barras", "areia suficiente", "um caminhão".
pub(crate) fn is_vague(w: &str) -> bool {
    matches!(
        w,
        "algum"
            | "alguma"
            | "algun"
            | "varios"
            | "varia"
            | "vario"
            | "suficiente"
            | "caminhao"
            | "carrada"
            | "cacamba"
            | "carretinha"
            | "carreta"
            | "monte"
            | "pouco"
            | "pouquinho"
            | "bastante"
            | "quantidade"
    )
}

/// Month names → month number ("15 de janeiro").
pub(crate) fn month(w: &str) -> Option<u8> {
    Some(match w {
        "janeiro" | "jan" => 1,
        "fevereiro" | "fev" => 2,
        "marco" | "mar" => 3,
        "abril" | "abr" => 4,
        "maio" | "mai" => 5,
        "junho" | "jun" => 6,
        "julho" | "jul" => 7,
        "agosto" | "ago" => 8,
        "setembro" | "set" => 9,
        "outubro" | "out" => 10,
        "novembro" | "nov" => 11,
        "dezembro" | "dez" => 12,
        _ => return None,
    })
}

/// Packages a product comes in that are no catalog unit ("3 pacote de rejunte", "2 caixa
/// de prego"): after an amount they are that amount's own unit.
pub(crate) fn is_package_word(w: &str) -> bool {
    matches!(
        w,
        "pacote" | "pct" | "pcte" | "caixa" | "fardo" | "embalagem" | "bisnaga" | "frasco" | "pote"
    )
}

/// Containers that are not catalog units: "2 caminhões de areia" cannot be quoted.
pub(crate) fn is_container(w: &str) -> bool {
    matches!(
        w,
        "caminhao"
            | "carrada"
            | "cacamba"
            | "carretinha"
            | "carreta"
            | "viagem"
            | "caminhaozinho"
            | "basculante"
            | "carroca"
    )
}

/// Units that measure time or money, not goods: a number before them is never a quantity.
pub(crate) fn is_non_goods_unit(w: &str) -> bool {
    matches!(
        w,
        "dia"
            | "semana"
            | "mes"
            | "ano"
            | "hora"
            | "h"
            | "hr"
            | "min"
            | "minuto"
            | "vez"
            | "x"
            | "real"
            | "reai"
            | "r"
            | "parcela"
            | "andar"
            | "comodo"
            | "pessoa"
            | "obra"
            | "casa"
            | "apartamento"
            | "ap"
            | "apto"
    )
}

/// Words about payment, delivery, place and conversation that are not products, used to
/// decide whether leftover words in a clause name a product the store lacks.
pub(crate) fn is_chat_word(w: &str) -> bool {
    (w.len() > 3 && month(w).is_some())
        || is_stopword(w)
        || matches!(
            w,
            "pix"
                | "cartao"
                | "credito"
                | "debito"
                | "boleto"
                | "dinheiro"
                | "especie"
                | "vista"
                | "parcelado"
                | "segunda"
                | "terca"
                | "quarta"
                | "quinta"
                | "sexta"
                | "sabado"
                | "domingo"
                // Short days ("sab de manhã", "entrega sex").
                | "seg"
                | "ter"
                | "qua"
                | "qui"
                | "sex"
                | "sab"
                | "dom"
                | "feira"
                | "semana"
                | "mes"
                | "proxima"
                | "proximo"
                | "urgente"
                | "urgencia"
                | "urjente"
                | "rapido"
                | "possivel"
                | "cedo"
                | "manha"
                | "entrega"
                | "retirada"
                | "retirar"
                // "5 sc cimento retiro na loja": the customer's "I'll pick up", not a product.
                | "retiro"
                | "buscar"
                | "busco"
                | "passo"
                | "frete"
                // "tem frete grátis?", "qual a taxa de entrega": about the freight.
                | "gratis"
                | "gratuito"
                | "gratuita"
                | "taxa"
                | "endereco"
                | "centro"
                | "jardim"
                | "vila"
                | "parque"
                | "reforma"
                | "reformando"
                | "estou"
                | "banheiro"
                | "cozinha"
                | "quarto"
                | "sala"
                | "muro"
                | "laje"
                | "fundacao"
                | "sapata"
                | "contrapiso"
                | "reboco"
                | "telhado"
                | "condominio"
                | "dias"
            // Common words a letter away from a catalog word ("area" ~ areia): frequent
            // enough that they are never read as a misspelt product.
            | "area"
            | "caminho"
            | "fora"
            | "dentro"
            | "fundos"
            | "alugar"
            | "aluguel"
            | "parada"
                | "hora"
                | "cliente"
                | "nome"
                | "whatsapp"
                | "zap"
                | "foto"
                | "audio"
                | "mensagem"
                | "tabela"
                | "desconto"
                | "total"
                | "nota"
                | "fiscal"
                | "cnpj"
                | "cpf"
                | "horario"
                | "aberto"
                | "abre"
                | "fecha"
                | "funciona"
                | "atende"
                | "atendente"
                | "alguem"
                | "pessoa"
                | "humano"
                | "vendedor"
                | "gerente"
                | "calcula"
                | "calculam"
                | "calcular"
                | "aceita"
                | "aceitam"
                | "aceito"
                | "trabalha"
                | "trabalham"
                | "vende"
                | "vendem"
                | "fechado"
                | "confirmo"
                | "confirmado"
                | "confirma"
                | "certeza"
                | "ideia"
                | "acho"
                | "sei"
                | "saber"
                | "gostaria"
                | "ver"
                | "verificar"
                | "disponivel"
                | "estoque"
                | "dele"
                | "dela"
                | "delas"
                | "deles"
                | "isso"
                | "iss"
                | "rapidinho"
                | "logo"
                | "cedinho"
                | "que"
                | "vem"
                | "dia"
                | "mesmo"
                | "faltou"
                | "falta"
                | "faltando"
                | "esqueci"
                | "junto"
                | "qualquer"
                | "obrigado"
                | "grato"
                | "grata"
                | "valeu"
                | "vlw"
                | "tmj"
                | "tranquilo"
                | "show"
                | "perfeito"
                | "otimo"
                | "top"
                | "telefone"
                | "fone"
                | "tel"
                | "cel"
                | "celular"
                | "whats"
                | "contato"
                | "numero"
                | "meu"
                | "chamo"
                | "ops"
                | "opa"
                | "oops"
                | "consagrado"
                | "parceiro"
                | "querido"
                | "senhor"
                | "senhora"
                | "moco"
                | "moca"
                | "terminal"
                | "perto"
                | "esquina"
                | "ligar"
                | "liga"
                | "ligacao"
                | "fisica"
                | "site"
                | "instagram"
                | "catalogo"
                | "troco"
                | "estacionamento"
                | "pedreiro"
                | "mestre"
                | "engenheiro"
                | "arquiteto"
                | "frente"
                | "atras"
                | "lado"
                | "igreja"
                | "escola"
                | "mercado"
                | "posto"
                // Regional and slang fillers ("visse", "firmeza", "mano") and the people a
                // customer orders for ("meu marido pediu…"): never a product's name.
                | "visse"
                | "viu"
                | "firmeza"
                | "mano"
                | "brother"
                | "irmao"
                | "marido"
                | "esposa"
                | "mulher"
                | "filho"
                | "filha"
                | "sogro"
                | "sogra"
                | "cunhado"
                | "vizinho"
                | "vizinha"
                | "patrao"
                | "chefe"
                | "servico"
                | "servicinho"
                // "acima de 50 tem desconto?": a threshold, not a product.
                | "acima"
                | "abaixo"
        )
}

/// Words that may come before the verb of a "do you have X" question: greetings, "vcs",
/// "a loja", "ainda", "será que" ("boa noite, vcs ainda tem areia fina").
pub(crate) fn is_question_opener_filler(w: &str) -> bool {
    matches!(
        w,
        "oi" | "oie"
            | "ola"
            | "opa"
            | "ei"
            | "eai"
            | "salve"
            | "fala"
            | "bom"
            | "boa"
            | "dia"
            | "tarde"
            | "noite"
            | "blz"
            | "beleza"
            | "tudo"
            | "bem"
            | "e"
            | "ai"
            | "ae"
            | "vcs"
            | "voces"
            | "vc"
            | "voce"
            | "ces"
            | "cês"
            | "amigo"
            | "amiga"
            | "pessoal"
            | "gente"
            | "moco"
            | "moca"
            | "por"
            | "favor"
            | "pfv"
            | "pf"
            | "pfvr"
            | "a"
            | "o"
            | "loja"
            | "ainda"
            | "sera"
            | "que"
            | "so"
            | "uma"
            | "duvida"
            | "ja"
            // "queria saber se vcs tem…", "qro saber se vende…", "gostaria de saber se…".
            | "queria"
            | "quero"
            | "qro"
            | "qria"
            | "gostaria"
            | "de"
            | "saber"
            | "se"
            | "me"
            | "diz"
    )
}

/// Verbs of "do you sell X?" questions ("tem", "vende", "trabalha com").
pub(crate) fn is_sold_question_verb(w: &str) -> bool {
    matches!(
        w,
        "tem"
            | "vende"
            | "vendem"
            | "trabalha"
            | "trabalham"
            | "teria"
            | "teriam"
            | "tinha"
            | "possuem"
    )
}
