//! The bairros the understanding knows by name: the store's own (from its freight rules) and
//! a built-in list of São Paulo bairros, indexed by first word, compared with abbreviations
//! expanded and one slip allowed in later words.

use super::names::expand_abbrev;
use crate::understanding::{lexicon, text};

/// A bairro the understanding can recognise, with its canonical spelling.
#[derive(Debug, Clone)]
pub(crate) struct Bairro {
    pub canonical: String,
    pub words: Vec<String>,
    /// A one-word name that is no everyday word ("Parelheiros", "Jabaquara"): it names the
    /// place even without "no"/"pro" before it ("40 sacos de cimento parelheiros").
    pub distinctive: bool,
}

/// One-word bairros that are also everyday Portuguese words or common names: "centro",
/// "saúde", "socorro", "pedreira", "santana", "pinheiros". They need a cue ("no Socorro"),
/// a capital, or a line of their own.
fn is_everyday_word(w: &str) -> bool {
    matches!(
        w,
        "centro"
            | "se"
            | "republica"
            | "consolacao"
            | "liberdade"
            | "bras"
            | "pari"
            | "belem"
            | "penha"
            | "lapa"
            | "saude"
            | "socorro"
            | "pedreira"
            | "limao"
            | "eldorado"
            | "veleiros"
            | "lajeado"
            | "perdizes"
            | "pinheiros"
            | "cachoeirinha"
            | "varginha"
            | "santana"
            | "carrao"
            | "perus"
            | "luz"
            | "aclimacao"
            | "vila"
            | "jardim"
            | "parque"
    )
}

