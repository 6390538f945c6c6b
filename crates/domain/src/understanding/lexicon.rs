//! Word lists of how customers write: words that carry no product meaning, markers of
//! corrections, negations, vague amounts and questions. Folded (no accents), singular.

/// Words that never name a product or an attribute. Checked after folding and plural
/// stripping. Also guards typo matching: "tudo" must not become "tubo", "preco" not "prego".
pub(crate) fn is_stopword(w: &str) -> bool {
    matches!(
        w,
        "a" | "o" | "as" | "os" | "de" | "do" | "da" | "dos" | "das" | "d" | "e" | "ou" | "com"
            | "sem" | "pra" | "pro" | "pras" | "pros" | "para" | "por" | "pelo" | "pela" | "no"
            | "na" | "nos" | "nas" | "em" | "ao" | "aos" | "que" | "se" | "me" | "mim" | "eu"
            | "voce" | "vc" | "vce" | "vcs" | "voces" | "ce" | "oce" | "tem" | "ter" | "tenho"
            | "teria" | "quero" | "queria" | "quer" | "querer" | "preciso" | "precisava"
            | "precisa" | "precisamo" | "presizo" | "manda" | "mande" | "mandar" | "mandem"
            | "envia" | "enviar" | "traz" | "trazer" | "entrega" | "entregar" | "entregam"
            | "entregue" | "vou" | "vai" | "vamo" | "vamos" | "ser" | "sera" | "seria" | "ta"
            | "to" | "tou" | "estou" | "esta" | "sao" | "so" | "somente" | "apenas" | "mais"
            | "menos" | "tb" | "tbm" | "tambem" | "favor" | "pfv" | "pf" | "pfvr" | "porfavor"
            | "obrigado" | "obrigada" | "obg" | "brigado" | "oi" | "ola" | "opa" | "bom" | "boa"
            | "dia" | "tarde" | "noite" | "tudo" | "bem" | "blz" | "beleza" | "amigo" | "amiga"
            | "patrao" | "chefe" | "irmao" | "mano" | "fala" | "ai" | "aqui" | "ali" | "la"
            | "isso" | "esse" | "essa" | "este" | "desse" | "dessa" | "deste" | "nesse" | "nessa"
            | "meu" | "minha" | "seu" | "sua" | "qual" | "quais" | "quanto" | "quantos"
            | "qto" | "qnto" | "quanta" | "custa" | "custo" | "fica" | "ficaria" | "sai" | "saiu"
            | "preco" | "precos" | "valor" | "orcamento" | "orcar" | "cotacao" | "pedido"
            | "lista" | "segue" | "seguinte" | "material" | "materiai" | "coisa" | "tipo"
            | "cerca" | "uns" | "aproximadamente" | "entao" | "agora" | "ja"
            | "ainda" | "depois" | "antes" | "hoje" | "amanha" | "loja" | "voceis" | "pode"
            | "poderia" | "consegue" | "conseguem" | "gostaria" | "desejo" | "cep" | "bairro"
            | "rua" | "obra" | "casa" | "aquele" | "aquela" | "outro" | "outra"
            | "cada" | "peso" | "tamanho" | "vez" | "vezes" | "certo" | "ok" | "sim" | "nao"
            | "n" | "pera" | "perai" | "ne" | "ah" | "ih" | "eh" | "hum"
            | "kkk" | "kkkk" | "rs" | "rsrs" | "q" | "p" | "porque" | "x"
            | "ver" | "ve" | "faz" | "fazer" | "faca" | "queremo" | "pago" | "pagar"
            | "pagamento" | "pagto" | "pgto" | "levar" | "leva" | "poe"
            | "coloca" | "colocar" | "bota" | "botar" | "acrescenta" | "adiciona" | "tira"
            | "cancela" | "esquece" | "remove" | "retira" | "troca" | "muda" | "melhor"
            | "verdade" | "vdd" | "desculpa" | "desculpe" | "foi" | "mal" | "errei"
            | "alias" | "ate" | "quando" | "onde" | "como" | "nem" | "estao" | "aberto" | "ante"
            | "apena" | "temo" | "estamo" | "podemo" | "gente" | "pessoal" | "galera" | "moro"
            | "fico" | "deixa" | "deixar" | "dar" | "consigo" | "daria" | "queira" | "sobre"
            | "tal" | "item" | "iten" | "endereco" | "local" | "localizacao" | "data" | "produto"
            | "quantidade" | "qtd" | "qtde" | "obs" | "observacao" | "nome"
    )
}

/// Words that may follow a product name without making it a different product: colours the
/// catalog does not distinguish, sizes in plain words, purpose phrases.
pub(crate) fn is_harmless_modifier(w: &str) -> bool {
    matches!(
        w,
        "azul" | "preto" | "preta" | "vermelho" | "vermelha" | "verde" | "amarelo" | "amarela"
            | "grande" | "pequeno" | "pequena" | "novo" | "nova" | "bom" | "boa" | "normal"
            | "comum" | "padrao" | "simples" | "mesmo" | "mesma" | "inteiro" | "inteira"
            | "certinho" | "urgente" | "tambem" | "tb" | "ai" | "aqui" | "la" | "ok" | "cada"
            | "total" | "so" | "inteiros" | "fundacao" | "sapata" | "laje" | "reboco" | "muro"
            | "condominio" | "entao" | "agora" | "hoje" | "amanha" | "pfv" | "favor"
    )
}