/// São Paulo bairros and districts (with accents), so that "grajau" reads "Grajaú" even
/// when the store has no freight rule for it. Stores add their own through freight rules.
const SAO_PAULO_BAIRROS: &[&str] = &[
    "Centro",
    "Sé",
    "República",
    "Bela Vista",
    "Consolação",
    "Liberdade",
    "Cambuci",
    "Aclimação",
    "Bom Retiro",
    "Brás",
    "Pari",
    "Mooca",
    "Belém",
    "Tatuapé",
    "Água Rasa",
    "Vila Prudente",
    "Sapopemba",
    "São Lucas",
    "Vila Formosa",
    "Carrão",
    "Aricanduva",
    "Vila Matilde",
    "Penha",
    "Cangaíba",
    "Ermelino Matarazzo",
    "Ponte Rasa",
    "Artur Alvim",
    "Cidade Líder",
    "Itaquera",
    "José Bonifácio",
    "Parque do Carmo",
    "Cidade Tiradentes",
    "Guaianases",
    "Lajeado",
    "Itaim Paulista",
    "Vila Curuçá",
    "São Miguel Paulista",
    "Jardim Helena",
    "Vila Jacuí",
    "São Mateus",
    "São Rafael",
    "Iguatemi",
    "Jardim Iguatemi",
    "Vila Carrão",
    "Jardim Ângela",
    "Jardim São Luís",
    "Capão Redondo",
    "Campo Limpo",
    "Vila Andrade",
    "Morumbi",
    "Vila Sônia",
    "Butantã",
    "Rio Pequeno",
    "Raposo Tavares",
    "Jaguaré",
    "Lapa",
    "Perdizes",
    "Pinheiros",
    "Jardim Paulista",
    "Itaim Bibi",
    "Moema",
    "Vila Mariana",
    "Saúde",
    "Jabaquara",
    "Cursino",
    "Ipiranga",
    "Sacomã",
    "Vila Clementino",
    "Campo Belo",
    "Santo Amaro",
    "Socorro",
    "Cidade Dutra",
    "Grajaú",
    "Interlagos",
    "Parelheiros",
    "Marsilac",
    "Pedreira",
    "Cidade Ademar",
    "Jardim Miriam",
    "Americanópolis",
    "Vila Joaniza",
    "Jardim Prudência",
    "Jardim Marajoara",
    "Veleiros",
    "Jardim Iporanga",
    "Jardim Herculano",
    "Jardim Nakamura",
    "Jardim São Bernardo",
    "Parque Santo Antônio",
    "Jardim Santo Antônio",
    "Vila das Belezas",
    "Jardim Guarapiranga",
    "Jardim Mirna",
    "Cidade Júlia",
    "Vila Missionária",
    "Eldorado",
    "Jardim Eliana",
    "Jardim Noronha",
    "Jardim Lucélia",
    "Jardim Lídia",
    "Jardim Aracati",
    "Parque Novo Santo Amaro",
    "Chácara Santo Antônio",
    "Jardim Colonial",
    "Vila Guacuri",
    "Jardim Apurá",
    "Jardim Luso",
    "Jardim Campo Grande",
    "Vila Santa Catarina",
    "Vila Mascote",
    "Jardim América",
    "Jardim Europa",
    "Jardim Paulistano",
    "Vila Madalena",
    "Vila Leopoldina",
    "Barra Funda",
    "Água Branca",
    "Casa Verde",
    "Limão",
    "Freguesia do Ó",
    "Brasilândia",
    "Pirituba",
    "Jaraguá",
    "Perus",
    "Anhanguera",
    "Santana",
    "Tucuruvi",
    "Mandaqui",
    "Tremembé",
    "Jaçanã",
    "Vila Guilherme",
    "Vila Maria",
    "Vila Medeiros",
    "Cachoeirinha",
    "Vila Nova Cachoeirinha",
    "Parada Inglesa",
    "Jardim São Paulo",
    "Vila Ema",
    "Vila Alpina",
    "Parque São Lucas",
    "Jardim Independência",
    "Vila Industrial",
    "Jardim Planalto",
    "Parque Bristol",
    "Jardim Imperador",
    "Cidade Patriarca",
    "Vila Esperança",
    "Vila Nhocuné",
    "Jardim Nordeste",
    "Parque São Rafael",
    "Jardim Santa Terezinha",
    "Vila Regente Feijó",
    "Jardim Anália Franco",
    "Vila Gomes Cardim",
    "Jardim da Glória",
    "Vila Monumento",
    "Vila Gumercindo",
    "Vila Brasilina",
    "Jardim da Saúde",
    "Vila Arapuá",
    "Vila Moraes",
    "Jardim Clímax",
    "Vila Santa Teresa",
    "Jardim Celeste",
    "Jardim Patente",
    "Heliópolis",
    "Vila Heliópolis",
    "Jardim Íris",
    "Vila Campestre",
    "Vila Fachini",
    "Jardim Vergueiro",
    "Jardim Ubirajara",
    "Jardim Oriental",
    "Vila Santa Catarina",
    "Parque Jabaquara",
    "Jardim Lourdes",
    "Cidade Vargas",
    "Vila Guarani",
    "Jardim Jabaquara",
    "Jardim Itapura",
    "Parque Residencial Cocaia",
    "Cocaia",
    "Jardim Eliane",
    "Jardim Varginha",
    "Varginha",
    "Jardim Castro Alves",
    "Jardim Shangrilá",
    "Jardim Belcito",
    "Jardim Reimberg",
    "Jardim Presidente",
    "Cantinho do Céu",
    "Parque América",
    "Jardim Gaivotas",
    "Vila São José",
    "Jardim Real",
    "Jardim Icaraí",
    "Jardim Represa",
    "Jardim Capela",
    "Jardim Jacira",
    "Jardim Vera Cruz",
    "Jardim Vaz de Lima",
    "Jardim Souza",
    "Parque Fernanda",
    "Jardim Comercial",
    "Jardim Germânia",
    "Jardim Monte Azul",
    "Jardim Macedônia",
    "Parque Maria Helena",
    "Jardim Ibirapuera",
    "Jardim Tupi",
    "Jardim Umuarama",
];