pub(crate) fn is_removal(w: &str) -> bool {
    matches!(
        w,
        "tira" | "tirar" | "tire" | "cancela" | "cancelar" | "cancele" | "esquece" | "esquecer"
            | "esqueca" | "remove" | "remover" | "retira" | "retirar" | "exclui" | "excluir"
            | "desconsidera" | "desconsiderar"
    )
}

pub(crate) fn is_addition(w: &str) -> bool {
    matches!(
        w,
        "acrescenta" | "acrescentar" | "acrescente" | "adiciona" | "adicionar" | "adicione"
            | "mais" | "soma" | "somar" | "inclui" | "incluir"
    )
}

pub(crate) fn is_replace_marker(w: &str) -> bool {
    matches!(
        w,
        "troca" | "trocar" | "troque" | "muda" | "mudar" | "mude" | "substitui" | "substituir"
            | "altera" | "alterar" | "melhor" | "verdade" | "vdd" | "desculpa" | "desculpe"
            | "errei" | "corrigindo" | "correcao" | "alias"
    )
}

/// Amount words that name no number: "algumas barras", "areia suficiente", "um caminhão".
pub(crate) fn is_vague(w: &str) -> bool {
    matches!(
        w,
        "algum" | "alguma" | "algun" | "varios" | "varia" | "vario" | "suficiente" | "caminhao"
            | "carrada" | "cacamba" | "carretinha" | "carreta" | "monte" | "pouco" | "pouquinho"
            | "bastante" | "quantidade"
    )
}

/// Units that measure time or money, not goods: a number before them is never a quantity.
pub(crate) fn is_non_goods_unit(w: &str) -> bool {
    matches!(
        w,
        "dia" | "semana" | "mes" | "ano" | "hora" | "h" | "hr" | "min" | "minuto" | "vez" | "x"
            | "real" | "reai" | "r" | "parcela" | "andar" | "comodo" | "pessoa" | "obra"
            | "casa" | "apartamento" | "ap" | "apto"
    )
}

/// Words about payment, delivery, place and conversation that are not products, used to
/// decide whether leftover words in a clause name a product the store lacks.
pub(crate) fn is_chat_word(w: &str) -> bool {
    is_stopword(w)
        || matches!(
            w,
            "pix" | "cartao" | "credito" | "debito" | "boleto" | "dinheiro" | "especie"
                | "vista" | "parcelado" | "segunda" | "terca" | "quarta" | "quinta" | "sexta"
                | "sabado" | "domingo" | "feira" | "semana" | "mes" | "proxima" | "proximo"
                | "urgente" | "urgencia" | "urjente" | "rapido" | "possivel" | "cedo" | "manha"
                | "entrega" | "retirada" | "retirar" | "buscar" | "busco" | "passo" | "frete"
                | "endereco" | "centro" | "jardim" | "vila" | "parque" | "reforma" | "reformando"
                | "estou" | "banheiro" | "cozinha" | "quarto" | "sala" | "muro" | "laje"
                | "fundacao" | "sapata" | "contrapiso" | "reboco" | "telhado" | "condominio"
                | "dias" | "hora" | "cliente" | "nome" | "whatsapp" | "zap" | "foto" | "audio"
                | "mensagem" | "tabela" | "desconto" | "total" | "nota" | "fiscal" | "cnpj"
                | "cpf" | "horario" | "aberto" | "abre" | "fecha" | "funciona" | "atende"
                | "atendente" | "alguem" | "pessoa" | "humano" | "vendedor" | "gerente"
                | "calcula" | "calculam" | "calcular" | "aceita" | "aceitam" | "aceito"
                | "trabalha" | "trabalham" | "vende" | "vendem" | "fechado"
                | "confirmo" | "confirmado" | "confirma" | "certeza" | "ideia" | "acho"
                | "sei" | "saber" | "gostaria" | "ver" | "verificar" | "disponivel"
                | "estoque" | "dele" | "dela" | "delas" | "deles" | "isso" | "iss"
                | "rapidinho" | "logo" | "cedinho" | "que" | "vem"
                | "dia" | "mesmo" | "faltou" | "falta" | "faltando" | "esqueci" | "junto"
                | "qualquer" | "obrigado" | "grato" | "grata" | "valeu" | "vlw" | "tmj"
                | "tranquilo" | "show" | "perfeito" | "otimo" | "top" | "telefone" | "fone"
                | "tel" | "cel" | "celular" | "whats" | "contato" | "numero" | "meu" | "chamo"
                | "ops" | "opa" | "oops" | "consagrado" | "parceiro" | "querido" | "senhor"
                | "senhora" | "moco" | "moca" | "terminal" | "perto" | "esquina"
                | "frente" | "atras" | "lado" | "igreja" | "escola" | "mercado" | "posto"
        )
}