/// Cities around São Paulo: a city is not a bairro.
pub(super) fn is_city(folded: &str) -> bool {
    matches!(
        folded,
        "santo andre"
            | "sao bernardo"
            | "sao bernardo do campo"
            | "sao caetano"
            | "sao caetano do sul"
            | "diadema"
            | "osasco"
            | "guarulhos"
            | "maua"
            | "taboao"
            | "taboao da serra"
            | "embu"
            | "embu das arte"
            | "cotia"
            | "barueri"
            | "carapicuiba"
            | "sao paulo"
            | "sp"
            | "abc"
            | "itapecerica"
            | "itapecerica da serra"
            | "ribeirao pire"
            | "suzano"
            | "mogi"
            | "mogi das cruze"
            | "ferraz"
            | "poa"
            | "itaquaquecetuba"
            | "franco da rocha"
            | "caieira"
            | "santana de parnaiba"
            | "campina"
            | "santos"
            | "santo"
            | "sao vicente"
            | "praia grande"
            | "jundiai"
    )
}

/// Bairros indexed by their first word, so a message is scanned once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gazetteer {
    pub list: Vec<Bairro>,
    by_first: std::collections::HashMap<String, Vec<usize>>,
}

impl Gazetteer {
    pub(crate) fn new(known: &[String]) -> Gazetteer {
        let list = bairro_list(known);
        let mut by_first: std::collections::HashMap<String, Vec<usize>> = Default::default();
        for (i, b) in list.iter().enumerate() {
            if let Some(first) = b.words.first() {
                by_first.entry(first.clone()).or_default().push(i);
                let (sing, plural) = text::singular(first);
                if plural {
                    by_first.entry(sing).or_default().push(i);
                }
            }
        }
        Gazetteer { list, by_first }
    }

    pub(super) fn starting_with(&self, w: &str) -> &[usize] {
        self.by_first.get(w).map(Vec::as_slice).unwrap_or(&[])
    }
}

pub(crate) fn bairro_list(known: &[String]) -> Vec<Bairro> {
    let mut out: Vec<Bairro> = Vec::new();
    for name in known
        .iter()
        .map(String::as_str)
        .chain(SAO_PAULO_BAIRROS.iter().copied())
    {
        let words = place_words(name);
        if words.is_empty() || out.iter().any(|b| b.words == words) {
            continue;
        }
        let distinctive = match words.as_slice() {
            [w] => w.len() >= 5 && !is_everyday_word(w) && !lexicon::is_chat_word(w),
            _ => false,
        };
        out.push(Bairro {
            canonical: name.trim().to_string(),
            words,
            distinctive,
        });
    }
    out
}

/// Comparison key of a place name: folded words, abbreviations expanded.
pub(crate) fn compare_key(name: &str) -> String {
    place_words(name).join(" ")
}

/// Folded words of a place name with abbreviations expanded: "Jd. São Luís" → jardim sao luis.
fn place_words(name: &str) -> Vec<String> {
    text::fold(name)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| expand_abbrev(w).to_string())
        .collect()
}

pub(super) fn word_eq(msg: &str, place: &str, k: usize) -> bool {
    if msg == place {
        return true;
    }
    // Plural stripping of the message side ("interlago" vs "interlagos").
    let (sing, _) = text::singular(place);
    if msg == sing {
        return true;
    }
    // One slip in a later word of a name whose start matched: "Jardim São Luiz".
    k > 0
        && msg.len() >= 4
        && place.len() >= 4
        && text::edit_distance(msg.as_bytes(), place.as_bytes(), 1) <= 1
}

pub(super) fn lookup(bairros: &[Bairro], words: &[&str]) -> Option<String> {
    let w: Vec<String> = words.iter().map(|w| expand_abbrev(w).to_string()).collect();
    bairros
        .iter()
        .find(|b| {
            b.words.len() == w.len()
                && b.words
                    .iter()
                    .zip(&w)
                    .enumerate()
                    .all(|(k, (p, m))| word_eq(m, p, k))
        })
        .map(|b| b.canonical.clone())
}
